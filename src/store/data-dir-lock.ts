import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * PGlite is single-process: two processes opening one folder corrupt it. Whoever opens a PGlite
 * folder (the adapter, or a CLI command) first writes a lock file there with its pid, start time
 * and command line, and removes it when it closes. A lock whose process is gone (or whose pid now
 * belongs to a process started at another time) is stale and is taken over.
 */

export const LOCK_FILE = 'callpolicy.lock';

export type LockRole = 'adapter' | 'cli';

export interface LockHolder {
  pid: number;
  /** ISO time the holding process started. */
  startedAt: string;
  command: string;
  role: LockRole;
}

export class DataDirLockedError extends Error {
  override name = 'DataDirLockedError';
  readonly code = 'data-dir-locked';
  constructor(
    readonly dir: string,
    readonly holder: LockHolder,
    readonly wanted: LockRole,
  ) {
    super(
      holder.role === 'adapter'
        ? `the adapter (pid ${holder.pid}, started ${holder.startedAt}) holds ${dir}; stop it first, or use PostgreSQL (DATABASE_URL) to run ` +
            (wanted === 'cli' ? "the CLI beside a running adapter, or set CALLPOLICY_API_TOKEN so that the CLI goes through the adapter's API" : 'several processes on one database')
        : `another callpolicy command (pid ${holder.pid}, started ${holder.startedAt}: ${holder.command}) holds ${dir}; wait for it to finish`,
    );
  }
}

export interface DataDirLock {
  readonly file: string;
  release(): void;
}

/** This process's start time, as the lock records it. */
function processStartedAt(): Date {
  return new Date(Date.now() - Math.round(process.uptime() * 1000));
}

/**
 * When `pid` started, from /proc (Linux); undefined where /proc cannot tell. Field 22 of
 * /proc/<pid>/stat counts clock ticks (100 per second on Linux) since boot.
 */
function startOfPid(pid: number): Date | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]);
    const btime = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]);
    if (!Number.isFinite(ticks) || !Number.isFinite(btime)) return undefined;
    return new Date(btime * 1000 + ticks * 10);
  } catch {
    return undefined;
  }
}

/** The holder's process still runs (and is the same process, not a reused pid). */
export function isHolderAlive(holder: LockHolder): boolean {
  try {
    process.kill(holder.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const started = startOfPid(holder.pid);
  const recorded = Date.parse(holder.startedAt);
  // /proc counts from boot in 10 ms ticks and btime is whole seconds: allow a few seconds.
  if (started && Number.isFinite(recorded) && Math.abs(started.getTime() - recorded) > 5000) return false;
  return true;
}

function readHolder(file: string): LockHolder | null | 'unreadable' {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? null : 'unreadable';
  }
  try {
    const h = JSON.parse(text) as Partial<LockHolder>;
    if (typeof h.pid === 'number' && typeof h.startedAt === 'string') {
      return { pid: h.pid, startedAt: h.startedAt, command: String(h.command ?? ''), role: h.role === 'cli' ? 'cli' : 'adapter' };
    }
  } catch {
    // A lock being written this instant, or garbage: judged below.
  }
  return 'unreadable';
}

/** The live holder of `dir`, or null when it is free (no lock, or a stale one). */
export function readDataDirLock(dir: string): LockHolder | null {
  const holder = readHolder(join(dir, LOCK_FILE));
  if (holder === null || holder === 'unreadable') return null;
  return holder.pid !== process.pid && isHolderAlive(holder) ? holder : null;
}

/**
 * Takes `dir` for this process or throws DataDirLockedError naming the live holder. Two
 * processes taking over one stale lock in the same millisecond could both succeed; the adapter
 * and the CLI are started by people, so that is left at that.
 */
export function acquireDataDirLock(dir: string, role: LockRole, command = process.argv.slice(1).join(' ')): DataDirLock {
  const abs = resolve(dir);
  mkdirSync(abs, { recursive: true });
  const file = join(abs, LOCK_FILE);
  const mine: LockHolder = { pid: process.pid, startedAt: processStartedAt().toISOString(), command, role };
  const text = `${JSON.stringify(mine)}\n`;
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o644);
      try {
        writeSync(fd, text);
      } finally {
        closeSync(fd);
      }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 5) throw err;
    }
    const holder = readHolder(file);
    if (holder === 'unreadable' && attempt < 3) {
      // Possibly being written right now: look again shortly.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
      continue;
    }
    if (holder !== null && holder !== 'unreadable' && holder.pid !== process.pid && isHolderAlive(holder)) {
      throw new DataDirLockedError(abs, holder, role);
    }
    // Stale (its process is gone), unreadable for good, or our own: take it over.
    try {
      unlinkSync(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  let released = false;
  return {
    file,
    release() {
      if (released) return;
      released = true;
      // Remove only our own lock: never one another process took over meanwhile.
      const holder = readHolder(file);
      if (holder !== null && holder !== 'unreadable' && holder.pid === process.pid) {
        try {
          unlinkSync(file);
        } catch {
          // Already gone.
        }
      }
    },
  };
}
