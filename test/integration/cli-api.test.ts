// The CLI talks to the running adapter's API: here the adapter holds an embedded (PGlite) data
// folder, which only one process may open, and every command still works through the adapter;
// with --local the same command is refused because the folder is held. Without an adapter, the
// CLI runs the same API in its own process on the real PostgreSQL.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { startAdapter, type Adapter } from '../../src/adapter.js';
import { loadEnv } from '../../src/config/env.js';
import { createLogger } from '../../src/log.js';
import { createFakeCallControl } from '../../src/pbx/fake/fake-call-control.js';
import { createTempDatabase } from '../support/temp-database.js';

const REPO = path.resolve(import.meta.dirname, '..', '..');
const TOKEN = 'cli-api-token-0123456789abcdef';
const POLICY = `
defaultCountry: US
callerId: { strategy: group, selection: lru }
privacy: { maskNumbersInLogs: false }
groups: [sales]
numbers:
  - { number: "+14155550100", groups: [sales] }
agents:
  - { id: alice, endpoint: PJSIP/1001, groups: [sales] }
`;

/** The CLI as a child process, without blocking this process (which serves the API it calls). */
function cli(env: NodeJS.ProcessEnv, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', path.join(REPO, 'src', 'cli', 'index.ts'), ...args], { cwd: REPO, env, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout: stdout.trim(), stderr: stderr.trim() });
    });
  });
}

describe('the CLI through a running adapter holding an embedded database', () => {
  let adapter: Adapter;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const ok = async (...args: string[]) => {
    const r = await cli(env, ...args);
    assert.equal(r.code, 0, `callpolicy ${args.join(' ')}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'callpolicy-cli-api-'));
    const adapterEnv = loadEnv({ CALLPOLICY_DATA_DIR: path.join(dir, 'data'), CALLPOLICY_PROMPT_DIR: dir, HTTP_PORT: '0', API_PORT: '0', CALLPOLICY_API_TOKEN: TOKEN }, { requireAri: false });
    adapter = await startAdapter(adapterEnv, createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'), { port: createFakeCallControl().port });
    await adapter.connected;
    const { DATABASE_URL: _ignored, ...rest } = process.env;
    env = { ...rest, CALLPOLICY_DATA_DIR: path.join(dir, 'data'), CALLPOLICY_PROMPT_DIR: dir, CALLPOLICY_API_TOKEN: TOKEN, CALLPOLICY_API_URL: `http://127.0.0.1:${adapter.apiPort}`, LOG_LEVEL: 'silent' };
    writeFileSync(path.join(dir, 'policy.yaml'), POLICY);
  });
  afterAll(async () => {
    await adapter?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('apply, numbers, import, agents, explain and calls all go through the adapter', { timeout: 120_000 }, async () => {
    assert.match(await ok('apply', path.join(dir, 'policy.yaml')), /applied 1 numbers, 1 groups, 1 agents/);
    assert.equal(adapter.policy().inventory.get('+14155550100')?.enabled, true);
    assert.match(await ok('numbers', 'add', '+14155550101', '--group', 'sales'), /added/);

    writeFileSync(path.join(dir, 'bad.csv'), 'number,groups\n+14155550102,sales\nnot-a-number,\n+14155550103,ghosts\n');
    const bad = await cli(env, 'numbers', 'import', path.join(dir, 'bad.csv'));
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stdout, /2 bad row\(s\), nothing imported/);
    assert.match(bad.stdout, /line 3: not-a-number {2}error: not a valid phone number/);
    assert.match(bad.stdout, /line 4: \+14155550103 {2}error: unknown group 'ghosts'/);
    assert.equal(adapter.policy().inventory.get('+14155550102'), undefined, 'nothing imported');

    assert.match(await ok('agents', 'set', 'bob', '--endpoint', 'PJSIP/1002', '--group', 'sales', '--number', '+14155550101'), /agent bob: created/);
    assert.match(await ok('choose', 'bob', '+14155550101'), /bob: chosen number \+14155550101/);
    assert.equal(adapter.policy().inventory.agentById('bob')?.chosenNumber, '+14155550101');

    const explained = await ok('explain', 'outbound', 'alice', '+12125550123');
    assert.match(explained, /-> group {3}2 numbers: \+14155550100, \+14155550101/);
    assert.match(explained, /caller ID: \+1415555010[01] \(tier group\)/);

    writeFileSync(path.join(dir, 'memory.yaml'), 'mode: agent-first\nringSeconds: 12\n');
    assert.match(await ok('settings', 'set', 'memory', path.join(dir, 'memory.yaml')), /memory: applied/);
    assert.equal(adapter.policy().memory.ringSeconds, 12);
  });

  test('--local cannot open the folder the adapter holds: the commands above went through its API', { timeout: 30_000 }, async () => {
    const r = await cli(env, '--local', 'pauses');
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /the adapter \(pid \d+, .*\) holds .*set CALLPOLICY_API_TOKEN/);
  });
});

describe('the CLI without an adapter: the same API in its own process, on PostgreSQL', () => {
  let drop: () => Promise<void>;
  let env: NodeJS.ProcessEnv;
  let dir: string;
  beforeAll(async () => {
    const db = await createTempDatabase();
    drop = () => db.drop();
    dir = mkdtempSync(path.join(tmpdir(), 'callpolicy-cli-local-'));
    // A token is set but nothing listens at the URL: the CLI works on the database itself.
    env = { ...process.env, DATABASE_URL: db.url, CALLPOLICY_PROMPT_DIR: dir, CALLPOLICY_API_TOKEN: TOKEN, CALLPOLICY_API_URL: 'http://127.0.0.1:9', LOG_LEVEL: 'silent' };
    writeFileSync(path.join(dir, 'policy.yaml'), POLICY);
  });
  afterAll(async () => {
    await drop?.();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('apply, then a bad number is refused with exit 2 naming it', { timeout: 60_000 }, async () => {
    const applied = await cli(env, 'apply', path.join(dir, 'policy.yaml'));
    assert.equal(applied.code, 0, applied.stderr);
    const r = await cli(env, 'numbers', 'add', '+1415555');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /numbers\[1\]\.number: '\+1415555' is not a valid phone number/);

  });
});
