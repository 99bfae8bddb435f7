import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, unlinkSync, writeSync, ftruncateSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../log.js';
import { acquireDataDirLock } from './data-dir-lock.js';
import type { CallEnd, NewCallRecord, NewSurveyResult } from './call-records.js';

/**
 * A local journal of the call records not yet in the database, so that a killed adapter (SIGKILL,
 * OOM, power to the process but not the machine) loses none: each record is appended to a file
 * (one write() to the page cache, no fsync) before the call moves on, and replayed at the next
 * start. Writing a record twice is harmless: decisions are upserts, ends are updates, a survey
 * result already written is kept as it is (ON CONFLICT DO NOTHING).
 *
 * Files are segments named by the index of their first record; a segment is deleted once every
 * record in it is written to the database, and the open one is emptied when nothing is queued.
 */
export type JournalEntry = { kind: 'decision'; row: NewCallRecord } | { kind: 'end'; end: CallEnd } | { kind: 'survey'; row: NewSurveyResult };

export interface RecordJournal {
  /** Entries left by the previous process, oldest first (read once, at open). */
  readonly leftover: JournalEntry[];
  append(entry: JournalEntry): void;
  /** Everything before `written` (counted in appends since open) is in the database. */
  release(written: number): void;
  close(): void;
}

const SEGMENT_RECORDS = 5000;
const FILE_RE = /^records-\d{15}-\d{12}-\d{10}\.jsonl$/;

export function openRecordJournal(dir: string, logger?: Logger): RecordJournal {
  mkdirSync(dir, { recursive: true });
  // One process per journal: another adapter on the same folder would replay and delete ours.
  const lock = acquireDataDirLock(dir, 'adapter');
  const old = readdirSync(dir)
    .filter((f) => FILE_RE.test(f))
    .sort(); // fixed-width names: time of creation first
  const leftover: JournalEntry[] = [];
  const kept: string[] = [];
  for (const f of old) {
    const entries = readSegment(path.join(dir, f), logger);
    if (entries.length === 0) unlinkSync(path.join(dir, f));
    else kept.push(f);
    leftover.push(...entries);
  }

  let failed = false;
  let appended = 0;
  /**
   * Closed segments, oldest first, with the index after their last record. The previous
   * process's files count as written as soon as their records are appended again (replay).
   */
  const closed: { file: string; end: number }[] = kept.map((f) => ({ file: path.join(dir, f), end: 0 }));
  let current = { file: '', fd: -1, start: 0, count: 0 };

  const guard = (what: string, fn: () => void) => {
    if (failed) return;
    try {
      fn();
    } catch (err) {
      // The journal protects records against a killed process; it must never stop calls itself.
      failed = true;
      logger?.error({ err: (err as Error).message, dir }, `call record journal ${what} failed: records are kept in memory only from now on`);
    }
  };

  const openSegment = () => {
    // Time first (files sort by it), then the index and the pid so that no two names collide.
    const name = (ms: number) => path.join(dir, `records-${String(ms).padStart(15, '0')}-${String(appended).padStart(12, '0')}-${String(process.pid).padStart(10, '0')}.jsonl`);
    let ms = Date.now();
    while (closed.some((c) => c.file === name(ms))) ms++;
    const file = name(ms);
    current = { file, fd: openSync(file, 'a'), start: appended, count: 0 };
  };
  guard('open', openSegment);

  return {
    leftover,
    append(entry) {
      guard('write', () => {
        if (current.count >= SEGMENT_RECORDS) {
          closeSync(current.fd);
          closed.push({ file: current.file, end: appended });
          openSegment();
        }
        writeSync(current.fd, `${JSON.stringify(entry)}\n`);
        current.count++;
      });
      appended++;
    },
    release(written) {
      guard('clean-up', () => {
        while (closed.length > 0 && closed[0]!.end <= written) unlinkSync(closed.shift()!.file);
        if (written >= appended && current.count > 0 && closed.length === 0) {
          ftruncateSync(current.fd, 0);
          current.count = 0;
          current.start = appended;
        }
      });
    },
    close() {
      if (current.fd >= 0) {
        guard('close', () => {
          closeSync(current.fd);
          if (current.count === 0) unlinkSync(current.file);
        });
      }
      lock.release();
    },
  };
}

/** A segment's records; a torn last line (the process died mid-write) is skipped. */
function readSegment(file: string, logger?: Logger): JournalEntry[] {
  const out: JournalEntry[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    try {
      out.push(revive(JSON.parse(line) as JournalEntry));
    } catch {
      logger?.warn({ file }, 'skipped an unreadable line of the call record journal');
    }
  }
  return out;
}

const DECISION_DATES = ['decidedAt', 'endedAt', 'answeredAt'] as const;
const END_DATES = ['endedAt', 'answeredAt'] as const;
const SURVEY_DATES = ['startedAt', 'endedAt'] as const;

function revive(entry: JournalEntry): JournalEntry {
  const fix = (o: Record<string, unknown>, keys: readonly string[]) => {
    for (const k of keys) if (typeof o[k] === 'string') o[k] = new Date(o[k] as string);
  };
  if (entry.kind === 'decision') fix(entry.row as Record<string, unknown>, DECISION_DATES);
  else if (entry.kind === 'end') fix(entry.end as unknown as Record<string, unknown>, END_DATES);
  else if (entry.kind === 'survey') fix(entry.row as Record<string, unknown>, SURVEY_DATES);
  else throw new Error('unknown journal entry');
  return entry;
}
