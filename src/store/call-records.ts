import { sql } from 'drizzle-orm';
import type { Db } from './database.js';
import { calls } from './schema/index.js';

export type NewCallRecord = typeof calls.$inferInsert;

export interface CallEnd {
  channelId: string;
  endedAt: Date;
  hangupCause: number | null;
}

export interface CallRecorder {
  /** Queues a decision; written with others in one INSERT, off the call's path. */
  recordDecision(row: NewCallRecord): void;
  /** Queues a call's end; written after the decisions queued before it. */
  recordEnd(end: CallEnd): void;
  /** Writes everything queued now. */
  flush(): Promise<void>;
}

/**
 * Write-behind recorder: per call it costs a push onto an array; every `flushMs` the queued
 * decisions go out in one INSERT, the numbers' last use and the calls' ends in one UPDATE each.
 * A failed write is reported to `onError` and its rows dropped: records never hold up calls.
 */
export function createCallRecorder(db: Db, opts: { flushMs?: number; onError?: (err: Error) => void } = {}): CallRecorder {
  const flushMs = opts.flushMs ?? 100;
  let decisions: NewCallRecord[] = [];
  let ends: CallEnd[] = [];
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();

  const schedule = () => {
    timer ??= setTimeout(() => {
      timer = undefined;
      flush().catch((err: Error) => opts.onError?.(err));
    }, flushMs);
  };

  async function write(batch: NewCallRecord[], endBatch: CallEnd[]): Promise<void> {
    if (batch.length > 0) {
      await db.insert(calls).values(batch);
      const used = new Map<string, Date>();
      for (const r of batch) {
        if (r.action !== 'dial' || !r.callerId) continue;
        const seen = used.get(r.callerId);
        if (!seen || seen < r.decidedAt) used.set(r.callerId, r.decidedAt);
      }
      if (used.size > 0) {
        // Rows travel as one JSON parameter: the same SQL works on PostgreSQL and PGlite.
        const rows = JSON.stringify([...used].map(([e164, t]) => ({ e164, t: t.toISOString() })));
        await db.execute(sql`
          UPDATE numbers SET last_used_at = v.t
          FROM jsonb_to_recordset(${rows}::jsonb) AS v(e164 text, t timestamptz)
          WHERE numbers.e164 = v.e164 AND (numbers.last_used_at IS NULL OR numbers.last_used_at < v.t)`);
      }
    }
    if (endBatch.length > 0) {
      const rows = JSON.stringify(endBatch.map((e) => ({ channel_id: e.channelId, t: e.endedAt.toISOString(), cause: e.hangupCause })));
      await db.execute(sql`
        UPDATE calls SET ended_at = v.t, hangup_cause = v.cause
        FROM jsonb_to_recordset(${rows}::jsonb) AS v(channel_id text, t timestamptz, cause int)
        WHERE calls.channel_id = v.channel_id`);
    }
  }

  function flush(): Promise<void> {
    clearTimeout(timer);
    timer = undefined;
    const batch = decisions;
    const endBatch = ends;
    decisions = [];
    ends = [];
    // One write at a time, in order: a call's end is never written before its decision.
    writing = writing.catch(() => undefined).then(() => write(batch, endBatch));
    return writing;
  }

  return {
    recordDecision(row) {
      decisions.push(row);
      schedule();
    },
    recordEnd(end) {
      ends.push(end);
      schedule();
    },
    flush,
  };
}
