// The survey while PostgreSQL is down: the call still gets its survey (the adapter knows the call
// from memory), the customer rates it, and the result waits in the record queue (and journal)
// until the database is back; then exactly one row, linked to the call's row. A PRIVATE PostgreSQL
// (test/support/private-postgres.ts) is stopped and started; real Asterisk, real SIP.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, test } from 'vitest';
import { sql } from 'drizzle-orm';
import { startAdapter, type Adapter } from '../../src/adapter.js';
import { loadEnv } from '../../src/config/env.js';
import { parsePolicyFile } from '../../src/config/policy-file.js';
import { createLogger } from '../../src/log.js';
import { createLocator } from '../../src/phone/index.js';
import { applyPolicy } from '../../src/store/apply-policy.js';
import { rowsOf } from '../../src/store/call-records.js';
import { openDatabase, type Database } from '../../src/store/database.js';
import { resolveSurveySettings } from '../../src/survey/render-prompts.js';
import { placeCall } from '../sandbox/sipp.js';
import { startSurveyTrunk } from '../sandbox/sipp-survey.js';
import { startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres.js';
import { assertNoChannelsLeft } from './ari-checks.js';
import { ariPort } from './asterisk-harness.js';
import { integrationEnv } from './env.js';
import { AGENT_ONE, OUTSIDE_LINE, TRUNK_PORT } from './topology.js';

const ienv = integrationEnv();
const POLICY = `
callerId: { strategy: group }
survey:
  defaultTemplate: quick
  templates:
    quick:
      intro: { text: "Please rate us. Press 1, 2 or 3." }
      closing: { text: "Thank you." }
      invalid: { text: "Not valid." }
      keys: { "1": { label: satisfied, score: 3 }, "2": { label: neutral, score: 2 } }
      timeoutSeconds: 2
groups: [sales]
numbers:
  - { number: "+14155550100", groups: [sales] }
agents:
  - { id: alice, endpoint: PJSIP/${AGENT_ONE.endpoint}, groups: [sales] }
`;

let server: PrivatePostgres;
let admin: Database;
let adapter: Adapter;
const dataDir = mkdtempSync(path.join(tmpdir(), 'callpolicy-survey-faults-'));

beforeAll(async () => {
  server = await startPrivatePostgres();
  await server.createDatabase('callpolicy');
  admin = await openDatabase({ url: server.url('callpolicy'), dataDir: '' });
  await admin.migrate();
  const file = parsePolicyFile(POLICY, 'survey-faults.yaml');
  const locator = createLocator();
  await applyPolicy(admin.db, file, (n) => locator.locate(n), { survey: await resolveSurveySettings(file, ienv.prompts) });
  const env = loadEnv({
    ARI_URL: ienv.ariUrl,
    ARI_USER: ienv.ariUser,
    ARI_PASSWORD: ienv.ariPassword,
    ARI_APP: ienv.ariApp,
    DATABASE_URL: server.url('callpolicy'),
    CALLPOLICY_DATA_DIR: dataDir,
    DATABASE_RETRY_MAX_MS: '500',
    DATABASE_CONNECT_TIMEOUT_MS: '2000',
  });
  adapter = await startAdapter(env, createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'), { http: false, port: ariPort(), heartbeatMs: 500 });
  await adapter.connected;
}, 120_000);

afterAll(async () => {
  if (server && !(await server.accepting())) await server.start();
  await adapter?.stop().catch(() => undefined);
  await admin?.close();
  await server?.destroy();
  rmSync(dataDir, { recursive: true, force: true });
}, 120_000);

test('PostgreSQL down during a surveyed call: the survey runs, its result is queued, and written once the database is back', async () => {
  await server.stop('fast');
  const trunk = await startSurveyTrunk({ port: TRUNK_PORT, rtpPort: 44_000, steps: [{ pauseMs: 2200 }, { key: '2' }], endTimeoutMs: 20_000 });
  try {
    const agent = placeCall({ fromPort: AGENT_ONE.port, fromUser: AGENT_ONE.endpoint, to: `${OUTSIDE_LINE}+14155550123`, server: ienv.sipServer, holdMs: 700, timeoutMs: 30_000 });
    const [a, customer] = await Promise.all([agent, trunk.done(40_000)]);
    assert.equal(a.finalStatus, 200);
    assert.equal(customer.byeBy, 'asterisk', 'the survey ended normally');
    assert.ok(customer.audio.loudPackets >= 25, 'the customer heard the survey');
  } finally {
    await trunk.stop();
  }
  await assertNoChannelsLeft(5000);
  await sleep(500);
  assert.ok(adapter.recordStats().queued >= 3, `decision, end and survey result queued (${adapter.recordStats().queued})`);

  await server.start();
  const deadline = Date.now() + 30_000;
  let rows: { outcome: string; dtmf_key: string; agent_id: string; customer_e164: string; call_channel_id: string; call_found: boolean }[] = [];
  while (Date.now() < deadline) {
    try {
      rows = rowsOf(
        await admin.db.execute(sql`SELECT s.outcome, s.dtmf_key, s.agent_id, s.customer_e164, s.call_channel_id,
          EXISTS (SELECT 1 FROM calls c WHERE c.channel_id = s.call_channel_id AND c.ended_at IS NOT NULL) AS call_found FROM survey_results s`),
      );
      if (rows.length > 0 && rows.every((r) => r.call_found)) break;
    } catch {
      // the admin connection reconnects too
    }
    await sleep(200);
  }
  assert.deepEqual(
    rows.map((r) => [r.outcome, r.dtmf_key, r.agent_id, r.customer_e164, r.call_found]),
    [['rated', '2', 'alice', '+14155550123', true]],
  );
  assert.equal(adapter.recordStats().queued, 0);
  assert.equal(adapter.recordStats().dropped, 0);
});
