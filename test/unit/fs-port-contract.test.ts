// The call-control contract (test/contract) against the FreeSWITCH driver, over the event socket of a
// fake FreeSWITCH that replays the frames recorded from a real FreeSWITCH 1.10.12.
import { createLogger } from '../../src/log.js';
import { createFreeswitchCallControl } from '../../src/pbx/freeswitch/fs-call-control.js';
import { outboundPortContract } from '../contract/outbound-port-contract.js';
import { startFakeFreeswitch } from '../support/fake-freeswitch/fake-freeswitch.js';

outboundPortContract('FreeSWITCH over ESL (recorded-protocol fake)', async () => {
  const defaultCallerId = { number: '+15550000000', name: '' };
  let decisionPort = 0;
  const fs = await startFakeFreeswitch({ password: 'fs-test-secret', decisionPort: () => decisionPort, defaultCallerId });
  const port = createFreeswitchCallControl({
    eslHost: '127.0.0.1',
    eslPort: fs.eslPort,
    eslPassword: 'fs-test-secret',
    listenHost: '127.0.0.1',
    listenPort: 0,
    requestTimeoutMs: 1000,
    logger: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
  });
  const start = port.start.bind(port);
  port.start = async (h) => {
    await start(h);
    decisionPort = port.decisionPort();
  };
  return {
    port,
    agentEndpoint: 'user/1001',
    defaultCallerId,
    async placeCall(dialed, opts) {
      return (await fs.placeCall({ user: '1001', dialed, cancelAfterMs: opts?.cancelAfterMs })).trunk;
    },
    close: () => fs.stop(),
  };
});
