/**
 * `callpolicy surveys`: the satisfaction survey figures per agent, group or day, or the latest
 * results one per line. Pure functions: the options are checked here (a bad one is named in the
 * error), the rows come from src/store/survey-report.ts, the text is made here.
 */
import { numberForLog } from '../log.js';
import type { SurveyFilter, SurveyResult, SurveySummaryBy, SurveySummaryRow } from '../store/survey-report.js';
import { isTimeZone } from '../config/time-zone.js';

export interface SurveysCliOptions {
  by?: string;
  since?: string;
  until?: string;
  agent?: string;
  group?: string;
  direction?: string;
  tz?: string;
  /** `--list` alone: true; `--list 50`: '50'. */
  list?: boolean | string;
  json?: boolean;
}

export interface SurveysRequest {
  by: SurveySummaryBy;
  filter: SurveyFilter;
  timeZone: string;
  /** How many of the latest results to list; null: the summary. */
  list: number | null;
  json: boolean;
}

/** The figures' default period: the last 7 days. */
export const DEFAULT_DAYS = 7;
export const DEFAULT_LIST = 20;
const LIST_MAX = 100_000;

/** A bad command-line option; the message names it. */
export class SurveysOptionError extends Error {
  override name = 'SurveysOptionError';
}

/** Checks the options once; throws SurveysOptionError naming the first bad one. */
export function parseSurveysOptions(opts: SurveysCliOptions, now: number): SurveysRequest {
  const by = opts.by ?? 'agent';
  if (by !== 'agent' && by !== 'group' && by !== 'day') throw new SurveysOptionError('--by: must be agent, group or day');
  const timeZone = opts.tz ?? 'UTC';
  if (!isTimeZone(timeZone)) throw new SurveysOptionError(`--tz: unknown time zone: ${JSON.stringify(timeZone)}`);
  const time = (name: '--since' | '--until', value: string | undefined, endOfDay: boolean) => {
    if (value === undefined) return undefined;
    const t = parseTime(value, timeZone, endOfDay);
    if (t === null) throw new SurveysOptionError(`${name}: not a date: ${JSON.stringify(value)}`);
    return t;
  };
  let list: number | null = null;
  if (opts.list !== undefined && opts.list !== false) {
    list = opts.list === true ? DEFAULT_LIST : Number(opts.list);
    if (!Number.isInteger(list) || list < 1 || list > LIST_MAX) throw new SurveysOptionError(`--list: not a number from 1 to ${LIST_MAX}: ${JSON.stringify(opts.list)}`);
  }
  const until = time('--until', opts.until, true);
  // The figures cover the last 7 days unless told; the list is of the latest results, however old.
  const since = time('--since', opts.since, false) ?? (list === null ? new Date((until?.getTime() ?? now) - DEFAULT_DAYS * 86_400_000) : undefined);
  if (until && since && until <= since) throw new SurveysOptionError('--until: must be after --since');
  const direction = opts.direction;
  if (direction !== undefined && direction !== 'outbound' && direction !== 'inbound') throw new SurveysOptionError('--direction: must be outbound or inbound');
  for (const [name, v] of [['--agent', opts.agent], ['--group', opts.group]] as const) {
    if (v !== undefined && v.trim() === '') throw new SurveysOptionError(`${name}: must not be empty`);
  }
  const filter: SurveyFilter = {};
  if (since) filter.since = since;
  if (until) filter.until = until;
  if (opts.agent !== undefined) filter.agentId = opts.agent;
  if (opts.group !== undefined) filter.group = opts.group;
  if (direction) filter.direction = direction;
  return { by, filter, timeZone, list, json: opts.json === true };
}

const TIME_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?)?(Z|[+-]\d{2}:?\d{2})?$/;

/**
 * `2026-11-01` (a calendar day in timeZone: its start, or with endOfDay the start of the next
 * day, so that `--until 2026-11-07` includes the 7th), `2026-11-01T08:30[:00]` (wall time in
 * timeZone) or with an offset (`Z`, `+08:00`). Null: not one of these, or no such day or time.
 */
export function parseTime(value: string, timeZone: string, endOfDay = false): Date | null {
  const m = TIME_RE.exec(value.trim());
  if (!m) return null;
  const [, y, mo, d, h, mi, s, ms, offset] = m;
  const f = { y: Number(y), mo: Number(mo), d: Number(d), h: Number(h ?? 0), mi: Number(mi ?? 0), s: Number(s ?? 0), ms: Number((ms ?? '0').padEnd(3, '0')) };
  if (f.mo < 1 || f.mo > 12 || f.d < 1 || f.d > new Date(Date.UTC(f.y, f.mo, 0)).getUTCDate() || f.h > 23 || f.mi > 59 || f.s > 59) return null;
  if (offset && h === undefined) return null; // "2026-11-01+08:00": say the time too
  const dayAfter = endOfDay && h === undefined ? 1 : 0;
  const wall = Date.UTC(f.y, f.mo - 1, f.d + dayAfter, f.h, f.mi, f.s, f.ms);
  if (offset) {
    if (offset === 'Z') return new Date(wall);
    const sign = offset[0] === '-' ? -1 : 1;
    const digits = offset.slice(1).replace(':', '');
    const minutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2));
    return new Date(wall - sign * minutes * 60_000);
  }
  return new Date(zonedToUtc(wall, timeZone));
}

const partsFormat = new Map<string, Intl.DateTimeFormat>();
/** How far timeZone's wall clock is ahead of UTC at the instant t (ms). */
export function offsetMs(timeZone: string, t: number): number {
  let f = partsFormat.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    partsFormat.set(timeZone, f);
  }
  const p = Object.fromEntries(f.formatToParts(new Date(t)).map((x) => [x.type, x.value]));
  const asUtc = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second));
  return asUtc - (t - (((t % 1000) + 1000) % 1000));
}

/** The instant at which timeZone's clocks show `wall` (a wall time written as if UTC). */
function zonedToUtc(wall: number, timeZone: string): number {
  const first = wall - offsetMs(timeZone, wall);
  // Near a change of offset the first guess used the other side's offset: look again.
  const second = wall - offsetMs(timeZone, first);
  return second;
}

/** `2026-11-01T07:30:00Z` in UTC, `2026-11-01T15:30:00+08:00` elsewhere. */
export function formatInstant(d: Date, timeZone: string): string {
  const t = d.getTime();
  const off = timeZone === 'UTC' ? 0 : offsetMs(timeZone, t);
  const local = new Date(t + off).toISOString().slice(0, 19);
  if (timeZone === 'UTC') return `${local}Z`;
  const a = Math.abs(off) / 60_000;
  return `${local}${off < 0 ? '-' : '+'}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

/** `1 satisfied: 12, 2 neutral: 3` */
export function formatDistribution(d: SurveySummaryRow['distribution']): string {
  return d.map((x) => `${x.label ? `${x.key} ${x.label}` : x.key}: ${x.count}`).join(', ');
}

function period(req: SurveysRequest): string {
  const { since, until } = req.filter;
  const narrowed = [
    req.filter.agentId !== undefined ? `agent ${req.filter.agentId}` : null,
    req.filter.group !== undefined ? `group ${req.filter.group}` : null,
    req.filter.direction ? `${req.filter.direction} calls` : null,
  ].filter(Boolean);
  return `from ${since ? formatInstant(since, req.timeZone) : 'the first'} to ${until ? formatInstant(until, req.timeZone) : 'now'}${narrowed.length ? `, ${narrowed.join(', ')}` : ''}`;
}

/** The summary as a plain-text table, one line per agent, group or day, under a title line. */
export function formatSummary(rows: SurveySummaryRow[], req: SurveysRequest): string[] {
  const title = `surveys by ${req.by}, ${period(req)}${req.by === 'day' ? ` (days in ${req.timeZone})` : ''}`;
  if (rows.length === 0) return [title, 'no surveys'];
  const header = [req.by, 'offered', 'rated', 'rate %', 'avg score', 'distribution'];
  const body = rows.map((r) => [
    r.key,
    String(r.offered),
    String(r.rated),
    (r.responseRate * 100).toFixed(1),
    r.averageScore === null ? '-' : r.averageScore.toFixed(2),
    formatDistribution(r.distribution),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  // Text left, figures right; the last column is not padded.
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [title, line(header), ...body.map(line)];
}

/** What the customer answered: `1 satisfied (score 5)`, `key 7`, or nothing. */
function answer(r: SurveyResult): string {
  if (r.outcome === 'rated') return [r.dtmfKey, r.label, r.score !== null ? `(score ${r.score})` : null].filter(Boolean).join(' ');
  if (r.outcome === 'invalid' && r.dtmfKey) return `key ${r.dtmfKey}`;
  return '';
}

/** The latest results, oldest of them first (the newest at the bottom, as `callpolicy calls`). */
export function formatSurveyList(rows: SurveyResult[], opts: { mask: boolean; timeZone: string }): string[] {
  if (rows.length === 0) return ['no surveys'];
  return [...rows].reverse().map((r) =>
    [
      formatInstant(r.startedAt, opts.timeZone),
      r.direction,
      r.agentId ?? '(no agent)',
      numberForLog(r.customerE164, opts.mask) ?? '(withheld)',
      r.template,
      r.outcome,
      answer(r),
    ]
      .filter(Boolean)
      .join('  '),
  );
}

/** The list for --json: the customer's number as the text output shows it. */
export function surveyListJson(rows: SurveyResult[], mask: boolean): SurveyResult[] {
  return rows.map((r) => ({ ...r, customerE164: numberForLog(r.customerE164, mask) }));
}
