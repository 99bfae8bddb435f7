// The fault suite's rig (test/integration/faults.test.ts): the adapter as its own process, the
// way an administrator runs it; a TCP proxy that delays ARI; emergency calls placed now and then
// beside the load; the adapter's log and the calls table read back; one figure line per fault.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, promises as fs } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { placeCall } from '../sandbox/sipp.js';
import { REPO } from './local-stack.js';

// ---------------------------------------------------------------------------------------------
// The adapter process

export interface AdapterProcess {
  child: ChildProcess;
  pid: number;
  healthUrl: string;
  /** When spawn() was called (ms since epoch). */
  startedAt: number;
  /** GET /healthz: status code and body text; null when nothing answers. */
  healthz(): Promise<{ status: number; body: string } | null>;
  /** Polls /healthz until `ok` holds (default: 200); throws with the log's tail after timeoutMs or if the process exits. */
  waitHealthy(timeoutMs: number, ok?: (h: { status: number; body: string }) => boolean): Promise<{ status: number; body: string; at: number }>;
  /** SIGKILL, and waits for the exit. */
  kill(): Promise<void>;
  /** SIGTERM, then SIGKILL after 5 s; waits for the exit. Idempotent. */
  stop(): Promise<void>;
  exited(): boolean;
}

export interface AdapterEnv {
  ariUrl: string;
  ariUser: string;
  ariPassword: string;
  ariApp: string;
  databaseUrl: string;
  dataDir: string;
  httpPort: number;
}

export function adapterEnvironment(e: AdapterEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    HOME: process.env['HOME'],
    ARI_URL: e.ariUrl,
    ARI_USER: e.ariUser,
    ARI_PASSWORD: e.ariPassword,
    ARI_APP: e.ariApp,
    DATABASE_URL: e.databaseUrl,
    CALLPOLICY_DATA_DIR: e.dataDir,
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: String(e.httpPort),
    LOG_LEVEL: 'debug', // the per-call "outbound caller ID" lines are the records' cross-check
  };
  return env;
}

/** `node --import tsx src/cli/index.ts <args>` with the adapter's environment; throws on a non-zero exit. */
export function runCli(env: NodeJS.ProcessEnv, ...args: string[]): string {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO, 'src', 'cli', 'index.ts'), ...args], { cwd: REPO, env, encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`callpolicy ${args.join(' ')} failed (exit ${r.status ?? r.signal}):\n${r.stderr}${r.stdout}`);
  return r.stdout.trim();
}

/** `node --import tsx src/main.ts`, stdout and stderr appended to logFile. */
export function startAdapterProcess(env: NodeJS.ProcessEnv, logFile: string): AdapterProcess {
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO, 'src', 'main.ts')], { cwd: REPO, env, stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  const startedAt = Date.now();
  let exitedFlag = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exitedFlag = true;
      resolve();
    }),
  );
  // Never outlive the test process.
  const onExit = () => {
    if (!exitedFlag) child.kill('SIGKILL');
  };
  process.on('exit', onExit);
  void exit.then(() => process.removeListener('exit', onExit));

  const healthUrl = `http://127.0.0.1:${env['HTTP_PORT']}/healthz`;
  const healthz = async () => {
    try {
      const res = await fetch(healthUrl, { signal: AbortSignal.timeout(1000) });
      return { status: res.status, body: await res.text() };
    } catch {
      return null;
    }
  };
  const handle: AdapterProcess = {
    child,
    pid: child.pid ?? -1,
    healthUrl,
    startedAt,
    healthz,
    async waitHealthy(timeoutMs, ok = (h) => h.status === 200) {
      const deadline = Date.now() + timeoutMs;
      let last: { status: number; body: string } | null = null;
      for (let i = 0; i < 10_000; i++) {
        last = await healthz();
        if (last && ok(last)) return { ...last, at: Date.now() };
        if (exitedFlag) throw new Error(`the adapter exited (code ${child.exitCode}, signal ${child.signalCode}) before it was healthy; log tail:\n${await tailLines(logFile, 25)}`);
        if (Date.now() >= deadline) break;
        await sleep(100);
      }
      throw new Error(`the adapter was not healthy within ${timeoutMs} ms (last /healthz: ${last ? `${last.status} ${last.body}` : 'no answer'}); log tail:\n${await tailLines(logFile, 25)}`);
    },
    async kill() {
      if (!exitedFlag) child.kill('SIGKILL');
      await exit;
    },
    async stop() {
      if (exitedFlag) return;
      child.kill('SIGTERM');
      const done = await Promise.race([exit.then(() => true), sleep(5000).then(() => false)]);
      if (!done) {
        child.kill('SIGKILL');
        await exit;
      }
    },
    exited: () => exitedFlag,
  };
  return handle;
}

async function tailLines(file: string, n: number): Promise<string> {
  const text = await fs.readFile(file, 'utf8').catch((err: Error) => `(cannot read ${file}: ${err.message})`);
  return text.split('\n').slice(-n - 1).join('\n');
}

// ---------------------------------------------------------------------------------------------
// The adapter's log

export interface LogLine {
  level?: number;
  time?: number;
  msg?: string;
  channel?: string;
  action?: string;
  reason?: string;
  callerId?: string | null;
  [key: string]: unknown;
}

export async function readAdapterLog(file: string): Promise<LogLine[]> {
  const text = await fs.readFile(file, 'utf8').catch(() => '');
  const out: LogLine[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as LogLine);
    } catch {
      // a line cut by SIGKILL
    }
  }
  return out;
}

/** The calls that reached the adapter and got a decision: one "outbound caller ID" line each (the first, by channel). */
export function decisionsInLog(lines: LogLine[]): Map<string, LogLine> {
  const byChannel = new Map<string, LogLine>();
  for (const l of lines) {
    if (l.msg === 'outbound caller ID' && typeof l.channel === 'string' && !byChannel.has(l.channel)) byChannel.set(l.channel, l);
  }
  return byChannel;
}

/** Log lines at warn (40) or above, grouped by message, for the report. */
export function problemsInLog(lines: LogLine[], since = 0): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of lines) {
    if ((l.level ?? 0) < 40 || (l.time ?? 0) < since) continue;
    const key = String(l.msg ?? '?');
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The calls table

export interface CallRow {
  channelId: string;
  action: string;
  finalAction: string | null;
  callerId: string | null;
  reason: string;
  decidedAt: Date;
  endedAt: Date | null;
  /** The end was noticed after the fact (the call ended while no adapter followed it). */
  endEstimated: boolean;
}

/** The recorded calls of one direction (outbound: the agents' calls; inbound: the customers'). */
export async function readCallRows(databaseUrl: string, direction: 'outbound' | 'inbound' = 'outbound'): Promise<CallRow[]> {
  const c = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 3000 });
  await c.connect();
  try {
    const r = await c.query<{ channel_id: string; action: string; final_action: string | null; caller_id: string | null; reason: string; decided_at: Date; ended_at: Date | null; end_estimated: boolean }>(
      // Seeded rows (call memory's remembered call) are no call of the run.
      `SELECT channel_id, action, final_action, caller_id, reason, decided_at, ended_at, end_estimated FROM calls WHERE direction = $1 AND channel_id NOT LIKE 'seeded-%'`,
      [direction],
    );
    return r.rows.map((x) => ({ channelId: x.channel_id, action: x.action, finalAction: x.final_action, callerId: x.caller_id, reason: x.reason, decidedAt: x.decided_at, endedAt: x.ended_at, endEstimated: x.end_estimated }));
  } finally {
    await c.end();
  }
}

/**
 * Empties the call records; `remember` then seeds one outbound call an hour ago (call memory: a
 * customer that agent called, whose calls back go to that agent).
 */
export async function truncateCalls(databaseUrl: string, remember?: { agentId: string; endpoint: string; customer: string }): Promise<void> {
  const c = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 3000 });
  await c.connect();
  try {
    await c.query('TRUNCATE calls');
    if (remember) {
      await c.query(
        `INSERT INTO calls (direction, pbx, channel_id, agent_id, agent_endpoint, customer_e164, action, reason, decided_at, answered_at, ended_at)
         VALUES ('outbound', 'asterisk', 'seeded-remembered', $1, $2, $3, 'dial', 'seeded', now() - interval '1 hour', now() - interval '1 hour', now() - interval '59 minutes')`,
        [remember.agentId, remember.endpoint, remember.customer],
      );
    }
  } finally {
    await c.end();
  }
}

/**
 * Polls the calls table until `done(rows)` holds or timeoutMs passes (the adapter writes every
 * 100 ms, and backs off while the database was away). Returns the last rows read and when.
 */
export async function waitForRows(databaseUrl: string, done: (rows: CallRow[]) => boolean, timeoutMs: number): Promise<{ rows: CallRow[]; waitedMs: number; error?: string }> {
  const started = Date.now();
  let rows: CallRow[] = [];
  let error: string | undefined;
  for (let i = 0; i < 1000; i++) {
    try {
      rows = await readCallRows(databaseUrl);
      error = undefined;
      if (done(rows)) break;
    } catch (err) {
      error = (err as Error).message;
    }
    if (Date.now() - started >= timeoutMs) break;
    await sleep(250);
  }
  return { rows, waitedMs: Date.now() - started, ...(error ? { error } : {}) };
}

/** What the PBX really did with a recorded call: the end's final action, else the decision. */
export const effectiveAction = (r: CallRow): string => r.finalAction ?? r.action;

// ---------------------------------------------------------------------------------------------
// A delaying TCP proxy in front of ARI

export interface DelayProxy {
  url: string;
  /** Delay added to everything Asterisk sends back (responses and websocket events), in ms. */
  setDelay(ms: number): void;
  close(): Promise<void>;
}

/**
 * Everything the client sends goes to Asterisk at once; everything Asterisk sends back (REST
 * responses, websocket events, pongs) is held `delay` ms, in order. So each request/response
 * exchange and each event arrives `delay` ms late, as over a slow or congested link.
 */
export async function startDelayProxy(listenPort: number, target: URL): Promise<DelayProxy> {
  let delay = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port || 80), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.on('data', (chunk: Buffer) => upstream.write(chunk));
    client.on('end', () => upstream.end());
    let lastDue = 0;
    let pending = 0;
    let upstreamEnded = false;
    const maybeEnd = () => {
      if (upstreamEnded && pending === 0) client.end();
    };
    upstream.on('data', (chunk: Buffer) => {
      // Never reorder: a chunk leaves no earlier than the one before it.
      const due = Math.max(Date.now() + delay, lastDue);
      lastDue = due;
      pending++;
      setTimeout(() => {
        pending--;
        if (!client.destroyed) client.write(chunk);
        maybeEnd();
      }, due - Date.now());
    });
    upstream.on('end', () => {
      upstreamEnded = true;
      maybeEnd();
    });
    client.on('close', () => upstream.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listenPort, '127.0.0.1', () => resolve());
  });
  return {
    url: `http://127.0.0.1:${listenPort}`,
    setDelay(ms) {
      delay = ms;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A free TCP port on 127.0.0.1 (bound, read, released). */
export { freeTcpPort as freePort } from '../sandbox/process-utils.js';

// ---------------------------------------------------------------------------------------------
// ARI, seen from outside the adapter

export { ariAnswers } from '../sandbox/asterisk-sandbox.js';

// ---------------------------------------------------------------------------------------------
// Emergency calls beside the load

export interface EmergencyCall {
  startedAt: number;
  finalStatus: number | null;
  pddMs: number | null;
  error?: string;
}

/**
 * Places `dialled` from one agent phone every `everyMs`, one at a time, until stop() (at most
 * maxCalls). A call that gets no final answer is recorded with finalStatus null.
 */
export function startEmergencyCalls(opts: { fromPort: number; fromUser: string; server: string; dialled: string; everyMs: number; maxCalls?: number }) {
  const calls: EmergencyCall[] = [];
  let stopped = false;
  const loop = (async () => {
    const max = opts.maxCalls ?? 40;
    for (let i = 0; i < max && !stopped; i++) {
      const startedAt = Date.now();
      try {
        const r = await placeCall({ fromPort: opts.fromPort, fromUser: opts.fromUser, to: opts.dialled, server: opts.server, holdMs: 200, timeoutMs: 8000, traceMessages: false });
        calls.push({ startedAt, finalStatus: r.finalStatus, pddMs: r.pddMs });
      } catch (err) {
        calls.push({ startedAt, finalStatus: null, pddMs: null, error: (err as Error).message.split('\n')[0] });
      }
      const wait = startedAt + opts.everyMs - Date.now();
      for (let waited = 0; waited < wait && !stopped; waited += 100) await sleep(Math.min(100, wait - waited));
    }
  })();
  return {
    calls,
    async stop(): Promise<EmergencyCall[]> {
      stopped = true;
      await loop;
      return calls;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Figures

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function pddSummary(values: number[]): { n: number; p50: number; p99: number; max: number } {
  const s = [...values].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 50), p99: percentile(s, 99), max: s.length ? s[s.length - 1]! : NaN };
}

export const ms = (n: number): string => (Number.isFinite(n) ? `${n < 10 ? n.toFixed(1) : n.toFixed(0)} ms` : 'n/a');

/**
 * Collects failed checks instead of stopping at the first, so that one run reports every
 * problem of a fault (and its figures are printed either way).
 */
export class Checks {
  private readonly failed: string[] = [];
  private readonly passed: string[] = [];
  constructor(private readonly fault: string) {}
  check(ok: boolean, what: string): void {
    (ok ? this.passed : this.failed).push(what);
  }
  /** Throws one error listing every failed check. */
  assertAll(): void {
    if (this.failed.length > 0) {
      throw new Error(`${this.fault}: ${this.failed.length} of ${this.failed.length + this.passed.length} checks failed:\n  - ${this.failed.join('\n  - ')}`);
    }
  }
}
