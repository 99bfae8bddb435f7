import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { sql } from 'drizzle-orm';
import { parsePolicyFile } from '../../src/config/policy-file.js';
import { createLocator } from '../../src/phone/index.js';
import { applyPolicy } from '../../src/store/apply-policy.js';
import { createCallRecorder } from '../../src/store/call-records.js';
import { openDatabase, type Database } from '../../src/store/database.js';
import { loadPolicy, setChosenNumber } from '../../src/store/load-policy.js';
import { calls } from '../../src/store/schema/index.js';
import { createTempDatabase } from '../support/temp-database.js';

const file = (strategy = 'group', extraAgent = '') => `
callerId: { strategy: ${strategy}, selection: lru }
groups: [sales, support]
numbers:
  - { number: "+14155550100", groups: [sales] }
  - { number: "+8675588880000" }
  - { number: "+12125550100", location: { area: "Upper West Side" } }
agents:
  - { id: alice, endpoint: PJSIP/1001, groups: [sales], numbers: ["+14155550100", "+12125550100"] }
${extraAgent}`;

const locator = createLocator();
const locate = (n: string) => locator.locate(n);

function suite(kind: 'postgres' | 'pglite') {
  describe(`store on ${kind}`, () => {
    let database: Database;
    let cleanup: () => Promise<void>;
    beforeAll(async () => {
      if (kind === 'postgres') {
        const tmp = await createTempDatabase();
        database = await openDatabase({ url: tmp.url, dataDir: '' });
        cleanup = tmp.drop;
      } else {
        const dir = mkdtempSync(join(tmpdir(), 'callpolicy-pglite-'));
        database = await openDatabase({ dataDir: dir });
        cleanup = async () => rmSync(dir, { recursive: true, force: true });
      }
      await database.migrate();
    });
    afterAll(async () => {
      await database.close();
      await cleanup();
    });

    test('apply then load gives the inventory with computed and manual locations', async () => {
      await applyPolicy(database.db, parsePolicyFile(file(), 'p.yaml'), locate);
      const p = await loadPolicy(database.db);
      assert.equal(p.configured, true);
      assert.equal(p.callerId.strategy, 'group');
      assert.equal(p.inventory.size, 3);
      assert.deepEqual(p.inventory.get('+14155550100')?.location, { country: 'US', region: 'US:CA', area: 'US:415' });
      assert.equal(p.inventory.get('+8675588880000')?.location.area, 'CN:Shenzhen, Guangdong');
      assert.equal(p.inventory.get('+12125550100')?.location.area, 'US:Upper West Side');
      assert.deepEqual(p.inventory.agent('PJSIP/1001')?.groups, ['sales']);
    });

    test('applying twice is idempotent and keeps last use and the agent choice', async () => {
      await setChosenNumber(database.db, 'alice', '+12125550100');
      const recorder = createCallRecorder(database.db);
      recorder.recordDecision({ direction: 'outbound', pbx: 'test', channelId: 'c1', action: 'dial', reason: 'decided', callerId: '+14155550100', decidedAt: new Date(5000) });
      recorder.recordEnd({ pbx: 'test', channelId: 'c1', endedAt: new Date(9000), hangupCause: 16, answeredAt: new Date(6000), talkSeconds: 3, dialStatus: 'ANSWER', finalAction: null });
      await recorder.flush();
      const [row] = await database.db.select().from(calls);
      assert.deepEqual([row?.endedAt?.getTime(), row?.hangupCause], [9000, 16]);
      await applyPolicy(database.db, parsePolicyFile(file(), 'p.yaml'), locate);
      const p = await loadPolicy(database.db);
      assert.equal(p.inventory.get('+14155550100')?.lastUsedAt, 5000);
      assert.equal(p.inventory.agent('PJSIP/1001')?.chosenNumber, '+12125550100');
    });

    test('a choice outside the agent numbers is refused', async () => {
      await assert.rejects(setChosenNumber(database.db, 'alice', '+8675588880000'), /may not use \+8675588880000/);
    });

    test('a failing apply leaves the previous state whole', async () => {
      const before = await loadPolicy(database.db);
      const bad = parsePolicyFile(file('area', '  - { id: bob, endpoint: PJSIP/1002 }'), 'p.yaml');
      // Break the transaction half-way: bob's endpoint collides with nothing, but a number insert will fail.
      bad.numbers.push({ number: '+14155550100', enabled: true, groups: [] });
      await assert.rejects(applyPolicy(database.db, bad, locate));
      const afterwards = await loadPolicy(database.db);
      assert.equal(afterwards.callerId.strategy, before.callerId.strategy);
      assert.equal(afterwards.inventory.agent('PJSIP/1002'), undefined);
      assert.equal(afterwards.inventory.size, 3);
    });

    test('removing entries from the file removes them from the database', async () => {
      const smaller = parsePolicyFile(`callerId: { strategy: area }\nnumbers: [{ number: "+14155550100" }]\n`, 'p.yaml');
      await applyPolicy(database.db, smaller, locate);
      const p = await loadPolicy(database.db);
      assert.equal(p.inventory.size, 1);
      assert.equal(p.inventory.agent('PJSIP/1001'), undefined);
    });

    if (kind === 'postgres') {
      test('the call-memory lookup is served by its index, in a prepared statement\'s generic plan too', async () => {
        // The look-up's shape (call-memory-lookup.ts), planned once for any parameters, as a
        // prepared statement is after its first executions: the partial index must still apply.
        const text = await database.db.transaction(async (tx) => {
          await tx.execute(sql`SET LOCAL plan_cache_mode = force_generic_plan`);
          await tx.execute(
            sql.raw(`PREPARE memory_plan_check(text, timestamptz) AS SELECT agent_id, decided_at, answered_at FROM calls
              WHERE customer_e164 = $1 AND calls.direction = 'outbound' AND decided_at >= $2 AND agent_id IS NOT NULL
              ORDER BY decided_at DESC LIMIT 1`),
          );
          const plan = await tx.execute(sql`EXPLAIN EXECUTE memory_plan_check('+14155550123', now() - interval '3 days')`);
          await tx.execute(sql`DEALLOCATE memory_plan_check`);
          return JSON.stringify(plan);
        });
        assert.match(text, /calls_memory_idx/);
      });
    }
  });
}

suite('postgres');
suite('pglite');
