import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import { DEFAULT_CHAINS, type AgentProfile, type CallerIdSettings, type PoolNumber } from '../../src/policy/caller-id-types.js';
import { chooseCallerId } from '../../src/policy/choose-caller-id.js';
import { createNumberInventory } from '../../src/policy/number-inventory.js';

const sf = { country: 'US', region: 'US:CA', area: 'US:415' };
const la = { country: 'US', region: 'US:CA', area: 'US:213' };
const nyc = { country: 'US', region: 'US:NY', area: 'US:212' };
const toronto = { country: 'CA', region: 'CA:Ontario', area: 'CA:416' };
const shenzhen = { country: 'CN', region: 'CN:Guangdong', area: 'CN:Shenzhen, Guangdong' };

function num(e164: string, location: PoolNumber['location'], groups: string[] = [], extra: Partial<PoolNumber> = {}): PoolNumber {
  return { e164, enabled: true, groups, location, lastUsedAt: 0, ...extra };
}

const pool = [
  num('+14155550100', sf, ['sales']),
  num('+12135550100', la, ['support']),
  num('+12125550100', nyc, []),
  num('+12125550101', nyc, [], { enabled: false }),
  num('+14165550100', toronto, ['sales', 'support']),
];

const alice: AgentProfile = { id: 'alice', endpoint: 'PJSIP/1001', groups: ['sales'], allowedNumbers: ['+12125550100', '+12125550101'], chosenNumber: '+12125550100' };

function settings(strategy: CallerIdSettings['strategy'], over: Partial<CallerIdSettings> = {}): CallerIdSettings {
  return { strategy, chains: { ...DEFAULT_CHAINS }, selection: 'random', ...over };
}

const inv = createNumberInventory(pool, [alice]);
const first = () => 0;
const last = () => 0.999999;

describe('group strategy', () => {
  test('uses a number bound to one of the agent groups', () => {
    const d = chooseCallerId({ agent: alice, callee: nyc }, inv, settings('group'), last);
    assert.deepEqual(d, { kind: 'number', number: '+14165550100', strategy: 'group', tier: 'group', fallback: false, candidates: 2 });
  });
  test('an agent in two groups draws from their union without duplicates', () => {
    const bob = { ...alice, groups: ['sales', 'support'] };
    const d = chooseCallerId({ agent: bob, callee: nyc }, inv, settings('group'), first);
    assert.equal(d.kind === 'number' && d.candidates, 3);
  });
  test('falls back to the pool when no number is bound to the agent groups', () => {
    const carol = { ...alice, groups: ['billing'] };
    const d = chooseCallerId({ agent: carol, callee: nyc }, inv, settings('group'), first);
    assert.deepEqual(d, { kind: 'number', number: '+14155550100', strategy: 'group', tier: 'pool', fallback: true, candidates: 4 });
  });
  test('an agent without groups goes to the pool', () => {
    const d = chooseCallerId({ agent: { ...alice, groups: [] }, callee: nyc }, inv, settings('group'), first);
    assert.equal(d.kind === 'number' && d.tier, 'pool');
  });
});

describe('area strategy', () => {
  test('uses a number in the callee area', () => {
    const d = chooseCallerId({ agent: alice, callee: sf }, inv, settings('area'), last);
    assert.deepEqual(d, { kind: 'number', number: '+14155550100', strategy: 'area', tier: 'area', fallback: false, candidates: 1 });
  });
  test('never uses a disabled number even in the same area', () => {
    for (const r of [first, last]) {
      const d = chooseCallerId({ agent: alice, callee: nyc }, inv, settings('area'), r);
      assert.equal(d.kind === 'number' && d.number, '+12125550100');
    }
  });
  test('default chain goes from area straight to the pool', () => {
    const sanDiego = { country: 'US', region: 'US:CA', area: 'US:619' };
    const d = chooseCallerId({ agent: alice, callee: sanDiego }, inv, settings('area'), first);
    assert.equal(d.kind === 'number' && d.tier, 'pool');
  });
  test('a configured chain tries region then country before the pool', () => {
    const chains = { ...DEFAULT_CHAINS, area: ['area', 'region', 'country', 'pool'] as const };
    const sanDiego = { country: 'US', region: 'US:CA', area: 'US:619' };
    const d1 = chooseCallerId({ agent: alice, callee: sanDiego }, inv, settings('area', { chains }), first);
    assert.deepEqual(d1, { kind: 'number', number: '+14155550100', strategy: 'area', tier: 'region', fallback: true, candidates: 2 });
    const chicago = { country: 'US', region: 'US:IL', area: 'US:312' };
    const d2 = chooseCallerId({ agent: alice, callee: chicago }, inv, settings('area', { chains }), last);
    assert.deepEqual(d2, { kind: 'number', number: '+12125550100', strategy: 'area', tier: 'country', fallback: true, candidates: 3 });
    const d3 = chooseCallerId({ agent: alice, callee: shenzhen }, inv, settings('area', { chains }), first);
    assert.equal(d3.kind === 'number' && d3.tier, 'pool');
  });
  test('a callee without a known area skips the area tier', () => {
    const unknown = { country: 'CN', region: null, area: null };
    const chains = { ...DEFAULT_CHAINS, area: ['area', 'region'] as const };
    const d = chooseCallerId({ agent: alice, callee: unknown }, inv, settings('area', { chains }));
    assert.deepEqual(d, { kind: 'none', strategy: 'area', reason: 'chain_exhausted' });
  });
});

describe('agent strategy', () => {
  test('uses the number the agent chose', () => {
    const d = chooseCallerId({ agent: alice, callee: sf }, inv, settings('agent'), first);
    assert.deepEqual(d, { kind: 'number', number: '+12125550100', strategy: 'agent', tier: 'chosen', fallback: false, candidates: 1 });
  });
  test('a chosen number the agent is not allowed to use falls back', () => {
    const sneaky = { ...alice, chosenNumber: '+14155550100' };
    const d = chooseCallerId({ agent: sneaky, callee: sf }, inv, settings('agent'), first);
    assert.equal(d.kind === 'number' && d.tier, 'pool');
    assert.equal(d.kind === 'number' && d.fallback, true);
  });
  test('a chosen number that is disabled falls back', () => {
    const d = chooseCallerId({ agent: { ...alice, chosenNumber: '+12125550101' }, callee: sf }, inv, settings('agent'), first);
    assert.equal(d.kind === 'number' && d.tier, 'pool');
  });
  test('no choice at all uses the configured fallback chain (here: group, then pool)', () => {
    const chains = { ...DEFAULT_CHAINS, agent: ['chosen', 'group', 'pool'] as const };
    const d = chooseCallerId({ agent: { ...alice, chosenNumber: null }, callee: sf }, inv, settings('agent', { chains }), first);
    assert.deepEqual(d, { kind: 'number', number: '+14155550100', strategy: 'agent', tier: 'group', fallback: true, candidates: 2 });
  });
  test('a chosen number not in the pool at all falls back', () => {
    const d = chooseCallerId({ agent: { ...alice, chosenNumber: '+19999999999', allowedNumbers: ['+19999999999'] }, callee: sf }, inv, settings('agent'), first);
    assert.equal(d.kind === 'number' && d.tier, 'pool');
  });
});

describe('selection among candidates', () => {
  test('random uses the random source over all candidates', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const d = chooseCallerId({ agent: alice, callee: sf }, inv, settings('group', { chains: { ...DEFAULT_CHAINS, group: ['pool'] } }), () => i / 4);
      if (d.kind === 'number') seen.add(d.number);
    }
    assert.equal(seen.size, 4);
  });
  test('lru picks the least recently used candidate', () => {
    const lruPool = [
      num('+14155550101', sf, [], { lastUsedAt: 3000 }),
      num('+14155550102', sf, [], { lastUsedAt: 1000 }),
      num('+14155550103', sf, [], { lastUsedAt: 2000 }),
    ];
    const d = chooseCallerId({ agent: alice, callee: sf }, createNumberInventory(lruPool, []), settings('area', { selection: 'lru' }));
    assert.equal(d.kind === 'number' && d.number, '+14155550102');
  });
  test('lru spreads use when the caller records each use', () => {
    const lruPool = [num('+14155550101', sf), num('+14155550102', sf), num('+14155550103', sf)];
    const lruInv = createNumberInventory(lruPool, []);
    const used: string[] = [];
    for (let t = 1; t <= 6; t++) {
      const d = chooseCallerId({ agent: alice, callee: sf }, lruInv, settings('area', { selection: 'lru' }));
      assert.equal(d.kind, 'number');
      if (d.kind !== 'number') return;
      used.push(d.number);
      lruInv.markUsed(d.number, t);
    }
    assert.deepEqual(used, ['+14155550101', '+14155550102', '+14155550103', '+14155550101', '+14155550102', '+14155550103']);
  });
});

test('an empty or fully disabled pool gives no number', () => {
  const off = createNumberInventory([num('+14155550100', sf, [], { enabled: false })], []);
  assert.deepEqual(chooseCallerId({ agent: alice, callee: sf }, off, settings('area')), { kind: 'none', strategy: 'area', reason: 'no_enabled_numbers' });
});

test('inventory finds agents by endpoint', () => {
  assert.equal(inv.agent('PJSIP/1001')?.id, 'alice');
  assert.equal(inv.agent('PJSIP/9999'), undefined);
});
