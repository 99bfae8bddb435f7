// The local journal that keeps queued call records across a killed adapter.
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, test } from 'vitest';
import { openRecordJournal, type JournalEntry } from '../../src/store/record-journal.js';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'cp-journal-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const decision = (i: number): JournalEntry => ({
  kind: 'decision',
  row: { direction: 'outbound', pbx: 'asterisk', channelId: `c${i}`, action: 'dial', reason: 'decided', decidedAt: new Date(1_700_000_000_000 + i), callerId: '+14155550100' },
});
const end = (i: number): JournalEntry => ({
  kind: 'end',
  end: { pbx: 'asterisk', channelId: `c${i}`, endedAt: new Date(1_700_000_100_000 + i), hangupCause: 16, answeredAt: new Date(1_700_000_050_000), talkSeconds: 50, dialStatus: 'ANSWER', finalAction: null },
});
const survey = (i: number): JournalEntry => ({
  kind: 'survey',
  row: {
    pbx: 'asterisk',
    channelId: `s${i}`,
    callChannelId: `c${i}`,
    direction: 'inbound',
    agentId: 'alice',
    agentGroups: ['sales', 'vip'],
    customerE164: '+8613800138000',
    template: 'default',
    outcome: 'rated',
    dtmfKey: '2',
    label: 'neutral',
    score: 3,
    attempts: 2,
    startedAt: new Date(1_700_000_200_000 + i),
    endedAt: new Date(1_700_000_210_000 + i),
  },
});
const segments = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.jsonl'));

describe('record journal', () => {
  test('what a killed process left is read back in order, dates as dates', () => {
    const dir = tempDir();
    const first = openRecordJournal(dir);
    for (let i = 0; i < 3; i++) first.append(decision(i));
    first.append(end(0));
    first.close(); // no release: as if killed before the database took them

    const second = openRecordJournal(dir);
    assert.equal(second.leftover.length, 4);
    assert.deepEqual(second.leftover.slice(0, 3).map((e) => (e.kind === 'decision' ? e.row.channelId : '')), ['c0', 'c1', 'c2']);
    const d = second.leftover[0]!;
    assert.ok(d.kind === 'decision' && d.row.decidedAt instanceof Date && d.row.decidedAt.getTime() === 1_700_000_000_000);
    const e = second.leftover[3]!;
    assert.ok(e.kind === 'end' && e.end.endedAt instanceof Date && e.end.answeredAt instanceof Date);
    second.close();
  });

  test('records written to the database leave the journal; a new process finds nothing', () => {
    const dir = tempDir();
    const j = openRecordJournal(dir);
    for (let i = 0; i < 10; i++) j.append(decision(i));
    j.release(4);
    j.close();
    assert.equal(openRecordJournal(dir).leftover.length, 10, 'a partly written segment is kept whole (rewriting is harmless)');

    const dir2 = tempDir();
    const k = openRecordJournal(dir2);
    for (let i = 0; i < 10; i++) k.append(decision(i));
    k.release(10);
    k.close();
    assert.equal(openRecordJournal(dir2).leftover.length, 0);
  });

  test('segments rotate and are deleted once written, so the journal stays small under steady load', () => {
    const dir = tempDir();
    const j = openRecordJournal(dir);
    for (let i = 0; i < 12_000; i++) j.append(decision(i));
    assert.equal(segments(dir).length, 3);
    j.release(5_000);
    assert.equal(segments(dir).length, 2, 'the first full segment is gone');
    j.release(11_999);
    assert.equal(segments(dir).length, 1);
    j.close();
    assert.equal(openRecordJournal(dir).leftover.length, 2_000, 'only the open segment remains');
  });

  test('a torn last line (killed mid-write) is skipped, the rest is read', () => {
    const dir = tempDir();
    const j = openRecordJournal(dir);
    j.append(decision(1));
    j.close();
    appendFileSync(path.join(dir, segments(dir)[0]!), '{"kind":"decision","row":{"chann');
    const again = openRecordJournal(dir);
    assert.equal(again.leftover.length, 1);
    again.close();
  });

  test('replayed files are deleted once their records are appended again', () => {
    const dir = tempDir();
    const j = openRecordJournal(dir);
    j.append(decision(1));
    j.close();
    const again = openRecordJournal(dir);
    for (const e of again.leftover) again.append(e);
    again.release(0);
    assert.equal(segments(dir).length, 1, 'only the new segment');
    again.close();
    assert.equal(openRecordJournal(dir).leftover.length, 1);
  });

  test('a survey result survives a reopen, every field as it was, dates as dates', () => {
    const dir = tempDir();
    const first = openRecordJournal(dir);
    first.append(decision(1));
    first.append(survey(1));
    first.append(end(1));
    first.close();

    const second = openRecordJournal(dir);
    assert.deepEqual(second.leftover.map((e) => e.kind), ['decision', 'survey', 'end']);
    const s = second.leftover[1]!;
    assert.ok(s.kind === 'survey');
    assert.ok(s.row.startedAt instanceof Date && s.row.endedAt instanceof Date);
    assert.deepEqual(s, survey(1));
    second.close();
  });
});
