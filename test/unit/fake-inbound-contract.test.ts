import { createFakeCallControl, inboundDestination } from '../../src/pbx/fake/fake-call-control.js';
import { inboundPortContract } from '../contract/inbound-port-contract.js';

// The fake's inbound side must behave like the real PBX so that inbound-flow tests over it mean something.
inboundPortContract('in-memory fake', async () => {
  const fake = createFakeCallControl();
  return {
    port: fake.port,
    agentEndpoint: 'PJSIP/1001',
    async placeInbound(callerNumber, { agentAnswers }) {
      return inboundDestination(await fake.placeInbound({ callerNumber, dialed: '+15550001000', agentAnswers }), agentAnswers);
    },
    close: async () => undefined,
  };
});
