// A private PostgreSQL 15 instance for tests that stop, restart or break the database: never the
// shared server on 127.0.0.1:5432. initdb into a temporary folder as the postgres user, trust
// auth, listening on 127.0.0.1:<port> only (socket in /tmp), started and stopped with pg_ctl.
// A process 'exit' hook stops it (immediate) if the test dies before destroy().
import { execFile, spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freeTcpPort, probeTcp } from '../sandbox/process-utils.js';

export const PG_BIN = process.env['CALLPOLICY_PG_BIN'] ?? '/usr/lib/postgresql/15/bin';

export type StopMode = 'smart' | 'fast' | 'immediate';

export interface PrivatePostgres {
  port: number;
  dataDir: string;
  logFile: string;
  /** postgres://postgres@127.0.0.1:<port>/<database> */
  url(database?: string): string;
  createDatabase(name: string): Promise<string>;
  start(): Promise<void>;
  stop(mode?: StopMode): Promise<void>;
  restart(mode?: StopMode): Promise<void>;
  /** Whether it accepts TCP connections now. */
  accepting(): Promise<boolean>;
  /** Stops it (immediate) and removes its folder. Idempotent. */
  destroy(): Promise<void>;
}

function uidGid(user: string): { uid: number; gid: number } {
  const r = spawnSync('id', ['-u', user], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', user], { encoding: 'utf8' });
  if (r.status !== 0 || g.status !== 0) throw new Error(`no "${user}" user on this machine: ${r.stderr}${g.stderr}`.trim());
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
}

/** Runs a PostgreSQL binary as the postgres user; rejects with its output on failure or after timeoutMs. */
function asPostgres(bin: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('runuser', ['-u', 'postgres', '--', path.join(PG_BIN, bin), ...args], { timeout: timeoutMs, killSignal: 'SIGKILL', cwd: '/tmp' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${bin} ${args.join(' ')} failed: ${err.killed ? `timed out after ${timeoutMs} ms` : err.message}\n${stdout}${stderr}`.trim()));
      else resolve(`${stdout}${stderr}`);
    });
  });
}

const tcpAccepting = async (port: number) => (await probeTcp(port)) === 'open';

/** A TCP port on 127.0.0.1 that nothing listens on now. */

/** Starts one; `port` defaults to a free one (other runs may hold a private instance of their own). */
export async function startPrivatePostgres(opts: { port?: number } = {}): Promise<PrivatePostgres> {
  const port = opts.port ?? (await freeTcpPort());
  if (await tcpAccepting(port)) throw new Error(`private PostgreSQL: 127.0.0.1:${port} is already in use (a leftover private instance? see /tmp/callpolicy-pg-*)`);
  const { uid, gid } = uidGid('postgres');
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'callpolicy-pg-'));
  chownSync(dataDir, uid, gid);
  const logFile = path.join(dataDir, 'server.log');
  const pgCtlOptions = `-p ${port} -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`;

  await asPostgres('initdb', ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C'], 60_000);
  const pgCtl = (args: string[], timeoutMs = 30_000) => asPostgres('pg_ctl', ['-D', dataDir, '-l', logFile, '-o', pgCtlOptions, '-w', '-t', String(Math.ceil(timeoutMs / 1000)), ...args], timeoutMs + 5000);

  let destroyed = false;
  const stopNow = (): void => {
    spawnSync('runuser', ['-u', 'postgres', '--', path.join(PG_BIN, 'pg_ctl'), '-D', dataDir, '-m', 'immediate', '-w', '-t', '10', 'stop'], { stdio: 'ignore', timeout: 15_000 });
  };
  const onExit = (): void => {
    if (!destroyed) stopNow();
  };
  process.on('exit', onExit);

  const url = (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`;
  const running = async () => (await asPostgres('pg_ctl', ['-D', dataDir, 'status'], 10_000).then(() => true, () => false));

  const instance: PrivatePostgres = {
    port,
    dataDir,
    logFile,
    url,
    async createDatabase(name) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
      const c = new pg.Client({ connectionString: url() });
      await c.connect();
      try {
        await c.query(`CREATE DATABASE ${name}`);
      } finally {
        await c.end();
      }
      return url(name);
    },
    async start() {
      await pgCtl(['start']);
    },
    async stop(mode = 'fast') {
      if (await running()) await pgCtl(['-m', mode, 'stop']);
    },
    async restart(mode = 'fast') {
      await pgCtl(['-m', mode, 'restart']);
    },
    accepting: () => tcpAccepting(port),
    async destroy() {
      if (destroyed) return;
      stopNow();
      destroyed = true;
      process.removeListener('exit', onExit);
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
  try {
    await instance.start();
  } catch (err) {
    await instance.destroy();
    throw err;
  }
  return instance;
}
