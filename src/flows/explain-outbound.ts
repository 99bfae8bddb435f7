import type { CountryCode } from 'libphonenumber-js';
import { formatForTrunk, parseDialedNumber } from '../phone/index.js';
import { candidatesFor } from '../policy/choose-caller-id.js';
import type { Location, Tier } from '../policy/caller-id-types.js';
import { decideEmergency } from '../policy/emergency.js';
import { resolveTrunk } from '../policy/trunk.js';
import type { RuntimePolicy } from '../store/load-policy.js';

/** Numbers of a tier listed in an explanation; the count is always exact. */
const LISTED = 20;

export interface OutboundExplanation {
  agent: string;
  endpoint: string | null;
  /** What the call would do: dial with callerId, the PBX's default caller ID, or be refused. */
  action: 'dial' | 'default' | 'reject';
  reason: string;
  /** E.164 of the callee, null when the dialled string is not a number. */
  callee: string | null;
  calleeLocation: Location | null;
  strategy: string | null;
  selection: 'random' | 'lru' | null;
  /** Every tier of the strategy's chain in order, with the numbers it offers; `used` marks the one that decides. */
  chain: { tier: Tier; candidates: number; /** Numbers of the tier left out: at their daily cap today. */ atCap: number; numbers: string[]; used: boolean }[];
  tier: Tier | 'emergency' | null;
  fallback: boolean;
  /** lru: the number the next call gets; random: null (one of `choices`). */
  callerId: string | null;
  choices: string[];
  /** As the trunk would receive them (its number format). */
  trunk: { name: string; known: boolean; callerId: string | null; destination: string | null };
}

/**
 * Which caller ID agent `agentId` would get now for a call to `dialed`, and why, without placing
 * one or reserving a number: the same steps as the outbound flow (emergency first, the dialled
 * number, the agent, the chain of the strategy), each tier's candidates listed.
 */
export async function explainOutbound(
  policy: RuntimePolicy,
  locate: (e164: string) => Promise<Location>,
  req: { agentId: string; dialed: string; trunk: string },
): Promise<OutboundExplanation> {
  const trunk = resolveTrunk(policy.trunks, req.trunk, policy.defaultCountry);
  const agent = policy.inventory.agentById(req.agentId);
  const base: OutboundExplanation = {
    agent: req.agentId,
    endpoint: agent?.endpoint ?? null,
    action: 'default',
    reason: '',
    callee: null,
    calleeLocation: null,
    strategy: null,
    selection: null,
    chain: [],
    tier: null,
    fallback: false,
    callerId: null,
    choices: [],
    trunk: { name: req.trunk, known: trunk.known, callerId: null, destination: null },
  };
  const emergency = decideEmergency(req.dialed, trunk, policy.emergency);
  if (emergency) {
    const cid = emergency.callerId;
    return {
      ...base,
      action: cid === null ? 'default' : 'dial',
      reason: 'emergency_number',
      tier: 'emergency',
      callerId: cid,
      trunk: { ...base.trunk, callerId: cid && formatForTrunk(cid, trunk.callerIdFormat, trunk), destination: emergency.destination },
    };
  }
  const parsed = parseDialedNumber(req.dialed, policy.defaultCountry as CountryCode);
  if (!parsed.ok) return { ...base, action: policy.callerId.onInvalidNumber === 'reject' ? 'reject' : 'default', reason: `invalid_number:${parsed.reason}` };
  const callee = parsed.e164;
  if (!agent) return { ...base, callee, reason: 'unknown_agent' };
  const location = await locate(callee).catch(() => ({ country: parsed.country ?? '', region: null, area: null }));
  const settings = policy.callerId;
  const withCallee = { ...base, callee, calleeLocation: location, strategy: settings.strategy, selection: settings.selection };
  if (policy.inventory.size === 0) return { ...withCallee, reason: 'no_enabled_numbers' };

  const now = Date.now();
  // Each tier's numbers, and those of them not at their daily cap: the candidates.
  const tiers = settings.chains[settings.strategy].map((tier) => {
    const all = candidatesFor(tier, { agent, callee: location }, policy.inventory);
    return { tier, all, found: policy.inventory.available(all, now) };
  });
  const at = tiers.findIndex((t) => t.found.length > 0);
  const chain = tiers.map((t, i) => ({ tier: t.tier, candidates: t.found.length, atCap: t.all.length - t.found.length, numbers: t.found.slice(0, LISTED).map((n) => n.e164), used: i === at }));
  if (at < 0) return { ...withCallee, chain, reason: 'chain_exhausted' };
  const tier = chain[at]!;
  const all = tiers[at]!.found;
  const callerId = settings.selection === 'lru' ? policy.inventory.leastRecentlyUsed(all).e164 : all.length === 1 ? all[0]!.e164 : null;
  return {
    ...withCallee,
    chain,
    action: 'dial',
    reason: trunk.known ? 'decided' : 'decided_unknown_trunk',
    tier: tier.tier,
    fallback: at > 0,
    callerId,
    choices: tier.numbers,
    trunk: {
      ...base.trunk,
      callerId: callerId && formatForTrunk(callerId, trunk.callerIdFormat, trunk),
      destination: formatForTrunk(callee, trunk.calleeFormat, trunk),
    },
  };
}
