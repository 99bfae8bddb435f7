// Daily caps: a number that presented its cap of calls today is no candidate until the next
// day (midnight in the cap's time zone); the chain then falls back as for an empty tier.
import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import { DEFAULT_CHAINS, type AgentProfile, type CallerIdSettings, type PoolNumber } from '../../src/policy/caller-id-types.js';
import { reserveCallerId } from '../../src/policy/choose-caller-id.js';
import { capDay, createNumberInventory } from '../../src/policy/number-inventory.js';
import { parsePolicyFile } from '../../src/config/policy-file.js';
import { buildRuntimePolicy } from '../../src/store/load-policy.js';

const sf = { country: 'US', region: 'US:CA', area: 'US:415' };
const num = (e164: string, dailyCap: number | null, groups: string[] = ['sales']): PoolNumber => ({ e164, enabled: true, groups, location: sf, lastUsedAt: 0, dailyCap });
const alice: AgentProfile = { id: 'alice', endpoint: 'PJSIP/1001', groups: ['sales'], allowedNumbers: [], chosenNumber: null };
const settings: CallerIdSettings = { strategy: 'group', selection: 'lru', chains: DEFAULT_CHAINS };
const req = { agent: alice, callee: sf };
// 2026-12-02 10:00 UTC; in New York it is 05:00 the same day.
const T = Date.UTC(2026, 11, 2, 10, 0, 0);

describe('daily caps', () => {
  test('a capped number is used up to its cap, then the next, then the pool fallback', () => {
    const inv = createNumberInventory([num('+14155550100', 2), num('+14155550101', 1), num('+13105550100', null, [])], [alice]);
    const got = Array.from({ length: 5 }, (_, i) => {
      const d = reserveCallerId(req, inv, settings, T + i * 1000);
      return d.kind === 'number' ? `${d.number}/${d.tier}` : d.reason;
    });
    assert.deepEqual(got, ['+14155550100/group', '+14155550101/group', '+14155550100/group', '+13105550100/pool', '+13105550100/pool']);
    assert.equal(inv.usesOn('+14155550100', T), 2);
  });

  test('the counts start again at midnight of the cap time zone', () => {
    const inv = createNumberInventory([num('+14155550100', 1)], [alice], { timeZone: 'America/New_York' });
    assert.equal(reserveCallerId(req, inv, settings, T).kind, 'number');
    assert.equal(reserveCallerId(req, inv, settings, T + 3600_000).kind, 'none', 'capped for the rest of the New York day');
    // 05:00 UTC on the 3rd is midnight in New York.
    const nextDay = Date.UTC(2026, 11, 3, 5, 0, 1);
    assert.equal(capDay(nextDay, 'America/New_York'), '2026-12-03');
    assert.equal(reserveCallerId(req, inv, settings, nextDay).kind, 'number');
  });

  test("counts loaded from the day's records; a count of another day is not", () => {
    const day = capDay(T, 'UTC');
    const loaded = createNumberInventory([num('+14155550100', 3)], [alice], { timeZone: 'UTC', counts: { day, perNumber: new Map([['+14155550100', 3]]) } });
    assert.equal(reserveCallerId(req, loaded, settings, T).kind, 'none');
    const stale = createNumberInventory([num('+14155550100', 3)], [alice], { timeZone: 'UTC', counts: { day: '2026-12-01', perNumber: new Map([['+14155550100', 3]]) } });
    assert.equal(reserveCallerId(req, stale, settings, T).kind, 'number');
  });

  test('no cap anywhere: the lists are handed out as they are (no filtering cost)', () => {
    const inv = createNumberInventory([num('+14155550100', null)], [alice]);
    assert.equal(inv.capped, false);
    assert.equal(inv.available(inv.all(), T), inv.all());
  });

  test("the policy file: callerId.dailyCap for every number, a number's own dailyCap wins; bad values are named", () => {
    const file = parsePolicyFile(
      `callerId: { strategy: group, dailyCap: 100, capTimeZone: Asia/Shanghai }
groups: [sales]
numbers:
  - { number: "+14155550100", groups: [sales] }
  - { number: "+14155550101", groups: [sales], dailyCap: 5 }
`,
      'caps.yaml',
    );
    const rows = {
      settings: { callerId: file.callerId },
      numbers: file.numbers.map((n) => ({ e164: n.number, enabled: true, country: 'US', region: null, area: null, lastUsedAt: null, dailyCap: n.dailyCap ?? null })),
      numberGroups: [] as [string, string][],
      agents: [],
      agentGroups: [] as [string, string][],
      agentNumbers: [] as [string, string][],
    };
    const policy = buildRuntimePolicy(rows);
    assert.deepEqual([policy.inventory.get('+14155550100')?.dailyCap, policy.inventory.get('+14155550101')?.dailyCap], [100, 5]);
    assert.throws(() => parsePolicyFile('callerId: { strategy: group, dailyCap: 0 }', 'x.yaml'), /callerId\.dailyCap/);
    assert.throws(() => parsePolicyFile('callerId: { strategy: group, capTimeZone: Mars/Olympus }', 'x.yaml'), /callerId\.capTimeZone: must be an IANA time zone/);
  });
});
