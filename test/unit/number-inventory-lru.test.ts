// The inventory's least-recently-used queues agree with a plain scan, whatever the uses.
import assert from 'node:assert/strict';
import { test } from 'vitest';
import type { PoolNumber } from '../../src/policy/caller-id-types.js';
import { createNumberInventory } from '../../src/policy/number-inventory.js';

/** A small deterministic random source (LCG), so a failure can be replayed. */
function lcg(seed: number) {
  let x = seed;
  return () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

function scanLru(list: readonly PoolNumber[]): PoolNumber {
  let best = list[0]!;
  for (const c of list) if (c.lastUsedAt < best.lastUsedAt) best = c;
  return best;
}

test('after any sequence of uses, every list hands out the same number a scan would', () => {
  const rnd = lcg(42);
  const pool: PoolNumber[] = Array.from({ length: 300 }, (_, i) => ({
    e164: `+1212555${String(1000 + i)}`,
    enabled: i % 17 !== 0,
    groups: [`g${i % 5}`, ...(i % 3 === 0 ? ['shared'] : [])],
    location: { country: 'US', region: `US:R${i % 4}`, area: `US:A${i % 11}` },
    // Some were used before this policy was loaded, some never (ties keep pool order).
    lastUsedAt: i % 4 === 0 ? 0 : 1_000 + Math.floor(rnd() * 500),
  }));
  const inv = createNumberInventory(pool, []);
  const lists = () => [inv.all(), inv.inGroups(['g1']), inv.inGroups(['g2', 'shared']), inv.inArea('US:A3'), inv.inRegion('US:R2'), inv.inCountry('US')];
  let t = 2_000;
  for (let step = 0; step < 20_000; step++) {
    const list = lists()[Math.floor(rnd() * 6)]!;
    const got = inv.leastRecentlyUsed(list);
    assert.equal(got, scanLru(list), `step ${step}`);
    // Use the LRU one (as the flow does) or, now and then, another number of the list.
    const used = rnd() < 0.8 ? got : list[Math.floor(rnd() * list.length)]!;
    inv.markUsed(used.e164, rnd() < 0.1 ? t - 5 : (t += 1)); // the clock may step back
  }
});

test('100,000 numbers: picking the least recently used does not scan the list', () => {
  const pool: PoolNumber[] = Array.from({ length: 100_000 }, (_, i) => ({
    e164: `+1${String(2_000_000_000 + i)}`,
    enabled: true,
    groups: [],
    location: { country: 'US', region: null, area: null },
    lastUsedAt: 0,
  }));
  const inv = createNumberInventory(pool, []);
  const all = inv.all();
  const seen = new Set<string>();
  for (let i = 0; i < 1000; i++) {
    const n = inv.leastRecentlyUsed(all);
    assert.ok(!seen.has(n.e164), 'each use moves on to a number not used yet');
    seen.add(n.e164);
    inv.markUsed(n.e164, 10 + i);
  }
  assert.equal(inv.leastRecentlyUsed(all).e164, pool[1000]!.e164, 'pool order among the never used');
});
