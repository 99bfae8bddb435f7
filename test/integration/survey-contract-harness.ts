// The survey contract's calls, the same on every real PBX: an agent's sipp phone and a customer's
// sipp (the trunk for outbound calls, a caller through the trunk for inbound ones); the agent
// hangs up first, the customer presses keys (RFC 2833 from sip-tester's pcap files, or SIP INFO)
// or hangs up, and a UDP listener on the customer's audio port tells whether the PBX played the
// prompts. The PBX-specific part: how the agent's phone places a call, and the SIP addresses.
import type { SurveyContractHarness, SurveyedCallView } from '../contract/survey-port-contract.js';
import type { CallControlPort } from '../../src/pbx/call-control.js';
import { placeSurveyCall, startSurveyTrunk, type CustomerStep, type SurveyCustomerResult } from '../sandbox/sipp-survey.js';
import { startAgentPhone } from '../sandbox/sipp.js';

/** The agent stays this long on the answered call, then hangs up first. */
const AGENT_HOLD_MS = 600;
/** The customer's steps start this long after the answer: after the agent's hang-up. */
const LEAD_MS = AGENT_HOLD_MS + 600;

export interface SurveyRig {
  port: CallControlPort;
  agentEndpoint: string;
  agentPort: number;
  trunkPort: number;
  customerPort: number;
  /** The PBX's SIP address for customers' calls. */
  customerServer: string;
  /** First UDP port for the customers' audio (one per call). */
  rtpPortBase: number;
  /** The agent's phone calls +14155550123 out and hangs up after holdMs. */
  agentCallsOut(holdMs: number): Promise<unknown>;
}

function view(r: SurveyCustomerResult): SurveyedCallView {
  if (r.finalStatus !== 200) throw new Error(`the customer's call was not answered: ${r.finalStatus}`);
  // Speech, not a stray packet: 20 ms per packet, the shortest prompt (beep) is a quarter second.
  return { endedBy: r.byeBy === 'asterisk' ? 'pbx' : 'customer', heardAudio: r.audio.loudPackets >= 5 };
}

export function surveyContractHarness(rig: SurveyRig): SurveyContractHarness {
  let rtpPort = rig.rtpPortBase;
  const outbound = async (steps: CustomerStep[], agentHoldMs = AGENT_HOLD_MS): Promise<SurveyCustomerResult> => {
    const trunk = await startSurveyTrunk({ port: rig.trunkPort, rtpPort: rtpPort++, steps, endTimeoutMs: 15_000 });
    try {
      const [, result] = await Promise.all([rig.agentCallsOut(agentHoldMs), trunk.done(40_000)]);
      return result;
    } finally {
      await trunk.stop();
    }
  };
  const inbound = async (steps: CustomerStep[], agentHoldMs = AGENT_HOLD_MS): Promise<SurveyCustomerResult> => {
    const phone = await startAgentPhone({ port: rig.agentPort, holdMs: agentHoldMs });
    try {
      return await placeSurveyCall({ fromPort: rig.customerPort, fromUser: '+14155550123', to: '+15550001000', server: rig.customerServer, rtpPort: rtpPort++, steps, endTimeoutMs: 15_000 });
    } finally {
      await phone.stop();
    }
  };
  return {
    port: rig.port,
    agentEndpoint: rig.agentEndpoint,
    async surveyedCall(direction, steps) {
      const all: CustomerStep[] = [{ pauseMs: LEAD_MS }, ...steps];
      return view(direction === 'outbound' ? await outbound(all) : await inbound(all));
    },
    async customerHangsUpFirst(direction) {
      const steps: CustomerStep[] = [{ pauseMs: 300 }, { hangup: true }];
      const r = direction === 'outbound' ? await outbound(steps, 5000) : await inbound(steps, 5000);
      if (r.byeBy !== 'customer') throw new Error(`the customer should have hung up first (BYE by ${r.byeBy})`);
    },
    close: async () => undefined,
  };
}
