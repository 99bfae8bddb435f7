// Surveys under a steady call rate, with faults: the adapter runs as its own process (after
// `callpolicy apply`, which renders the prompts), a PRIVATE PostgreSQL is stopped and started, the
// adapter is killed (SIGKILL) and started again. An agent calls out at 2 calls/s and hangs up
// first after 0.5 s; the trunk's sipp (the customers) never presses a key, so every survey ends
// "no input" after one try. For each fault:
// - no call fails, and no channel is left once the surveys are over;
// - PostgreSQL down: every call is surveyed all the same, and once the database is back there is
//   exactly one survey row per call, linked to its call's row (nothing lost);
// - adapter killed: every customer's leg that the dead adapter held in its survey is surveyed by
//   the next adapter (one row each); nothing is surveyed twice.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, test } from 'vitest';
import { runLoadPerCall, startTrunk, type Trunk } from '../sandbox/sipp.js';
import { adapterEnvironment, freePort, runCli, startAdapterProcess, type AdapterProcess } from '../support/fault-rig.js';
import { startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres.js';
import { ariGet, assertNoChannelsLeft, type AriChannel } from './ari-checks.js';
import { integrationEnv } from './env.js';
import { AGENT_ONE, OUTSIDE_LINE, TRUNK_PORT } from './topology.js';

const ienv = integrationEnv();
const WORK = path.join(path.dirname(fileURLToPath(import.meta.url)), '.work', 'survey-faults');
const RATE = 2;
const CALLS = 30;
const POLICY = `
callerId: { strategy: group }
survey:
  defaultTemplate: quick
  templates:
    quick:
      intro: { text: "Rate us, press 1." }
      closing: { text: "Thanks." }
      invalid: { text: "Not valid." }
      keys: { "1": { label: satisfied, score: 3 } }
      tries: 1
      timeoutSeconds: 1
groups: [sales]
numbers:
  - { number: "+14155550100", groups: [sales] }
agents:
  - { id: alice, endpoint: PJSIP/${AGENT_ONE.endpoint}, groups: [sales] }
`;

let server: PrivatePostgres;
let trunk: Trunk;
let env: NodeJS.ProcessEnv;
const adapters: AdapterProcess[] = [];

async function query<T extends pg.QueryResultRow>(text: string): Promise<T[]> {
  const c = new pg.Client({ connectionString: server.url('callpolicy'), connectionTimeoutMillis: 3000 });
  await c.connect();
  try {
    return (await c.query<T>(text)).rows;
  } finally {
    await c.end();
  }
}

async function startAdapter(): Promise<AdapterProcess> {
  const a = startAdapterProcess({ ...env, HTTP_PORT: String(await freePort()) }, path.join(WORK, 'adapter.log'));
  adapters.push(a);
  await a.waitHealthy(20_000);
  return a;
}

/** The agent's calls at RATE/s, each hung up by the agent after 0.5 s; `during` runs meanwhile. */
async function load(during: () => Promise<void>) {
  const run = runLoadPerCall({ fromPort: AGENT_ONE.port, fromUser: AGENT_ONE.endpoint, to: `${OUTSIDE_LINE}+14155550123`, server: ienv.sipServer, rate: RATE, calls: CALLS, holdMs: 500 });
  await during();
  const r = await run;
  assert.equal(r.failed, 0, `failed calls: ${JSON.stringify(r.statuses)}`);
  // The last surveys end a few seconds after the last call: intro, 1 s wait, closing.
  await assertNoChannelsLeft(20_000);
  return r;
}

type SurveyRow = { channel_id: string; call_channel_id: string; outcome: string; linked: boolean };
const surveyRows = () =>
  query<SurveyRow>(`SELECT s.channel_id, s.call_channel_id, s.outcome, EXISTS (SELECT 1 FROM calls c WHERE c.channel_id = s.call_channel_id) AS linked FROM survey_results s`);

async function waitFor<T>(what: string, get: () => Promise<T>, done: (v: T) => boolean, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  let last: T | undefined;
  while (Date.now() < end) {
    try {
      last = await get();
      if (done(last)) return last;
    } catch {
      // the database may still be coming back
    }
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what}: ${JSON.stringify(last)?.slice(0, 400)}`);
}

beforeAll(async () => {
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  server = await startPrivatePostgres();
  await server.createDatabase('callpolicy');
  env = {
    ...adapterEnvironment({ ariUrl: ienv.ariUrl, ariUser: ienv.ariUser, ariPassword: ienv.ariPassword, ariApp: ienv.ariApp, databaseUrl: server.url('callpolicy'), dataDir: path.join(WORK, 'data'), httpPort: 0 }),
    LOG_LEVEL: 'info',
    DATABASE_RETRY_MAX_MS: '500',
    DATABASE_CONNECT_TIMEOUT_MS: '2000',
    CALLPOLICY_PROMPT_DIR: ienv.prompts.dir,
    CALLPOLICY_PROMPT_PBX_DIR: ienv.prompts.pbxDir,
  };
  const file = path.join(WORK, 'policy.yaml');
  writeFileSync(file, POLICY);
  runCli(env, 'apply', file);
  trunk = await startTrunk({ port: TRUNK_PORT, holdMs: 60_000, traceMessages: false });
}, 120_000);

afterEach(async () => {
  for (const a of adapters.splice(0)) await a.stop();
});

afterAll(async () => {
  await trunk?.stop();
  if (server && !(await server.accepting())) await server.start();
  await server?.destroy();
}, 60_000);

test('PostgreSQL down for 6 s under load: every call is surveyed, and every result is written once it is back', async () => {
  await query('TRUNCATE survey_results, calls');
  await startAdapter();
  await load(async () => {
    await sleep(4000);
    await server.stop('fast');
    await sleep(6000);
    await server.start();
  });
  const calls = await waitFor('the calls to be written', () => query<{ channel_id: string }>('SELECT channel_id FROM calls'), (r) => r.length === CALLS);
  const rows = await waitFor('a survey row per call', surveyRows, (r) => r.length >= CALLS);
  assert.equal(rows.length, CALLS, 'one survey per call');
  assert.equal(new Set(rows.map((r) => r.call_channel_id)).size, CALLS, 'each call surveyed once');
  assert.ok(rows.every((r) => r.linked && r.outcome === 'no_input'), JSON.stringify(rows.filter((r) => !r.linked || r.outcome !== 'no_input')));
  assert.deepEqual(new Set(rows.map((r) => r.call_channel_id)), new Set(calls.map((c) => c.channel_id)));
  console.log(`[survey fault] PostgreSQL down 6 s: ${CALLS} calls at ${RATE}/s, 0 failed, ${rows.length} survey rows after it was back, all linked`);
});

test('the adapter killed under load and started again: the legs it held in their survey are surveyed by the next one, once', async () => {
  await query('TRUNCATE survey_results, calls');
  let held: string[] = [];
  await startAdapter();
  await load(async () => {
    await sleep(6000);
    // The customers' legs in their survey right now: the dead adapter leaves them in the Stasis app.
    const inApp = (await ariGet<{ channel_ids: string[] }>(`/applications/${ienv.ariApp}`)).channel_ids;
    const channels = await ariGet<AriChannel[]>('/channels');
    held = channels.filter((c) => inApp.includes(c.id) && c.dialplan.context === 'callpolicy-survey').map((c) => c.id);
    await adapters.at(-1)!.kill();
    await sleep(2000);
    await startAdapter();
  });
  assert.ok(held.length > 0, 'some legs were in their survey when the adapter was killed');
  const rows = await waitFor('the survey rows', surveyRows, (r) => held.every((id) => r.some((x) => x.channel_id === id)));
  for (const id of held) assert.equal(rows.filter((r) => r.channel_id === id).length, 1, `leg ${id}: one survey row`);
  assert.equal(new Set(rows.map((r) => r.channel_id)).size, rows.length, 'no leg surveyed twice');
  assert.ok(rows.every((r) => r.linked), 'every survey row names a recorded call');
  console.log(`[survey fault] adapter SIGKILL, restarted 2 s later: ${CALLS} calls at ${RATE}/s, 0 failed, ${held.length} legs held by the dead adapter, each surveyed once; ${rows.length} survey rows in all`);
});
