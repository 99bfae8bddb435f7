// The inbound half of the call-control contract (call memory) against the FreeSWITCH driver, over the
// event socket of a fake FreeSWITCH that replays the frames recorded from a real FreeSWITCH 1.10.12.
import { inboundPortContract } from '../contract/inbound-port-contract.js';
import { startDriverOnFake } from '../support/fake-freeswitch/driver-on-fake.js';

inboundPortContract('FreeSWITCH over ESL (recorded-protocol fake)', async () => {
  const { fs, port } = await startDriverOnFake();
  return {
    port,
    agentEndpoint: 'user/1001',
    async placeInbound(callerNumber, { agentAnswers }) {
      const r = await fs.placeInbound({ callerNumber, agentAnswers });
      return r.reached === 'voicemail' ? { reached: r.reached, agentRang: r.agentRang, mailbox: r.mailbox } : { reached: r.reached, agentRang: r.agentRang };
    },
    close: () => fs.stop(),
  };
});
