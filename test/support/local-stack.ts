// Sandbox Asterisk + the adapter as its own process (as an administrator would run it) + the
// sipp trunk: shared by the demo (scripts/demo.ts) and the benchmark (test/bench/run.ts).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { asteriskRootDir, startAsteriskSandbox, type AsteriskSandbox } from '../sandbox/asterisk-sandbox.js';
import { SANDBOX_TOPOLOGY } from '../integration/topology.js';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface LocalStack {
  sandbox: AsteriskSandbox;
  adapter: ChildProcess;
  adapterLog: string;
  statusUrl: string;
  /** Runs the adapter's CLI against the same database. */
  cli(...args: string[]): string;
  /** Stops the adapter only (without the API, the embedded database is single-process: stop it before the CLI reads). */
  stopAdapter(): Promise<void>;
  stop(): Promise<void>;
}

export async function startLocalStack(opts: {
  workDir: string;
  policyFile: string;
  databaseUrl?: string;
  httpPort?: number;
  /** Run the adapter as shipped: `npm run build`, then `node dist/src/main.js` (default: src/ under tsx). */
  shipped?: boolean;
  /** Turn the API and dashboard on with this admin token, on this port (the CLI then goes through it). */
  api?: { token: string; port: number };
}): Promise<LocalStack> {
  mkdirSync(opts.workDir, { recursive: true });
  if (!existsSync(path.join(asteriskRootDir(), 'usr', 'sbin', 'asterisk'))) {
    const r = spawnSync('bash', [path.join(REPO, 'scripts', 'provision-asterisk-root.sh')], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error('scripts/provision-asterisk-root.sh failed');
  }
  const sandbox = await startAsteriskSandbox({ ...SANDBOX_TOPOLOGY, workDir: path.join(opts.workDir, 'asterisk') });
  const httpPort = opts.httpPort ?? 8099;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ARI_URL: sandbox.ariUrl,
    ARI_USER: sandbox.ariUser,
    ARI_PASSWORD: sandbox.ariPassword,
    ARI_APP: sandbox.appName,
    HTTP_PORT: String(httpPort),
    LOG_LEVEL: 'info',
    ...(opts.api ? { CALLPOLICY_API_TOKEN: opts.api.token, API_PORT: String(opts.api.port), CALLPOLICY_API_URL: `http://127.0.0.1:${opts.api.port}` } : {}),
    ...(opts.databaseUrl ? { DATABASE_URL: opts.databaseUrl } : { DATABASE_URL: '', CALLPOLICY_DATA_DIR: path.join(opts.workDir, 'data') }),
  };
  if (!opts.databaseUrl) delete env.DATABASE_URL;
  const cli = (...args: string[]) => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO, 'src', 'cli', 'index.ts'), ...args], { cwd: REPO, env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`callpolicy ${args.join(' ')} failed:\n${r.stderr}${r.stdout}`);
    return r.stdout.trim();
  };
  try {
    cli('apply', opts.policyFile);
  } catch (err) {
    await sandbox.stop();
    throw err;
  }
  const adapterLog = path.join(opts.workDir, 'adapter.log');
  const out = openSync(adapterLog, 'w');
  if (opts.shipped) {
    const r = spawnSync('npm', ['run', 'build'], { cwd: REPO, encoding: 'utf8' });
    if (r.status !== 0) {
      await sandbox.stop();
      throw new Error(`npm run build failed:\n${r.stderr}${r.stdout}`);
    }
  }
  const entry = opts.shipped ? [path.join(REPO, 'dist', 'src', 'main.js')] : ['--import', 'tsx', path.join(REPO, 'src', 'main.ts')];
  const nodeArgs = process.env.ADAPTER_NODE_ARGS ? process.env.ADAPTER_NODE_ARGS.split(' ') : [];
  const adapter = spawn(process.execPath, [...nodeArgs, ...entry], { cwd: REPO, env, stdio: ['ignore', out, out] });
  const statusUrl = `http://127.0.0.1:${httpPort}/status`;
  const stopAdapter = async () => {
    if (adapter.exitCode === null) {
      adapter.kill('SIGTERM');
      await new Promise((r) => adapter.once('exit', r));
    }
  };
  const stop = async () => {
    await stopAdapter();
    await sandbox.stop();
  };
  for (let i = 0; ; i++) {
    const ok = await fetch(`http://127.0.0.1:${httpPort}/healthz`).then((r) => r.ok, () => false);
    if (ok) break;
    if (i > 150 || adapter.exitCode !== null) {
      await stop();
      throw new Error(`the adapter did not become ready; see ${adapterLog}`);
    }
    await sleep(100);
  }
  return { sandbox, adapter, adapterLog, statusUrl, cli, stopAdapter, stop };
}

export async function adapterMemory(statusUrl: string): Promise<{ rss: number; heapUsed: number }> {
  const body = (await (await fetch(statusUrl)).json()) as { memory: { rss: number; heapUsed: number } };
  return body.memory;
}
