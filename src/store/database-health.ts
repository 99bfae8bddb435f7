import type { Logger } from '../log.js';
import { describeDbError } from './db-errors.js';
import type { RecordQueueStats } from './record-queue.js';

export type DatabaseStatus = 'up' | 'down';

/**
 * Whether the database answers, as the adapter's own connections see it (the LISTEN connection,
 * record writes, policy reloads). An outage is logged once when it starts and once when it ends
 * (how long, how many call records waited), however many retries fail in between.
 */
export interface DatabaseHealth {
  status(): DatabaseStatus;
  /** When the current state began. */
  since(): Date;
  /** A connection-level failure was seen (by `source`). */
  down(err: unknown, source: string): void;
  /**
   * Something reached the database (by `source`). `recordsQueued`: the call records that were
   * waiting when it came back, when the caller knows better than the queue's depth now.
   */
  up(source: string, details?: { recordsQueued?: number }): void;
}

export function createDatabaseHealth(opts: {
  logger: Logger;
  /** host:port/name or the PGlite folder, for the log lines. */
  where: string;
  records?: () => RecordQueueStats;
  now?: () => number;
}): DatabaseHealth {
  const now = opts.now ?? Date.now;
  let status: DatabaseStatus = 'up';
  let since = now();
  let droppedBefore = 0;

  return {
    status: () => status,
    since: () => new Date(since),
    down(err, source) {
      if (status === 'down') return;
      status = 'down';
      since = now();
      droppedBefore = opts.records?.().dropped ?? 0;
      opts.logger.error(
        { database: opts.where, err: describeDbError(err), seenBy: source },
        'database unreachable: calls are still decided from the policy in memory; call records wait in memory until it is back',
      );
    },
    up(source, details) {
      if (status === 'up') return;
      const downForMs = now() - since;
      status = 'up';
      since = now();
      const records = opts.records?.();
      opts.logger.info(
        {
          database: opts.where,
          downForMs,
          recordsQueued: details?.recordsQueued ?? records?.queued ?? 0,
          recordsDropped: records ? records.dropped - droppedBefore : 0,
          seenBy: source,
        },
        'database is back',
      );
    },
  };
}
