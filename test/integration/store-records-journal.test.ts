// A killed adapter loses no call record: what it queued while the database could not take it is
// in its local journal, and the next adapter on the same data folder writes it. Real PostgreSQL.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, test } from 'vitest';
import { isNotNull } from 'drizzle-orm';
import { createCallRecorder } from '../../src/store/call-records.js';
import { openDatabase, type Database } from '../../src/store/database.js';
import { calls } from '../../src/store/schema/index.js';
import { createTempDatabase } from '../support/temp-database.js';

let temp: Awaited<ReturnType<typeof createTempDatabase>>;
let db: Database;
let dir: string;

beforeAll(async () => {
  temp = await createTempDatabase();
  db = await openDatabase({ url: temp.url, dataDir: '.data' });
  await db.migrate();
  dir = mkdtempSync(join(tmpdir(), 'cp-journal-it-'));
});
afterAll(async () => {
  await db?.close();
  await temp?.drop();
  rmSync(dir, { recursive: true, force: true });
});

test('records queued while the database was unreachable survive the process and are written by the next one', async () => {
  // A database that cannot be reached: nothing listens on port 1.
  const down = await openDatabase({ url: 'postgres://postgres@127.0.0.1:1/none', dataDir: '.data', limits: { connectTimeoutMs: 200 } });
  const first = createCallRecorder(down.db, { journalDir: dir, retryMinMs: 50, retryMaxMs: 200 });
  for (let i = 0; i < 50; i++) {
    first.recordDecision({ direction: 'outbound', pbx: 'asterisk', channelId: `k${i}`, action: 'dial', reason: 'decided', callerId: '+14155550100', decidedAt: new Date(Date.now() - 60_000 + i) });
  }
  for (let i = 0; i < 20; i++) {
    first.recordEnd({ pbx: 'asterisk', channelId: `k${i}`, endedAt: new Date(), hangupCause: 16, answeredAt: new Date(Date.now() - 5000), talkSeconds: 5, dialStatus: 'ANSWER', finalAction: null });
  }
  await assert.rejects(first.flush(), 'the writes fail: the database is away');
  assert.equal(first.stats().queued, 70);
  // Killed: no flush, nothing written; only the journal is left on disk.
  first.close();
  await down.close().catch(() => undefined);

  const second = createCallRecorder(db.db, { journalDir: dir });
  await second.flush();
  const rows = await db.db.select().from(calls);
  assert.equal(rows.length, 50, 'every decision is in the database');
  assert.equal((await db.db.select().from(calls).where(isNotNull(calls.endedAt))).length, 20, 'every end too');
  assert.equal(second.stats().queued, 0);
  second.close();

  const third = createCallRecorder(db.db, { journalDir: dir });
  await third.flush();
  assert.equal(third.stats().queued, 0, 'nothing left in the journal once written');
  assert.ok(readdirSync(dir).filter((f) => f.endsWith('.jsonl')).length <= 1);
  third.close();
});
