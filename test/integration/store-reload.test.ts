// A reload reads the whole policy in one snapshot: while applies of two different policies
// commit one after the other, every read sees one of them whole, never settings of one with the
// numbers of the other.
import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { policyFileSchema } from '../../src/config/policy-file.js';
import { applyPolicy } from '../../src/store/apply-policy.js';
import { openDatabase, type Database } from '../../src/store/database.js';
import { readPolicyRows } from '../../src/store/load-policy.js';
import { createTempDatabase } from '../support/temp-database.js';

const numbers = (prefix: string, group: string) => Array.from({ length: 2000 }, (_, i) => ({ number: `${prefix}${String(2_300_000 + i)}`, groups: [group] }));
const A = policyFileSchema.parse({ callerId: { strategy: 'group' }, groups: ['a'], numbers: numbers('+1212', 'a') });
const B = policyFileSchema.parse({ callerId: { strategy: 'area' }, groups: ['b'], numbers: numbers('+1415', 'b') });
const nowhere = async (e164: string) => ({ country: 'US', region: null, area: e164.slice(0, 5) });

describe('reload reads one snapshot (PostgreSQL)', () => {
  let tmp: Awaited<ReturnType<typeof createTempDatabase>>;
  let writer: Database;
  let reader: Database;
  beforeAll(async () => {
    tmp = await createTempDatabase();
    writer = await openDatabase({ url: tmp.url, dataDir: '' });
    reader = await openDatabase({ url: tmp.url, dataDir: '' });
    await writer.migrate();
    await applyPolicy(writer.db, A, nowhere);
  });
  afterAll(async () => {
    await writer.close();
    await reader.close();
    await tmp.drop();
  });

  test(
    'reads during applies see policy A or policy B, whole',
    async () => {
      let applying = true;
      let applies = 0;
      const applier = (async () => {
        for (let i = 0; applying; i++) {
          await applyPolicy(writer.db, i % 2 === 0 ? B : A, nowhere);
          applies++;
        }
      })();
      const seen = { a: 0, b: 0 };
      const mixed: string[] = [];
      const until = Date.now() + 8000;
      while (Date.now() < until && (seen.a < 20 || seen.b < 20 || applies < 10)) {
        const rows = await readPolicyRows(reader.db);
        const strategy = (rows.settings.callerId as { strategy: string }).strategy;
        const prefixes = new Set(rows.numbers.map((n) => n.e164.slice(0, 5)));
        const groups = new Set(rows.numberGroups.map(([, g]) => g));
        const kind = strategy === 'group' && [...prefixes].join() === '+1212' && [...groups].join() === 'a' ? 'a' : strategy === 'area' && [...prefixes].join() === '+1415' && [...groups].join() === 'b' ? 'b' : undefined;
        if (kind && rows.numbers.length === 2000 && rows.numberGroups.length === 2000) seen[kind]++;
        else mixed.push(`${strategy}: ${rows.numbers.length} numbers ${[...prefixes].join('/')}, groups ${[...groups].join('/')} (${rows.numberGroups.length} links)`);
      }
      applying = false;
      await applier;
      assert.deepEqual(mixed, [], 'no read mixed two applies');
      assert.ok(seen.a > 0 && seen.b > 0 && applies >= 4, `reads of A ${seen.a}, of B ${seen.b}, applies ${applies}`);
    },
    60_000,
  );
});
