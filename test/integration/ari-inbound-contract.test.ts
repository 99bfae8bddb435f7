// The inbound half of the call-control contract (test/contract) against the real Asterisk over
// ARI: a customer's sipp calls in through the trunk, and the agent's, the IVR's and the
// voicemail's sipp phones show where the call went.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach } from 'vitest';
import { placeCall, startAgentPhone, type Trunk } from '../sandbox/sipp.js';
import { inboundPortContract, type InboundOutcome } from '../contract/inbound-port-contract.js';
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
  const phones: Trunk[] = [ivr, voicemail];
  return {
    port: ariPort(),
    agentEndpoint: `PJSIP/${AGENT_ONE.endpoint}`,
    async placeInbound(callerNumber, { agentAnswers }): Promise<InboundOutcome> {
      const agent = await startAgentPhone({ port: AGENT_ONE.port, mode: agentAnswers ? 'answer' : 'ring', holdMs: 60_000 });
      try {
        await Promise.all(phones.map((p) => p.takeInvites()));
        // An answered agent call: the customer hangs up first, after 300 ms. Otherwise the customer
        // stays until the PBX hangs up (a goodbye) or the IVR or voicemail takes the call.
        const call = placeCall({ fromPort: CUSTOMER_PORT, fromUser: callerNumber, to: '+15550001000', server: env.sipServer, holdMs: agentAnswers ? 300 : 20_000, timeoutMs: 40_000 });
        let done = false;
        void call.finally(() => (done = true)).catch(() => undefined);
        let taken: { by: 'ivr' | 'voicemail'; name: string } | undefined;
        while (!done && !taken) {
          await sleep(100);
          const [atIvr, atVoicemail] = await Promise.all(phones.map((p) => p.takeInvites()));
          if (atIvr!.length > 0) taken = { by: 'ivr', name: atIvr![0]!.fromName };
          else if (atVoicemail!.length > 0) taken = { by: 'voicemail', name: atVoicemail![0]!.fromName };
        }
        if (taken) {
          await sleep(200);
          await hangUpCustomer(callerNumber);
        }
        const result = await call;
        const agentRang = (await agent.takeInvites()).length > 0;
        if (taken?.by === 'ivr') return { reached: 'ivr', agentRang };
        if (taken?.by === 'voicemail') return { reached: 'voicemail', agentRang, mailbox: taken.name.replace(/^voicemail /, '') };
        if (result.finalStatus !== 200) throw new Error(`the customer's call failed: ${result.finalStatus}`);
        return agentAnswers && agentRang && result.hungUpBy === 'agent' ? { reached: 'agent', agentRang } : { reached: 'goodbye', agentRang };
      } finally {
        await agent.stop();
      }
    },
    close: async () => {
      await Promise.all(phones.map((p) => p.stop()));
    },
  };
});
