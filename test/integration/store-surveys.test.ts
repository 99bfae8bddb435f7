// Survey results through the call-record queue and journal, on the real PostgreSQL (and PGlite):
// every column read back, one row per survey leg however often it is written, and no result lost
// while the database is away (a private PostgreSQL stopped and started) or the process is killed.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { eq } from 'drizzle-orm';
import { createCallRecorder } from '../../src/store/call-records.js';
import { openDatabase, type Database } from '../../src/store/database.js';
import { surveyResults } from '../../src/store/schema/index.js';
import { startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres.js';
import { surveyRow } from '../support/survey-rows.js';
import { openTestDatabase } from '../support/test-database.js';

async function until(what: string, cond: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await sleep(50);
  }
}

function suite(kind: 'postgres' | 'pglite') {
  describe(`survey results on ${kind}`, () => {
    let database: Database;
    let cleanup: () => Promise<void>;
    beforeAll(async () => {
      ({ database, cleanup } = await openTestDatabase(kind));
    }, 60_000);
    afterAll(async () => cleanup?.());
    const rowsFor = (channelId: string) => database.db.select().from(surveyResults).where(eq(surveyResults.channelId, channelId));

    test('a result is written with every column and read back as it was', async () => {
      const recorder = createCallRecorder(database.db);
      const row = surveyRow('s-full', {
        agentGroups: ['sales', 'vip "gold", {x}'],
        attempts: 2,
        startedAt: new Date('2026-11-01T10:00:00.123Z'),
        endedAt: new Date('2026-11-01T10:00:09.456Z'),
      });
      recorder.recordSurvey(row);
      // The other outcomes' shape: no key, label or score; no agent, groups or customer known.
      recorder.recordSurvey(surveyRow('s-bare', { outcome: 'hung_up', agentId: null, agentGroups: undefined, customerE164: null, dtmfKey: null, label: null, score: null, direction: 'inbound' }));
      await recorder.flush();
      const [got] = await rowsFor('s-full');
      assert.ok(got);
      const { id, ...rest } = got;
      assert.match(id, /^[0-9a-f-]{36}$/);
      assert.deepEqual(rest, row, 'every column, text[] and millisecond times included');
      const [bare] = await rowsFor('s-bare');
      assert.deepEqual(
        [bare?.outcome, bare?.agentId, bare?.agentGroups, bare?.customerE164, bare?.dtmfKey, bare?.label, bare?.score, bare?.direction],
        ['hung_up', null, [], null, null, null, null, 'inbound'],
      );
      recorder.close();
    });

    test('the same result written twice (in one batch, in two, by a replay) is one row: the first', async () => {
      const recorder = createCallRecorder(database.db);
      recorder.recordSurvey(surveyRow('s-twice', { score: 5, label: 'satisfied' }));
      recorder.recordSurvey(surveyRow('s-twice', { score: 1, label: 'second' }));
      await recorder.flush();
      recorder.recordSurvey(surveyRow('s-twice', { score: 2, label: 'third' }));
      await recorder.flush();
      const rows = await rowsFor('s-twice');
      assert.equal(rows.length, 1);
      assert.deepEqual([rows[0]!.score, rows[0]!.label], [5, 'satisfied']);
      // The same channel id on another PBX is another survey.
      recorder.recordSurvey(surveyRow('s-twice', { pbx: 'freeswitch' }));
      await recorder.flush();
      assert.equal((await rowsFor('s-twice')).length, 2);
      assert.equal(recorder.stats().dropped, 0);
      recorder.close();
    });
  });
}

suite('postgres');
suite('pglite');

describe('survey results while the database is away (private PostgreSQL)', () => {
  let server: PrivatePostgres;
  let admin: Database;
  let url: string;
  const dir = mkdtempSync(join(tmpdir(), 'cp-survey-journal-'));
  beforeAll(async () => {
    server = await startPrivatePostgres();
    url = await server.createDatabase('callpolicy');
    admin = await openDatabase({ url, dataDir: '' });
    await admin.migrate();
  }, 120_000);
  afterAll(async () => {
    if (server && !(await server.accepting())) await server.start();
    await admin?.close();
    await server?.destroy();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);
  const count = async (channelId: string) => (await admin.db.select().from(surveyResults).where(eq(surveyResults.channelId, channelId))).length;

  test('down, then back: the result queued meanwhile arrives by itself', async () => {
    const database = await openDatabase({ url, dataDir: '', limits: { connectTimeoutMs: 500 } });
    const recorder = createCallRecorder(database.db, { retryMinMs: 50, retryMaxMs: 300 });
    try {
      await server.stop();
      recorder.recordSurvey(surveyRow('s-outage'));
      await assert.rejects(recorder.flush(), 'the write fails: the database is down');
      await sleep(500);
      assert.deepEqual([recorder.stats().queued, recorder.stats().retrying], [1, true]);
      await server.start();
      // No flush: the queue's own retries write it.
      await until('the survey written', async () => recorder.stats().queued === 0 && (await count('s-outage')) === 1);
      assert.equal(recorder.stats().dropped, 0);
    } finally {
      recorder.close();
      await database.close();
    }
  }, 60_000);

  test('killed while the database is away: the next process writes it from the journal, once', async () => {
    await server.stop();
    const down = await openDatabase({ url, dataDir: '', limits: { connectTimeoutMs: 300 } });
    const first = createCallRecorder(down.db, { journalDir: dir, retryMinMs: 50, retryMaxMs: 200 });
    first.recordSurvey(surveyRow('s-killed', { outcome: 'no_input', dtmfKey: null, label: null, score: null, attempts: 3, startedAt: new Date('2026-11-01T10:00:00.123Z') }));
    await assert.rejects(first.flush());
    first.close(); // killed: no flush; only the journal is left
    await down.close().catch(() => undefined);
    await server.start();

    for (let run = 0; run < 2; run++) {
      // The second run replays nothing (the first emptied the journal); writing it again would keep one row anyway.
      const next = createCallRecorder(admin.db, { journalDir: dir });
      await next.flush();
      assert.equal(next.stats().queued, 0);
      next.close();
    }
    const [row] = await admin.db.select().from(surveyResults).where(eq(surveyResults.channelId, 's-killed'));
    assert.deepEqual([row?.outcome, row?.attempts, row?.startedAt.toISOString()], ['no_input', 3, '2026-11-01T10:00:00.123Z']);
    assert.equal(await count('s-killed'), 1);
  }, 60_000);
});
