// The call-record queue's rules, with a fake write function standing in for SQL (the same
// queue over real PostgreSQL is in test/integration/db-faults.test.ts and store-records.test.ts).
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'vitest';
import { createLogger } from '../../src/log.js';
import type { CallEnd, NewCallRecord, NewSurveyResult } from '../../src/store/call-records.js';
import { createRecordQueue, type RecordBatch, type RecordQueueOptions } from '../../src/store/record-queue.js';
import { surveyRow } from '../support/survey-rows.js';

const decision = (channelId: string, over: Partial<NewCallRecord> = {}): NewCallRecord => ({
  direction: 'outbound',
  pbx: 'test',
  channelId,
  action: 'dial',
  reason: 'decided',
  callerId: '+14155550100',
  decidedAt: new Date(1000),
  ...over,
});
const end = (channelId: string, endedAt = 2000): CallEnd => ({
  pbx: 'test',
  channelId,
  endedAt: new Date(endedAt),
  hangupCause: 16,
  answeredAt: null,
  talkSeconds: null,
  dialStatus: 'ANSWER',
  finalAction: null,
});

/** A survey on the same PBX as the calls above. */
const survey = (channelId: string, over: Partial<NewSurveyResult> = {}): NewSurveyResult => surveyRow(channelId, { pbx: 'test', ...over });

const outage = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
const refused = () => Object.assign(new Error('invalid input syntax for type integer'), { code: '22P02' });

/** A table of call rows and numbers kept by a fake writer, which can be made to fail. */
function fakeDatabase() {
  const rows = new Map<string, { decision: NewCallRecord; end?: CallEnd }>();
  const lastUse = new Map<string, Date>();
  const surveys = new Map<string, NewSurveyResult>();
  const writes: { at: number; batch: RecordBatch }[] = [];
  /** Events in the order the "database" saw them. */
  const seen: string[] = [];
  const state = { down: false, poison: new Set<string>() };
  const write = async (batch: RecordBatch) => {
    writes.push({ at: Date.now(), batch });
    if (state.down) throw outage();
    if ([...batch.decisions, ...batch.ends, ...batch.surveys].some((r) => state.poison.has(r.channelId))) throw refused();
    for (const d of batch.decisions) {
      const had = rows.get(d.channelId);
      rows.set(d.channelId, { decision: d, end: had?.end });
      seen.push(`decision:${d.channelId}`);
    }
    const unmatchedEnds: CallEnd[] = [];
    for (const e of batch.ends) {
      const row = rows.get(e.channelId);
      if (!row) {
        unmatchedEnds.push(e);
        continue;
      }
      row.end = e;
      seen.push(`end:${e.channelId}`);
    }
    for (const r of batch.surveys) {
      seen.push(`survey:${r.channelId}`);
      if (!surveys.has(r.channelId)) surveys.set(r.channelId, r);
    }
    for (const [n, t] of batch.lastUse) if (!lastUse.has(n) || lastUse.get(n)! < t) lastUse.set(n, t);
    return { unmatchedEnds };
  };
  return { rows, lastUse, surveys, writes, seen, state, write };
}

function captureLogs() {
  const lines: { level: number; msg: string; [k: string]: unknown }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { logger: createLogger('debug', stream), lines };
}

function queueOn(db: ReturnType<typeof fakeDatabase>, opts: Partial<RecordQueueOptions> = {}) {
  return createRecordQueue({ write: db.write, flushMs: 5, retryMinMs: 5, retryMaxMs: 40, ...opts });
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(5);
  }
}

describe('call-record queue', () => {
  test('writes in order: each end after its decision, across batches and retries', async () => {
    const db = fakeDatabase();
    const q = queueOn(db, { batchMax: 3 });
    db.state.down = true;
    for (let i = 0; i < 10; i++) {
      q.pushDecision(decision(`c${i}`));
      q.pushEnd(end(`c${i}`));
    }
    await sleep(100);
    assert.equal(db.rows.size, 0);
    assert.equal(q.stats().queued, 20);
    assert.equal(q.stats().retrying, true);
    assert.ok(db.writes.length >= 2, 'retried while down');
    db.state.down = false;
    await until(() => q.stats().queued === 0);
    assert.equal(db.rows.size, 10);
    for (let i = 0; i < 10; i++) {
      assert.ok(db.seen.indexOf(`decision:c${i}`) < db.seen.indexOf(`end:c${i}`), `c${i}: decision before end`);
      assert.equal(db.rows.get(`c${i}`)?.end?.endedAt.getTime(), 2000);
    }
    // Batches never exceed batchMax records and each decision went out once after recovery.
    assert.ok(db.writes.every((w) => w.batch.decisions.length + w.batch.ends.length <= 3));
    assert.deepEqual(q.stats(), { queued: 0, dropped: 0, retrying: false });
    q.close();
  });

  test('an end recorded before its decision waits for it and is then written', async () => {
    const db = fakeDatabase();
    const q = queueOn(db);
    q.pushEnd(end('early'));
    await q.flush();
    assert.equal(db.rows.size, 0);
    q.pushDecision(decision('early'));
    await q.flush();
    assert.equal(db.rows.get('early')?.end?.dialStatus, 'ANSWER');
    q.close();
  });

  test('retries back off up to the cap', async () => {
    const db = fakeDatabase();
    const q = queueOn(db, { retryMinMs: 10, retryMaxMs: 80 });
    db.state.down = true;
    q.pushDecision(decision('a'));
    await sleep(700);
    const gaps = db.writes.slice(1).map((w, i) => w.at - db.writes[i]!.at);
    // 10, 20, 40, 80, 80, ... ms: about 10 attempts in 700 ms, not hundreds.
    assert.ok(db.writes.length >= 5 && db.writes.length <= 14, `${db.writes.length} attempts`);
    assert.ok(gaps.slice(-3).every((g) => g >= 70 && g < 200), `capped gaps ${gaps.join(',')}`);
    assert.ok(gaps[0]! < 40, `first retry soon (${gaps[0]} ms)`);
    q.close();
  });

  test('bounded: what exceeds the bound is counted and logged once per outage, never silently', async () => {
    const db = fakeDatabase();
    const { logger, lines } = captureLogs();
    const q = queueOn(db, { queueMax: 5, logger });
    db.state.down = true;
    for (let i = 0; i < 8; i++) q.pushDecision(decision(`c${i}`));
    assert.deepEqual({ ...q.stats(), retrying: undefined }, { queued: 5, dropped: 3, retrying: undefined });
    const full = lines.filter((l) => /queue is full/.test(l.msg));
    assert.equal(full.length, 1, 'one line when dropping starts');
    db.state.down = false;
    await until(() => q.stats().queued === 0);
    const summary = lines.filter((l) => /dropped while the record queue was full/.test(l.msg));
    assert.equal(summary.length, 1);
    assert.equal(summary[0]!.dropped, 3);
    assert.deepEqual([...db.rows.keys()], ['c0', 'c1', 'c2', 'c3', 'c4']);
    // A second outage gets its own pair of lines; the total keeps counting.
    db.state.down = true;
    for (let i = 10; i < 17; i++) q.pushDecision(decision(`c${i}`));
    db.state.down = false;
    await until(() => q.stats().queued === 0);
    assert.equal(lines.filter((l) => /queue is full/.test(l.msg)).length, 2);
    assert.deepEqual(lines.filter((l) => /dropped while the record queue was full/.test(l.msg)).map((l) => l.dropped), [3, 2]);
    assert.equal(q.stats().dropped, 5);
    q.close();
  });

  test("numbers' last use coalesces per number, latest wins, even when the queue is full", async () => {
    const db = fakeDatabase();
    const q = queueOn(db, { queueMax: 10 });
    db.state.down = true;
    for (let i = 0; i < 1000; i++) {
      q.pushDecision(decision(`c${i}`, { callerId: `+1415555010${i % 3}`, decidedAt: new Date(10_000 + i) }));
    }
    assert.equal(q.stats().queued, 10);
    assert.equal(q.stats().dropped, 990);
    db.state.down = false;
    await until(() => q.stats().queued === 0 && db.lastUse.size === 3);
    assert.deepEqual(
      [...db.lastUse].sort().map(([n, t]) => [n, t.getTime()]),
      [
        ['+14155550100', 10_999],
        ['+14155550101', 10_997],
        ['+14155550102', 10_998],
      ],
    );
    // Each write carried at most one value per number.
    assert.ok(db.writes.every((w) => w.batch.lastUse.size <= 3));
    q.close();
  });

  test('a record the database refuses for good is isolated and dropped alone, with a log line', async () => {
    const db = fakeDatabase();
    const { logger, lines } = captureLogs();
    const q = queueOn(db, { logger });
    db.state.poison.add('bad');
    for (const c of ['a', 'b', 'bad', 'c']) q.pushDecision(decision(c));
    q.pushEnd(end('a'));
    await q.flush();
    assert.deepEqual([...db.rows.keys()].sort(), ['a', 'b', 'c']);
    assert.equal(db.rows.get('a')?.end?.endedAt.getTime(), 2000);
    assert.equal(q.stats().dropped, 1);
    const line = lines.find((l) => /refused a call record; dropped/.test(l.msg));
    assert.equal(line?.channel, 'bad');
    q.close();
  });

  test('flush rejects while the database is away, keeps the records, and writes them later', async () => {
    const db = fakeDatabase();
    const q = queueOn(db);
    db.state.down = true;
    q.pushDecision(decision('x'));
    await assert.rejects(q.flush(), /ECONNREFUSED/);
    assert.equal(q.stats().queued, 1);
    db.state.down = false;
    await q.flush();
    assert.equal(db.rows.has('x'), true);
    q.close();
  });

  test('a repeated decision for the same channel in one batch is sent once (the later one)', async () => {
    const db = fakeDatabase();
    const q = queueOn(db);
    q.pushDecision(decision('r', { callerId: '+14155550100' }));
    q.pushDecision(decision('r', { callerId: '+14155550101' }));
    await q.flush();
    assert.equal(db.writes[0]!.batch.decisions.length, 1);
    assert.equal(db.rows.get('r')?.decision.callerId, '+14155550101');
    q.close();
  });

  describe('survey results', () => {
    test('are written in the order they came with the rest, once per survey leg (the first)', async () => {
      const db = fakeDatabase();
      const q = queueOn(db);
      q.pushDecision(decision('c1'));
      q.pushSurvey(survey('s1', { score: 5 }));
      q.pushEnd(end('c1'));
      q.pushSurvey(survey('s2', { outcome: 'hung_up', dtmfKey: null, label: null, score: null }));
      q.pushSurvey(survey('s1', { score: 1 }));
      await q.flush();
      assert.deepEqual([...db.surveys.keys()], ['s1', 's2']);
      assert.equal(db.surveys.get('s1')?.score, 5, 'the first result of a leg is kept');
      assert.equal(db.writes[0]!.batch.surveys.length, 2, 'a repeated one is not even sent');
      assert.deepEqual(q.stats(), { queued: 0, dropped: 0, retrying: false });
      q.close();
    });

    test('are kept across a transient failure and written when the database is back', async () => {
      const db = fakeDatabase();
      const q = queueOn(db, { batchMax: 2 });
      db.state.down = true;
      for (let i = 0; i < 5; i++) q.pushSurvey(survey(`s${i}`));
      await assert.rejects(q.flush(), /ECONNREFUSED/);
      await sleep(50);
      assert.equal(q.stats().queued, 5);
      assert.equal(q.stats().retrying, true);
      assert.ok(db.writes.length >= 2, 'retried while down');
      db.state.down = false;
      await until(() => q.stats().queued === 0);
      assert.deepEqual([...db.surveys.keys()], ['s0', 's1', 's2', 's3', 's4']);
      assert.ok(db.writes.every((w) => w.batch.surveys.length <= 2), 'batches stay under batchMax');
      assert.equal(q.stats().dropped, 0);
      q.close();
    });

    test('count toward the bound: past it they are dropped, counted and logged like the rest', async () => {
      const db = fakeDatabase();
      const { logger, lines } = captureLogs();
      const q = queueOn(db, { queueMax: 3, logger });
      db.state.down = true;
      q.pushDecision(decision('c0'));
      q.pushSurvey(survey('s0'));
      q.pushSurvey(survey('s1'));
      q.pushSurvey(survey('s2'));
      q.pushDecision(decision('c1'));
      assert.deepEqual({ queued: q.stats().queued, dropped: q.stats().dropped }, { queued: 3, dropped: 2 });
      assert.equal(lines.filter((l) => /queue is full/.test(l.msg)).length, 1);
      db.state.down = false;
      await until(() => q.stats().queued === 0);
      assert.deepEqual([...db.surveys.keys()], ['s0', 's1']);
      assert.deepEqual([...db.rows.keys()], ['c0']);
      assert.deepEqual(lines.filter((l) => /dropped while the record queue was full/.test(l.msg)).map((l) => l.dropped), [2]);
      q.close();
    });

    test('one the database refuses is dropped alone, with a log line naming it as a survey', async () => {
      const db = fakeDatabase();
      const { logger, lines } = captureLogs();
      const q = queueOn(db, { logger });
      db.state.poison.add('bad-survey');
      q.pushDecision(decision('a'));
      q.pushSurvey(survey('s1'));
      q.pushSurvey(survey('bad-survey'));
      q.pushSurvey(survey('s2'));
      q.pushEnd(end('a'));
      await q.flush();
      assert.deepEqual([...db.surveys.keys()], ['s1', 's2']);
      assert.equal(db.rows.get('a')?.end?.endedAt.getTime(), 2000);
      assert.equal(q.stats().dropped, 1);
      const line = lines.find((l) => /refused a call record; dropped/.test(l.msg));
      assert.deepEqual([line?.pbx, line?.channel, line?.record], ['test', 'bad-survey', 'survey']);
      q.close();
    });
  });
});
