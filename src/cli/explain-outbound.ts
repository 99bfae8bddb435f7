/** `callpolicy explain outbound <agent> <number>`: the explanation as lines for a person. */
import type { OutboundExplanation } from '../flows/explain-outbound.js';

const REASONS: Record<string, string> = {
  emergency_number: 'an emergency number: it goes straight to the trunk, never with a pool number',
  unknown_agent: 'the agent is not in the policy: the PBX default caller ID',
  no_enabled_numbers: 'the pool has no enabled number: the PBX default caller ID',
  chain_exhausted: "no tier of the strategy's chain has a number for this call: the PBX default caller ID",
  decided: 'decided',
  decided_unknown_trunk: 'decided (the trunk is not in the policy: its defaults apply)',
};

export function describeOutbound(x: OutboundExplanation & { masked?: boolean }): string[] {
  const lines = [`agent ${x.agent}${x.endpoint ? ` (${x.endpoint})` : ''} calling ${x.callee ?? '(not a number)'} on trunk ${x.trunk.name}`];
  if (x.calleeLocation) lines.push(`  callee:    ${[x.calleeLocation.area, x.calleeLocation.region, x.calleeLocation.country].filter(Boolean).join(', ') || 'no known location'}`);
  if (x.strategy) lines.push(`  strategy:  ${x.strategy}, selection ${x.selection}`);
  for (const t of x.chain) {
    const listed = t.numbers.length > 0 ? `: ${t.numbers.join(', ')}${t.candidates > t.numbers.length ? ', ...' : ''}` : '';
    const capped = t.atCap > 0 ? ` (${t.atCap} more at the daily cap)` : '';
    lines.push(`  ${t.used ? '->' : '  '} ${t.tier.padEnd(8)}${t.candidates} number${t.candidates === 1 ? '' : 's'}${listed}${capped}`);
  }
  const why = x.reason.startsWith('invalid_number:') ? `the dialled number is not valid (${x.reason.slice(15)}): ${x.action === 'reject' ? 'the call is refused' : 'the PBX default caller ID'}` : (REASONS[x.reason] ?? x.reason);
  if (x.action === 'dial') {
    const used = x.chain.find((t) => t.used);
    const cid = x.callerId ?? `one of the ${used?.candidates ?? x.choices.length} numbers of tier ${x.tier}, at random`;
    lines.push(`  caller ID: ${cid}${x.tier && x.tier !== 'emergency' ? ` (tier ${x.tier}${x.fallback ? ', a fallback' : ''})` : ''}`);
    if (x.trunk.callerId) lines.push(`  trunk:     From ${x.trunk.callerId}, to ${x.trunk.destination}`);
  }
  lines.push(`  result:    ${x.action === 'dial' && x.tier === 'emergency' ? REASONS.emergency_number : why}`);
  return lines;
}
