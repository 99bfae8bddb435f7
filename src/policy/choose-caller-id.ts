import type { AgentProfile, CallerIdDecision, CallerIdSettings, Location, PoolNumber, Tier } from './caller-id-types.js';
import type { NumberInventory } from './number-inventory.js';

export interface CallerIdRequest {
  agent: AgentProfile;
  callee: Location;
}

/** Random source in [0, 1); injected so tests are deterministic. */
export type Random = () => number;

/**
 * Walks the configured strategy's fallback chain and picks a number from the first tier
 * that has candidates. Pure: reserveCallerId chooses and records the use in one step.
 */
export function chooseCallerId(
  req: CallerIdRequest,
  inventory: NumberInventory,
  settings: CallerIdSettings,
  random: Random = Math.random,
  /** When the call is placed: a number at its daily cap that day is not a candidate. */
  at: number = Date.now(),
): CallerIdDecision {
  const strategy = settings.strategy;
  if (inventory.size === 0) return { kind: 'none', strategy, reason: 'no_enabled_numbers' };
  const chain = settings.chains[strategy];
  for (let i = 0; i < chain.length; i++) {
    const tier = chain[i]!;
    const candidates = inventory.available(candidatesFor(tier, req, inventory), at);
    if (candidates.length === 0) continue;
    const picked = settings.selection === 'lru' ? inventory.leastRecentlyUsed(candidates) : candidates[Math.floor(random() * candidates.length)]!;
    return { kind: 'number', number: picked.e164, strategy, tier, fallback: i > 0, candidates: candidates.length };
  }
  return { kind: 'none', strategy, reason: 'chain_exhausted' };
}

/**
 * Chooses a number and records its use in the same synchronous step. A flow calls this after
 * its last await, so nothing runs between the choice and the reservation: calls deciding at the
 * same moment under `lru` each get a different number. The reservation stands even if the call
 * then fails to reach the trunk (it only moves the number back in the `lru` order).
 */
export function reserveCallerId(
  req: CallerIdRequest,
  inventory: NumberInventory,
  settings: CallerIdSettings,
  at: number,
  random: Random = Math.random,
): CallerIdDecision {
  const decision = chooseCallerId(req, inventory, settings, random, at);
  if (decision.kind === 'number') inventory.markUsed(decision.number, at);
  return decision;
}

/** The numbers one tier of a chain offers this agent and callee (explain lists them). */
export function candidatesFor(tier: Tier, { agent, callee }: CallerIdRequest, inventory: NumberInventory): readonly PoolNumber[] {
  switch (tier) {
    case 'chosen': {
      const chosen = agent.chosenNumber === null ? undefined : inventory.get(agent.chosenNumber);
      // The choice only counts while the number is still allowed to this agent and enabled.
      const usable = chosen !== undefined && chosen.enabled && agent.allowedNumbers.includes(chosen.e164);
      return usable ? [chosen] : [];
    }
    case 'group':
      return agent.groups.length === 0 ? [] : inventory.inGroups(agent.groups);
    case 'area':
      return callee.area === null ? [] : inventory.inArea(callee.area);
    case 'region':
      return callee.region === null ? [] : inventory.inRegion(callee.region);
    case 'country':
      return inventory.inCountry(callee.country);
    case 'pool':
      return inventory.all();
  }
}
