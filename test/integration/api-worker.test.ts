// The policy's heavy work runs off the adapter's event loop: while a policy of 30,000 numbers is
// applied through the API (parsed, checked, located and written by the policy worker), the
// adapter's own thread, which decides calls, stays free. The same work done in the adapter's
// thread (the in-process service, measured in the same run) blocks it for far longer.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { stringify } from 'yaml';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, test } from 'vitest';
import { startAdapter, type Adapter } from '../../src/adapter.js';
import { createPolicyEditor } from '../../src/admin/policy-editor.js';
import { createPolicyService } from '../../src/admin/policy-service.js';
import { loadEnv } from '../../src/config/env.js';
import { createLogger } from '../../src/log.js';
import { createFakeCallControl } from '../../src/pbx/fake/fake-call-control.js';
import { createLocator } from '../../src/phone/index.js';
import { generatePolicy } from '../bench/apply-bench.js';
import { createTempDatabase } from '../support/temp-database.js';

const TOKEN = 'worker-token-0123456789abcdef';
let adapter: Adapter;
let dir: string;
let drop: () => Promise<void>;
/** The adapter's log messages (info and up). */
const logged: string[] = [];
const sink = new Writable({
  write(chunk, _enc, cb) {
    for (const line of String(chunk).split('\n').filter(Boolean)) logged.push((JSON.parse(line) as { msg: string }).msg);
    cb();
  },
});

beforeAll(async () => {
  const db = await createTempDatabase();
  drop = () => db.drop();
  dir = mkdtempSync(path.join(tmpdir(), 'callpolicy-worker-'));
  const env = loadEnv({ DATABASE_URL: db.url, CALLPOLICY_DATA_DIR: dir, CALLPOLICY_PROMPT_DIR: dir, HTTP_PORT: '0', API_PORT: '0', CALLPOLICY_API_TOKEN: TOKEN }, { requireAri: false });
  adapter = await startAdapter(env, createLogger('info', sink), { port: createFakeCallControl().port });
  await adapter.connected;
});
afterAll(async () => {
  await adapter?.stop();
  await drop?.();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The longest the event loop was held during `work`. */
async function longestBlock(work: () => Promise<unknown>): Promise<number> {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  try {
    await work();
  } finally {
    h.disable();
  }
  return h.max / 1e6;
}

test('applying 30,000 numbers through the API leaves the adapter thread free (the worker does it)', { timeout: 180_000 }, async () => {
  const yaml = stringify(generatePolicy(30_000));
  const viaWorker = await longestBlock(async () => {
    const res = await fetch(`http://127.0.0.1:${adapter.apiPort}/api/v1/policy`, { method: 'PUT', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/yaml' }, body: yaml });
    assert.equal(res.status, 200, await res.clone().text());
  });
  assert.equal(adapter.policy().inventory.size > 29_000, true, 'the adapter decides by the new policy');
  // The same change of a number made in this thread, for comparison.
  const locator = createLocator();
  const inThread = createPolicyService(createPolicyEditor({ db: adapter.db.db, locate: (n) => locator.locate(n), prompts: { dir, pbxDir: dir }, changed: async () => undefined }));
  const number = adapter.policy().inventory.all()[0]!.e164;
  const here = await longestBlock(() => inThread.change('test', { kind: 'update-number', number, change: { enabled: false } }));
  console.log(`longest event-loop block: ${viaWorker.toFixed(0)} ms applying through the worker (the reload after it included), ${here.toFixed(0)} ms for one change in this thread`);
  assert.ok(viaWorker < here / 2, `worker ${viaWorker} ms, in thread ${here} ms`);
  // Under the 2 s a call waits for a decision.
  assert.ok(viaWorker < 1500, `${viaWorker} ms`);
});

test('one change through the API is one reload: its own NOTIFY does not load the policy again', { timeout: 60_000 }, async () => {
  const before = logged.filter((m) => m.startsWith('policy loaded')).length;
  const number = adapter.policy().inventory.all()[1]!.e164;
  const res = await fetch(`http://127.0.0.1:${adapter.apiPort}/api/v1/numbers/${encodeURIComponent(number)}`, { method: 'PATCH', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ enabled: false }) });
  assert.equal(res.status, 200, await res.clone().text());
  await sleep(1000); // the NOTIFY's round trip
  assert.equal(logged.filter((m) => m.startsWith('policy loaded')).length - before, 1);
  // A change made elsewhere (another process's NOTIFY, no payload) is still loaded.
  await adapter.db.notify('callpolicy_changed');
  await sleep(1000);
  assert.equal(logged.filter((m) => m.startsWith('policy loaded')).length - before, 2);
});
