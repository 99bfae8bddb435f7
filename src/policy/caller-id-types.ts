/** Plain data the caller-ID decision works on: no PBX, no database. */

export type Strategy = 'group' | 'area' | 'agent';

/**
 * A tier is one step of a fallback chain: where to look for candidate numbers.
 * chosen: the agent's chosen number; group: numbers bound to the agent's groups;
 * area/region/country: numbers in the callee's area, region or country; pool: every number.
 */
export type Tier = 'chosen' | 'group' | 'area' | 'region' | 'country' | 'pool';
export const TIERS: readonly Tier[] = ['chosen', 'group', 'area', 'region', 'country', 'pool'];

export type Selection = 'random' | 'lru';

export interface Location {
  country: string;
  region: string | null;
  area: string | null;
}

export interface PoolNumber {
  e164: string;
  enabled: boolean;
  groups: readonly string[];
  location: Location;
  /** Epoch milliseconds of the last call that presented this number; 0 if never. */
  lastUsedAt: number;
  /** At most this many calls present it per day (its own cap, else the policy's); absent or null: no cap. */
  dailyCap?: number | null;
}

export interface AgentProfile {
  id: string;
  endpoint: string;
  groups: readonly string[];
  /** Numbers the agent may choose; empty means the agent has no choice to make. */
  allowedNumbers: readonly string[];
  chosenNumber: string | null;
}

export interface CallerIdSettings {
  strategy: Strategy;
  /** The fallback chain of each strategy, tried in order. */
  chains: Record<Strategy, readonly Tier[]>;
  selection: Selection;
}

export const DEFAULT_CHAINS: Record<Strategy, readonly Tier[]> = {
  group: ['group', 'pool'],
  area: ['area', 'pool'],
  agent: ['chosen', 'pool'],
};

export type CallerIdDecision =
  | {
      kind: 'number';
      number: string;
      strategy: Strategy;
      tier: Tier;
      /** True when a tier after the chain's first one matched. */
      fallback: boolean;
      /** How many numbers the matching tier offered. */
      candidates: number;
    }
  | {
      kind: 'none';
      strategy: Strategy;
      reason: 'no_enabled_numbers' | 'chain_exhausted';
    };
