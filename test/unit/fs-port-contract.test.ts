// The call-control contract (test/contract) against the FreeSWITCH driver, over the event socket of a
// fake FreeSWITCH that replays the frames recorded from a real FreeSWITCH 1.10.12.
import { outboundPortContract } from '../contract/outbound-port-contract.js';
import { startDriverOnFake } from '../support/fake-freeswitch/driver-on-fake.js';

outboundPortContract('FreeSWITCH over ESL (recorded-protocol fake)', async () => {
  const defaultCallerId = { number: '+15550000000', name: '' };
  const { fs, port } = await startDriverOnFake({ defaultCallerId });
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
