// Call records on the real PostgreSQL and on PGlite: one row per (pbx, channel), re-adoption
// updates it, ends fill in what the PBX did; migration 0001 de-duplicates existing databases.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { and, eq, sql } from 'drizzle-orm';
import { createCallRecorder, rowsOf, type CallEnd, type NewCallRecord } from '../../src/store/call-records.js';
import { migrationsFolder, openDatabase, type Database } from '../../src/store/database.js';
import { errorCode } from '../../src/store/db-errors.js';
import { calls } from '../../src/store/schema/index.js';
import { createTempDatabase } from '../support/temp-database.js';

const decision = (channelId: string, over: Partial<NewCallRecord> = {}): NewCallRecord => ({
  direction: 'outbound',
  pbx: 'asterisk',
  channelId,
  action: 'dial',
  reason: 'decided',
  callerId: '+14155550100',
  strategy: 'group',
  tier: 'group',
  decidedAt: new Date('2026-01-01T10:00:00Z'),
  ...over,
});
const end = (channelId: string, over: Partial<CallEnd> = {}): CallEnd => ({
  pbx: 'asterisk',
  channelId,
  endedAt: new Date('2026-01-01T10:01:00Z'),
  hangupCause: 16,
  answeredAt: new Date('2026-01-01T10:00:05Z'),
  talkSeconds: 55,
  dialStatus: 'ANSWER',
  finalAction: null,
  ...over,
});

function suite(kind: 'postgres' | 'pglite') {
  describe(`call records on ${kind}`, () => {
    let database: Database;
    let cleanup: () => Promise<void>;
    beforeAll(async () => {
      if (kind === 'postgres') {
        const tmp = await createTempDatabase();
        database = await openDatabase({ url: tmp.url, dataDir: '' });
        cleanup = tmp.drop;
      } else {
        const dir = mkdtempSync(join(tmpdir(), 'callpolicy-records-'));
        database = await openDatabase({ dataDir: dir });
        cleanup = async () => rmSync(dir, { recursive: true, force: true });
      }
      await database.migrate();
    }, 60_000);
    afterAll(async () => {
      await database.close();
      await cleanup();
    });
    const rowsFor = (channelId: string, pbx = 'asterisk') =>
      database.db.select().from(calls).where(and(eq(calls.pbx, pbx), eq(calls.channelId, channelId)));

    test('a call decided again (re-adopted after a crash) keeps one row, updated, with its end', async () => {
      const recorder = createCallRecorder(database.db);
      recorder.recordDecision(decision('ch-1'));
      recorder.recordEnd(end('ch-1'));
      await recorder.flush();
      // Re-adoption by a new process: the decision comes again, in its own batch...
      recorder.recordDecision(decision('ch-1', { callerId: '+14155550101', decidedAt: new Date('2026-01-01T10:00:02Z'), reason: 'decided' }));
      await recorder.flush();
      // ...and twice in one batch.
      recorder.recordDecision(decision('ch-1', { callerId: '+14155550102' }));
      recorder.recordDecision(decision('ch-1', { callerId: '+14155550103' }));
      await recorder.flush();
      const rows = await rowsFor('ch-1');
      assert.equal(rows.length, 1);
      assert.equal(rows[0]!.callerId, '+14155550103');
      assert.equal(rows[0]!.endedAt?.toISOString(), '2026-01-01T10:01:00.000Z', 'a repeated decision does not clear the end');
      assert.equal(rows[0]!.talkSeconds, 55);
      // The same channel id on another PBX is another call.
      recorder.recordDecision(decision('ch-1', { pbx: 'freeswitch' }));
      await recorder.flush();
      assert.equal((await rowsFor('ch-1', 'freeswitch')).length, 1);
      recorder.close();
    });

    test('the end records answer time, talk seconds, dial status, and what the PBX did when it differs', async () => {
      const recorder = createCallRecorder(database.db);
      recorder.recordDecision(decision('ch-as-decided'));
      recorder.recordDecision(decision('ch-late'));
      recorder.recordDecision(decision('ch-busy', { action: 'default', callerId: null, reason: 'chain_exhausted' }));
      recorder.recordEnd(end('ch-as-decided', { finalAction: 'dial' }));
      recorder.recordEnd(end('ch-late', { finalAction: 'default', answeredAt: null, talkSeconds: null, dialStatus: 'NOANSWER', hangupCause: 19 }));
      recorder.recordEnd(end('ch-busy', { finalAction: 'default', answeredAt: null, talkSeconds: null, dialStatus: 'BUSY', hangupCause: 17 }));
      await recorder.flush();
      const [asDecided] = await rowsFor('ch-as-decided');
      assert.deepEqual([asDecided!.finalAction, asDecided!.dialStatus, asDecided!.answeredAt?.toISOString(), asDecided!.talkSeconds], [null, 'ANSWER', '2026-01-01T10:00:05.000Z', 55]);
      const [late] = await rowsFor('ch-late');
      assert.deepEqual([late!.action, late!.finalAction, late!.dialStatus, late!.answeredAt, late!.talkSeconds, late!.hangupCause], ['dial', 'default', 'NOANSWER', null, null, 19]);
      const [busy] = await rowsFor('ch-busy');
      assert.deepEqual([busy!.finalAction, busy!.dialStatus], [null, 'BUSY']);
      recorder.close();
    });

    test('an end that arrives before its decision is written once the decision is', async () => {
      const recorder = createCallRecorder(database.db);
      recorder.recordEnd(end('ch-early', { dialStatus: 'CANCEL', answeredAt: null, talkSeconds: null }));
      await recorder.flush();
      assert.equal((await rowsFor('ch-early')).length, 0);
      recorder.recordDecision(decision('ch-early'));
      await recorder.flush();
      assert.equal((await rowsFor('ch-early'))[0]?.dialStatus, 'CANCEL');
      recorder.close();
    });

    test('the database itself refuses a second row for a (pbx, channel)', async () => {
      const insert = () =>
        database.db.insert(calls).values({ direction: 'outbound', pbx: 'asterisk', channelId: 'ch-unique', action: 'default', reason: 'x', decidedAt: new Date() });
      await insert();
      await assert.rejects(insert(), (err: unknown) => errorCode(err) === '23505');
    });

    test('last use of numbers is written from the decisions, latest wins', async () => {
      await database.db.execute(sql`INSERT INTO numbers (e164, location_country) VALUES ('+14155550199', 'US') ON CONFLICT DO NOTHING`);
      const recorder = createCallRecorder(database.db);
      recorder.recordDecision(decision('lu-1', { callerId: '+14155550199', decidedAt: new Date(5000) }));
      recorder.recordDecision(decision('lu-2', { callerId: '+14155550199', decidedAt: new Date(9000) }));
      recorder.recordDecision(decision('lu-3', { callerId: '+14155550199', decidedAt: new Date(7000) }));
      await recorder.flush();
      const [n] = rowsOf<{ t: Date | string }>(await database.db.execute(sql`SELECT last_used_at AS t FROM numbers WHERE e164 = '+14155550199'`));
      assert.equal(new Date(n!.t).getTime(), 9000);
      recorder.close();
    });
  });
}

suite('postgres');
suite('pglite');

describe('migration 0001 on a database recorded by the earlier version', () => {
  let tmp: Awaited<ReturnType<typeof createTempDatabase>>;
  let database: Database;
  const onlyFirst = mkdtempSync(join(tmpdir(), 'callpolicy-migrations-'));
  beforeAll(async () => {
    tmp = await createTempDatabase();
    database = await openDatabase({ url: tmp.url, dataDir: '' });
  });
  afterAll(async () => {
    await database.close();
    await tmp.drop();
    rmSync(onlyFirst, { recursive: true, force: true });
  });

  test('duplicate rows of one channel collapse to the latest decision, then the unique index holds', async () => {
    // The migrations folder as the earlier version shipped it: 0000 only.
    cpSync(migrationsFolder, onlyFirst, { recursive: true });
    const journal = JSON.parse(readFileSync(join(onlyFirst, 'meta', '_journal.json'), 'utf8')) as { entries: { tag: string }[] };
    journal.entries = journal.entries.filter((e) => e.tag.startsWith('0000_'));
    writeFileSync(join(onlyFirst, 'meta', '_journal.json'), JSON.stringify(journal));
    const { default: pg } = await import('pg');
    const { drizzle } = await import('drizzle-orm/node-postgres');
    const { migrate } = await import('drizzle-orm/node-postgres/migrator');
    const pool = new pg.Pool({ connectionString: tmp.url });
    try {
      await migrate(drizzle(pool), { migrationsFolder: onlyFirst });
      await pool.query(`INSERT INTO calls (direction, pbx, channel_id, action, reason, decided_at, caller_id, ended_at) VALUES
        ('outbound', 'asterisk', 'dup', 'dial', 'decided', '2026-01-01T10:00:00Z', '+1000', '2026-01-01T10:05:00Z'),
        ('outbound', 'asterisk', 'dup', 'dial', 'decided', '2026-01-01T10:00:09Z', '+1009', '2026-01-01T10:05:00Z'),
        ('outbound', 'asterisk', 'dup', 'dial', 'decided', '2026-01-01T10:00:05Z', '+1005', NULL),
        ('outbound', 'other', 'dup', 'dial', 'decided', '2026-01-01T10:00:00Z', '+2000', NULL),
        ('outbound', 'asterisk', 'single', 'default', 'unknown_agent', '2026-01-01T10:00:00Z', NULL, NULL)`);
    } finally {
      await pool.end();
    }
    await database.migrate();
    const rows = rowsOf<{ pbx: string; channel_id: string; caller_id: string | null }>(
      await database.db.execute(sql`SELECT pbx, channel_id, caller_id FROM calls ORDER BY pbx, channel_id`),
    );
    assert.deepEqual(rows, [
      { pbx: 'asterisk', channel_id: 'dup', caller_id: '+1009' },
      { pbx: 'asterisk', channel_id: 'single', caller_id: null },
      { pbx: 'other', channel_id: 'dup', caller_id: '+2000' },
    ]);
    const idx = rowsOf<{ indexdef: string }>(await database.db.execute(sql`SELECT indexdef FROM pg_indexes WHERE indexname = 'calls_pbx_channel_uidx'`));
    assert.match(idx[0]?.indexdef ?? '', /UNIQUE INDEX .* \(pbx, channel_id\)/);
    const old = rowsOf(await database.db.execute(sql`SELECT 1 FROM pg_indexes WHERE indexname = 'calls_channel_idx'`));
    assert.equal(old.length, 0);
  });
});
