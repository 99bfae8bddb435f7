// The FreeSWITCH driver attached to a fresh fake FreeSWITCH: what the FreeSWITCH unit tests start from.
import { createLogger, type Logger } from '../../../src/log.js';
import { createFreeswitchCallControl } from '../../../src/pbx/freeswitch/fs-call-control.js';
import type { CallControlPort } from '../../../src/pbx/call-control.js';
import { startFakeFreeswitch, type FakeFreeswitch } from './fake-freeswitch.js';

export const FAKE_ESL_PASSWORD = 'fs-test-secret';

/** A policy for whole-adapter runs on the fake: agent user/1001 in group sales, whose number is +14155550100. */
export const FS_GROUP_POLICY = `
defaultCountry: US
callerId: { strategy: group }
groups: [sales]
numbers:
  - { number: "+14155550100", groups: [sales] }
agents:
  - { id: alice, endpoint: user/1001, groups: [sales] }
`;

export async function startDriverOnFake(opts: { decisionTimeoutMs?: number; logger?: Logger; defaultCallerId?: { number: string; name: string } } = {}): Promise<{
  fs: FakeFreeswitch;
  port: CallControlPort & { decisionPort(): number };
}> {
  let decisionPort = 0;
  const fs = await startFakeFreeswitch({ password: FAKE_ESL_PASSWORD, decisionPort: () => decisionPort, defaultCallerId: opts.defaultCallerId ?? { number: '+15550000000', name: '' } });
  const port = createFreeswitchCallControl({
    eslHost: '127.0.0.1',
    eslPort: fs.eslPort,
    eslPassword: FAKE_ESL_PASSWORD,
    listenHost: '127.0.0.1',
    listenPort: 0,
    decisionTimeoutMs: opts.decisionTimeoutMs,
    requestTimeoutMs: 1000,
    logger: opts.logger ?? createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
  });
  const start = port.start.bind(port);
  port.start = async (h) => {
    await start(h);
    decisionPort = port.decisionPort();
  };
  return { fs, port };
}
