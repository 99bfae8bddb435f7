// Faults on FreeSWITCH under a steady call rate: the adapter as its own process (as shipped), real
// PostgreSQL, and the fake FreeSWITCH that replays the recorded event-socket frames. The adapter is
// killed (SIGKILL) in the middle of the load and started again: no call waits, calls placed while
// it is gone leave at once with the default caller ID, and no decision's record is lost.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, test } from 'vitest';
import { FAKE_ESL_PASSWORD, FS_GROUP_POLICY as POLICY } from '../support/fake-freeswitch/driver-on-fake.js';
import { startFakeFreeswitch, type FakeFreeswitch, type PlacedCall } from '../support/fake-freeswitch/fake-freeswitch.js';
import { freePort, readCallRows, runCli, startAdapterProcess, waitForRows, type AdapterProcess } from '../support/fault-rig.js';
import { createTempDatabase } from '../support/temp-database.js';

const DEFAULT_CID = { number: '+15550000000', name: '' };
const RATE = 10;

let fs: FakeFreeswitch;
let db: Awaited<ReturnType<typeof createTempDatabase>>;
let dir: string;
let env: NodeJS.ProcessEnv;
let adapter: AdapterProcess | undefined;

beforeAll(async () => {
  db = await createTempDatabase();
  dir = mkdtempSync(path.join(tmpdir(), 'callpolicy-fsfault-'));
  const socketPort = await freePort();
  fs = await startFakeFreeswitch({ password: FAKE_ESL_PASSWORD, decisionPort: () => socketPort, defaultCallerId: DEFAULT_CID });
  env = {
    PATH: process.env['PATH'],
    HOME: process.env['HOME'],
    CALLPOLICY_PBX: 'freeswitch',
    FREESWITCH_ESL_PORT: String(fs.eslPort),
    FREESWITCH_ESL_PASSWORD: FAKE_ESL_PASSWORD,
    CALLPOLICY_SOCKET_PORT: String(socketPort),
    DATABASE_URL: db.url,
    CALLPOLICY_DATA_DIR: path.join(dir, 'data'),
    CALLPOLICY_PROMPT_DIR: dir,
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: String(await freePort()),
    LOG_LEVEL: 'info',
  };
  writeFileSync(path.join(dir, 'policy.yaml'), POLICY);
  runCli(env, 'apply', path.join(dir, 'policy.yaml'));
});
afterAll(async () => {
  await adapter?.stop();
  await fs?.stop();
  await db?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the adapter killed under 10 calls/s and started again: no call waits, none is lost, every decision is recorded', { timeout: 90_000 }, async () => {
  adapter = startAdapterProcess(env, path.join(dir, 'adapter.log'));
  await adapter.waitHealthy(20_000);

  const placed: { at: number; phase: 'up' | 'down' | 'back'; call: Promise<PlacedCall> }[] = [];
  let phase: 'up' | 'down' | 'back' = 'up';
  let n = 0;
  const load = setInterval(() => {
    const dialed = `+1212555${String(1000 + n++).padStart(4, '0')}`;
    placed.push({ at: Date.now(), phase, call: fs.placeCall({ user: '1001', dialed, talkMs: 1500 }) });
  }, 1000 / RATE);
  try {
    await sleep(3000);
    await adapter.kill();
    phase = 'down';
    await sleep(2000);
    adapter = startAdapterProcess(env, path.join(dir, 'adapter.log'));
    await adapter.waitHealthy(20_000);
    // Calls placed while it was starting count as "down": it may or may not have been listening yet.
    phase = 'back';
    await sleep(3000);
  } finally {
    clearInterval(load);
  }
  const calls = await Promise.all(placed.map(async (p) => ({ ...p, r: await p.call })));

  // Every call left for the trunk, none waited for a decision longer than the 2 s bound.
  for (const c of calls) {
    assert.ok(c.r.trunk, `call ${c.r.uuid} (${c.phase}) never reached the trunk`);
    assert.ok(c.r.decisionMs < 2000, `call ${c.r.uuid} (${c.phase}) held ${Math.round(c.r.decisionMs)} ms`);
  }
  const up = calls.filter((c) => c.phase === 'up');
  const down = calls.filter((c) => c.phase === 'down');
  const back = calls.filter((c) => c.phase === 'back');
  assert.ok(up.length >= 25 && down.length >= 15 && back.length >= 25, `load: ${up.length} up, ${down.length} down, ${back.length} back`);
  // The call in flight at the kill may go either way; every other call before it was decided.
  assert.ok(up.filter((c) => c.r.outcome !== 'dial').length <= 1, `up: ${up.map((c) => c.r.outcome).join(',')}`);
  assert.ok(back.every((c) => c.r.outcome === 'dial' && c.r.trunk?.callerIdNumber === '+14155550100'), `back: ${back.map((c) => c.r.outcome).join(',')}`);
  // While it was gone: the default at once (the socket application fails, nothing waits).
  const gone = down.filter((c) => c.r.outcome === 'default-down');
  assert.ok(gone.length >= 10, `calls while gone: ${down.map((c) => c.r.outcome).join(',')}`);
  for (const c of gone) {
    assert.equal(c.r.trunk?.callerIdNumber, DEFAULT_CID.number);
    assert.ok(c.r.decisionMs < 100, `adapter gone: held ${Math.round(c.r.decisionMs)} ms`);
  }

  // Every decided call has its record, the ones decided before the kill included (journaled, then written).
  const decided = calls.filter((c) => c.r.outcome === 'dial').map((c) => c.r.uuid);
  const wait = await waitForRows(db.url!, (rows) => decided.every((id) => rows.some((r) => r.channelId === id && r.endedAt)), 20_000);
  const rows = await readCallRows(db.url!);
  const missing = decided.filter((id) => !rows.some((r) => r.channelId === id));
  assert.deepEqual(missing, [], `decided calls without a record (waited ${wait.waitedMs} ms)`);
  const unended = decided.filter((id) => !rows.find((r) => r.channelId === id)?.endedAt);
  assert.deepEqual(unended, [], 'every decided call has its end (calls that ended while the adapter was gone: estimated)');
  console.log(`[fault] freeswitch adapter SIGKILL at ${RATE}/s: ${up.length} up, ${down.length} while gone (${gone.length} default at once, max ${Math.max(...gone.map((c) => c.r.decisionMs)).toFixed(1)} ms), ${back.length} after restart; ${decided.length} decided, all recorded; ends estimated: ${rows.filter((r) => r.endEstimated).length}`);
});
