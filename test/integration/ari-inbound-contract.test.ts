// The inbound half of the call-control contract (test/contract) against the real Asterisk over
// ARI: a customer's sipp calls in through the trunk, and the agent's, the IVR's and the
// voicemail's sipp phones show where the call went.
import { afterEach } from 'vitest';
import { startAgentPhone } from '../sandbox/sipp.js';
import { inboundPortContract } from '../contract/inbound-port-contract.js';
import { placeInboundThrough } from './inbound-contract-harness.js';
import { ariGet, assertNoChannelsLeft, type AriChannel } from './ari-checks.js';
import { ariPort } from './asterisk-harness.js';
import { integrationEnv } from './env.js';
import { AGENT_ONE, CUSTOMER_PORT, IVR_PHONE, VOICEMAIL_PHONE } from './topology.js';

const env = integrationEnv();

afterEach(() => assertNoChannelsLeft(5000));

/** Ends the customer's call from the PBX side (the IVR or voicemail took it: nothing more to see). */
async function hangUpCustomer(callerNumber: string): Promise<void> {
  const channels = await ariGet<AriChannel[]>('/channels');
  for (const c of channels.filter((ch) => ch.name.startsWith('PJSIP/trunk-') && ch.caller.number === callerNumber)) {
    await fetch(`${env.ariUrl}/ari/channels/${c.id}`, {
      method: 'DELETE',
      headers: { authorization: `Basic ${Buffer.from(`${env.ariUser}:${env.ariPassword}`).toString('base64')}` },
    });
  }
}

inboundPortContract('Asterisk over ARI', async () => {
  const ivr = await startAgentPhone({ port: IVR_PHONE.port, holdMs: 60_000 });
  const voicemail = await startAgentPhone({ port: VOICEMAIL_PHONE.port, holdMs: 60_000 });
  return {
    port: ariPort(),
    agentEndpoint: `PJSIP/${AGENT_ONE.endpoint}`,
    placeInbound: (callerNumber, opts) => placeInboundThrough({ agentPort: AGENT_ONE.port, customerPort: CUSTOMER_PORT, server: env.sipServer, ivr, voicemail, hangUpCustomer }, callerNumber, opts),
    close: async () => {
      await Promise.all([ivr.stop(), voicemail.stop()]);
    },
  };
});
