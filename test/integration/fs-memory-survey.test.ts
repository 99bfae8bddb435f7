// Call memory, number protection and the survey on the real FreeSWITCH, through the shipped
// dialplan: a customer's sipp calls the carrier profile; the test asserts which phone rang (the
// remembered agent's, the IVR's, the voicemail's), what the agent's phone received (searched
// for the customer's number in every form), the survey's keys (RFC 2833 and SIP INFO, both
// directions) and what the database recorded.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { asc, desc, eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, test } from 'vitest';
import { setAgentPaused } from '../../src/store/load-policy.js';
import { calls, surveyResults } from '../../src/store/schema/index.js';
import { placeSurveyCall, startSurveyTrunk, type CustomerStep } from '../sandbox/sipp-survey.js';
import { placeCall, startAgentPhone, startTrunk, type Trunk } from '../sandbox/sipp.js';
import { startCustomerIdServer, type CustomerIdServer } from '../support/customer-id-server.js';
import { assertNoLeaks } from '../support/sip-leaks.js';
import { seedRememberedCall } from '../support/remembered-call.js';
import { assertNoFsChannelsLeft, fsEnv, fsPlaceCall, startFsAdapter, type FsInProcessAdapter } from './fs-harness.js';
import { FS_AGENT_ONE, FS_CUSTOMER_PORT, FS_IVR_PHONE, FS_OFFLINE_AGENT, FS_OUTSIDE_LINE, FS_TRUNK_PORT, FS_VOICEMAIL_PHONE } from './fs-topology.js';

const CUSTOMER = '+8613800138000';
const MASKED = '138****8000';
const DID = '+15550001000';
const AGENT_HOLD_MS = 700;
const LEAD_MS = AGENT_HOLD_MS + 1500;

const policy = (o: { memory: string; protection?: string }) => `
defaultCountry: US
callerId: { strategy: group }
trunks:
  trunk: { country: US, displayName: "ACME" }
memory: ${o.memory}
protection: ${o.protection ?? '{ mode: off }'}
survey:
  outbound: true
  inbound: true
  defaultTemplate: quick
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
  - { id: alice, endpoint: user/${FS_AGENT_ONE.user}, groups: [sales] }
  - { id: dave, endpoint: user/${FS_OFFLINE_AGENT.user}, groups: [sales] }
`;

let running: FsInProcessAdapter;
let ivr: Trunk;
let rtpPort = 24_100;
const env = () => fsEnv();

function remember(agentId: string, user: string): Promise<void> {
  return seedRememberedCall(running.adapter.db.db, { pbx: 'freeswitch', agentId, endpoint: `user/${user}`, customer: CUSTOMER });
}

async function lastCall(direction: 'inbound' | 'outbound') {
  for (let i = 0; i < 50; i++) {
    await running.adapter.flushRecords();
    const [row] = await running.adapter.db.db.select().from(calls).where(eq(calls.direction, direction)).orderBy(desc(calls.decidedAt)).limit(1);
    if (row?.endedAt) return row;
    await sleep(100);
  }
  throw new Error(`no ended ${direction} call recorded`);
}

async function surveys() {
  await running.adapter.flushRecords();
  return running.adapter.db.db.select().from(surveyResults).orderBy(asc(surveyResults.startedAt));
}

const customerCalls = (holdMs = 400, timeoutMs?: number) =>
  placeCall({ fromPort: FS_CUSTOMER_PORT, fromUser: CUSTOMER, to: DID, server: env().carrierSipServer, holdMs, ...(timeoutMs ? { timeoutMs } : {}) });

beforeAll(async () => {
  running = await startFsAdapter();
  ivr = await startAgentPhone({ port: FS_IVR_PHONE.port, holdMs: 60_000 });
});
afterAll(async () => {
  await ivr?.stop();
  await running?.stop();
});
beforeEach(async () => {
  await ivr.takeInvites();
});
afterEach(() => assertNoFsChannelsLeft(5000));

describe('call memory on FreeSWITCH', () => {
  test('agent-first: the remembered agent rings; masked, with no form of the number in any SIP message the phone received', async () => {
    await running.apply(policy({ memory: '{ mode: agent-first, ringSeconds: 5 }', protection: '{ mode: mask }' }));
    await remember('alice', FS_AGENT_ONE.user);
    const phone = await startAgentPhone({ port: FS_AGENT_ONE.port });
    try {
      const call = await customerCalls();
      assert.equal(call.finalStatus, 200);
      const invite = await phone.nextInvite(3000);
      assert.equal(decodeURIComponent(invite.fromUser), MASKED, 'the agent sees the masked number');
      assertNoLeaks(await phone.receivedMessages(), CUSTOMER, MASKED, "the agent's phone");
      const row = await lastCall('inbound');
      assert.deepEqual([row.pbx, row.reason, row.agentId, row.customerE164, row.hungUpBy], ['freeswitch', 'memory_hit', 'alice', CUSTOMER, 'customer']);
      await ivr.expectNoInvite(300);
    } finally {
      await phone.stop();
    }
  });

  test('agent-first: an offline agent sends the caller to the IVR', async () => {
    await running.apply(policy({ memory: '{ mode: agent-first, ringSeconds: 5 }' }));
    await remember('dave', FS_OFFLINE_AGENT.user);
    const call = await customerCalls();
    assert.equal(call.finalStatus, 200);
    assert.equal((await ivr.takeInvites()).length, 1, 'the IVR took the call');
    assert.equal((await lastCall('inbound')).reason, 'memory_miss:agent_offline');
  });

  test('agent-first: an agent who does not answer: the IVR after the ring time', async () => {
    await running.apply(policy({ memory: '{ mode: agent-first, ringSeconds: 5 }' }));
    await remember('alice', FS_AGENT_ONE.user);
    const phone = await startAgentPhone({ port: FS_AGENT_ONE.port, mode: 'ring' });
    try {
      const call = await customerCalls(400, 20_000);
      assert.equal(call.finalStatus, 200);
      assert.equal((await phone.takeInvites()).length, 1, 'the agent was rung');
      assert.equal((await ivr.takeInvites()).length, 1, 'then the IVR took the call');
      const row = await lastCall('inbound');
      assert.deepEqual([row.reason, row.agentId, row.noAnswerRoute], ['memory_hit', 'alice', 'ivr']);
    } finally {
      await phone.stop();
    }
  });

  test('agent-first: an agent whose phone is busy (486): the IVR at once', async () => {
    await running.apply(policy({ memory: '{ mode: agent-first, ringSeconds: 5 }' }));
    await remember('alice', FS_AGENT_ONE.user);
    const phone = await startAgentPhone({ port: FS_AGENT_ONE.port, mode: 'busy' });
    try {
      const started = Date.now();
      const call = await customerCalls();
      assert.equal(call.finalStatus, 200);
      assert.equal((await phone.takeInvites()).length, 1, 'the agent was rung');
      assert.equal((await ivr.takeInvites()).length, 1, 'then the IVR took the call');
      assert.ok(Date.now() - started < 4000, 'without waiting for the ring time');
      assert.equal((await lastCall('inbound')).noAnswerRoute, 'ivr');
    } finally {
      await phone.stop();
    }
  });

  test('agent-first: a paused agent is not rung: the IVR', async () => {
    await running.apply(policy({ memory: '{ mode: agent-first, ringSeconds: 5 }' }));
    await remember('alice', FS_AGENT_ONE.user);
    await setAgentPaused(running.adapter.db.db, 'alice', true);
    await running.adapter.reload();
    const phone = await startAgentPhone({ port: FS_AGENT_ONE.port });
    try {
      const call = await customerCalls();
      assert.equal(call.finalStatus, 200);
      assert.equal((await ivr.takeInvites()).length, 1);
      assert.equal((await phone.takeInvites()).length, 0, 'the paused agent was not rung');
    } finally {
      await phone.stop();
      await setAgentPaused(running.adapter.db.db, 'alice', false);
      await running.adapter.reload();
    }
  });

  test('only-agent: an offline agent: the caller waits, then the voicemail', async () => {
    await running.apply(policy({ memory: '{ mode: only-agent, ringSeconds: 5, waitSeconds: 5, finalDestination: { kind: voicemail, extension: "2001" } }' }));
    await remember('dave', FS_OFFLINE_AGENT.user);
    const voicemail = await startAgentPhone({ port: FS_VOICEMAIL_PHONE.port, holdMs: 300 });
    try {
      const started = Date.now();
      // Answered at once (the wait's music): the customer stays on, past the 5 s wait.
      const call = await customerCalls(12_000, 30_000);
      assert.equal(call.finalStatus, 200);
      const [vm] = await voicemail.takeInvites();
      assert.ok(vm, 'the voicemail phone rang');
      assert.ok(Date.now() - started >= 4500, 'after the wait');
      assert.equal(vm.fromName, 'voicemail 2001', 'the mailbox of the policy');
      assert.equal((await ivr.takeInvites()).length, 0, 'never the IVR in only-agent mode');
      const row = await lastCall('inbound');
      assert.deepEqual([row.reason, row.noAnswerRoute], ['memory_hit_wait:offline', 'voicemail']);
    } finally {
      await voicemail.stop();
    }
  });
});

describe('only-agent (mode 1) on FreeSWITCH: the caller waits for that agent', () => {
  test('a paused agent is never rung: the caller waits, then the goodbye (the PBX hangs up)', async () => {
    await running.apply(policy({ memory: '{ mode: only-agent, ringSeconds: 5, waitSeconds: 5 }' }));
    await remember('alice', FS_AGENT_ONE.user);
    await setAgentPaused(running.adapter.db.db, 'alice', true);
    await running.adapter.reload();
    const phone = await startAgentPhone({ port: FS_AGENT_ONE.port });
    try {
      const started = Date.now();
      const call = await customerCalls(20_000, 30_000);
      const took = Date.now() - started;
      assert.equal(call.finalStatus, 200, 'answered, to wait with music');
      assert.equal(call.hungUpBy, 'remote', 'the PBX ended it after the goodbye');
      assert.ok(took > 4500 && took < 15_000, `the wait lasted ${took} ms`);
      assert.equal((await phone.takeInvites()).length, 0, 'the paused agent was never rung');
      assert.equal((await ivr.takeInvites()).length, 0, 'never the IVR in only-agent mode');
      const row = await lastCall('inbound');
      assert.deepEqual([row.reason, row.noAnswerRoute], ['memory_hit_wait:paused', 'goodbye']);
    } finally {
      await phone.stop();
      await setAgentPaused(running.adapter.db.db, 'alice', false);
      await running.adapter.reload();
    }
  });
});

describe('the survey on FreeSWITCH', () => {
  beforeAll(() => running.apply(policy({ memory: '{ mode: agent-first, ringSeconds: 5 }' })));

  async function outboundSurvey(steps: CustomerStep[]) {
    const trunk = await startSurveyTrunk({ port: FS_TRUNK_PORT, rtpPort: rtpPort++, steps, endTimeoutMs: 30_000 });
    try {
      const agent = fsPlaceCall(FS_AGENT_ONE, `${FS_OUTSIDE_LINE}${CUSTOMER}`, { holdMs: AGENT_HOLD_MS, timeoutMs: 40_000 });
      const [a, result] = await Promise.all([agent, trunk.done(60_000)]);
      assert.equal(a.finalStatus, 200, 'the agent was connected');
      return result;
    } finally {
      await trunk.stop();
    }
  }

  test('outbound, RFC 2833: the agent hangs up first, the customer hears the survey and presses 1', async () => {
    const before = (await surveys()).length;
    const r = await outboundSurvey([{ pauseMs: LEAD_MS }, { key: '1' }]);
    assert.ok(r.audio.loudPackets >= 25, `the customer heard the prompts (${r.audio.loudPackets} loud packets)`);
    const rows = (await surveys()).slice(before);
    const call = await lastCall('outbound');
    assert.deepEqual(rows.map((x) => [x.outcome, x.dtmfKey, x.direction, x.callChannelId, x.agentId]), [['rated', '1', 'outbound', call.channelId, 'alice']]);
    assert.equal(call.hungUpBy, 'agent');
  });

  test('outbound, SIP INFO: invalid then valid', async () => {
    const before = (await surveys()).length;
    await outboundSurvey([{ pauseMs: LEAD_MS }, { key: '7', via: 'info' }, { pauseMs: 1500 }, { key: '2', via: 'info' }]);
    const rows = (await surveys()).slice(before);
    assert.deepEqual(rows.map((x) => [x.outcome, x.dtmfKey]), [['rated', '2']]);
  });

  test('outbound, no input: recorded as such, the customer is hung up by the PBX', async () => {
    const before = (await surveys()).length;
    const r = await outboundSurvey([]);
    assert.equal(r.byeBy, 'asterisk', 'the PBX ended the call (the scenario names every PBX so)');
    const rows = (await surveys()).slice(before);
    assert.deepEqual(rows.map((x) => x.outcome), ['no_input']);
  });

  test('outbound, the customer hangs up first: no survey', async () => {
    const before = (await surveys()).length;
    const trunk = await startTrunk({ port: FS_TRUNK_PORT, holdMs: 300 });
    try {
      const a = await fsPlaceCall(FS_AGENT_ONE, `${FS_OUTSIDE_LINE}${CUSTOMER}`, { holdMs: 5000 });
      assert.equal(a.hungUpBy, 'remote');
    } finally {
      await trunk.stop();
    }
    await sleep(500);
    assert.equal((await surveys()).length, before);
    const call = await lastCall('outbound');
    assert.equal(call.hungUpBy, 'customer');
  });

  test('inbound, RFC 2833 and SIP INFO: the remembered agent hangs up first, the customer rates', async () => {
    await remember('alice', FS_AGENT_ONE.user);
    for (const via of ['rfc2833', 'info'] as const) {
      const before = (await surveys()).length;
      const phone = await startAgentPhone({ port: FS_AGENT_ONE.port, holdMs: AGENT_HOLD_MS });
      try {
        const r = await placeSurveyCall({ fromPort: FS_CUSTOMER_PORT, fromUser: CUSTOMER, to: DID, server: env().carrierSipServer, rtpPort: rtpPort++, steps: [{ pauseMs: LEAD_MS }, { key: '3', via }], endTimeoutMs: 40_000 });
        assert.equal(r.finalStatus, 200);
        assert.equal((await phone.takeInvites()).length, 1, "the remembered agent's phone rang");
      } finally {
        await phone.stop();
      }
      const rows = (await surveys()).slice(before);
      const call = await lastCall('inbound');
      assert.deepEqual(rows.map((x) => [x.outcome, x.dtmfKey, x.direction, x.callChannelId]), [['rated', '3', 'inbound', call.channelId]], via);
      assert.equal(call.hungUpBy, 'agent', via);
      // The talk was the agent's 0.7 s; the survey after it (several seconds) is not talk.
      assert.ok(call.talkSeconds !== null && call.talkSeconds <= 2, `${via}: talk ${call.talkSeconds} s`);
      assert.equal(call.hangupCause, 16, `${via}: a survey ends with a normal clearing`);
    }
  });
});

describe('number protection on a call by customer ID (FreeSWITCH)', () => {
  let ids: CustomerIdServer;
  beforeAll(async () => {
    ids = await startCustomerIdServer({ [CUSTOMER]: 'C-1001' });
    await running.apply(policy({ memory: '{ mode: agent-first, ringSeconds: 5 }', protection: `{ mode: customer-id, customerId: { url: "${ids.url}", dialPrefix: "*9" } }` }).replace(/survey:[\s\S]*?groups:/, 'groups:'));
  });
  afterAll(() => ids?.close());

  test("the agent dials *9C-1001: the trunk gets the real number, the agent's phone never sees it", async () => {
    const trunk = await startTrunk({ port: FS_TRUNK_PORT, holdMs: 60_000 });
    try {
      const r = await fsPlaceCall(FS_AGENT_ONE, '*9C-1001', { holdMs: 500, collectMessages: true });
      assert.equal(r.finalStatus, 200);
      const invite = await trunk.nextInvite(3000);
      assert.equal(decodeURIComponent(invite.toUser), CUSTOMER, 'the trunk dialled the real number');
      assertNoLeaks(r.received!, CUSTOMER, undefined, "the agent's phone (call by customer ID)");
    } finally {
      await trunk.stop();
    }
  });
});
