import { createFakeCallControl } from '../../src/pbx/fake/fake-call-control.js';
import { outboundPortContract } from '../contract/outbound-port-contract.js';

// The fake must behave like the real PBX so that flow unit tests over it mean something.
outboundPortContract('in-memory fake', async () => {
  const fake = createFakeCallControl();
  const defaultCallerId = { number: '+15550000000', name: '' };
  return {
    port: fake.port,
    agentEndpoint: 'PJSIP/1001',
    defaultCallerId,
    async placeCall(dialed, opts) {
      const r = await fake.placeCall({ endpoint: 'PJSIP/1001', dialed, defaultCallerId, cancelAfterMs: opts?.cancelAfterMs });
      return r.trunk;
    },
    close: async () => undefined,
  };
});
