// The call-control contract (test/contract) against the real Asterisk over ARI.
import { afterEach } from 'vitest';
import { startTrunk } from '../sandbox/sipp.js';
import { outboundPortContract } from '../contract/outbound-port-contract.js';
import { assertNoChannelsLeft } from './ari-checks.js';
import { ariPort, callThrough } from './asterisk-harness.js';
import { AGENT_ONE, DEFAULT_NUMBER, TRUNK_PORT } from './topology.js';

afterEach(() => assertNoChannelsLeft(3000));

outboundPortContract('Asterisk over ARI', async () => {
  const trunk = await startTrunk({ port: TRUNK_PORT });
  return {
    port: ariPort(),
    agentEndpoint: `PJSIP/${AGENT_ONE.endpoint}`,
    defaultCallerId: { number: DEFAULT_NUMBER, name: '' },
    async placeCall(dialed, opts) {
      return (await callThrough(trunk, AGENT_ONE, dialed, opts)).view;
    },
    close: () => trunk.stop(),
  };
});
