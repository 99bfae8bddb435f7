// `callpolicy apply` with 200,000 numbers (past PostgreSQL's 65,535 parameters per statement) on
// the real PostgreSQL: everything lands, in one transaction, and a second apply writes nothing.
import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { sql } from 'drizzle-orm';
import { rowsOf } from '../../src/store/call-records.js';
import { openDatabase, type Database } from '../../src/store/database.js';
import { loadPolicy } from '../../src/store/load-policy.js';
import { generatePolicy, timedApply } from '../bench/apply-bench.js';
import { createTempDatabase } from '../support/temp-database.js';

const COUNT = 200_000;

describe('apply at scale (PostgreSQL)', () => {
  let tmp: Awaited<ReturnType<typeof createTempDatabase>>;
  let database: Database;
  const file = generatePolicy(COUNT);

  beforeAll(async () => {
    tmp = await createTempDatabase();
    database = await openDatabase({ url: tmp.url, dataDir: '' });
    await database.migrate();
  });
  afterAll(async () => {
    await database?.close();
    await tmp?.drop();
  });

  /** Every row's physical version: unchanged only if no statement rewrote any row. */
  const fingerprint = async () => {
    const [r] = rowsOf<{ numbers: string; links: string; agents: string; settings: string }>(
      await database.db.execute(sql`SELECT
        (SELECT md5(string_agg(e164 || ':' || xmin::text, ',' ORDER BY e164)) FROM numbers) AS numbers,
        (SELECT md5(string_agg(number_e164 || group_name || ':' || xmin::text, ',' ORDER BY number_e164, group_name)) FROM number_groups) AS links,
        (SELECT md5(string_agg(id || ':' || xmin::text, ',' ORDER BY id)) FROM agents) AS agents,
        (SELECT md5(string_agg(key || ':' || xmin::text, ',' ORDER BY key)) FROM settings) AS settings`),
    );
    return r!;
  };
  const count = async (table: string) => Number(rowsOf<{ n: string }>(await database.db.execute(sql.raw(`SELECT count(*) AS n FROM ${table}`)))[0]!.n);

  test(
    '200,000 numbers are applied whole; applying the same file again changes nothing',
    async () => {
      const first = await timedApply(tmp.url, file);
      assert.equal(first.summary.numbers, COUNT);
      assert.ok(first.summary.changes >= COUNT * 2, `changes ${first.summary.changes}`);
      assert.equal(await count('numbers'), COUNT);
      assert.equal(await count('number_groups'), COUNT);
      assert.equal(await count('agents'), 100);
      assert.equal(await count('agent_numbers'), 500);

      const policy = await loadPolicy(database.db);
      // Every 97th number is disabled: the inventory offers only the enabled ones.
      assert.equal(policy.inventory.size, COUNT - Math.ceil(COUNT / 97));
      assert.equal(policy.inventory.get('+12122300000')?.location.area, 'US:212');
      assert.equal(policy.inventory.inGroups(['g3']).length > 19_000, true);

      const before = await fingerprint();
      const second = await timedApply(tmp.url, file);
      assert.equal(second.summary.changes, 0);
      assert.deepEqual(await fingerprint(), before);
      console.log(`apply ${COUNT} numbers: first ${first.ms} ms, again (no change) ${second.ms} ms`);
    },
    600_000,
  );

  test(
    'a smaller file then removes what it no longer lists, in one transaction',
    async () => {
      const smaller = generatePolicy(1000);
      const r = await timedApply(tmp.url, smaller);
      assert.equal(await count('numbers'), 1000);
      assert.equal(await count('number_groups'), 1000);
      assert.ok(r.summary.changes >= (COUNT - 1000) * 2);
    },
    300_000,
  );
});
