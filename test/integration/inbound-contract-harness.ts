// The inbound contract's customer call, the same on every real PBX: a customer's sipp calls the
// DID, the agent's sipp phone answers or only rings, and the IVR's and voicemail's phones show
// where the call went (the PBX-specific parts: its SIP address and how it ends a customer's call).
import { setTimeout as sleep } from 'node:timers/promises';
import type { InboundOutcome } from '../contract/inbound-port-contract.js';
import { placeCall, startAgentPhone, type Trunk } from '../sandbox/sipp.js';

export interface InboundRig {
  agentPort: number;
  customerPort: number;
  /** The PBX's SIP address for customers' calls. */
  server: string;
  ivr: Trunk;
  voicemail: Trunk;
  /** Ends the customer's call from the PBX (the IVR or voicemail took it: nothing more to see). */
  hangUpCustomer(callerNumber: string): Promise<void>;
}

export async function placeInboundThrough(rig: InboundRig, callerNumber: string, opts: { agentAnswers: boolean }): Promise<InboundOutcome> {
  const agent = await startAgentPhone({ port: rig.agentPort, mode: opts.agentAnswers ? 'answer' : 'ring', holdMs: 60_000 });
  const phones = [rig.ivr, rig.voicemail];
  try {
    await Promise.all(phones.map((p) => p.takeInvites()));
    // An answered agent call: the customer hangs up first, after 300 ms. Otherwise the customer
    // stays until the PBX hangs up (a goodbye) or the IVR or voicemail takes the call.
    const call = placeCall({ fromPort: rig.customerPort, fromUser: callerNumber, to: '+15550001000', server: rig.server, holdMs: opts.agentAnswers ? 300 : 20_000, timeoutMs: 40_000 });
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
      await rig.hangUpCustomer(callerNumber);
    }
    const result = await call;
    const agentRang = (await agent.takeInvites()).length > 0;
    if (taken?.by === 'ivr') return { reached: 'ivr', agentRang };
    if (taken?.by === 'voicemail') return { reached: 'voicemail', agentRang, mailbox: taken.name.replace(/^voicemail /, '') };
    if (result.finalStatus !== 200) throw new Error(`the customer's call failed: ${result.finalStatus}`);
    return opts.agentAnswers && agentRang && result.hungUpBy === 'agent' ? { reached: 'agent', agentRang } : { reached: 'goodbye', agentRang };
  } finally {
    await agent.stop();
  }
}
