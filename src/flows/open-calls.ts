import type { Logger } from '../log.js';
import type { CallControlPort, CallEnded } from '../pbx/call-control.js';
import { coalesce } from '../store/coalesce.js';

export interface OpenCallsDeps {
  port: Pick<CallControlPort, 'follow'>;
  /** Ids of recorded calls whose end is not recorded yet. */
  openCalls: () => Promise<string[]>;
  /** Where ends go (the outbound flow's `ended`, which orders them after their decisions). */
  ended: (info: CallEnded) => void;
  logger: Logger;
}

/**
 * Calls that ended while no adapter followed them (it was killed, or its link was down) would keep
 * an open record for ever. After every (re)connect, and when the database is back, the open
 * records are checked against the PBX: calls still up are followed again, the others are recorded
 * as ended when this was noticed, marked estimated. Runs one at a time.
 */
export function createOpenCallsCheck(deps: OpenCallsDeps): () => Promise<void> {
  return coalesce(async () => {
    const ids = await deps.openCalls();
    if (ids.length === 0) return;
    const { following, gone } = await deps.port.follow(ids);
    const at = new Date();
    for (const id of gone) {
      deps.ended({ id, at, cause: null, answeredAt: null, talkSeconds: null, dialStatus: null, finalAction: null, estimated: true });
    }
    deps.logger.info({ open: ids.length, following: following.length, endedUnseen: gone.length }, 'open call records checked against the PBX');
  });
}
