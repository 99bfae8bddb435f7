// docker/asterisk.Dockerfile without a Docker engine: the image's entrypoint script is run here
// as the container runs it, against the shipped dialplan/asterisk/ files, and the Dockerfile is
// checked to copy the shipped files (not a copy of them) and to run that script.
import { afterAll, test } from 'vitest';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const SCRIPT = path.join(REPO, 'docker', 'asterisk', 'entrypoint.sh');
const DOCKERFILE = readFileSync(path.join(REPO, 'docker', 'asterisk.Dockerfile'), 'utf8');
const SAMPLES = path.join(REPO, 'dialplan', 'asterisk');
const ARI_SAMPLE = readFileSync(path.join(SAMPLES, 'ari.conf.sample'), 'utf8');
const HTTP_SAMPLE = readFileSync(path.join(SAMPLES, 'http.conf.sample'), 'utf8');
const PLACEHOLDER = 'REPLACE-WITH-A-SECRET';

const temporary: string[] = [];
function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  temporary.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
});

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  etc: string;
}

/** Runs the entrypoint as the image does (sh, then the command), with the shipped samples. */
function runEntrypoint(env: Record<string, string>, opts: { awk?: string; command?: string[] } = {}): Run {
  const etc = path.join(tempDir('callpolicy-docker-'), 'etc-asterisk');
  let PATH = process.env['PATH'] ?? '/usr/bin:/bin';
  if (opts.awk) {
    const bin = tempDir('callpolicy-awk-');
    symlinkSync(opts.awk, path.join(bin, 'awk'));
    PATH = `${bin}:${PATH}`;
  }
  const r = spawnSync('sh', [SCRIPT, ...(opts.command ?? ['sh', '-c', 'echo "ran: $0"', 'asterisk'])], {
    env: { PATH, CALLPOLICY_ASTERISK_SAMPLES: SAMPLES, CALLPOLICY_ASTERISK_ETC: etc, ...env },
    encoding: 'utf8',
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, etc };
}

/** The lines of `after` that differ from `before` (same number of lines required). */
function changedLines(before: string, after: string): string[] {
  const a = before.split('\n');
  const b = after.split('\n');
  assert.equal(b.length, a.length, 'same number of lines as the sample');
  return b.filter((line, i) => line !== a[i]);
}

// Debian's slim images have mawk as awk; run the script with every awk this machine has.
const AWKS = ['/usr/bin/mawk', '/usr/bin/gawk', '/usr/bin/original-awk'].filter((p) => existsSync(p));

test('the shipped ari.conf.sample has the one password line the script fills in', () => {
  assert.equal(ARI_SAMPLE.match(/^password\s*=.*$/gm)?.length, 1);
  assert.match(ARI_SAMPLE, new RegExp(`^password = ${PLACEHOLDER}$`, 'm'));
});

for (const awk of AWKS.length > 0 ? AWKS : [undefined]) {
  test(`the entrypoint writes ari.conf with ARI_PASSWORD and nothing else changed (awk: ${awk ?? 'default'})`, () => {
    const password = 'c0ffee0123456789abcdef0123456789';
    const r = runEntrypoint({ ARI_PASSWORD: password }, awk ? { awk } : {});
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'ran: asterisk', 'then it runs the command');
    const ari = readFileSync(path.join(r.etc, 'ari.conf'), 'utf8');
    assert.deepEqual(changedLines(ARI_SAMPLE, ari), [`password = ${password}`]);
    assert.ok(!ari.includes(PLACEHOLDER), 'no placeholder left');
    assert.equal(statSync(path.join(r.etc, 'ari.conf')).mode & 0o077, 0, 'ari.conf is readable by its owner only');
    const http = readFileSync(path.join(r.etc, 'http.conf'), 'utf8');
    assert.deepEqual(changedLines(HTTP_SAMPLE, http), ['bindaddr = 0.0.0.0']);
  });
}

test('ARI_PASSWORD_FILE (a compose secret) works too, base64 characters included', () => {
  const dir = tempDir('callpolicy-secret-');
  const file = path.join(dir, 'ari_password');
  const password = 'Zm9v+YmFy/YmF6=cXV4Lg.~_-';
  writeFileSync(file, `${password}\n`);
  const r = runEntrypoint({ ARI_PASSWORD_FILE: file });
  assert.equal(r.status, 0, r.stderr);
  const ari = readFileSync(path.join(r.etc, 'ari.conf'), 'utf8');
  assert.deepEqual(changedLines(ARI_SAMPLE, ari), [`password = ${password}`]);
});

test('ARI_HTTP_BINDADDR sets the address ARI listens on in the container', () => {
  const r = runEntrypoint({ ARI_PASSWORD: 'c0ffee0123456789abcdef', ARI_HTTP_BINDADDR: '127.0.0.1' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readFileSync(path.join(r.etc, 'http.conf'), 'utf8'), HTTP_SAMPLE);
});

test('no password, the placeholder, or one a config file cannot hold: the container stops before Asterisk', () => {
  const refused: [Record<string, string>, RegExp][] = [
    [{}, /set ARI_PASSWORD/],
    [{ ARI_PASSWORD: '' }, /set ARI_PASSWORD/],
    [{ ARI_PASSWORD: PLACEHOLDER }, /placeholder/],
    [{ ARI_PASSWORD: 'abcdefgh12345678;comment' }, /may only hold/],
    [{ ARI_PASSWORD: 'abcdefgh 12345678' }, /may only hold/],
    [{ ARI_PASSWORD: 'abcdefgh"12345678' }, /may only hold/],
    [{ ARI_PASSWORD: 'abcdefgh\\12345678' }, /may only hold/],
    [{ ARI_PASSWORD: 'abcdefgh12345678\n[evil]' }, /may only hold/],
    [{ ARI_PASSWORD: 'short' }, /too short/],
    [{ ARI_PASSWORD_FILE: '/nonexistent/ari_password' }, /cannot be read/],
    [{ ARI_PASSWORD: 'c0ffee0123456789abcdef', ARI_HTTP_BINDADDR: '0.0.0.0;x' }, /must be an address/],
  ];
  for (const [env, why] of refused) {
    const r = runEntrypoint(env);
    assert.notEqual(r.status, 0, JSON.stringify(env));
    assert.match(r.stderr, why, JSON.stringify(env));
    assert.equal(r.stdout, '', `${JSON.stringify(env)}: the command did not run`);
    assert.ok(!existsSync(path.join(r.etc, 'ari.conf')), `${JSON.stringify(env)}: no ari.conf`);
  }
});

// --- the Dockerfile --------------------------------------------------------------------------

interface Copy {
  sources: string[];
  dest: string;
}

function copies(dockerfile: string): Copy[] {
  return [...dockerfile.matchAll(/^COPY\s+(?!--from)(.+)$/gm)].map((m) => {
    const parts = m[1]!.trim().split(/\s+/);
    return { sources: parts.slice(0, -1), dest: parts[parts.length - 1]! };
  });
}

test('asterisk.Dockerfile copies the shipped files themselves, and docker/ holds no copy of them', () => {
  const all = copies(DOCKERFILE);
  assert.ok(all.length > 0);
  for (const c of all) {
    for (const source of c.sources) assert.ok(existsSync(path.join(REPO, source)), `COPY ${source}: exists in the build context (the repository root)`);
  }
  const configs = all.filter((c) => c.dest.startsWith('/etc/asterisk') || c.dest.startsWith('/usr/share/callpolicy'));
  for (const c of configs) {
    for (const source of c.sources) assert.match(source, /^dialplan\/asterisk\//, `${source} is a shipped file`);
  }
  const sources = configs.flatMap((c) => c.sources.map((s) => path.basename(s)));
  for (const file of ['extensions_callpolicy.conf', 'extensions.conf.sample', 'pjsip.conf.sample', 'modules.conf.sample', 'ari.conf.sample', 'http.conf.sample']) {
    assert.ok(sources.includes(file), `the image gets ${file}`);
  }
  const leftovers = readdirSync(path.join(REPO, 'docker'), { recursive: true }).map(String).filter((f) => /\.conf(\.sample)?$/.test(f));
  assert.deepEqual(leftovers, [], 'no Asterisk config of its own under docker/');
});

test('the image runs the tested entrypoint, with the samples where the script reads them', () => {
  const script = readFileSync(SCRIPT, 'utf8');
  const samplesDir = /^samples=\$\{CALLPOLICY_ASTERISK_SAMPLES:-([^}]+)\}$/m.exec(script)?.[1];
  const etcDir = /^etc=\$\{CALLPOLICY_ASTERISK_ETC:-([^}]+)\}$/m.exec(script)?.[1];
  assert.ok(samplesDir && etcDir);
  assert.equal(etcDir, '/etc/asterisk');
  const all = copies(DOCKERFILE);
  const samples = all.find((c) => c.sources.some((s) => s.endsWith('/ari.conf.sample')));
  assert.equal(samples?.dest.replace(/\/$/, ''), samplesDir);
  assert.ok(samples?.sources.some((s) => s.endsWith('/http.conf.sample')));
  const entry = all.find((c) => c.sources.includes('docker/asterisk/entrypoint.sh'));
  assert.ok(entry, 'the image gets docker/asterisk/entrypoint.sh');
  const entrypoint = /^ENTRYPOINT\s+(\[.*\])$/m.exec(DOCKERFILE)?.[1];
  assert.deepEqual(JSON.parse(entrypoint ?? 'null'), [entry.dest]);
  assert.deepEqual(JSON.parse(/^CMD\s+(\[.*\])$/m.exec(DOCKERFILE)?.[1] ?? 'null'), ['asterisk', '-f']);
  // The image has no ari.conf of its own: only the one written at start.
  assert.match(DOCKERFILE, /rm -f \/etc\/asterisk\/ari\.conf/);
});
