// `callpolicy surveys` end to end: the real CLI (its own process, as an administrator runs it)
// against the real PostgreSQL, after survey results were written through the call recorder.
// No PBX is involved.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { createCallRecorder, type NewSurveyResult } from '../../src/store/call-records.js';
import { openDatabase, type Database } from '../../src/store/database.js';
import { runCli } from '../support/fault-rig.js';
import { REPO } from '../support/local-stack.js';
import { surveyRow } from '../support/survey-rows.js';
import { createTempDatabase } from '../support/temp-database.js';

const HOUR = 3_600_000;
/** What the report and the list below show: the customer's number (masked or not), outbound, rated 1 (satisfied, score 5), unless said otherwise. */
const survey = (channelId: string, agentId: string, agentGroups: string[], startedAt: Date, over: Partial<NewSurveyResult> = {}): NewSurveyResult =>
  surveyRow(channelId, { agentId, agentGroups, startedAt, customerE164: '+8613800138000', direction: 'outbound', template: 'default', outcome: 'rated', dtmfKey: '1', label: 'satisfied', score: 5, ...over });

describe('callpolicy surveys (real CLI, real PostgreSQL)', () => {
  let tmp: Awaited<ReturnType<typeof createTempDatabase>>;
  let database: Database;
  const work = mkdtempSync(path.join(tmpdir(), 'cp-cli-surveys-'));
  const env = () => ({ ...process.env, DATABASE_URL: tmp.url, CALLPOLICY_DATA_DIR: work, LOG_LEVEL: 'silent' });
  const cli = (...args: string[]) => runCli(env(), ...args);

  beforeAll(async () => {
    tmp = await createTempDatabase();
    database = await openDatabase({ url: tmp.url, dataDir: '' });
    await database.migrate();
    const now = Date.now();
    const recorder = createCallRecorder(database.db);
    // Recent (inside the default 7 days).
    recorder.recordSurvey(survey('r1', 'alice', ['sales'], new Date(now - 2 * HOUR)));
    recorder.recordSurvey(survey('r2', 'alice', ['sales'], new Date(now - 3 * HOUR), { dtmfKey: '2', label: 'neutral', score: 3 }));
    recorder.recordSurvey(survey('r3', 'bob', [], new Date(now - 4 * HOUR), { outcome: 'no_input', dtmfKey: null, label: null, score: null, direction: 'inbound' }));
    recorder.recordSurvey(survey('r4', 'alice', ['sales'], new Date(now - 10 * 24 * HOUR))); // older than 7 days
    // Fixed days: 23:30 UTC on 1 November is 2 November in Shanghai.
    recorder.recordSurvey(survey('d1', 'carol', ['support'], new Date('2026-11-01T10:00:00Z')));
    recorder.recordSurvey(survey('d2', 'carol', ['support'], new Date('2026-11-01T23:30:00Z'), { dtmfKey: '3', label: 'unhappy', score: 1 }));
    await recorder.flush();
    recorder.close();
  }, 60_000);
  afterAll(async () => {
    await database?.close();
    await tmp?.drop();
    rmSync(work, { recursive: true, force: true });
  });

  test('default: by agent over the last 7 days, as a table', () => {
    const lines = cli('surveys').split('\n');
    assert.match(lines[0]!, /^surveys by agent, from \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ to now$/);
    assert.match(lines[1]!, /^agent +offered +rated +rate % +avg score +distribution$/);
    assert.match(lines[2]!, /^alice +2 +2 +100\.0 +4\.00 +1 satisfied: 1, 2 neutral: 1$/, 'r4 is older than 7 days');
    assert.match(lines[3]!, /^bob +1 +0 +0\.0 +-$/);
    assert.equal(lines.length, 4);
  }, 60_000);

  test('by day in Asia/Shanghai, by group, and as JSON', () => {
    const shanghai = cli('surveys', '--by', 'day', '--since', '2026-11-01', '--until', '2026-11-02', '--tz', 'Asia/Shanghai', '--json');
    assert.deepEqual(
      (JSON.parse(shanghai) as { key: string; offered: number; averageScore: number }[]).map((r) => [r.key, r.offered, r.averageScore]),
      [
        ['2026-11-01', 1, 5],
        ['2026-11-02', 1, 1],
      ],
    );
    const utc = cli('surveys', '--by', 'day', '--since', '2026-11-01', '--until', '2026-11-01').split('\n');
    assert.match(utc[2]!, /^2026-11-01 +2 +2 +100\.0 +3\.00 +1 satisfied: 1, 3 unhappy: 1$/);
    const groups = cli('surveys', '--by', 'group').split('\n');
    assert.deepEqual(groups.slice(2).map((l) => l.split(/ +/).slice(0, 3)), [['(none)', '1', '0'], ['sales', '2', '2']]);
  }, 60_000);

  test('--list: the latest results one per line, the number masked as the policy says', () => {
    const lines = cli('surveys', '--list', '3', '--tz', 'Asia/Shanghai').split('\n');
    assert.equal(lines.length, 3);
    assert.match(lines[0]!, /^\S+\+08:00 {2}inbound {2}bob {2}\+86 138\*\*\*\*8000 {2}default {2}no_input$/);
    assert.match(lines[1]!, / {2}rated {2}2 neutral \(score 3\)$/);
    assert.match(lines[2]!, /^\S+\+08:00 {2}outbound {2}alice {2}\+86 138\*\*\*\*8000 {2}default {2}rated {2}1 satisfied \(score 5\)$/, 'the newest last');
    assert.doesNotMatch(lines.join('\n'), /8613800138000/);
    // The list is not limited to the last 7 days: carol's are from November.
    const carol = cli('surveys', '--list', '--agent', 'carol', '--direction', 'outbound', '--json');
    assert.deepEqual((JSON.parse(carol) as { channelId: string; customerE164: string }[]).map((r) => [r.channelId, r.customerE164]), [['d2', '+86 138****8000'], ['d1', '+86 138****8000']]);

    // A policy that does not mask numbers: the list shows them whole.
    const policy = path.join(work, 'policy.yaml');
    writeFileSync(policy, 'callerId: { strategy: group }\ngroups: [sales]\nnumbers:\n  - { number: "+14155550100", groups: [sales] }\nagents:\n  - { id: alice, endpoint: PJSIP/1001, groups: [sales] }\nprivacy: { maskNumbersInLogs: false }\n');
    cli('apply', policy);
    assert.match(cli('surveys', '--list', '1'), /  \+8613800138000  /);
  }, 60_000);

  test('a bad option: a message naming it, exit code 1', () => {
    for (const [args, message] of [
      [['--since', 'yesterday'], 'callpolicy: --since: not a date: "yesterday"'],
      [['--by', 'week'], 'callpolicy: --by: must be agent, group or day'],
      [['--tz', 'Mars/Olympus'], 'callpolicy: --tz: unknown time zone: "Mars/Olympus"'],
    ] as const) {
      const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO, 'src', 'cli', 'index.ts'), 'surveys', ...args], { cwd: REPO, env: env(), encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.trim(), message);
      assert.equal(r.stdout, '');
    }
  }, 60_000);
});
