// `callpolicy surveys`: its options (each bad one named), times in a time zone, and the text.
import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import { formatDistribution, formatInstant, formatSummary, formatSurveyList, parseSurveysOptions, parseTime, surveyListJson, type SurveysRequest } from '../../src/cli/surveys-report.js';
import type { SurveySummaryRow } from '../../src/store/survey-report.js';
import { surveyResult } from '../support/survey-rows.js';

const NOW = Date.parse('2026-11-08T12:00:00Z');
const iso = (d: Date | null | undefined) => d?.toISOString();

describe('surveys options', () => {
  test('defaults: by agent, the last 7 days, UTC, the summary', () => {
    const r = parseSurveysOptions({}, NOW);
    assert.deepEqual(r, { by: 'agent', filter: { since: new Date('2026-11-01T12:00:00Z') }, timeZone: 'UTC', list: null, json: false });
  });

  test('every option given', () => {
    const r = parseSurveysOptions(
      { by: 'day', since: '2026-11-01', until: '2026-11-07', agent: 'alice', group: 'sales', direction: 'inbound', tz: 'Asia/Shanghai', list: '5', json: true },
      NOW,
    );
    assert.equal(r.by, 'day');
    assert.deepEqual(
      { ...r.filter, since: iso(r.filter.since), until: iso(r.filter.until) },
      // Days in Shanghai (UTC+8); --until includes its day.
      { since: '2026-10-31T16:00:00.000Z', until: '2026-11-07T16:00:00.000Z', agentId: 'alice', group: 'sales', direction: 'inbound' },
    );
    assert.deepEqual([r.timeZone, r.list, r.json], ['Asia/Shanghai', 5, true]);
    assert.deepEqual(parseSurveysOptions({ list: true }, NOW), { by: 'agent', filter: {}, timeZone: 'UTC', list: 20, json: false }, '--list alone: the latest 20, however old');
    assert.equal(iso(parseSurveysOptions({ until: '2026-10-10' }, NOW).filter.since), '2026-10-04T00:00:00.000Z', 'no --since: 7 days before --until');
  });

  test('a bad option is named, with the value', () => {
    const bad: [Parameters<typeof parseSurveysOptions>[0], RegExp][] = [
      [{ since: 'yesterday' }, /^--since: not a date: "yesterday"$/],
      [{ until: '2026-02-30' }, /^--until: not a date: "2026-02-30"$/],
      [{ since: '2026-11-01T25:00' }, /^--since: not a date/],
      [{ by: 'week' }, /^--by: must be agent, group or day$/],
      [{ tz: 'Mars/Olympus' }, /^--tz: unknown time zone: "Mars\/Olympus"$/],
      [{ direction: 'both' }, /^--direction: must be outbound or inbound$/],
      [{ list: 'ten' }, /^--list: not a number/],
      [{ list: '0' }, /^--list: not a number/],
      [{ since: '2026-11-05', until: '2026-11-01' }, /^--until: must be after --since$/],
      [{ agent: ' ' }, /^--agent: must not be empty$/],
    ];
    for (const [opts, re] of bad) assert.throws(() => parseSurveysOptions(opts, NOW), { name: 'SurveysOptionError', message: re }, JSON.stringify(opts));
  });
});

describe('times', () => {
  test('days and wall times in a time zone, or with an offset', () => {
    assert.equal(iso(parseTime('2026-11-01', 'UTC')), '2026-11-01T00:00:00.000Z');
    assert.equal(iso(parseTime('2026-11-01', 'UTC', true)), '2026-11-02T00:00:00.000Z');
    assert.equal(iso(parseTime('2026-12-31', 'Asia/Shanghai', true)), '2026-12-31T16:00:00.000Z');
    assert.equal(iso(parseTime('2026-11-01T08:30', 'Asia/Shanghai')), '2026-11-01T00:30:00.000Z');
    assert.equal(iso(parseTime('2026-11-01 08:30:15', 'Asia/Shanghai', true)), '2026-11-01T00:30:15.000Z', 'a time is taken as is');
    assert.equal(iso(parseTime('2026-11-01T08:30:00+05:30', 'Asia/Shanghai')), '2026-11-01T03:00:00.000Z');
    assert.equal(iso(parseTime('2026-11-01T08:30:00.5Z', 'Asia/Shanghai')), '2026-11-01T08:30:00.500Z');
    // New York across the end of daylight saving time (1 November 2026, 02:00 EDT -> 01:00 EST).
    assert.equal(iso(parseTime('2026-11-01', 'America/New_York')), '2026-11-01T04:00:00.000Z');
    assert.equal(iso(parseTime('2026-11-02', 'America/New_York')), '2026-11-02T05:00:00.000Z');
    assert.equal(iso(parseTime('2026-03-08T03:30', 'America/New_York')), '2026-03-08T07:30:00.000Z');
    for (const bad of ['yesterday', '2026-13-01', '2026-11-01+08:00', '11/01/2026', '']) assert.equal(parseTime(bad, 'UTC'), null, bad);
  });

  test('instants shown in the time zone, with its offset', () => {
    const t = new Date('2026-11-01T23:30:00Z');
    assert.equal(formatInstant(t, 'UTC'), '2026-11-01T23:30:00Z');
    assert.equal(formatInstant(t, 'Asia/Shanghai'), '2026-11-02T07:30:00+08:00');
    assert.equal(formatInstant(t, 'America/New_York'), '2026-11-01T18:30:00-05:00');
    assert.equal(formatInstant(t, 'Asia/Kolkata'), '2026-11-02T05:00:00+05:30');
  });
});

const row = (key: string, over: Partial<SurveySummaryRow> = {}): SurveySummaryRow => ({
  key,
  offered: 15,
  rated: 12,
  responseRate: 0.8,
  averageScore: 4.25,
  outcomes: { rated: 12, no_input: 2, invalid: 0, hung_up: 1 },
  distribution: [
    { key: '1', label: 'satisfied', count: 9 },
    { key: '2', label: 'neutral', count: 3 },
  ],
  ...over,
});
const request = (over: Partial<SurveysRequest> = {}): SurveysRequest => ({
  by: 'agent',
  filter: { since: new Date('2026-11-01T00:00:00Z') },
  timeZone: 'UTC',
  list: null,
  json: false,
  ...over,
});

describe('summary table', () => {
  test('one line per key under a header, figures right-aligned, the distribution last', () => {
    const lines = formatSummary([row('alice'), row('bob', { offered: 3, rated: 0, responseRate: 0, averageScore: null, distribution: [] })], request());
    assert.deepEqual(lines, [
      'surveys by agent, from 2026-11-01T00:00:00Z to now',
      'agent  offered  rated  rate %  avg score  distribution',
      'alice       15     12    80.0       4.25  1 satisfied: 9, 2 neutral: 3',
      'bob          3      0     0.0          -',
    ]);
  });

  test('the title says the period in the time zone and what narrowed it; empty: says so', () => {
    const req = request({ by: 'day', timeZone: 'Asia/Shanghai', filter: { since: new Date('2026-10-31T16:00:00Z'), until: new Date('2026-11-07T16:00:00Z'), group: 'sales', direction: 'inbound' } });
    assert.deepEqual(formatSummary([], req), [
      'surveys by day, from 2026-11-01T00:00:00+08:00 to 2026-11-08T00:00:00+08:00, group sales, inbound calls (days in Asia/Shanghai)',
      'no surveys',
    ]);
  });

  test('distribution: key and label, or the key alone', () => {
    assert.equal(formatDistribution([{ key: '1', label: 'satisfied', count: 12 }, { key: '2', label: 'neutral', count: 3 }]), '1 satisfied: 12, 2 neutral: 3');
    assert.equal(formatDistribution([{ key: '#', label: null, count: 1 }]), '#: 1');
  });
});

describe('the list', () => {
  /** What the lines show of each row unless it says otherwise. */
  const shown = { direction: 'outbound', agentId: 'alice', customerE164: '+8613800138000', template: 'default' } as const;
  const rows = [
    surveyResult('c1', { ...shown, startedAt: new Date('2026-11-02T10:00:00Z'), outcome: 'invalid', dtmfKey: '7', label: null, score: null, direction: 'inbound' }),
    surveyResult('c2', { ...shown, startedAt: new Date('2026-11-02T09:00:00Z'), outcome: 'hung_up', dtmfKey: null, label: null, score: null, agentId: null, customerE164: null }),
    surveyResult('c3', { ...shown, startedAt: new Date('2026-11-01T23:30:00Z'), outcome: 'rated', dtmfKey: '1', label: 'satisfied', score: 5 }),
  ];
  test('one line per result, the newest last, numbers masked as the policy says', () => {
    assert.deepEqual(formatSurveyList(rows, { mask: true, timeZone: 'Asia/Shanghai' }), [
      '2026-11-02T07:30:00+08:00  outbound  alice  +86 138****8000  default  rated  1 satisfied (score 5)',
      '2026-11-02T17:00:00+08:00  outbound  (no agent)  (withheld)  default  hung_up',
      '2026-11-02T18:00:00+08:00  inbound  alice  +86 138****8000  default  invalid  key 7',
    ]);
    assert.match(formatSurveyList(rows, { mask: false, timeZone: 'UTC' })[0]!, /^2026-11-01T23:30:00Z {2}outbound {2}alice {2}\+8613800138000 /);
    assert.deepEqual(formatSurveyList([], { mask: false, timeZone: 'UTC' }), ['no surveys']);
  });

  test('--json masks the numbers too', () => {
    assert.deepEqual(surveyListJson(rows, true).map((r) => r.customerE164), ['+86 138****8000', null, '+86 138****8000']);
    assert.equal(surveyListJson(rows, false)[0]!.customerE164, '+8613800138000');
  });
});
