import { DEFAULT_CHAINS, type AgentProfile, type CallerIdSettings, type Location, type PoolNumber, type Strategy } from '../../src/policy/caller-id-types.js';
import { chooseCallerId } from '../../src/policy/choose-caller-id.js';
import { createNumberInventory } from '../../src/policy/number-inventory.js';

export interface DecisionFigures {
  label: string;
  decisions: number;
  p50us: number;
  p99us: number;
  maxUs: number;
  buildMs: number;
}

/** Deterministic pseudo-random numbers so every run measures the same work. */
function lcg(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** 100,000 numbers over 1,000 areas (100 regions, 5 countries), 10,000 agents in 200 groups. */
export function runDecisionBench(opts: { numbers?: number; areas?: number; agents?: number; decisions?: number } = {}): DecisionFigures[] {
  const nNumbers = opts.numbers ?? 100_000;
  const nAreas = opts.areas ?? 1000;
  const nAgents = opts.agents ?? 10_000;
  const nDecisions = opts.decisions ?? 100_000;
  const rnd = lcg(42);
  const countries = ['US', 'CN', 'GB', 'DE', 'JP'];
  const locationOf = (a: number): Location => {
    const country = countries[a % countries.length]!;
    return { country, region: `${country}:r${a % 100}`, area: `${country}:a${a}` };
  };
  const t0 = performance.now();
  const pool: PoolNumber[] = [];
  for (let i = 0; i < nNumbers; i++) {
    pool.push({
      e164: `+1${String(2000000000 + i)}`,
      enabled: i % 50 !== 0,
      groups: i % 3 === 0 ? [`g${i % 200}`] : [],
      location: locationOf(i % nAreas),
      lastUsedAt: Math.floor(rnd() * 1e6),
    });
  }
  const agents: AgentProfile[] = [];
  for (let i = 0; i < nAgents; i++) {
    const groups = i % 10 === 0 ? [`g${i % 200}`, `g${(i + 7) % 200}`] : i % 10 === 1 ? ['nogroup'] : [`g${i % 200}`];
    const allowed = [pool[(i * 7) % nNumbers]!.e164, pool[(i * 13) % nNumbers]!.e164];
    agents.push({ id: `a${i}`, endpoint: `PJSIP/${10000 + i}`, groups, allowedNumbers: allowed, chosenNumber: i % 4 === 0 ? null : allowed[0]! });
  }
  const inventory = createNumberInventory(pool, agents);
  const buildMs = performance.now() - t0;

  const figures: DecisionFigures[] = [];
  const strategies: Strategy[] = ['group', 'area', 'agent'];
  for (const selection of ['random', 'lru'] as const) {
    for (const strategy of strategies) {
      const settings: CallerIdSettings = {
        strategy,
        selection,
        chains: { ...DEFAULT_CHAINS, area: ['area', 'region', 'country', 'pool'], agent: ['chosen', 'group', 'pool'] },
      };
      const times = new Float64Array(nDecisions);
      let sink = 0;
      for (let i = 0; i < nDecisions; i++) {
        const agent = agents[Math.floor(rnd() * nAgents)]!;
        // One callee in ten is in an area with no pool number, to exercise the fallbacks.
        const a = Math.floor(rnd() * nAreas * 1.1);
        const callee = a < nAreas ? locationOf(a) : { country: 'FR', region: null, area: null };
        const s = performance.now();
        const d = chooseCallerId({ agent, callee }, inventory, settings, rnd);
        times[i] = performance.now() - s;
        if (d.kind === 'number') {
          sink++;
          if (selection === 'lru') inventory.markUsed(d.number, 1e6 + i);
        }
      }
      if (sink === 0) throw new Error('no decision produced a number');
      const sorted = Array.from(times).sort((x, y) => x - y);
      figures.push({
        label: `${strategy}/${selection}`,
        decisions: nDecisions,
        p50us: percentile(sorted, 50) * 1000,
        p99us: percentile(sorted, 99) * 1000,
        maxUs: sorted.at(-1)! * 1000,
        buildMs,
      });
    }
  }
  return figures;
}
