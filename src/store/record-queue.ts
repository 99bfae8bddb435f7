import type { Logger } from '../log.js';
import { describeDbError, isTransientError } from './db-errors.js';
import type { CallEnd, NewCallRecord, NewSurveyResult } from './call-records.js';

/**
 * The write-behind queue of call records (a call's decision, its end, a survey's result), without
 * SQL: what is written in which order, what happens when a write fails, and what happens when the
 * database stays away long enough for the queue to fill. The SQL is the `write` function
 * (call-records.ts).
 *
 * - Order: decisions, ends and survey results leave the queue in the order they came, a batch at
 *   a time, and a batch writes its decisions before its ends: a call's end is never written before
 *   its decision. An end that found no row (its decision comes later, or never came) waits for it
 *   a while. A survey result needs no other row: it is written with the batch it is in (one per
 *   survey leg; a second one for the same leg is ignored, the first stays).
 * - Failures: a batch that fails for a reason that can pass (connection, timeout) stays at the
 *   head and is tried again with back-off; nothing is dropped while the queue is under its bound.
 *   A batch the database refuses for good (a bad value) is written one record at a time, and only
 *   the record refused on its own is dropped, with a log line naming it.
 * - Bound: past `queueMax` records (of all three kinds), new ones are counted and dropped: one log line when it starts,
 *   one with the count when the queue takes records again; the count is in `stats()`.
 * - Last use of numbers: one value per number (the latest), outside the bound: it never overflows.
 */

export interface RecordBatch {
  decisions: NewCallRecord[];
  ends: CallEnd[];
  /** Survey results in the order they came, at most one per (pbx, channelId): the first. */
  surveys: NewSurveyResult[];
  /** Latest use of each number (E.164 → when). */
  lastUse: Map<string, Date>;
}

export interface RecordWriteResult {
  /** Ends whose call has no row (yet). */
  unmatchedEnds: CallEnd[];
}

export type RecordWriter = (batch: RecordBatch) => Promise<RecordWriteResult>;

export interface RecordQueueOptions {
  write: RecordWriter;
  /** How long a record waits for others to share its write. Default 250 ms (fewer, larger writes: less CPU taken from the PBX on the same machine). */
  flushMs?: number;
  /** Most records held; more are counted and dropped. Default 100,000. */
  queueMax?: number;
  /** Most records in one write. Default 2000. */
  batchMax?: number;
  /** Back-off of retries after a failed write: from retryMinMs doubling to retryMaxMs. */
  retryMinMs?: number;
  retryMaxMs?: number;
  /** An end without a row is forgotten after this, once every queued decision is written. Default 30 s. */
  orphanTtlMs?: number;
  /** How often ends without a row are tried again while nothing else is written. Default 1 s. */
  orphanRetryMs?: number;
  isTransient?: (err: unknown) => boolean;
  /** After every failed attempt (the caller decides whether the database is down). */
  onWriteFailed?: (err: unknown, transient: boolean) => void;
  /** After every successful write; `backlog`: records queued just before it (the write included). */
  onWriteSucceeded?: (info: { backlog: number }) => void;
  logger?: Logger;
  now?: () => number;
}

export interface RecordQueueStats {
  /** Records waiting to be written. */
  queued: number;
  /** Records dropped since start (queue full, or refused by the database). */
  dropped: number;
  /** The last write failed and is being retried. */
  retrying: boolean;
}

export interface RecordQueue {
  pushDecision(row: NewCallRecord): void;
  pushEnd(end: CallEnd): void;
  pushSurvey(row: NewSurveyResult): void;
  /** Writes everything queued now; rejects (records kept, retried later) when a write fails. */
  flush(): Promise<void>;
  stats(): RecordQueueStats;
  /** Stops the timers; what is still queued stays unwritten. */
  close(): void;
}

type Entry = { kind: 'decision'; row: NewCallRecord } | { kind: 'end'; end: CallEnd } | { kind: 'survey'; row: NewSurveyResult };

const keyOf = (pbx: string, channelId: string) => `${pbx}\u0000${channelId}`;

export function createRecordQueue(opts: RecordQueueOptions): RecordQueue {
  const flushMs = opts.flushMs ?? 250;
  const queueMax = opts.queueMax ?? 100_000;
  const batchMax = opts.batchMax ?? 2000;
  const retryMinMs = opts.retryMinMs ?? 100;
  const retryMaxMs = opts.retryMaxMs ?? 5000;
  const orphanTtlMs = opts.orphanTtlMs ?? 30_000;
  const orphanRetryMs = opts.orphanRetryMs ?? 1000;
  const isTransient = opts.isTransient ?? isTransientError;
  const now = opts.now ?? Date.now;
  const log = opts.logger;

  const entries: Entry[] = [];
  const lastUse = new Map<string, Date>();
  const orphans = new Map<string, { end: CallEnd; since: number }>();
  let appended = 0;
  let removed = 0;
  let dropped = 0;
  let droppedThisEpisode = 0;
  let retrying = false;
  let failures = 0;
  /** After a refused batch: this many records go one at a time, to find the one refused. */
  let isolate = 0;
  let timer: NodeJS.Timeout | undefined;
  let timerDue = Infinity;
  let closed = false;
  let chain: Promise<unknown> = Promise.resolve();

  function push(entry: Entry): void {
    if (entries.length >= queueMax) {
      dropped++;
      if (droppedThisEpisode++ === 0) {
        log?.error({ queueMax }, 'call record queue is full: further records are counted and dropped until the database takes them again');
      }
      return;
    }
    entries.push(entry);
    appended++;
    if (!retrying) schedule(entries.length >= batchMax ? 0 : flushMs);
  }

  function schedule(ms: number): void {
    if (closed) return;
    const due = now() + ms;
    if (timer && timerDue <= due) return;
    clearTimeout(timer);
    timerDue = due;
    timer = setTimeout(() => {
      timer = undefined;
      timerDue = Infinity;
      background();
    }, ms);
    timer.unref?.();
  }

  function background(): void {
    serialized(attempt).then(
      () => {
        if (entries.length > 0 || lastUse.size > 0) schedule(entries.length >= batchMax || isolate > 0 ? 0 : flushMs);
        else if (orphans.size > 0) schedule(orphanRetryMs);
      },
      () => schedule(Math.min(retryMaxMs, retryMinMs * 2 ** Math.min(failures - 1, 20))),
    );
  }

  function serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = chain.then(fn);
    chain = run.catch(() => undefined);
    return run;
  }

  /** One write of the head of the queue. Throws when it failed and should be retried later. */
  async function attempt(): Promise<void> {
    const count = isolate > 0 ? 1 : Math.min(batchMax, entries.length);
    const head = entries.slice(0, count);
    const decisions = new Map<string, NewCallRecord>();
    const ends = new Map<string, CallEnd>();
    const surveys = new Map<string, NewSurveyResult>();
    // Ends waiting for their decision go first: a later end of the same call replaces them.
    if (isolate === 0) for (const [k, o] of orphans) ends.set(k, o.end);
    for (const e of head) {
      if (e.kind === 'decision') decisions.set(keyOf(e.row.pbx, e.row.channelId), e.row);
      else if (e.kind === 'end') ends.set(keyOf(e.end.pbx, e.end.channelId), e.end);
      else {
        const k = keyOf(e.row.pbx, e.row.channelId);
        if (!surveys.has(k)) surveys.set(k, e.row);
      }
    }
    const uses = isolate > 0 ? new Map<string, Date>() : new Map(lastUse);
    if (decisions.size === 0 && ends.size === 0 && surveys.size === 0 && uses.size === 0) return;

    let result: RecordWriteResult;
    try {
      result = await opts.write({ decisions: [...decisions.values()], ends: [...ends.values()], surveys: [...surveys.values()], lastUse: uses });
    } catch (err) {
      const transient = isTransient(err);
      opts.onWriteFailed?.(err, transient);
      if (transient) {
        retrying = true;
        failures++;
        log?.debug({ err: describeDbError(err), queued: entries.length, failures }, 'call records not written; retrying');
        throw err;
      }
      refused(err, count, head, uses);
      return;
    }

    const backlog = entries.length;
    entries.splice(0, count);
    removed += count;
    if (isolate > 0) isolate -= count;
    for (const [e164, at] of uses) if (lastUse.get(e164) === at) lastUse.delete(e164);
    const t = now();
    const unmatched = new Set(result.unmatchedEnds.map((e) => keyOf(e.pbx, e.channelId)));
    for (const [k, end] of ends) {
      if (!unmatched.has(k)) orphans.delete(k);
      else if (!orphans.has(k)) orphans.set(k, { end, since: t });
      else orphans.get(k)!.end = end;
    }
    if (entries.length === 0) {
      let expired = 0;
      for (const [k, o] of orphans) {
        if (t - o.since > orphanTtlMs) {
          orphans.delete(k);
          expired++;
        }
      }
      if (expired > 0) log?.debug({ expired }, 'call ends without a recorded decision forgotten');
    }
    retrying = false;
    failures = 0;
    if (droppedThisEpisode > 0) {
      log?.error({ dropped: droppedThisEpisode, queueMax }, 'call records were dropped while the record queue was full');
      droppedThisEpisode = 0;
    }
    opts.onWriteSucceeded?.({ backlog });
  }

  function refused(err: unknown, count: number, head: Entry[], uses: Map<string, Date>): void {
    retrying = false;
    failures = 0;
    if (count > 1) {
      // Find the record at fault: the next `count` records go one at a time.
      isolate = count;
      log?.warn({ err: describeDbError(err), records: count }, 'the database refused a batch of call records; writing them one at a time');
      return;
    }
    if (count === 1) {
      const e = head[0]!;
      entries.shift();
      removed++;
      dropped++;
      isolate = Math.max(0, isolate - 1);
      const who = e.kind === 'end' ? e.end : e.row;
      log?.error({ err: describeDbError(err), pbx: who.pbx, channel: who.channelId, record: e.kind }, 'the database refused a call record; dropped');
      return;
    }
    // Only last uses and waiting ends were sent: give them up rather than fail for ever.
    for (const [e164, at] of uses) if (lastUse.get(e164) === at) lastUse.delete(e164);
    const lost = orphans.size;
    orphans.clear();
    log?.error({ err: describeDbError(err), numbers: uses.size, ends: lost }, 'the database refused last-use updates; dropped');
  }

  return {
    pushDecision(row) {
      if (row.action === 'dial' && row.callerId) {
        const seen = lastUse.get(row.callerId);
        if (!seen || seen < row.decidedAt) lastUse.set(row.callerId, row.decidedAt);
      }
      push({ kind: 'decision', row });
    },
    pushEnd(end) {
      push({ kind: 'end', end });
    },
    pushSurvey(row) {
      push({ kind: 'survey', row });
    },
    async flush() {
      clearTimeout(timer);
      timer = undefined;
      timerDue = Infinity;
      const target = appended;
      try {
        while (removed < target) await serialized(attempt);
        if (lastUse.size > 0) await serialized(attempt);
      } catch (err) {
        schedule(Math.min(retryMaxMs, retryMinMs * 2 ** Math.min(failures - 1, 20)));
        throw err;
      }
      if (entries.length > 0) schedule(flushMs);
      else if (orphans.size > 0) schedule(orphanRetryMs);
    },
    stats: () => ({ queued: entries.length, dropped, retrying }),
    close() {
      closed = true;
      clearTimeout(timer);
      timer = undefined;
      if (droppedThisEpisode > 0) {
        log?.error({ dropped: droppedThisEpisode, queueMax }, 'call records were dropped while the record queue was full');
        droppedThisEpisode = 0;
      }
    },
  };
}
