// The shipped systemd unit (docker/callpolicy.service): systemd's own checks, run offline (these
// machines have no systemd running, so the unit is never started here).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'vitest';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const UNIT = path.join(REPO, 'docker', 'callpolicy.service');
const text = readFileSync(UNIT, 'utf8');
const settings = (key: string) => [...text.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1]!);

function analyze(...args: string[]) {
  const r = spawnSync('systemd-analyze', args, { encoding: 'utf8' });
  assert.ok(!r.error, `systemd-analyze is needed for this test (scripts/bootstrap.sh installs it): ${r.error?.message}`);
  return r;
}

test('systemd-analyze verify accepts the unit', () => {
  const r = analyze('verify', UNIT);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr.trim(), '', 'no warnings');
});

test("systemd's exposure score of the hardening is at most 2.0 (0 best, 10 worst)", () => {
  const r = analyze('security', '--offline=true', '--threshold=20', UNIT);
  const score = Number(/Overall exposure level for callpolicy\.service: ([0-9.]+)/.exec(r.stdout)?.[1]);
  assert.ok(score <= 2, `exposure ${score}:\n${r.stdout.split('\n').filter((l) => l.startsWith('✗')).join('\n')}`);
  assert.equal(r.status, 0);
});

test('it restarts always, runs what the build makes, and holds no secret', () => {
  assert.deepEqual(settings('Restart'), ['always']);
  assert.deepEqual(settings('ExecStart'), ['/usr/bin/node /opt/callpolicy/dist/src/main.js']);
  // tsconfig.build.json has comments (not JSON): its outDir, read as text.
  const build = readFileSync(path.join(REPO, 'src', 'tsconfig.build.json'), 'utf8');
  assert.match(build, /"outDir":\s*"\.\.\/dist"/, 'the build writes dist/src/main.js');
  // Secrets come as credentials (files read by systemd), never as values in the unit.
  assert.ok(!/PASSWORD=(?!.*%d\/)/.test(text), 'no password value in the unit');
  for (const line of settings('Environment')) assert.ok(!/PASSWORD=/.test(line) || line.includes('_FILE=%d/'), line);
  assert.deepEqual(settings('NoNewPrivileges'), ['yes']);
  assert.deepEqual(settings('ProtectSystem'), ['strict']);
});
