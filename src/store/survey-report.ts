import { and, desc, eq, gte, lt, sql, type SQL } from 'drizzle-orm';
import type { Db } from './database.js';
import { rowsOf } from './call-records.js';
import { surveyResults } from './schema/index.js';

export type SurveyResult = typeof surveyResults.$inferSelect;
export type SurveyOutcomeName = SurveyResult['outcome'];
export const SURVEY_OUTCOMES: readonly SurveyOutcomeName[] = ['rated', 'no_input', 'invalid', 'hung_up'];

/** Which surveys a report covers; every field narrows it. Times are of the survey's start. */
export interface SurveyFilter {
  /** From this instant on (inclusive). */
  since?: Date;
  /** Before this instant (exclusive). */
  until?: Date;
  agentId?: string;
  /** Surveys of an agent in this group when the survey ran; NO_GROUP: of agents in none. */
  group?: string;
  direction?: 'outbound' | 'inbound';
}

export type SurveySummaryBy = 'agent' | 'group' | 'day';

/** The key of surveys with no agent (by agent) or whose agent was in no group (by group). */
export const NO_GROUP = '(none)';

export interface SurveySummaryRow {
  /** The agent's id, the group, or the calendar day (YYYY-MM-DD in the report's time zone); NO_GROUP when none. */
  key: string;
  /** Every survey, whatever its outcome. */
  offered: number;
  rated: number;
  /** rated / offered, 0..1. */
  responseRate: number;
  /** Mean score of the rated surveys that have one; null: none. */
  averageScore: number | null;
  outcomes: Record<SurveyOutcomeName, number>;
  /** Rated surveys per key pressed (and its label), by key. */
  distribution: { key: string; label: string | null; count: number }[];
}

function where(f: SurveyFilter): SQL | undefined {
  const t = surveyResults;
  return and(
    f.since ? gte(t.startedAt, f.since) : undefined,
    f.until ? lt(t.startedAt, f.until) : undefined,
    f.agentId !== undefined ? eq(t.agentId, f.agentId) : undefined,
    f.direction ? eq(t.direction, f.direction) : undefined,
    f.group === undefined ? undefined : f.group === NO_GROUP ? sql`cardinality(${t.agentGroups}) = 0` : sql`${t.agentGroups} @> ARRAY[${f.group}::text]`,
  );
}

/** The latest results first (survey_results_started_idx, or _agent_idx for one agent). */
export async function listSurveyResults(db: Db, f: SurveyFilter, limit: number): Promise<SurveyResult[]> {
  return db.select().from(surveyResults).where(where(f)).orderBy(desc(surveyResults.startedAt), desc(surveyResults.id)).limit(limit);
}

/**
 * The one statement summarizeSurveys runs (exported for EXPLAIN in tests). Grouping and counting
 * are PostgreSQL's: one row per key comes back, however many surveys there are. A survey counts
 * once in each group its agent was in; surveys whose agent was in none count under NO_GROUP.
 */
export function surveySummaryQuery(f: SurveyFilter, by: SurveySummaryBy, opts: { timeZone?: string } = {}): SQL {
  const t = surveyResults;
  const timeZone = opts.timeZone ?? 'UTC';
  const groups = sql`CASE WHEN cardinality(${t.agentGroups}) = 0 THEN ARRAY[${NO_GROUP}::text] ELSE ${t.agentGroups} END`;
  const key =
    by === 'agent'
      ? sql`COALESCE(${t.agentId}, ${NO_GROUP}::text)`
      : by === 'group'
        ? sql`g.key`
        : sql`to_char((${t.startedAt} AT TIME ZONE ${timeZone}::text)::date, 'YYYY-MM-DD')`;
  const from = by === 'group' ? sql`${t} CROSS JOIN LATERAL unnest(${groups}) AS g(key)` : sql`${t}`;
  // By group with a group filter: that group's row only (its surveys' other groups are not asked for).
  const only = by === 'group' && f.group !== undefined ? sql` AND g.key = ${f.group}::text` : sql``;
  const cond = where(f) ?? sql`true`;
  return sql`
    WITH s AS (
      SELECT ${key} AS key, ${t.outcome} AS outcome, ${t.dtmfKey} AS dtmf_key, ${t.label} AS label, ${t.score} AS score
      FROM ${from}
      WHERE ${cond}${only}
    ),
    d AS (
      SELECT key, json_agg(json_build_object('key', dtmf_key, 'label', label, 'count', n) ORDER BY dtmf_key COLLATE "C", label COLLATE "C") AS distribution
      FROM (SELECT key, dtmf_key, label, count(*)::int AS n FROM s WHERE outcome = 'rated' GROUP BY key, dtmf_key, label) per_key
      GROUP BY key
    )
    SELECT a.key, a.offered, a.rated, a.rated::float8 / a.offered AS response_rate, a.average_score,
      a.no_input, a.invalid, a.hung_up, d.distribution
    FROM (
      SELECT key, count(*)::int AS offered,
        count(*) FILTER (WHERE outcome = 'rated')::int AS rated,
        (avg(score) FILTER (WHERE outcome = 'rated'))::float8 AS average_score,
        count(*) FILTER (WHERE outcome = 'no_input')::int AS no_input,
        count(*) FILTER (WHERE outcome = 'invalid')::int AS invalid,
        count(*) FILTER (WHERE outcome = 'hung_up')::int AS hung_up
      FROM s GROUP BY key
    ) a LEFT JOIN d USING (key)
    ORDER BY a.key COLLATE "C"`;
}

/**
 * Survey figures per agent, per group, or per calendar day in `opts.timeZone` (an IANA name,
 * default UTC), in one query; rows sorted by key. Over a date range the rows are read through
 * survey_results_started_idx (or survey_results_agent_idx for one agent).
 */
export async function summarizeSurveys(db: Db, f: SurveyFilter, by: SurveySummaryBy, opts: { timeZone?: string } = {}): Promise<SurveySummaryRow[]> {
  type Raw = {
    key: string;
    offered: number;
    rated: number;
    response_rate: number;
    average_score: number | null;
    no_input: number;
    invalid: number;
    hung_up: number;
    distribution: SurveySummaryRow['distribution'] | string | null;
  };
  const rows = rowsOf<Raw>(await db.execute(surveySummaryQuery(f, by, opts)));
  return rows.map((r) => ({
    key: r.key,
    offered: Number(r.offered),
    rated: Number(r.rated),
    responseRate: Number(r.response_rate),
    averageScore: r.average_score === null ? null : Number(r.average_score),
    outcomes: { rated: Number(r.rated), no_input: Number(r.no_input), invalid: Number(r.invalid), hung_up: Number(r.hung_up) },
    distribution: (typeof r.distribution === 'string' ? (JSON.parse(r.distribution) as SurveySummaryRow['distribution']) : (r.distribution ?? [])).map((d) => ({
      key: d.key,
      label: d.label,
      count: Number(d.count),
    })),
  }));
}
