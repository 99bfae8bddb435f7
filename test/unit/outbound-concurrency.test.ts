import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'vitest';
import { createOutboundFlow } from '../../src/flows/outbound-flow.js';
import { createLogger } from '../../src/log.js';
import type { OutboundCall } from '../../src/pbx/call-control.js';
import { DEFAULT_CHAINS, type PoolNumber } from '../../src/policy/caller-id-types.js';
import { createNumberInventory } from '../../src/policy/number-inventory.js';
import type { NewCallRecord } from '../../src/store/call-records.js';
import type { RuntimePolicy } from '../../src/store/load-policy.js';
import { DEFAULT_MEMORY } from '../../src/policy/call-memory.js';
import { SURVEY_OFF } from '../../src/policy/survey.js';

const nyc = { country: 'US', region: 'US:NY', area: 'US:212' };

function policyWith(pool: PoolNumber[], selection: 'lru' | 'random'): RuntimePolicy {
  return {
    defaultCountry: 'US',
    callerId: { strategy: 'group', selection, chains: { ...DEFAULT_CHAINS, group: ['pool'] }, onInvalidNumber: 'reject' },
    trunks: { trunk: { callerIdFormat: 'e164', calleeFormat: 'e164', displayName: 'ACME' } },
    privacy: { maskNumbersInLogs: true },
    protection: { mode: 'off' },
    emergency: { numbers: {}, callerId: null },
    inventory: createNumberInventory(pool, [{ id: 'alice', endpoint: 'PJSIP/1001', groups: [], allowedNumbers: [], chosenNumber: null }]),
    memory: DEFAULT_MEMORY,
    survey: SURVEY_OFF,
    pausedAgents: new Set<string>(),
    configured: true,
  };
}

function poolOf(n: number, lastUsedAt = 0): PoolNumber[] {
  return Array.from({ length: n }, (_, i) => ({
    e164: `+1212555${String(100 + i).padStart(4, '0')}`,
    enabled: true,
    groups: [],
    location: nyc,
    lastUsedAt,
  }));
}

/** An agent's call whose PBX answers `dial` only after a while: the window where calls overlap. */
function slowCall(i: number, seen: string[]): OutboundCall {
  return {
    id: `c${i}`,
    endpoint: 'PJSIP/1001',
    dialed: '+12125550123',
    trunk: 'trunk',
    dial: (callerId) => new Promise((resolve) => setTimeout(() => (seen.push(callerId.number), resolve()), 20)),
    useDefault: async () => assert.fail('no call should fall back to the default caller ID'),
    reject: async () => assert.fail('no call should be rejected'),
    byCustomerId: false,
    refuseCustomerId: async () => assert.fail('not a call by customer ID'),
  };
}

function flowFor(policy: RuntimePolicy, records: NewCallRecord[]) {
  return createOutboundFlow({
    policy: () => policy,
    // Every lookup resolves in the same microtask batch: the decisions interleave as they would under load.
    locate: () => Promise.resolve(nyc),
    recorder: { recordDecision: (r) => void records.push(r), recordEnd: () => undefined },
    logger: createLogger('silent', new Writable({ write: (_c, _e, cb) => cb() })),
    pbx: 'test',
    random: () => 0,
  });
}

describe('caller-ID selection under concurrency', () => {
  test('10 simultaneous calls under lru get 10 distinct numbers', async () => {
    const records: NewCallRecord[] = [];
    const seen: string[] = [];
    const flow = flowFor(policyWith(poolOf(12), 'lru'), records);
    await Promise.all(Array.from({ length: 10 }, (_, i) => flow.handle(slowCall(i, seen))));
    assert.equal(seen.length, 10);
    assert.equal(new Set(seen).size, 10, `caller IDs reused: ${seen.join(' ')}`);
    assert.deepEqual(new Set(records.map((r) => r.callerId)), new Set(seen));
  });

  test('the reservation holds even when every number was used later than this clock says', async () => {
    // A pool whose last uses lie in the future (another host's clock, a clock step back).
    const records: NewCallRecord[] = [];
    const seen: string[] = [];
    const flow = flowFor(policyWith(poolOf(10, Date.now() + 3_600_000), 'lru'), records);
    await Promise.all(Array.from({ length: 10 }, (_, i) => flow.handle(slowCall(i, seen))));
    assert.equal(new Set(seen).size, 10, `caller IDs reused: ${seen.join(' ')}`);
  });

  test('with more calls than numbers, lru goes round the pool evenly', async () => {
    const records: NewCallRecord[] = [];
    const seen: string[] = [];
    const flow = flowFor(policyWith(poolOf(4), 'lru'), records);
    await Promise.all(Array.from({ length: 12 }, (_, i) => flow.handle(slowCall(i, seen))));
    const uses = new Map<string, number>();
    for (const n of seen) uses.set(n, (uses.get(n) ?? 0) + 1);
    assert.deepEqual([...uses.values()], [3, 3, 3, 3]);
  });
});
