// PGlite is single-process: the adapter holds a lock in its data folder, and the CLI (a real
// second process) refuses that folder with exit code 2 and a message saying what to do.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, test } from 'vitest';
import { startAdapter, type Adapter } from '../../src/adapter.js';
import { loadEnv } from '../../src/config/env.js';
import { createLogger } from '../../src/log.js';
import { createFakeCallControl } from '../../src/pbx/fake/fake-call-control.js';
import { LOCK_FILE, acquireDataDirLock, readDataDirLock, type LockHolder } from '../../src/store/data-dir-lock.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'callpolicy-lock-'));
  dirs.push(d);
  return d;
};

/** Runs the real CLI on an embedded database folder. */
function cli(dataDir: string, ...args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env, CALLPOLICY_DATA_DIR: dataDir, LOG_LEVEL: 'silent' };
  delete env.DATABASE_URL;
  return spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO, 'src', 'cli', 'index.ts'), ...args], { cwd: REPO, env, encoding: 'utf8', timeout: 120_000 });
}

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('PGlite folder lock', () => {
  let adapter: Adapter | undefined;
  afterAll(async () => adapter?.stop());

  test(
    'the CLI refuses a folder the running adapter holds (exit 2), and works once it stopped',
    async () => {
      const dir = tempDir();
      const env = loadEnv({ ARI_PASSWORD: 'unused', CALLPOLICY_DATA_DIR: dir, LOG_LEVEL: 'silent' });
      const fake = createFakeCallControl();
      adapter = await startAdapter(env, createLogger('silent'), { port: fake.port, http: false });

      const lock = JSON.parse(readFileSync(path.join(dir, LOCK_FILE), 'utf8')) as LockHolder;
      assert.equal(lock.pid, process.pid);
      assert.equal(lock.role, 'adapter');
      assert.ok(Math.abs(Date.parse(lock.startedAt) - (Date.now() - process.uptime() * 1000)) < 2000);
      assert.ok(lock.command.length > 0);

      const refused = cli(dir, 'calls');
      assert.equal(refused.status, 2, refused.stderr);
      assert.equal(
        refused.stderr,
        `callpolicy: the adapter (pid ${process.pid}, started ${lock.startedAt}) holds ${dir}; stop it first, or use PostgreSQL (DATABASE_URL) to run the CLI beside a running adapter, or set CALLPOLICY_API_TOKEN so that the CLI goes through the adapter's API\n`,
      );
      // A second adapter process is refused the same way.
      const adapterEnv: NodeJS.ProcessEnv = { ...process.env, ARI_PASSWORD: 'unused', CALLPOLICY_DATA_DIR: dir, HTTP_PORT: '0', LOG_LEVEL: 'silent' };
      delete adapterEnv.DATABASE_URL;
      const second = spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO, 'src', 'main.ts')], {
        cwd: REPO,
        env: adapterEnv,
        encoding: 'utf8',
        timeout: 120_000,
      });
      assert.equal(second.status, 2, second.stderr);
      assert.match(second.stderr, new RegExp(`the adapter \\(pid ${process.pid}, started .*\\) holds ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}; stop it first`));

      // The adapter itself still decides and records on its folder.
      const r = await fake.placeCall({ endpoint: 'PJSIP/1001', dialed: '+14155550123' });
      assert.equal(r.outcome, 'default');
      await adapter.flushRecords();

      await adapter.stop();
      adapter = undefined;
      assert.equal(existsSync(path.join(dir, LOCK_FILE)), false, 'the lock is removed at stop');
      const listed = cli(dir, 'calls');
      assert.equal(listed.status, 0, listed.stderr);
      assert.match(listed.stdout, /unknown_agent/);
      assert.equal(existsSync(path.join(dir, LOCK_FILE)), false, 'the CLI removes its own lock');
    },
    180_000,
  );

  test(
    "a stale lock (its process is gone) is taken over; a live other process's lock is not",
    async () => {
      const dir = tempDir();
      // A real process that then exits: its pid is dead.
      const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
      const stale: LockHolder = { pid: Number(gone.stdout), startedAt: new Date().toISOString(), command: 'node dist/src/main.js', role: 'adapter' };
      writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify(stale));
      assert.equal(readDataDirLock(dir), null);
      const ok = cli(dir, 'migrate');
      assert.equal(ok.status, 0, ok.stderr);

      // A live process (not this one) holding the lock, started now.
      const live = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
      try {
        await new Promise((r) => setTimeout(r, 300));
        const holder: LockHolder = { pid: live.pid!, startedAt: new Date(Date.now() - 300).toISOString(), command: 'node dist/src/main.js', role: 'adapter' };
        writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify(holder));
        assert.deepEqual(readDataDirLock(dir), holder);
        assert.throws(() => acquireDataDirLock(dir, 'cli'), (err: Error) => err.message.startsWith(`the adapter (pid ${live.pid}, started ${holder.startedAt}) holds`));
        // The same pid recorded with another start time is a reused pid: stale.
        writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify({ ...holder, startedAt: new Date(Date.now() - 3_600_000).toISOString() }));
        assert.equal(readDataDirLock(dir), null);
        const taken = acquireDataDirLock(dir, 'cli');
        assert.equal((JSON.parse(readFileSync(path.join(dir, LOCK_FILE), 'utf8')) as LockHolder).pid, process.pid);
        taken.release();
        assert.equal(existsSync(path.join(dir, LOCK_FILE)), false);
      } finally {
        live.kill();
      }
    },
    180_000,
  );
});
