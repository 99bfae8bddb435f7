import { getTableColumns, sql, type SQL } from 'drizzle-orm';
import type { Logger } from '../log.js';
import type { Db } from './database.js';
import { createRecordQueue, type RecordBatch, type RecordQueueOptions, type RecordQueueStats, type RecordWriteResult } from './record-queue.js';
import { isTransientError } from './db-errors.js';
import { openRecordJournal, type JournalEntry } from './record-journal.js';
import { calls, surveyResults } from './schema/index.js';

export type NewCallRecord = typeof calls.$inferInsert;
/** One survey's result (survey_results), as the survey flow knows it when the outcome is known. */
export type NewSurveyResult = typeof surveyResults.$inferInsert;

export interface CallEnd {
  pbx: string;
  channelId: string;
  endedAt: Date;
  hangupCause: number | null;
  /** When the far end answered; null: never answered. */
  answeredAt: Date | null;
  /** Seconds from answer to hang-up as the PBX counted them; null when not answered. */
  talkSeconds: number | null;
  /** The PBX's dial result (ANSWER, BUSY, NOANSWER, ...); null when no dial happened. */
  dialStatus: string | null;
  /** What the PBX really did when it differs from the recorded decision; null: as decided. */
  finalAction: 'dial' | 'default' | 'reject' | null;
  /** Who hung up first; null or absent: not known. */
  hungUpBy?: 'agent' | 'customer' | 'pbx' | null;
  /** Inbound calls the remembered agent did not take: where they went then. */
  noAnswerRoute?: 'ivr' | 'voicemail' | 'goodbye' | null;
  /** The end happened while no adapter followed the call: `endedAt` is when it was noticed. */
  estimated?: boolean;
}

export interface CallRecorder {
  /**
   * Queues a decision; written with others in one statement, off the call's path. A decision for
   * a (pbx, channelId) already recorded (a call re-adopted after a crash) updates that row.
   */
  recordDecision(row: NewCallRecord): void;
  /** Queues a call's end; written after the decisions queued before it, by (pbx, channelId). */
  recordEnd(end: CallEnd): void;
  /**
   * Queues a survey's result, journaled and retried like the rest. A second result for a
   * (pbx, channelId) already written (a journal replay) is ignored: the first stays.
   */
  recordSurvey(row: NewSurveyResult): void;
  /** Writes everything queued now; rejects when the database cannot take it (kept and retried). */
  flush(): Promise<void>;
  stats(): RecordQueueStats;
  /** Stops the background writes (at shutdown, after the last flush). */
  close(): void;
}

export interface CallRecorderOptions extends Omit<RecordQueueOptions, 'write' | 'logger'> {
  logger?: Logger;
  /** Folder of the local journal that keeps queued records across a killed process (none: memory only). */
  journalDir?: string;
  /** False while the database may not have this version's tables (not migrated yet): records wait. */
  writable?: () => boolean;
}

/** Records wait: the database is not migrated to this version yet. */
class NotWritableYetError extends Error {
  override name = 'NotWritableYetError';
}

/**
 * Write-behind recorder: per call it costs a push onto an array; the queued records go out in
 * batches (decisions in one INSERT ... ON CONFLICT, ends in one UPDATE, survey results in one
 * INSERT ... ON CONFLICT DO NOTHING, the numbers' last use in another UPDATE), retried with
 * back-off while the database is away. See record-queue.ts for the rules.
 */
export function createCallRecorder(db: Db, opts: CallRecorderOptions = {}): CallRecorder {
  const journal = opts.journalDir ? openRecordJournal(opts.journalDir, opts.logger) : undefined;
  let journaled = 0;
  const release = () => journal?.release(journaled - queue.stats().queued);
  const writer = createCallRecordWriter(db);
  const transient = opts.isTransient ?? isTransientError;
  const queue = createRecordQueue({
    ...opts,
    isTransient: (err) => err instanceof NotWritableYetError || transient(err),
    write: (batch) => {
      if (opts.writable && !opts.writable()) return Promise.reject(new NotWritableYetError('the database is not migrated yet'));
      return writer(batch);
    },
    onWriteSucceeded: (info) => {
      release();
      opts.onWriteSucceeded?.(info);
    },
  });
  /** Queued records go to the journal too; one the full queue refused is not kept anywhere. */
  const keep = (entry: JournalEntry) => {
    const dropped = queue.stats().dropped;
    if (entry.kind === 'decision') queue.pushDecision(entry.row);
    else if (entry.kind === 'end') queue.pushEnd(entry.end);
    else queue.pushSurvey(entry.row);
    if (journal && queue.stats().dropped === dropped) {
      journal.append(entry);
      journaled++;
    }
  };
  if (journal && journal.leftover.length > 0) {
    opts.logger?.warn({ records: journal.leftover.length, journal: opts.journalDir }, 'call records left unwritten by the previous run: writing them now');
    for (const entry of journal.leftover) keep(entry);
    release();
  }
  return {
    recordDecision: (row) => keep({ kind: 'decision', row }),
    recordEnd: (end) => keep({ kind: 'end', end }),
    recordSurvey: (row) => keep({ kind: 'survey', row }),
    flush: () => queue.flush(),
    stats: () => queue.stats(),
    close: () => {
      queue.close();
      journal?.close();
    },
  };
}

/** Columns an end fills in: a repeated decision (re-adoption) never clears them. */
const END_COLUMNS = new Set(['ended_at', 'hangup_cause', 'answered_at', 'talk_seconds', 'final_action', 'dial_status', 'hung_up_by', 'no_answer_route']);
/** Columns a repeated decision never touches at all. */
const KEEP_COLUMNS = new Set(['end_estimated']);

/**
 * Rows of a table as one JSON parameter for jsonb_to_recordset: the column list and record type
 * come from the drizzle table (all but `id`, which the database fills in), so a column added to
 * the schema is written without a change here. `toJson` keys a row by column name, with the
 * schema's constant defaults filled in (an SQL default is not: those columns must be given).
 */
function recordsetOf(table: typeof calls | typeof surveyResults) {
  const columns = Object.entries(getTableColumns(table))
    .filter(([, c]) => c.name !== 'id')
    .map(([key, c]) => ({ key, name: c.name, type: c.getSQLType(), column: c }));
  const ident = (name: string) => `"${name}"`;
  const toJson = (row: object) => {
    const out: Record<string, unknown> = {};
    for (const c of columns) {
      let v = (row as Record<string, unknown>)[c.key];
      if (v === undefined && c.column.hasDefault) {
        const d: unknown = c.column.default;
        v = d !== undefined && (d === null || typeof d !== 'object' || d instanceof Date || Array.isArray(d)) ? d : c.column.defaultFn?.();
      }
      out[c.name] = v ?? null;
    }
    return out;
  };
  return {
    columns,
    ident,
    /** "a", "b", ... */
    list: columns.map((c) => ident(c.name)).join(', '),
    /** "a" text, "b" integer, ... (a text[] column reads a JSON array) */
    recordType: columns.map((c) => `${ident(c.name)} ${c.type}`).join(', '),
    toJson,
  };
}

/**
 * The SQL of a batch. Rows travel as one JSON parameter (jsonb_to_recordset): any number of rows
 * in one statement, under PostgreSQL's 65,535-parameter limit, the same SQL on PGlite.
 */
export function createCallRecordWriter(db: Db) {
  const { columns, ident, list, recordType, toJson } = recordsetOf(calls);
  const updates = columns
    .filter((c) => c.name !== 'pbx' && c.name !== 'channel_id' && !KEEP_COLUMNS.has(c.name))
    .map((c) => (END_COLUMNS.has(c.name) ? `${ident(c.name)} = COALESCE(excluded.${ident(c.name)}, calls.${ident(c.name)})` : `${ident(c.name)} = excluded.${ident(c.name)}`))
    .join(', ');
  const insertHead = `INSERT INTO calls (${list}) SELECT ${list} FROM jsonb_to_recordset(`;
  const insertTail = `::jsonb) AS v(${recordType}) ON CONFLICT ("pbx", "channel_id") DO UPDATE SET ${updates}`;
  // One row per survey leg: a result written again (journal replay, re-adoption) keeps the first.
  const survey = recordsetOf(surveyResults);
  const surveyHead = `INSERT INTO survey_results (${survey.list}) SELECT ${survey.list} FROM jsonb_to_recordset(`;
  const surveyTail = `::jsonb) AS v(${survey.recordType}) ON CONFLICT ("pbx", "channel_id") DO NOTHING`;
  const int = (n: number | null) => (n === null || !Number.isFinite(n) ? null : Math.round(n));

  return async function write(batch: RecordBatch): Promise<RecordWriteResult> {
    if (batch.decisions.length > 0) {
      const rows = JSON.stringify(batch.decisions.map(toJson));
      await db.execute(sql.join([sql.raw(insertHead), sql`${rows}`, sql.raw(insertTail)]) as SQL);
    }
    if (batch.surveys.length > 0) {
      const rows = JSON.stringify(batch.surveys.map(survey.toJson));
      await db.execute(sql.join([sql.raw(surveyHead), sql`${rows}`, sql.raw(surveyTail)]) as SQL);
    }
    let unmatchedEnds: RecordWriteResult['unmatchedEnds'] = [];
    const seen = batch.ends.filter((e) => !e.estimated);
    const estimated = batch.ends.filter((e) => e.estimated);
    if (estimated.length > 0) {
      // Only where no real end was written meanwhile; a row not found has nothing to wait for.
      const rows = JSON.stringify(estimated.map((e) => ({ pbx: e.pbx, channel_id: e.channelId, ended_at: e.endedAt.toISOString() })));
      await db.execute(sql`
        UPDATE calls SET ended_at = v.ended_at, end_estimated = true
        FROM jsonb_to_recordset(${rows}::jsonb) AS v(pbx text, channel_id text, ended_at timestamptz)
        WHERE calls.pbx = v.pbx AND calls.channel_id = v.channel_id AND calls.ended_at IS NULL`);
    }
    if (seen.length > 0) {
      const rows = JSON.stringify(
        seen.map((e) => ({
          pbx: e.pbx,
          channel_id: e.channelId,
          ended_at: e.endedAt.toISOString(),
          hangup_cause: int(e.hangupCause),
          answered_at: e.answeredAt?.toISOString() ?? null,
          talk_seconds: int(e.talkSeconds),
          dial_status: e.dialStatus,
          final_action: e.finalAction,
          hung_up_by: e.hungUpBy ?? null,
          no_answer_route: e.noAnswerRoute ?? null,
        })),
      );
      // final_action stays null when the PBX did what was decided.
      const result = await db.execute(sql`
        UPDATE calls SET ended_at = v.ended_at, hangup_cause = v.hangup_cause, answered_at = v.answered_at,
          talk_seconds = v.talk_seconds, dial_status = v.dial_status, final_action = NULLIF(v.final_action, calls.action),
          hung_up_by = v.hung_up_by, no_answer_route = v.no_answer_route, end_estimated = false
        FROM jsonb_to_recordset(${rows}::jsonb)
          AS v(pbx text, channel_id text, ended_at timestamptz, hangup_cause int, answered_at timestamptz, talk_seconds int, dial_status text, final_action text,
            hung_up_by text, no_answer_route text)
        WHERE calls.pbx = v.pbx AND calls.channel_id = v.channel_id
        RETURNING calls.pbx, calls.channel_id`);
      const found = new Set(rowsOf<{ pbx: string; channel_id: string }>(result).map((r) => `${r.pbx}\u0000${r.channel_id}`));
      unmatchedEnds = seen.filter((e) => !found.has(`${e.pbx}\u0000${e.channelId}`));
    }
    if (batch.lastUse.size > 0) {
      const rows = JSON.stringify([...batch.lastUse].map(([e164, t]) => ({ e164, t: t.toISOString() })));
      await db.execute(sql`
        UPDATE numbers SET last_used_at = v.t
        FROM jsonb_to_recordset(${rows}::jsonb) AS v(e164 text, t timestamptz)
        WHERE numbers.e164 = v.e164 AND (numbers.last_used_at IS NULL OR numbers.last_used_at < v.t)`);
    }
    return { unmatchedEnds };
  };
}

/** Result rows of db.execute on either driver (node-postgres and PGlite both answer `{ rows }`). */
export function rowsOf<T>(result: unknown): T[] {
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}

/**
 * Channel ids of this PBX's calls decided since `since` whose end is not recorded: to be checked
 * against the PBX after a (re)connect (served by calls_open_idx).
 */
export async function openCallIds(db: Db, pbx: string, since: Date): Promise<string[]> {
  const result = await db.execute(sql`
    SELECT channel_id FROM calls WHERE pbx = ${pbx} AND ended_at IS NULL AND decided_at >= ${since.toISOString()}::timestamptz
    ORDER BY decided_at LIMIT 10000`);
  return rowsOf<{ channel_id: string }>(result).map((r) => r.channel_id);
}
