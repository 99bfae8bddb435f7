/**
 * `callpolicy explain inbound <number>`: where a call from that number would go now, and why,
 * decided by the same code as a real call (decideInbound), without placing one.
 */
import { numberForLog } from '../log.js';
import type { InboundDecision } from '../flows/inbound-flow.js';
import type { MemorySettings } from '../policy/call-memory.js';
import type { NoAnswerRoute } from '../pbx/call-control.js';

export interface InboundExplanation {
  caller: string;
  trunk: string;
  memory: MemorySettings;
  decision: InboundDecision;
  /** The last outbound call to this customer at any time, when none is inside the window. */
  lastEver: { agentId: string; at: number; answered: boolean } | null;
  /** The PBX could not be asked about the agent (not configured, or unreachable): why. */
  pbxUnavailable?: string;
  now: number;
  mask: boolean;
}

const REASONS: Record<string, string> = {
  memory_off: 'call memory is off',
  withheld: 'the caller withheld the number',
  unparsable: 'the caller ID is not a phone number',
  no_outbound_call: 'no agent called this customer inside the window',
  outside_window: 'the last call from an agent is older than the window',
  unanswered_not_counted: 'the last call was not answered, and unanswered calls do not count',
  agent_unknown: 'the agent who called is no longer in the policy',
  lookup_failed: 'the look-up or the PBX failed',
  agent_busy: 'the agent is in a call',
  agent_offline: 'the agent\'s phone is not registered or not reachable',
  agent_paused: 'the agent is paused',
};

function noAnswer(route: NoAnswerRoute): string {
  return route.kind === 'voicemail' ? `voicemail ${route.extension}` : route.kind === 'ivr' ? 'the IVR' : 'a goodbye (the call ends)';
}

function ago(now: number, at: number): string {
  const hours = (now - at) / 3_600_000;
  return hours < 1 ? `${Math.round(hours * 60)} min ago` : `${hours.toFixed(1)} h ago`;
}

/** The explanation as lines for a person. */
export function describeInbound(x: InboundExplanation): string[] {
  const d = x.decision;
  const m = x.memory;
  const lines = [
    `call from ${numberForLog(x.caller, x.mask) ?? '(withheld)'} on trunk ${x.trunk}`,
    `  customer:  ${numberForLog(d.customer, x.mask) ?? '(none: ' + (REASONS[d.kind === 'ivr' ? d.reason : ''] ?? 'not a number') + ')'}`,
    `  memory:    ${m.mode}, window ${m.windowHours} h, unanswered calls ${m.countUnanswered ? 'count' : 'do not count'}`,
  ];
  if (d.remembered) {
    lines.push(`  last call: agent ${d.remembered.agentId}, ${ago(x.now, d.remembered.at)}, ${d.remembered.answered ? 'answered' : 'not answered'}`);
  } else if (x.lastEver) {
    lines.push(`  last call: agent ${x.lastEver.agentId}, ${ago(x.now, x.lastEver.at)} (outside the window)`);
  }
  if (d.agentStatus) {
    lines.push(`  agent now: ${d.agentStatus.reachable ? 'registered' : 'not registered or unreachable'}, ${d.agentStatus.inCall ? 'in a call' : 'not in a call'} (asked the PBX)`);
  }
  if (x.pbxUnavailable) lines.push(`  PBX:       not asked (${x.pbxUnavailable})`);
  if (d.kind === 'ivr') {
    const why = d.reason === 'no_outbound_call' && x.lastEver ? REASONS.outside_window : REASONS[d.reason];
    lines.push(`  route:     the IVR, because ${why ?? d.reason}`);
  } else if (d.kind === 'agent') {
    lines.push(`  route:     ring agent ${d.agentId} (${d.agentEndpoint}) for ${d.ringSeconds} s; no answer: ${noAnswer(d.onNoAnswer)}`);
  } else {
    const offered = d.agentState === 'paused' ? 'never rung while paused' : `rung (${d.ringSeconds} s) whenever the phone is free`;
    lines.push(`  route:     agent ${d.agentId} (${d.agentEndpoint}) is ${d.agentState}: the caller waits up to ${d.waitSeconds} s with music, the agent ${offered}; then ${noAnswer(d.then)}`);
  }
  return lines;
}
