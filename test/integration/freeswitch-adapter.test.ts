// The whole adapter on FreeSWITCH: the same flows and policies as on Asterisk, with the real
// PostgreSQL, attached over the event socket to a fake FreeSWITCH that replays the frames recorded
// from a real FreeSWITCH 1.10.12 (test/support/fake-freeswitch). It proves the driver and the
// policies through it; the shipped XML dialplan on the real switch is proven by fs-*.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { asc, desc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { startAdapter, type Adapter } from '../../src/adapter.js';
import { loadEnv } from '../../src/config/env.js';
import { parsePolicyFile } from '../../src/config/policy-file.js';
import { createLogger } from '../../src/log.js';
import { createLocator } from '../../src/phone/index.js';
import { applyPolicy } from '../../src/store/apply-policy.js';
import { calls, surveyResults } from '../../src/store/schema/index.js';
import { resolveSurveySettings } from '../../src/survey/render-prompts.js';
import { FAKE_ESL_PASSWORD } from '../support/fake-freeswitch/driver-on-fake.js';
import { startFakeFreeswitch, type FakeFreeswitch } from '../support/fake-freeswitch/fake-freeswitch.js';
import { createTempDatabase } from '../support/temp-database.js';
import { startCustomerIdServer } from '../support/customer-id-server.js';

const DEFAULT_CID = { number: '+15550000000', name: '' };
const CUSTOMER = '+14155550123';

// Sound prompts (FreeSWITCH plays them by name): no rendering needed for this test.
const policy = (protection: string) => `
defaultCountry: US
callerId: { strategy: group }
memory: { mode: agent-first, ringSeconds: 5 }
protection: ${protection}
survey:
  outbound: true
  inbound: true
  defaultTemplate: quick
  templates:
    quick:
      intro: { sound: "ivr/ivr-please_rate" }
      closing: { sound: "ivr/ivr-thank_you" }
      invalid: { sound: "ivr/ivr-that_was_an_invalid_entry" }
      keys:
        "1": { label: satisfied, score: 3 }
        "2": { label: neutral, score: 2 }
      tries: 1
      timeoutSeconds: 2
groups: [sales]
numbers:
  - { number: "+14155550100", groups: [sales] }
agents:
  - { id: alice, endpoint: user/1001, groups: [sales] }
`;

describe('the adapter on FreeSWITCH (recorded-protocol fake, real PostgreSQL)', () => {
  let fs: FakeFreeswitch;
  let adapter: Adapter;
  let adapterStopped = false;
  let decisionPort = 0;
  let dropDb: () => Promise<void>;
  let dataDir: string;
  const locator = createLocator();

  const apply = async (yaml: string) => {
    const file = parsePolicyFile(yaml, 'fs.yaml');
    const survey = await resolveSurveySettings(file, { dir: dataDir, pbxDir: dataDir, source: 'fs.yaml' });
    await applyPolicy(adapter.db.db, file, (n) => locator.locate(n), { survey });
    await adapter.reload();
  };
  const lastCall = async (direction: 'outbound' | 'inbound') => {
    for (let i = 0; i < 50; i++) {
      await adapter.flushRecords();
      const [row] = await adapter.db.db.select().from(calls).where(eq(calls.direction, direction)).orderBy(desc(calls.decidedAt)).limit(1);
      if (row?.endedAt) return row;
      await sleep(100);
    }
    throw new Error(`no ended ${direction} call recorded`);
  };

  beforeAll(async () => {
    fs = await startFakeFreeswitch({ password: FAKE_ESL_PASSWORD, decisionPort: () => decisionPort, defaultCallerId: DEFAULT_CID });
    const db = await createTempDatabase();
    dropDb = () => db.drop();
    dataDir = mkdtempSync(path.join(tmpdir(), 'callpolicy-fs-'));
    const env = loadEnv({
      CALLPOLICY_PBX: 'freeswitch',
      FREESWITCH_ESL_PORT: String(fs.eslPort),
      FREESWITCH_ESL_PASSWORD: FAKE_ESL_PASSWORD,
      CALLPOLICY_SOCKET_PORT: '0',
      DATABASE_URL: db.url,
      CALLPOLICY_DATA_DIR: dataDir,
      CALLPOLICY_PROMPT_DIR: dataDir,
    });
    adapter = await startAdapter(env, createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'), { http: false });
    await adapter.connected;
    decisionPort = (adapter.port as unknown as { decisionPort(): number }).decisionPort();
    await apply(policy('{ mode: off }'));
  });
  afterAll(async () => {
    if (!adapterStopped) await adapter?.stop();
    await fs?.stop();
    await dropDb?.();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  test("outbound: the trunk gets the agent's group number as caller ID, and the call is recorded with FreeSWITCH's ids", async () => {
    const r = await fs.placeCall({ user: '1001', dialed: CUSTOMER });
    // No display name in the policy: the number is the name (never the directory's "Extension 1001").
    assert.deepEqual(r.trunk, { destination: CUSTOMER, callerIdNumber: '+14155550100', callerIdName: '+14155550100' });
    const row = await lastCall('outbound');
    assert.equal(row.pbx, 'freeswitch');
    assert.equal(row.channelId, r.uuid);
    assert.equal(row.callerId, '+14155550100');
    assert.equal(row.action, 'dial');
    assert.equal(row.finalAction, null, 'the PBX did what was decided');
    assert.ok(row.answeredAt instanceof Date);
  });

  test('call memory: the customer the agent just called is put through to that agent', async () => {
    const r = await fs.placeInbound({ callerNumber: CUSTOMER, agentAnswers: true });
    assert.equal(r.reached, 'agent');
    assert.equal(r.outcome, 'ring');
    assert.equal(r.vars.get('callpolicy_agent_dial'), 'user/1001');
    assert.equal(r.agentSaw?.number, CUSTOMER, 'protection off: the agent sees the number');
  });

  test('a stranger goes to the IVR', async () => {
    const r = await fs.placeInbound({ callerNumber: '+12125550199', agentAnswers: true });
    assert.equal(r.reached, 'ivr');
    assert.equal(r.agentRang, false);
  });

  test('survey: the agent hangs up first, the customer presses 1, the rating is stored', async () => {
    const r = await fs.placeCall({ user: '1001', dialed: CUSTOMER, hangsUp: 'agent', surveySteps: [{ pauseMs: 300 }, { key: '1' }, { pauseMs: 3000 }] });
    assert.equal(r.survey?.reached, true);
    assert.equal(r.survey?.endedBy, 'pbx', 'the adapter ended the survey');
    assert.ok(r.survey.played.some((p) => p.includes('ivr/ivr-please_rate')), `the intro played: ${r.survey.played.join(', ')}`);
    await adapter.flushRecords();
    const rows = await adapter.db.db.select().from(surveyResults).orderBy(asc(surveyResults.startedAt));
    const row = rows.at(-1)!;
    assert.equal(row.pbx, 'freeswitch');
    assert.equal(row.callChannelId, r.uuid);
    assert.equal(row.outcome, 'rated');
    assert.equal(row.dtmfKey, '1');
    assert.equal(row.score, 3);
    assert.equal(row.customerE164, CUSTOMER);
  });

  test("number protection (mask): the agent's leg is sent the masked number, the record keeps the real one", async () => {
    await apply(policy('{ mode: mask }'));
    const r = await fs.placeInbound({ callerNumber: CUSTOMER, agentAnswers: true });
    assert.equal(r.reached, 'agent');
    assert.ok(r.agentSaw, 'the agent was rung');
    assert.ok(!r.agentSaw.number.includes('5550123') && !r.agentSaw.name.includes('5550123'), `masked: ${JSON.stringify(r.agentSaw)}`);
    assert.match(r.agentSaw.number, /\*{4}/);
    assert.equal(r.agentSaw.displayUpdates, false, 'display updates are stopped');
    const row = await lastCall('inbound');
    assert.equal(row.customerE164, CUSTOMER);
    const out = await fs.placeCall({ user: '1001', dialed: CUSTOMER });
    assert.equal(out.trunk?.destination, CUSTOMER, 'the trunk dials the real number');
    assert.ok(out.agentSaw && !out.agentSaw.number.includes('5550123'), `outbound, the agent's phone: ${JSON.stringify(out.agentSaw)}`);
    assert.equal(out.agentSaw.displayUpdates, false);
    await apply(policy('{ mode: off }'));
  });

  test('number protection (customer-id): the agent sees the ID; dialling the prefix and the ID calls the customer; an unknown ID is refused', async () => {
    const ids = await startCustomerIdServer({ [CUSTOMER]: 'C-1001' });
    try {
      await apply(policy(`{ mode: customer-id, customerId: { url: "${ids.url}", authHeader: Authorization, timeoutMs: 400, cacheSeconds: 0, negativeCacheSeconds: 0, dialPrefix: "*9" } }`));
      const inb = await fs.placeInbound({ callerNumber: CUSTOMER, agentAnswers: true });
      assert.equal(inb.reached, 'agent');
      assert.deepEqual({ number: inb.agentSaw?.number, name: inb.agentSaw?.name }, { number: '*9C-1001', name: 'C-1001' });
      const back = await fs.placeCall({ user: '1001', dialed: '*9C-1001', kind: 'customer-id' });
      assert.deepEqual(back.trunk, { destination: CUSTOMER, callerIdNumber: '+14155550100', callerIdName: '+14155550100' });
      const unknown = await fs.placeCall({ user: '1001', dialed: '*9C-9999', kind: 'customer-id' });
      assert.equal(unknown.trunk, null, 'nothing is dialled');
      assert.equal(unknown.outcome, 'refused-unknown-id');
    } finally {
      await ids.close();
      await apply(policy('{ mode: off }'));
    }
  });

  test('the adapter stopped: calls go out at once with the default caller ID, and customers reach the IVR', async () => {
    await adapter.stop();
    adapterStopped = true;
    const out = await fs.placeCall({ user: '1001', dialed: CUSTOMER });
    assert.deepEqual(out.trunk, { destination: CUSTOMER, callerIdNumber: DEFAULT_CID.number, callerIdName: DEFAULT_CID.name });
    assert.equal(out.outcome, 'default-down');
    assert.ok(out.decisionMs < 200, `waited ${out.decisionMs} ms`);
    const inb = await fs.placeInbound({ callerNumber: CUSTOMER, agentAnswers: true });
    assert.equal(inb.reached, 'ivr');
    assert.equal(inb.outcome, 'ivr-down');
    assert.ok(inb.decisionMs < 200, `waited ${inb.decisionMs} ms`);
  });
});
