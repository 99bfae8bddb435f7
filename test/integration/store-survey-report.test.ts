// The survey report (src/store/survey-report.ts) on the real PostgreSQL, and on PGlite: figures
// per agent, per group (a survey counts in each of its agent's groups; none: "(none)") and per
// calendar day in a time zone, with every filter; and its plan over a date range uses the indexes.
import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { sql } from 'drizzle-orm';
import { createCallRecorder, rowsOf, type NewSurveyResult } from '../../src/store/call-records.js';
import type { Database } from '../../src/store/database.js';
import { listSurveyResults, summarizeSurveys, surveySummaryQuery, type SurveySummaryRow } from '../../src/store/survey-report.js';
import { surveyRow } from '../support/survey-rows.js';
import { openTestDatabase } from '../support/test-database.js';

type Seed = [channel: string, agent: string | null, groups: string[], direction: 'outbound' | 'inbound', outcome: NewSurveyResult['outcome'], key: string | null, score: number | null, startedAt: string];
const LABELS: Record<string, string> = { '1': 'satisfied', '2': 'neutral', '3': 'unhappy' };
/** Asia/Shanghai is UTC+8: 23:30Z, 16:30Z and 20:00Z of one UTC day are the next day there. */
const SEEDS: Seed[] = [
  ['a1', 'alice', ['sales', 'vip'], 'outbound', 'rated', '1', 5, '2026-11-01T09:00:00Z'],
  ['a2', 'alice', ['sales', 'vip'], 'outbound', 'rated', '2', 3, '2026-11-01T23:30:00Z'],
  ['a3', 'alice', ['sales', 'vip'], 'inbound', 'no_input', null, null, '2026-11-02T10:00:00Z'],
  ['b1', 'bob', ['sales'], 'outbound', 'rated', '1', 5, '2026-11-01T12:00:00Z'],
  ['b2', 'bob', ['sales'], 'outbound', 'invalid', '7', null, '2026-11-02T01:00:00Z'],
  ['b3', 'bob', ['sales'], 'inbound', 'hung_up', null, null, '2026-11-02T15:00:00Z'],
  ['c1', 'carol', [], 'inbound', 'rated', '3', 1, '2026-11-01T16:30:00Z'],
  ['c2', 'carol', [], 'outbound', 'rated', '1', 5, '2026-10-31T20:00:00Z'],
];
/** A seed as the row recorded; endedAt 8 s after startedAt. */
const seeded = ([channelId, agentId, agentGroups, direction, outcome, dtmfKey, score, startedAt]: Seed): NewSurveyResult =>
  surveyRow(channelId, { agentId, agentGroups, direction, outcome, dtmfKey, label: outcome === 'rated' ? LABELS[dtmfKey!]! : null, score, startedAt: new Date(startedAt) });

const outcomes = (rated: number, no_input: number, invalid: number, hung_up: number) => ({ rated, no_input, invalid, hung_up });
const dist = (...pairs: [string, number][]) => pairs.map(([key, count]) => ({ key, label: LABELS[key]!, count }));
/** The rows keyed by key, for readable assertions. */
const byKey = (rows: SurveySummaryRow[]) => Object.fromEntries(rows.map((r) => [r.key, r]));
const figures = (r: SurveySummaryRow | undefined) => r && [r.offered, r.rated, r.responseRate, r.averageScore];

function suite(kind: 'postgres' | 'pglite') {
  describe(`survey report on ${kind}`, () => {
    let database: Database;
    let cleanup: () => Promise<void>;
    beforeAll(async () => {
      ({ database, cleanup } = await openTestDatabase(kind));
      const recorder = createCallRecorder(database.db);
      for (const s of SEEDS) recorder.recordSurvey(seeded(s));
      await recorder.flush();
      recorder.close();
    }, 60_000);
    afterAll(async () => cleanup?.());
    const summary = (by: 'agent' | 'group' | 'day', f = {}, timeZone?: string) => summarizeSurveys(database.db, f, by, { timeZone });

    test('by agent: offered, rated, response rate, average score, outcomes and distribution, sorted by agent', async () => {
      const rows = await summary('agent');
      assert.deepEqual(rows, [
        { key: 'alice', offered: 3, rated: 2, responseRate: 2 / 3, averageScore: 4, outcomes: outcomes(2, 1, 0, 0), distribution: dist(['1', 1], ['2', 1]) },
        { key: 'bob', offered: 3, rated: 1, responseRate: 1 / 3, averageScore: 5, outcomes: outcomes(1, 0, 1, 1), distribution: dist(['1', 1]) },
        { key: 'carol', offered: 2, rated: 2, responseRate: 1, averageScore: 3, outcomes: outcomes(2, 0, 0, 0), distribution: dist(['1', 1], ['3', 1]) },
      ]);
    });

    test('by group: a survey counts in each of its agent\'s groups; an agent in none under "(none)"', async () => {
      const rows = await summary('group');
      assert.deepEqual(rows.map((r) => r.key), ['(none)', 'sales', 'vip']);
      const g = byKey(rows);
      assert.deepEqual(figures(g['(none)']), [2, 2, 1, 3]);
      assert.deepEqual(figures(g['sales']), [6, 3, 0.5, 13 / 3]);
      assert.deepEqual(g['sales']!.outcomes, outcomes(3, 1, 1, 1));
      assert.deepEqual(g['sales']!.distribution, dist(['1', 2], ['2', 1]));
      assert.deepEqual(figures(g['vip']), [3, 2, 2 / 3, 4]);
    });

    test('by day: calendar days in the time zone asked for (UTC by default)', async () => {
      const utc = await summary('day');
      assert.deepEqual(utc.map((r) => r.key), ['2026-10-31', '2026-11-01', '2026-11-02']);
      const u = byKey(utc);
      assert.deepEqual(figures(u['2026-10-31']), [1, 1, 1, 5]);
      assert.deepEqual(figures(u['2026-11-01']), [4, 4, 1, 3.5]);
      assert.deepEqual(figures(u['2026-11-02']), [3, 0, 0, null], 'no rated survey: no average');
      assert.deepEqual(u['2026-11-02']!.distribution, []);

      const shanghai = await summary('day', {}, 'Asia/Shanghai');
      assert.deepEqual(shanghai.map((r) => r.key), ['2026-11-01', '2026-11-02']);
      const s = byKey(shanghai);
      assert.deepEqual(figures(s['2026-11-01']), [3, 3, 1, 5], 'c2 (20:00Z the day before), a1, b1');
      assert.deepEqual(figures(s['2026-11-02']), [5, 2, 0.4, 2], 'a2 (23:30Z) and c1 (16:30Z) moved to the next day');
      assert.deepEqual(s['2026-11-02']!.outcomes, outcomes(2, 1, 1, 1));
      assert.deepEqual(s['2026-11-02']!.distribution, dist(['2', 1], ['3', 1]));
    });

    test('filters: since (inclusive), until (exclusive), agent, group, direction, and together', async () => {
      const since = byKey(await summary('agent', { since: new Date('2026-11-01T00:00:00Z') }));
      assert.deepEqual(figures(since['carol']), [1, 1, 1, 1], 'c2 is before');
      const sinceShanghai = byKey(await summary('agent', { since: new Date('2026-11-01T00:00:00+08:00') }));
      assert.deepEqual(figures(sinceShanghai['carol']), [2, 2, 1, 3], 'c2 is on 1 November in Shanghai');
      const until = byKey(await summary('agent', { until: new Date('2026-11-02T01:00:00Z') }));
      assert.deepEqual([until['alice']?.offered, until['bob']?.offered, until['carol']?.offered], [2, 1, 2], 'b2 at 01:00 is excluded');

      assert.deepEqual((await summary('agent', { agentId: 'bob' })).map((r) => [r.key, r.offered]), [['bob', 3]]);
      assert.deepEqual((await summary('agent', { group: 'vip' })).map((r) => [r.key, r.offered]), [['alice', 3]]);
      assert.deepEqual((await summary('agent', { group: '(none)' })).map((r) => [r.key, r.offered]), [['carol', 2]]);
      assert.deepEqual((await summary('group', { group: 'sales' })).map((r) => [r.key, r.offered]), [['sales', 6]], 'only the group asked for');
      assert.deepEqual((await summary('day', { group: 'sales' }, 'Asia/Shanghai')).map((r) => [r.key, r.offered]), [['2026-11-01', 2], ['2026-11-02', 4]]);
      const inbound = await summary('agent', { direction: 'inbound' });
      assert.deepEqual(inbound.map((r) => [r.key, r.outcomes]), [['alice', outcomes(0, 1, 0, 0)], ['bob', outcomes(0, 0, 0, 1)], ['carol', outcomes(1, 0, 0, 0)]]);
      const together = await summary('group', { since: new Date('2026-11-01T00:00:00Z'), until: new Date('2026-11-02T00:00:00Z'), direction: 'outbound' });
      assert.deepEqual(together.map((r) => [r.key, r.offered, r.averageScore]), [['sales', 3, 13 / 3], ['vip', 2, 4]]);
      assert.deepEqual(await summary('agent', { agentId: 'nobody' }), []);
    });

    test('the list: newest first, filtered, limited, every column', async () => {
      assert.deepEqual((await listSurveyResults(database.db, {}, 3)).map((r) => r.channelId), ['b3', 'a3', 'b2']);
      assert.deepEqual((await listSurveyResults(database.db, { agentId: 'alice' }, 10)).map((r) => r.channelId), ['a3', 'a2', 'a1']);
      assert.deepEqual((await listSurveyResults(database.db, { group: 'sales', direction: 'inbound', since: new Date('2026-11-02T12:00:00Z') }, 10)).map((r) => r.channelId), ['b3']);
      const [c1] = await listSurveyResults(database.db, { agentId: 'carol', direction: 'inbound' }, 1);
      const { id, ...rest } = c1!;
      assert.ok(id);
      assert.deepEqual(rest, seeded(SEEDS.find((s) => s[0] === 'c1')!));
    });
  });
}

suite('postgres');
suite('pglite');

describe('survey report plan (PostgreSQL, 50,000 surveys over a year)', () => {
  let database: Database;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ database, cleanup } = await openTestDatabase('postgres'));
    await database.db.execute(sql`
      INSERT INTO survey_results (pbx, channel_id, call_channel_id, direction, agent_id, agent_groups, template, outcome, dtmf_key, label, score, attempts, started_at, ended_at)
      SELECT 'asterisk', 's' || i, 'c' || i, CASE WHEN i % 2 = 0 THEN 'outbound' ELSE 'inbound' END, 'agent' || (i % 200),
        CASE WHEN i % 3 = 0 THEN ARRAY['sales'] ELSE ARRAY['support', 'vip'] END, 'default',
        CASE WHEN i % 4 = 0 THEN 'no_input' ELSE 'rated' END, CASE WHEN i % 4 = 0 THEN NULL ELSE (i % 3 + 1)::text END, NULL,
        CASE WHEN i % 4 = 0 THEN NULL ELSE i % 5 + 1 END, 1,
        timestamptz '2026-01-01T00:00:00Z' + i * interval '10 minutes', timestamptz '2026-01-01T00:00:08Z' + i * interval '10 minutes'
      FROM generate_series(1, 50000) AS i`);
    await database.db.execute(sql`ANALYZE survey_results`);
  }, 120_000);
  afterAll(async () => cleanup?.());
  const plan = async (q: ReturnType<typeof surveySummaryQuery>) =>
    rowsOf<{ 'QUERY PLAN': string }>(await database.db.execute(sql`EXPLAIN ${q}`))
      .map((r) => r['QUERY PLAN'])
      .join('\n');
  const week = { since: new Date('2026-06-01T00:00:00Z'), until: new Date('2026-06-08T00:00:00Z') };

  test('a week is read through survey_results_started_idx, one agent through survey_results_agent_idx', async () => {
    for (const by of ['agent', 'group', 'day'] as const) {
      const p = await plan(surveySummaryQuery(week, by, { timeZone: 'Asia/Shanghai' }));
      assert.match(p, /survey_results_started_idx/, `${by}:\n${p}`);
      assert.doesNotMatch(p, /Seq Scan on survey_results/, `${by}:\n${p}`);
    }
    const p = await plan(surveySummaryQuery({ ...week, agentId: 'agent7' }, 'day'));
    assert.match(p, /survey_results_agent_idx/, p);
    const rows = await summarizeSurveys(database.db, week, 'day', { timeZone: 'UTC' });
    assert.deepEqual(rows.map((r) => r.offered), [144, 144, 144, 144, 144, 144, 144]);
  });
});
