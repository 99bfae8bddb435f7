import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, test } from 'vitest';
import { EMPTY_POLICY_ROWS, buildRuntimePolicy, type PolicyRows } from '../../src/store/load-policy.js';
import { SnapshotError, readPolicySnapshot, writePolicySnapshot } from '../../src/store/policy-snapshot.js';

const dir = mkdtempSync(path.join(tmpdir(), 'callpolicy-snapshot-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const rows: PolicyRows = {
  settings: { defaultCountry: 'US', callerId: { strategy: 'group', selection: 'lru', chains: {}, onInvalidNumber: 'default' }, privacy: { maskNumbersInLogs: false } },
  numbers: [
    { e164: '+14155550100', enabled: true, country: 'US', region: 'US:CA', area: 'US:415', lastUsedAt: 5000 },
    { e164: '+14155550101', enabled: false, country: 'US', region: 'US:CA', area: 'US:415', lastUsedAt: null },
  ],
  numberGroups: [['+14155550100', 'sales']],
  agents: [{ id: 'alice', endpoint: 'PJSIP/1001', chosenNumber: null }],
  agentGroups: [['alice', 'sales']],
  agentNumbers: [],
};

describe('policy snapshot', () => {
  test('written atomically and read back into the same policy', async () => {
    const file = path.join(dir, 'nested', 'policy-snapshot.json');
    await writePolicySnapshot(file, rows, 'db:5432/callpolicy', new Date('2026-01-02T03:04:05Z'));
    // Only the file itself is left: the temporary one was renamed over it.
    assert.deepEqual(readdirSync(path.dirname(file)), ['policy-snapshot.json']);
    const snap = await readPolicySnapshot(file);
    assert.equal(snap?.savedAt, '2026-01-02T03:04:05.000Z');
    assert.equal(snap?.source, 'db:5432/callpolicy');
    const policy = buildRuntimePolicy(snap!.rows);
    assert.equal(policy.configured, true);
    assert.equal(policy.callerId.onInvalidNumber, 'default');
    assert.equal(policy.inventory.size, 1, 'the disabled number is not offered');
    assert.deepEqual(policy.inventory.inGroups(['sales']).map((n) => n.e164), ['+14155550100']);
    assert.equal(policy.inventory.agent('PJSIP/1001')?.id, 'alice');
    assert.equal(policy.privacy.maskNumbersInLogs, false);
  });

  test('no snapshot: null; a damaged one: SnapshotError naming the file', async () => {
    assert.equal(await readPolicySnapshot(path.join(dir, 'none.json')), null);
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, '{"version":1,"savedAt":"2026-01-01T00:00:00Z","rows":{"settings":{}');
    await assert.rejects(readPolicySnapshot(bad), (e: Error) => e instanceof SnapshotError && e.message.includes(bad));
    writeFileSync(bad, JSON.stringify({ version: 2, savedAt: '2026-01-01T00:00:00Z', rows }));
    await assert.rejects(readPolicySnapshot(bad), SnapshotError);
  });

  test('the empty policy sends every call out with the default caller ID', () => {
    const policy = buildRuntimePolicy(EMPTY_POLICY_ROWS);
    assert.equal(policy.configured, false);
    assert.equal(policy.inventory.size, 0);
    assert.equal(policy.defaultCountry, 'US');
  });

  test('a rebuilt policy keeps the later last use of each number', () => {
    const before = buildRuntimePolicy(rows);
    before.inventory.markUsed('+14155550100', 9000);
    const used = before.inventory.get('+14155550100')!.lastUsedAt;
    assert.ok(used >= 9000);
    const after = buildRuntimePolicy(rows, before);
    assert.equal(after.inventory.get('+14155550100')?.lastUsedAt, used);
  });
});
