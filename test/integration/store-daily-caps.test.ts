// Daily caps against the real PostgreSQL: a policy load counts today's outbound calls per caller
// ID (from the records), so a restarted adapter does not start its caps from zero; caps survive
// an export and re-apply unchanged.
import assert from 'node:assert/strict';
import { afterAll, beforeAll, test } from 'vitest';
import { parsePolicyFile } from '../../src/config/policy-file.js';
import { createLocator } from '../../src/phone/index.js';
import { applyPolicy } from '../../src/store/apply-policy.js';
import { openDatabase, type Database } from '../../src/store/database.js';
import { exportPolicy } from '../../src/store/export-policy.js';
import { loadPolicy } from '../../src/store/load-policy.js';
import { calls } from '../../src/store/schema/index.js';
import { createTempDatabase } from '../support/temp-database.js';
import { dashboardReport, lastDays } from '../../src/store/dashboard-report.js';

let db: Database;
let drop: () => Promise<void>;
const locator = createLocator();
const POLICY = `
callerId: { strategy: group, dailyCap: 2, capTimeZone: UTC }
groups: [sales]
numbers:
  - { number: "+14155550100", groups: [sales] }
  - { number: "+14155550101", groups: [sales], dailyCap: 1 }
`;

beforeAll(async () => {
  const tmp = await createTempDatabase();
  drop = () => tmp.drop();
  db = await openDatabase({ url: tmp.url, dataDir: '' });
  await db.migrate();
  await applyPolicy(db.db, parsePolicyFile(POLICY, 'caps.yaml'), (n) => locator.locate(n));
});
afterAll(async () => {
  await db?.close();
  await drop?.();
});

test("today's calls from the records count against the caps at load; yesterday's do not", async () => {
  const now = new Date();
  const yesterday = new Date(now.getTime() - 26 * 3600_000);
  const row = (id: string, callerId: string, at: Date) => ({ direction: 'outbound' as const, pbx: 'test', channelId: id, callerId, action: 'dial' as const, reason: 'decided', decidedAt: at });
  await db.db.insert(calls).values([row('a', '+14155550101', now), row('b', '+14155550100', now), row('c', '+14155550100', yesterday), row('d', '+14155550100', yesterday)]);
  const policy = await loadPolicy(db.db);
  const at = Date.now();
  assert.equal(policy.inventory.usesOn('+14155550101', at), 1);
  assert.equal(policy.inventory.usesOn('+14155550100', at), 1);
  assert.deepEqual(policy.inventory.available(policy.inventory.all(), at).map((n) => n.e164), ['+14155550100']);
});

test("the dashboard lists the numbers near their cap today", async () => {
  const report = await dashboardReport(db.db, lastDays(1, 'UTC'));
  assert.deepEqual(report.numbers.caps, { timeZone: 'UTC', capped: 2, atCap: 1, near: [{ number: '+14155550101', used: 1, cap: 1 }] });
});

test('caps survive an export and a re-apply unchanged', async () => {
  const exported = await exportPolicy(db.db);
  assert.deepEqual(exported.policy.numbers.map((n) => n.dailyCap), [undefined, 1]);
  assert.equal((exported.policy.callerId as { dailyCap: number }).dailyCap, 2);
  const again = await applyPolicy(db.db, parsePolicyFile(POLICY, 'caps.yaml'), (n) => locator.locate(n));
  assert.equal(again.changes, 0);
});
