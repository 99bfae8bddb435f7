// The post-call survey end to end: real Asterisk, the adapter over ARI, real PostgreSQL, real SIP.
// Outbound: an agent's sipp phone calls a customer through the trunk (the trunk's sipp is the
// customer); inbound: a customer's sipp calls in and call memory puts them through to the agent's
// phone. The agent hangs up first; the customer presses keys as RFC 2833 (sip-tester's pcap
// recordings) or SIP INFO, or stays silent, or hangs up. The test asserts the survey row, and that
// the customer's leg received the prompts' audio (RTP with speech at the customer's audio port);
// and that no survey happens when the customer hangs up first, when the call was never answered,
// and when the adapter is gone.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { asc, desc, eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, test } from 'vitest';
import type { Adapter } from '../../src/adapter.js';
import { calls, surveyResults } from '../../src/store/schema/index.js';
import { placeCall, startAgentPhone, startTrunk } from '../sandbox/sipp.js';
import { placeSurveyCall, startSurveyTrunk, type CustomerStep, type SurveyCustomerResult } from '../sandbox/sipp-survey.js';
import { ariGet, assertNoChannelsLeft } from './ari-checks.js';
import { startInProcessAdapter, type InProcessAdapter } from './asterisk-harness.js';
import { integrationEnv } from './env.js';
import { runCli } from '../support/fault-rig.js';
import { seedRememberedCall } from '../support/remembered-call.js';
import { AGENT_ONE, CUSTOMER_PORT, CUSTOMER_PORT_2, IVR_PHONE, OUTSIDE_LINE, TRUNK_PORT } from './topology.js';

const env = integrationEnv();
const CUSTOMER = '+14155550123';
const DID = '+15550001000';
/** The agent stays this long on an answered call, then hangs up first. */
const AGENT_HOLD_MS = 700;
/** The customer's keys start after the agent's hang-up and the start of the intro. */
const LEAD_MS = AGENT_HOLD_MS + 1500;

// Short English prompts spoken by espeak-ng at apply time (the built-in templates' path), a
// 2 s wait, two tries; inbound calls get the built-in Mandarin template.
const POLICY = `
defaultCountry: US
callerId: { strategy: group }
memory: { mode: agent-first, ringSeconds: 5 }
survey:
  outbound: true
  inbound: true
  defaultTemplate: quick
  rules:
    - { direction: inbound, template: zh }
  templates:
    quick:
      intro: { text: "Please rate us. Press 1, 2 or 3." }
      closing: { text: "Thank you." }
      invalid: { text: "Not valid." }
      keys:
        "1": { label: satisfied, score: 3 }
        "2": { label: neutral, score: 2 }
        "3": { label: dissatisfied, score: 1 }
      tries: 2
      timeoutSeconds: 2
groups: [sales]
numbers:
  - { number: "+14155550100", groups: [sales] }
agents:
  - { id: alice, endpoint: PJSIP/${AGENT_ONE.endpoint}, groups: [sales] }
`;

let running: InProcessAdapter;
let adapter: Adapter;
let rtpPort = 43_000;

async function surveys() {
  await adapter.flushRecords();
  return adapter.db.db.select().from(surveyResults).orderBy(asc(surveyResults.startedAt));
}

async function lastCall(direction: 'outbound' | 'inbound') {
  for (let i = 0; i < 40; i++) {
    await adapter.flushRecords();
    const [row] = await adapter.db.db.select().from(calls).where(eq(calls.direction, direction)).orderBy(desc(calls.decidedAt)).limit(1);
    if (row?.endedAt) return row;
    await sleep(100);
  }
  throw new Error(`no ended ${direction} call recorded`);
}

/** The survey rows added by `work`, once the customer's call is over. */
async function newSurveys(work: () => Promise<SurveyCustomerResult>) {
  const before = (await surveys()).length;
  const customer = await work();
  await sleep(300);
  return { customer, rows: (await surveys()).slice(before) };
}

/** An agent calls the customer (the trunk's sipp); the agent hangs up after `agentHoldMs`; the customer follows `steps`. */
async function outboundCall(steps: CustomerStep[], agentHoldMs = AGENT_HOLD_MS): Promise<SurveyCustomerResult> {
  const trunk = await startSurveyTrunk({ port: TRUNK_PORT, rtpPort: rtpPort++, steps, endTimeoutMs: 30_000 });
  try {
    const agent = placeCall({ fromPort: AGENT_ONE.port, fromUser: AGENT_ONE.endpoint, fromName: AGENT_ONE.name, to: `${OUTSIDE_LINE}${CUSTOMER}`, server: env.sipServer, holdMs: agentHoldMs, timeoutMs: 40_000 });
    const [a, result] = await Promise.all([agent, trunk.done(60_000)]);
    assert.equal(a.finalStatus, 200, 'the agent was connected');
    return result;
  } finally {
    await trunk.stop();
  }
}

/** The customer calls in; call memory rings the agent's phone, which hangs up after `agentHoldMs`. */
async function inboundCall(steps: CustomerStep[], agentHoldMs = AGENT_HOLD_MS): Promise<SurveyCustomerResult> {
  const phone = await startAgentPhone({ port: AGENT_ONE.port, holdMs: agentHoldMs });
  try {
    const r = await placeSurveyCall({ fromPort: CUSTOMER_PORT, fromUser: CUSTOMER, to: DID, server: env.sipServer, rtpPort: rtpPort++, steps, endTimeoutMs: 40_000 });
    assert.equal((await phone.takeInvites()).length, 1, "the remembered agent's phone rang");
    return r;
  } finally {
    await phone.stop();
  }
}

/** Speech reached the customer's audio port: 20 ms packets, a spoken prompt lasts a second or more. */
function heardPrompts(r: SurveyCustomerResult): boolean {
  return r.audio.loudPackets >= 25;
}

beforeAll(async () => {
  running = await startInProcessAdapter();
  adapter = running.adapter;
  await running.apply(POLICY);
  // The customer was called by alice an hour ago: call memory sends their calls to her.
  await seedRememberedCall(adapter.db.db, { pbx: 'asterisk', agentId: 'alice', endpoint: `PJSIP/${AGENT_ONE.endpoint}`, customer: CUSTOMER });

}, 120_000);
afterAll(async () => {
  await running?.stop();
});
afterEach(() => assertNoChannelsLeft(8000));

describe('outbound: the agent hangs up first', () => {
  test('the customer keys 1 (RFC 2833): rated, linked to the call, and the customer heard the prompts', async () => {
    const { customer, rows } = await newSurveys(() => outboundCall([{ pauseMs: LEAD_MS }, { key: '1', via: 'rfc2833' }]));
    assert.equal(customer.byeBy, 'asterisk', 'the PBX ended the call after the closing prompt');
    assert.ok(heardPrompts(customer), `the customer's leg received the prompts (${customer.audio.loudPackets} loud RTP packets)`);
    assert.equal(rows.length, 1, 'exactly one survey');
    const call = await lastCall('outbound');
    const row = rows[0]!;
    assert.deepEqual(
      [row.outcome, row.dtmfKey, row.label, row.score, row.attempts, row.direction, row.template, row.agentId, row.agentGroups, row.customerE164, row.callChannelId],
      ['rated', '1', 'satisfied', 3, 1, 'outbound', 'quick', 'alice', ['sales'], CUSTOMER, call.channelId],
    );
    assert.equal(call.hungUpBy, 'agent', "the call's record says the agent hung up first");
    assert.ok(row.startedAt >= call.answeredAt! && row.endedAt >= row.startedAt);
  });

  test('the customer keys 2 as SIP INFO: rated neutral', async () => {
    const { customer, rows } = await newSurveys(() => outboundCall([{ pauseMs: LEAD_MS }, { key: '2', via: 'info' }]));
    assert.equal(customer.byeBy, 'asterisk');
    assert.deepEqual(
      rows.map((r) => [r.outcome, r.dtmfKey, r.label, r.score]),
      [['rated', '2', 'neutral', 2]],
    );
  });

  test('a wrong key, then a right one: rated on the second try', async () => {
    const { rows } = await newSurveys(() => outboundCall([{ pauseMs: LEAD_MS }, { key: '9' }, { pauseMs: 2500 }, { key: '3' }]));
    assert.deepEqual(
      rows.map((r) => [r.outcome, r.dtmfKey, r.score, r.attempts]),
      [['rated', '3', 1, 2]],
    );
  });

  test('no key at all: asked twice, then no input; the PBX hangs up', async () => {
    const { customer, rows } = await newSurveys(() => outboundCall([]));
    assert.equal(customer.byeBy, 'asterisk');
    assert.ok(heardPrompts(customer));
    assert.deepEqual(
      rows.map((r) => [r.outcome, r.dtmfKey, r.attempts]),
      [['no_input', null, 2]],
    );
  });

  test('the customer hangs up during the survey: hung up', async () => {
    const { customer, rows } = await newSurveys(() => outboundCall([{ pauseMs: LEAD_MS }, { hangup: true }]));
    assert.equal(customer.byeBy, 'customer');
    assert.deepEqual(
      rows.map((r) => r.outcome),
      ['hung_up'],
    );
  });

  test('the customer hangs up first: no survey, no prompt', async () => {
    const { customer, rows } = await newSurveys(() => outboundCall([{ pauseMs: 300 }, { hangup: true }], 5000));
    assert.equal(customer.byeBy, 'customer');
    assert.equal(customer.audio.loudPackets, 0, 'nothing was played to the customer');
    assert.equal(rows.length, 0);
    assert.equal((await lastCall('outbound')).hungUpBy, 'customer');
  });

  test('never answered (the customer is busy): no survey', async () => {
    const before = (await surveys()).length;
    const trunk = await startTrunk({ port: TRUNK_PORT, mode: 'busy' });
    try {
      const r = await placeCall({ fromPort: AGENT_ONE.port, fromUser: AGENT_ONE.endpoint, to: `${OUTSIDE_LINE}${CUSTOMER}`, server: env.sipServer, holdMs: AGENT_HOLD_MS });
      assert.notEqual(r.finalStatus, 200);
    } finally {
      await trunk.stop();
    }
    await sleep(500);
    assert.equal((await surveys()).length, before);
    assert.equal((await lastCall('outbound')).answeredAt, null);
  });
});

describe('inbound (call memory put the customer through): the agent hangs up first', () => {
  test('the customer keys 1 (RFC 2833) after the Mandarin built-in prompt: rated, inbound, linked to the call', async () => {
    const { customer, rows } = await newSurveys(() => inboundCall([{ pauseMs: LEAD_MS + 1000 }, { key: '1' }]));
    assert.equal(customer.byeBy, 'asterisk');
    assert.ok(heardPrompts(customer), `the customer's leg received the prompts (${customer.audio.loudPackets} loud RTP packets)`);
    const call = await lastCall('inbound');
    assert.deepEqual(
      rows.map((r) => [r.outcome, r.dtmfKey, r.score, r.direction, r.template, r.agentId, r.customerE164, r.callChannelId]),
      [['rated', '1', 3, 'inbound', 'zh', 'alice', CUSTOMER, call.channelId]],
    );
    assert.deepEqual([call.reason, call.hungUpBy], ['memory_hit', 'agent'], JSON.stringify(call));
  });

  test('SIP INFO works inbound too', async () => {
    const { rows } = await newSurveys(() => inboundCall([{ pauseMs: LEAD_MS + 1000 }, { key: '3', via: 'info' }]));
    assert.deepEqual(
      rows.map((r) => [r.outcome, r.dtmfKey, r.score]),
      [['rated', '3', 1]],
    );
  });

  test('the customer hangs up first: no survey', async () => {
    const { customer, rows } = await newSurveys(() => inboundCall([{ pauseMs: 300 }, { hangup: true }], 5000));
    assert.equal(customer.byeBy, 'customer');
    assert.equal(rows.length, 0);
    assert.equal((await lastCall('inbound')).hungUpBy, 'customer');
  });
});

describe('inbound, with the quick template: every other path', () => {
  beforeAll(() => running.apply(POLICY.replace('- { direction: inbound, template: zh }', '- { direction: inbound, template: quick }')));
  afterAll(() => running.apply(POLICY));

  test('a wrong key, then a right one: rated on the second try', async () => {
    const { customer, rows } = await newSurveys(() => inboundCall([{ pauseMs: LEAD_MS }, { key: '#' }, { pauseMs: 2500 }, { key: '2', via: 'info' }]));
    assert.ok(heardPrompts(customer));
    assert.deepEqual(
      rows.map((r) => [r.outcome, r.dtmfKey, r.score, r.attempts, r.template, r.direction]),
      [['rated', '2', 2, 2, 'quick', 'inbound']],
    );
  });

  test('a wrong key on both tries: invalid, with the last key', async () => {
    const { rows } = await newSurveys(() => inboundCall([{ pauseMs: LEAD_MS }, { key: '9' }, { pauseMs: 2500 }, { key: '8' }]));
    assert.deepEqual(
      rows.map((r) => [r.outcome, r.dtmfKey, r.label, r.attempts]),
      [['invalid', '8', null, 2]],
    );
  });

  test('no key: no input after two tries', async () => {
    const { customer, rows } = await newSurveys(() => inboundCall([]));
    assert.equal(customer.byeBy, 'asterisk');
    assert.deepEqual(
      rows.map((r) => [r.outcome, r.attempts]),
      [['no_input', 2]],
    );
  });

  test('the customer hangs up during the survey: hung up', async () => {
    const { customer, rows } = await newSurveys(() => inboundCall([{ pauseMs: LEAD_MS }, { hangup: true }]));
    assert.equal(customer.byeBy, 'customer');
    assert.deepEqual(
      rows.map((r) => r.outcome),
      ['hung_up'],
    );
  });

  test("the agent's phone rings and nobody answers: the IVR, no survey", async () => {
    const before = (await surveys()).length;
    const phone = await startAgentPhone({ port: AGENT_ONE.port, mode: 'ring' });
    const ivr = await startAgentPhone({ port: IVR_PHONE.port, holdMs: 500 });
    try {
      const r = await placeSurveyCall({ fromPort: CUSTOMER_PORT, fromUser: CUSTOMER, to: DID, server: env.sipServer, rtpPort: rtpPort++, steps: [], endTimeoutMs: 30_000 });
      assert.equal(r.finalStatus, 200);
      assert.equal((await ivr.takeInvites()).length, 1, 'the IVR took the call after the ring cycle');
    } finally {
      await phone.stop();
      await ivr.stop();
    }
    await sleep(300);
    assert.equal((await surveys()).length, before);
    assert.equal((await lastCall('inbound')).noAnswerRoute, 'ivr');
  });
});

describe('inbound, only-agent: the agent was busy, the customer waited and was put through', () => {
  beforeAll(() =>
    running.apply(
      POLICY.replace('memory: { mode: agent-first, ringSeconds: 5 }', 'memory: { mode: only-agent, ringSeconds: 5, waitSeconds: 20 }').replace(
        '- { direction: inbound, template: zh }',
        '- { direction: inbound, template: quick }',
      ),
    ),
  );
  afterAll(() => running.apply(POLICY));

  test('the agent hangs up first after the wait: the survey runs, rated', async () => {
    const phone = await startAgentPhone({ port: AGENT_ONE.port, holdMs: 2000 });
    try {
      // Another caller keeps the agent's phone busy for 2 s (the test route dials the agent directly).
      const other = placeCall({ fromPort: CUSTOMER_PORT_2, fromUser: '+14155550000', to: `agent-${AGENT_ONE.endpoint}`, server: env.sipServer, holdMs: 5000 });
      for (let i = 0; i < 60 && (await ariGet<{ channel_ids: string[] }>(`/endpoints/PJSIP/${AGENT_ONE.endpoint}`)).channel_ids.length === 0; i++) await sleep(50);
      const { customer, rows } = await newSurveys(() =>
        placeSurveyCall({ fromPort: CUSTOMER_PORT, fromUser: CUSTOMER, to: DID, server: env.sipServer, rtpPort: rtpPort++, steps: [{ pauseMs: 8000 }, { key: '1', via: 'info' }], endTimeoutMs: 40_000 }),
      );
      assert.equal((await other).finalStatus, 200);
      assert.equal(customer.byeBy, 'asterisk');
      const call = await lastCall('inbound');
      assert.equal(call.reason, 'memory_hit_wait:busy', 'the customer waited for the busy agent');
      assert.deepEqual(
        rows.map((r) => [r.outcome, r.dtmfKey, r.direction, r.callChannelId]),
        [['rated', '1', 'inbound', call.channelId]],
      );
      assert.equal(call.hungUpBy, 'agent');
    } finally {
      await phone.stop();
    }
  });
});

describe("a call the site's own IVR connects (the README's recipe)", () => {
  test('the agent hangs up first: surveyed, with the agent named by the endpoint and no call record', async () => {
    const phone = await startAgentPhone({ port: AGENT_ONE.port, holdMs: AGENT_HOLD_MS });
    try {
      const { customer, rows } = await newSurveys(() =>
        placeSurveyCall({ fromPort: CUSTOMER_PORT, fromUser: CUSTOMER, to: `ivr-agent-${AGENT_ONE.endpoint}`, server: env.sipServer, rtpPort: rtpPort++, steps: [{ pauseMs: LEAD_MS }, { key: '3' }], endTimeoutMs: 30_000 }),
      );
      assert.equal(customer.byeBy, 'asterisk');
      assert.ok(heardPrompts(customer));
      assert.deepEqual(
        rows.map((r) => [r.outcome, r.dtmfKey, r.direction, r.agentId, r.customerE164]),
        [['rated', '3', 'inbound', 'alice', null]],
      );
    } finally {
      await phone.stop();
    }
  });
});

// Number protection changes what the agent's phone receives (connected line, Dial's I, a pre-dial
// handler); the survey keeps working on the customer's real number behind it.
describe('with number protection on (mask)', () => {
  beforeAll(() => running.apply(POLICY.replace('memory: { mode: agent-first, ringSeconds: 5 }', 'memory: { mode: agent-first, ringSeconds: 5 }\nprotection: { mode: mask }')));
  afterAll(() => running.apply(POLICY));

  test('outbound (F() and I together): rated, the result holds the real number', async () => {
    const { rows } = await newSurveys(() => outboundCall([{ pauseMs: LEAD_MS }, { key: '1', via: 'rfc2833' }]));
    assert.deepEqual(rows.map((r) => [r.outcome, r.dtmfKey, r.customerE164, r.agentId]), [['rated', '1', CUSTOMER, 'alice']]);
  });

  test('inbound (g and the pre-dial handler together): rated, the result holds the real number', async () => {
    const { rows } = await newSurveys(() => inboundCall([{ pauseMs: LEAD_MS + 1000 }, { key: '1' }]));
    assert.deepEqual(rows.map((r) => [r.outcome, r.dtmfKey, r.customerE164, r.direction]), [['rated', '1', CUSTOMER, 'inbound']]);
  });
});

describe('reports and the adapter going away', () => {
  test('callpolicy surveys sums the results per agent (through the real CLI)', async () => {
    const all = await surveys();
    const rated = all.filter((r) => r.outcome === 'rated');
    const out = runCli({ ...process.env, DATABASE_URL: running.databaseUrl }, 'surveys', '--by', 'agent', '--json');
    const rows = JSON.parse(out) as { key: string; offered: number; rated: number; averageScore: number | null }[];
    const alice = rows.find((r) => r.key === 'alice');
    assert.ok(alice, out);
    assert.equal(alice.offered, all.length);
    assert.equal(alice.rated, rated.length);
    assert.ok(Math.abs(alice.averageScore! - rated.reduce((s, r) => s + r.score!, 0) / rated.length) < 1e-9);
  });

  test('the adapter stops after offering the survey: the customer is hung up at once when the agent hangs up, nothing waits', async () => {
    const before = (await surveys()).length;
    const trunk = await startSurveyTrunk({ port: TRUNK_PORT, rtpPort: rtpPort++, steps: [], endTimeoutMs: 20_000 });
    try {
      const agent = placeCall({ fromPort: AGENT_ONE.port, fromUser: AGENT_ONE.endpoint, to: `${OUTSIDE_LINE}${CUSTOMER}`, server: env.sipServer, holdMs: 2500, timeoutMs: 30_000 });
      await sleep(1200);
      await adapter.port.stop();
      const hungUpAt = Date.now();
      const [, customer] = await Promise.all([agent, trunk.done(30_000)]);
      assert.equal(customer.byeBy, 'asterisk');
      assert.ok(customer.endedAt - hungUpAt < 3500, `the customer's call ended ${customer.endedAt - hungUpAt} ms after the adapter stopped (the agent hung up at 2.5 s)`);
      assert.equal(customer.audio.loudPackets, 0);
    } finally {
      await trunk.stop();
    }
    assert.equal((await surveys()).length, before);
  });
});

