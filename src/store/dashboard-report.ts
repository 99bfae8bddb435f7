// The operator dashboard's figures (issue 11): satisfaction, caller-ID number usage, call-memory
// hit rate, over whole calendar days of an IANA time zone. Plain JSON out, no customer number in
// it: the numbers shown are the company's own caller IDs (calls.caller_id of outbound calls).
import { sql, type SQL } from 'drizzle-orm';
import type { Db } from './database.js';
import { rowsOf } from './call-records.js';
import { calls, numbers } from './schema/index.js';
import { callerIdUsesToday } from './cap-counts.js';
import { summarizeSurveys, type SurveySummaryRow } from './survey-report.js';

export interface DashboardRange {
  /** From this instant on (inclusive): a local midnight in timeZone. */
  since: Date;
  /** Before this instant (exclusive). */
  until: Date;
  timeZone: string;
}

/** The busiest numbers listed (the chart plots the first few). */
export const BUSIEST_LIMIT = 50;
/** Unused pool numbers listed; the count covers them all (a pool may hold 200,000). */
export const UNUSED_LIMIT = 200;

export interface DailySatisfaction {
  day: string;
  offered: number;
  rated: number;
  /** null: no survey that day (a gap in the plot, not a zero). */
  responseRate: number | null;
  averageScore: number | null;
}

export interface NumberUsage {
  number: string;
  /** Whether the number is in the pool now (an emergency caller ID or a removed number is not). */
  inPool: boolean;
  calls: number;
  /** Calls per day, aligned with DashboardReport.days. */
  perDay: number[];
}

export interface DailyMemory {
  day: string;
  /** Inbound calls whose caller's number was known (customer_e164 set). */
  known: number;
  /** Of those: rung to the remembered agent (reason 'memory_hit'). */
  rung: number;
  /** Of those: held for the remembered agent (only-agent mode, reason 'memory_hit_wait:<state>'). */
  held: number;
  /** (rung + held) / known; null when no call had a known caller. */
  hitRate: number | null;
}

export interface DashboardReport {
  since: string;
  until: string;
  timeZone: string;
  /** Every calendar day of the range, YYYY-MM-DD. */
  days: string[];
  satisfaction: {
    byAgent: SurveySummaryRow[];
    byGroup: SurveySummaryRow[];
    daily: DailySatisfaction[];
  };
  numbers: {
    /** Outbound calls presenting a caller ID, per day; and how many distinct numbers they used. */
    daily: { day: string; calls: number; numbersUsed: number }[];
    /** Distinct caller IDs used in the range. */
    used: number;
    busiest: NumberUsage[];
    /** Outbound calls by the tier that matched ('(none)': no pool number was chosen). */
    tiers: { tier: string; calls: number; fallback: number }[];
    poolSize: number;
    /** Pool numbers no outbound call presented in the range: the count, and the first UNUSED_LIMIT. */
    unusedCount: number;
    unused: { number: string; enabled: boolean }[];
    /** Daily caps today: how many enabled numbers have one, how many reached it, those near it. */
    caps: { timeZone: string; capped: number; atCap: number; near: { number: string; used: number; cap: number }[] };
  };
  memory: {
    daily: DailyMemory[];
    total: Omit<DailyMemory, 'day'>;
    /** Inbound calls with no known caller (withheld, unparsable, look-up timed out). */
    unknownCaller: number;
    /** Why known callers missed: the part of 'memory_miss:<why>' after the colon. */
    misses: { reason: string; calls: number }[];
  };
}

// --- calendar days in a time zone ---------------------------------------------------------------

const HOUR_MS = 3_600_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

/** The calendar day (YYYY-MM-DD) of an instant in an IANA time zone. Throws RangeError on a bad zone. */
export function localDay(at: Date | number, timeZone: string): string {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    formatters.set(timeZone, f);
  }
  const p = Object.fromEntries(f.formatToParts(at).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day}`;
}

/** The day `n` days after `day` (calendar arithmetic, no zone involved). */
export function addDays(day: string, n: number): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

/**
 * The first instant of `day` in `timeZone`. Binary search rather than offset arithmetic: it stays
 * right on days whose midnight a DST change skips, and matches how PostgreSQL files an instant
 * (its local date), which is all the day grouping needs.
 */
export function dayStart(day: string, timeZone: string): Date {
  const midnightUtc = Date.parse(`${day}T00:00:00Z`);
  // Zone offsets lie within -12 h .. +14 h: lo is surely the day before, hi surely this day or later.
  let lo = midnightUtc - 15 * HOUR_MS;
  let hi = midnightUtc + 13 * HOUR_MS;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (localDay(mid, timeZone) < day) lo = mid;
    else hi = mid;
  }
  return new Date(hi);
}

/** The last `days` calendar days in `timeZone`, today included. */
export function lastDays(days: number, timeZone: string, now: Date = new Date()): DashboardRange {
  const today = localDay(now, timeZone);
  return { since: dayStart(addDays(today, 1 - days), timeZone), until: dayStart(addDays(today, 1), timeZone), timeZone };
}

/** Every calendar day a range touches, in order. */
export function daysOf(range: DashboardRange): string[] {
  const last = localDay(range.until.getTime() - 1, range.timeZone);
  const out: string[] = [];
  for (let d = localDay(range.since, range.timeZone); d <= last && out.length <= 400; d = addDays(d, 1)) out.push(d);
  return out;
}

// --- queries -----------------------------------------------------------------------------------

const c = calls;
const dayOf = (tz: string) => sql`to_char((${c.decidedAt} AT TIME ZONE ${tz}::text)::date, 'YYYY-MM-DD')`;
const inRange = (r: DashboardRange) => sql`${c.decidedAt} >= ${r.since.toISOString()}::timestamptz AND ${c.decidedAt} < ${r.until.toISOString()}::timestamptz`;
/** Outbound calls of the range that presented a caller ID. */
const presented = (r: DashboardRange) => sql`${c.direction} = 'outbound' AND ${c.callerId} IS NOT NULL AND ${inRange(r)}`;

async function rows<T>(db: Db, q: SQL): Promise<T[]> {
  return rowsOf<T>(await db.execute(q));
}

async function numberUsage(db: Db, r: DashboardRange, days: string[]): Promise<Omit<DashboardReport['numbers'], 'tiers' | 'poolSize' | 'unusedCount' | 'unused' | 'caps'>> {
  // One grouping per (number, day) in PostgreSQL; only the busiest numbers' days come back.
  const perNumberDay = sql`SELECT ${c.callerId} AS number, ${dayOf(r.timeZone)} AS day, count(*)::int AS n FROM ${c} WHERE ${presented(r)} GROUP BY 1, 2`;
  const [top, daily] = await Promise.all([
    rows<{ number: string; total: number; used: number; in_pool: boolean; days: { day: string; n: number }[] | string }>(
      db,
      sql`WITH u AS (${perNumberDay}),
        t AS (SELECT number, sum(n)::int AS total, json_agg(json_build_object('day', day, 'n', n)) AS days FROM u GROUP BY number)
        SELECT t.number, t.total, t.days, (SELECT count(*)::int FROM t) AS used,
          EXISTS (SELECT 1 FROM ${numbers} WHERE ${numbers.e164} = t.number) AS in_pool
        FROM t ORDER BY t.total DESC, t.number COLLATE "C" LIMIT ${BUSIEST_LIMIT}`,
    ),
    rows<{ day: string; calls: number; used: number }>(
      db,
      sql`SELECT ${dayOf(r.timeZone)} AS day, count(*)::int AS calls, count(DISTINCT ${c.callerId})::int AS used FROM ${c} WHERE ${presented(r)} GROUP BY 1`,
    ),
  ]);
  const index = new Map(days.map((d, i) => [d, i]));
  const busiest = top.map((t) => {
    const perDay = days.map(() => 0);
    for (const { day, n } of typeof t.days === 'string' ? (JSON.parse(t.days) as { day: string; n: number }[]) : t.days) {
      const i = index.get(day);
      if (i !== undefined) perDay[i] = Number(n);
    }
    return { number: t.number, inPool: Boolean(t.in_pool), calls: Number(t.total), perDay };
  });
  const byDay = new Map(daily.map((d) => [d.day, d]));
  return {
    daily: days.map((day) => ({ day, calls: Number(byDay.get(day)?.calls ?? 0), numbersUsed: Number(byDay.get(day)?.used ?? 0) })),
    used: Number(top[0]?.used ?? 0),
    busiest,
  };
}

async function tiers(db: Db, r: DashboardRange): Promise<DashboardReport['numbers']['tiers']> {
  const list = await rows<{ tier: string; calls: number; fallback: number }>(
    db,
    sql`SELECT * FROM (
        SELECT COALESCE(${c.tier}, '(none)') AS tier, count(*)::int AS calls, count(*) FILTER (WHERE ${c.fallback})::int AS fallback
        FROM ${c} WHERE ${c.direction} = 'outbound' AND ${inRange(r)} GROUP BY 1
      ) t ORDER BY t.calls DESC, t.tier COLLATE "C"`,
  );
  return list.map((t) => ({ tier: t.tier, calls: Number(t.calls), fallback: Number(t.fallback) }));
}

async function unusedNumbers(db: Db, r: DashboardRange): Promise<Pick<DashboardReport['numbers'], 'poolSize' | 'unusedCount' | 'unused'>> {
  const n = numbers;
  // An anti-join against the range's distinct caller IDs: one pass over each table, whatever the pool size.
  const [list, size] = await Promise.all([
    rows<{ number: string; enabled: boolean; total: number }>(
      db,
      sql`SELECT ${n.e164} AS number, ${n.enabled} AS enabled, count(*) OVER ()::int AS total FROM ${n}
        WHERE NOT EXISTS (SELECT 1 FROM ${c} WHERE ${c.callerId} = ${n.e164} AND ${presented(r)})
        ORDER BY ${n.e164} COLLATE "C" LIMIT ${UNUSED_LIMIT}`,
    ),
    rows<{ size: number }>(db, sql`SELECT count(*)::int AS size FROM ${n}`),
  ]);
  return {
    poolSize: Number(size[0]?.size ?? 0),
    unusedCount: Number(list[0]?.total ?? 0),
    unused: list.map((u) => ({ number: u.number, enabled: Boolean(u.enabled) })),
  };
}

/**
 * Call memory, as src/flows/inbound-flow.ts records it: a hit is reason 'memory_hit' (the
 * remembered agent rung) or 'memory_hit_wait:<agent state>' (only-agent mode: the caller held for
 * that agent); every other inbound call is 'memory_miss:<why>'. The base is the inbound calls
 * with customer_e164 set: a withheld or unparsable caller (or a look-up that timed out) leaves it
 * null and could never have been remembered.
 */
async function memory(db: Db, r: DashboardRange, days: string[]): Promise<DashboardReport['memory']> {
  const known = sql`${c.customerE164} IS NOT NULL`;
  const [daily, misses] = await Promise.all([
    rows<{ day: string; inbound: number; known: number; rung: number; held: number }>(
      db,
      sql`SELECT ${dayOf(r.timeZone)} AS day, count(*)::int AS inbound,
          count(*) FILTER (WHERE ${known})::int AS known,
          count(*) FILTER (WHERE ${known} AND ${c.reason} = 'memory_hit')::int AS rung,
          count(*) FILTER (WHERE ${known} AND ${c.reason} LIKE 'memory_hit_wait:%')::int AS held
        FROM ${c} WHERE ${c.direction} = 'inbound' AND ${inRange(r)} GROUP BY 1`,
    ),
    rows<{ reason: string; calls: number }>(
      db,
      sql`SELECT * FROM (
          SELECT substr(${c.reason}, length('memory_miss:') + 1) AS reason, count(*)::int AS calls
          FROM ${c} WHERE ${c.direction} = 'inbound' AND ${known} AND ${c.reason} LIKE 'memory_miss:%' AND ${inRange(r)} GROUP BY 1
        ) m ORDER BY m.calls DESC, m.reason COLLATE "C"`,
    ),
  ]);
  const rate = (k: number, hits: number) => (k === 0 ? null : hits / k);
  const byDay = new Map(daily.map((d) => [d.day, d]));
  const total = { known: 0, rung: 0, held: 0, all: 0 };
  const perDay = days.map((day) => {
    const d = byDay.get(day);
    const [all, k, rung, held] = [Number(d?.inbound ?? 0), Number(d?.known ?? 0), Number(d?.rung ?? 0), Number(d?.held ?? 0)];
    total.all += all;
    total.known += k;
    total.rung += rung;
    total.held += held;
    return { day, known: k, rung, held, hitRate: rate(k, rung + held) };
  });
  return {
    daily: perDay,
    total: { known: total.known, rung: total.rung, held: total.held, hitRate: rate(total.known, total.rung + total.held) },
    unknownCaller: total.all - total.known,
    misses: misses.map((m) => ({ reason: m.reason, calls: Number(m.calls) })),
  };
}

/** Every figure of the dashboard for a range; independent queries run side by side. */
/** Numbers listed as near their cap: at or above this share of it today. */
export const NEAR_CAP = 0.8;

/**
 * Today's use of every capped number (the day of callerId.capTimeZone), those at NEAR_CAP of
 * their cap or more, fullest first; the count of those at their cap (no more calls today).
 */
async function capUsage(db: Db): Promise<DashboardReport['numbers']['caps']> {
  const [settings] = rowsOf<{ value: { dailyCap?: number; capTimeZone?: string } | null }>(await db.execute(sql`SELECT value FROM settings WHERE key = 'callerId'`));
  const global = settings?.value?.dailyCap ?? null;
  const timeZone = settings?.value?.capTimeZone ?? 'UTC';
  const capped = rowsOf<{ number: string; cap: number }>(
    await db.execute(sql`SELECT e164 AS number, coalesce(daily_cap, ${global}::int) AS cap FROM numbers WHERE enabled AND coalesce(daily_cap, ${global}::int) IS NOT NULL`),
  );
  const uses = new Map((await callerIdUsesToday(db, timeZone)).perNumber);
  const rows = capped.map((r) => ({ ...r, used: uses.get(r.number) ?? 0 }));
  const near = rows.filter((r) => r.used >= r.cap * NEAR_CAP).sort((a, b) => b.used / b.cap - a.used / a.cap || a.number.localeCompare(b.number));
  return { timeZone, capped: rows.length, atCap: rows.filter((r) => r.used >= r.cap).length, near: near.slice(0, 200).map((r) => ({ number: r.number, used: r.used, cap: r.cap })) };
}

export async function dashboardReport(db: Db, range: DashboardRange): Promise<DashboardReport> {
  const days = daysOf(range);
  const f = { since: range.since, until: range.until };
  const opts = { timeZone: range.timeZone };
  const [byAgent, byGroup, byDay, usage, tierCounts, unused, mem, caps] = await Promise.all([
    summarizeSurveys(db, f, 'agent', opts),
    summarizeSurveys(db, f, 'group', opts),
    summarizeSurveys(db, f, 'day', opts),
    numberUsage(db, range, days),
    tiers(db, range),
    unusedNumbers(db, range),
    memory(db, range, days),
    capUsage(db),
  ]);
  const surveyDay = new Map(byDay.map((s) => [s.key, s]));
  return {
    since: range.since.toISOString(),
    until: range.until.toISOString(),
    timeZone: range.timeZone,
    days,
    satisfaction: {
      byAgent,
      byGroup,
      daily: days.map((day) => {
        const s = surveyDay.get(day);
        return { day, offered: s?.offered ?? 0, rated: s?.rated ?? 0, responseRate: s ? s.responseRate : null, averageScore: s?.averageScore ?? null };
      }),
    },
    numbers: { ...usage, tiers: tierCounts, ...unused, caps },
    memory: mem,
  };
}
