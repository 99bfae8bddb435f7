// The stall watchdog kills a process whose event loop is stuck, and leaves a busy but running one alone.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'vitest';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Runs `body` in a child node process with the watchdog started; resolves with how it ended. */
function child(stallMs: number, body: string): Promise<{ signal: NodeJS.Signals | null; code: number | null; stdout: string; stderr: string; ms: number }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'callpolicy-watchdog-'));
  const file = path.join(dir, 'child.mjs');
  writeFileSync(file, `import { startStallWatchdog } from ${JSON.stringify(path.join(REPO, 'src/health/stall-watchdog.ts'))};\nstartStallWatchdog(${stallMs});\n${body}\n`);
  return new Promise((resolve) => {
    const started = Date.now();
    const p = spawn(process.execPath, ['--import', 'tsx', file], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    p.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr, ms: Date.now() - started }));
  });
}

test('an event loop stuck longer than the limit: the process is killed, soon after the limit', { timeout: 15_000 }, async () => {
  // Busy for 5 s without yielding, after a first turn of the loop.
  const r = await child(400, `setTimeout(() => { const t = Date.now(); while (Date.now() - t < 8000) {} console.log('survived'); }, 200);`);
  assert.equal(r.signal, 'SIGKILL');
  assert.equal(r.stdout.includes('survived'), false);
  assert.match(r.stderr, /stuck or stopped/);
  assert.ok(r.ms < 4000, `killed after ${r.ms} ms (start-up included)`);
});

test('a loop that keeps turning (short busy slices) is left alone', { timeout: 15_000 }, async () => {
  const r = await child(400, `let n = 0; const step = () => { const t = Date.now(); while (Date.now() - t < 100) {} if (++n < 15) setImmediate(step); else { console.log('done'); process.exit(0); } }; step();`);
  assert.equal(r.signal, null, r.stderr);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /done/);
});

test('a process stopped from outside (SIGSTOP) is killed too: the guard is a separate process', { timeout: 15_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'callpolicy-watchdog-'));
  const file = path.join(dir, 'child.mjs');
  writeFileSync(file, `import { startStallWatchdog } from ${JSON.stringify(path.join(REPO, 'src/health/stall-watchdog.ts'))};\nstartStallWatchdog(500);\nconsole.log('up');\nsetInterval(() => {}, 1000);\n`);
  const p = spawn(process.execPath, ['--import', 'tsx', file], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  p.stderr.on('data', (d) => (stderr += d));
  await new Promise<void>((resolve) => p.stdout.once('data', () => resolve()));
  await new Promise((r) => setTimeout(r, 300));
  const stoppedAt = Date.now();
  p.kill('SIGSTOP');
  const end = await new Promise<{ signal: NodeJS.Signals | null; ms: number }>((resolve) => {
    const bound = setTimeout(() => {
      p.kill('SIGKILL');
      resolve({ signal: null, ms: Date.now() - stoppedAt });
    }, 5000);
    p.on('exit', (_code, signal) => {
      clearTimeout(bound);
      resolve({ signal, ms: Date.now() - stoppedAt });
    });
  });
  rmSync(dir, { recursive: true, force: true });
  assert.equal(end.signal, 'SIGKILL', 'killed while stopped');
  assert.ok(end.ms >= 400 && end.ms < 1500, `killed ${end.ms} ms after SIGSTOP (limit 500 ms)`);
  assert.match(stderr, /stuck or stopped/);
});

test('the guard ends with the process it watches', { timeout: 15_000 }, async () => {
  const r = await child(400, `setTimeout(() => process.exit(0), 300);`);
  assert.equal(r.code, 0);
  // No guard left: none names this pid any more.
  const { execFileSync } = await import('node:child_process');
  await new Promise((res) => setTimeout(res, 300));
  const ps = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
  assert.equal(ps.split('\n').filter((l) => l.includes('adapter stuck or stopped')).length, 0);
});
