// Call memory end to end: an agent calls a customer through the trunk (sipp agent phone ->
// Asterisk -> adapter -> sipp trunk); later the customer calls in through the trunk (sipp on the
// customer port, identified as the trunk) and the test asserts which phone rang: the agent's or
// the IVR's (or the voicemail's), and what the database recorded. Real Asterisk, real
// PostgreSQL, real SIP.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { desc, eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, test } from 'vitest';
import type { Adapter } from '../../src/adapter.js';
import { setAgentPaused } from '../../src/store/load-policy.js';
import { calls } from '../../src/store/schema/index.js';
import { placeCall, runLoad, startAgentPhone, startTrunk, type CallResult, type ReceivedInvite, type Trunk } from '../sandbox/sipp.js';
import { ariGet, assertNoChannelsLeft } from './ari-checks.js';
import { callThrough, startInProcessAdapter, type InProcessAdapter } from './asterisk-harness.js';
import { integrationEnv } from './env.js';
import { runCli } from '../support/fault-rig.js';
import { seedRememberedCall } from '../support/remembered-call.js';
import { waitFor } from '../contract/outbound-port-contract.js';
import { AGENT_ONE, AGENT_TWO, CUSTOMER_PORT, CUSTOMER_PORT_2, IVR_PHONE, OFFLINE_AGENT, TRUNK_PORT, VOICEMAIL_PHONE } from './topology.js';

const env = integrationEnv();
/** The number customers dial (any DID: the test IVR answers them all at s). */
const DID = '+15550001000';

const policy = (memory: string, trunkCountry = 'US') => `
defaultCountry: US
callerId: { strategy: group }
trunks:
  trunk: { country: ${trunkCountry} }
memory: ${memory}
groups: [sales]
numbers:
  - { number: "+14155550100", groups: [sales] }
agents:
  - { id: alice, endpoint: PJSIP/${AGENT_ONE.endpoint}, groups: [sales] }
  - { id: bob, endpoint: PJSIP/${AGENT_TWO.endpoint}, groups: [sales] }
  - { id: dave, endpoint: PJSIP/${OFFLINE_AGENT.endpoint}, groups: [sales] }
`;

let running: InProcessAdapter;
let adapter: Adapter;
let trunk: Trunk;
let ivr: Trunk;

/** An outbound call the agent placed to the customer, `hoursAgo` (written as the adapter would). */
function rememberCall(agentId: string, endpoint: string, customer: string, hoursAgo: number, answered = true): Promise<void> {
  return seedRememberedCall(adapter.db.db, { pbx: 'asterisk', agentId, endpoint, customer, hoursAgo, answered });
}

/** The customer calls the DID from `callerNumber` through the trunk. */
function customerCalls(callerNumber: string, holdMs = 300, timeoutMs?: number): Promise<CallResult> {
  return placeCall({ fromPort: CUSTOMER_PORT, fromUser: callerNumber, to: DID, server: env.sipServer, holdMs, timeoutMs });
}

/** The latest call record of a direction (queued records written first). */
async function lastCall(direction: 'inbound' | 'outbound') {
  await adapter.flushRecords();
  const [row] = await adapter.db.db.select().from(calls).where(eq(calls.direction, direction)).orderBy(desc(calls.decidedAt)).limit(1);
  assert.ok(row, `the ${direction} call was recorded`);
  return row;
}

const lastInbound = () => lastCall('inbound');

/** Waits until the latest record of a direction has its end (the h extension's or hangup handler's report). */
async function lastEnded(direction: 'inbound' | 'outbound') {
  for (let i = 0; i < 40; i++) {
    const row = await lastCall(direction);
    if (row.endedAt) return row;
    await sleep(100);
  }
  throw new Error(`the ${direction} call end was not recorded within 4 s`);
}

const lastInboundEnded = () => lastEnded('inbound');
const lastOutboundEnded = () => lastEnded('outbound');

function fromUsers(invites: ReceivedInvite[]): string[] {
  return invites.map((i) => i.fromUser);
}

beforeAll(async () => {
  running = await startInProcessAdapter();
  adapter = running.adapter;
  trunk = await startTrunk({ port: TRUNK_PORT, holdMs: 200 });
  ivr = await startAgentPhone({ port: IVR_PHONE.port, holdMs: 60_000 });
});
afterAll(async () => {
  await ivr?.stop();
  await trunk?.stop();
  await running?.stop();
});
beforeEach(async () => {
  await ivr.takeInvites();
});
afterEach(() => assertNoChannelsLeft(5000));

describe('agent-first (mode 2)', () => {
  beforeAll(() => running.apply(policy('{ mode: agent-first, ringSeconds: 5 }')));

  test('a customer the agent called through the trunk calls back in each number form: the agent rings, not the IVR', async () => {
    // The agent's phone places the call first, then (same port) waits for calls.
    const out = await callThrough(trunk, AGENT_ONE, '+14155550123');
    assert.equal(out.view?.destination, '+14155550123');
    await adapter.flushRecords();
    const phone = await startAgentPhone({ port: AGENT_ONE.port });
    try {
      for (const form of ['+14155550123', '14155550123', '4155550123']) {
        const call = await customerCalls(form);
        assert.equal(call.finalStatus, 200, form);
        const invite = await phone.nextInvite(3000);
        assert.equal(invite.toUser, AGENT_ONE.endpoint, form);
        assert.equal(invite.fromUser, form, 'the agent sees the number as the trunk presented it');
        const row = await lastInboundEnded();
        assert.deepEqual(
          [row.reason, row.agentId, row.customerE164, row.action, row.hungUpBy, row.answeredAt !== null],
          ['memory_hit', 'alice', '+14155550123', 'dial', 'customer', true],
          form,
        );
      }
      await ivr.expectNoInvite(300);
    } finally {
      await phone.stop();
    }
  });

  test('a customer nobody called, a withheld number, and a call older than the window go to the IVR', async () => {
    await rememberCall('alice', 'PJSIP/1001', '+14155550177', 73); // window: 72 h
    // The look-up reads the window only (one index probe): an older call is no call.
    for (const [caller, reason] of [
      ['+14155550166', 'memory_miss:no_outbound_call'],
      ['anonymous', 'memory_miss:withheld'],
      ['+14155550177', 'memory_miss:no_outbound_call'],
    ] as const) {
      const call = await customerCalls(caller);
      assert.equal(call.finalStatus, 200, caller);
      assert.deepEqual(fromUsers([await ivr.nextInvite(3000)]), [caller]);
      assert.equal((await lastInbound()).reason, reason, caller);
    }
  });

  test('a call inside the window (71 h ago) still counts', async () => {
    const phone = await startAgentPhone({ port: AGENT_TWO.port });
    try {
      await rememberCall('bob', 'PJSIP/1002', '+14155550188', 71);
      assert.equal((await customerCalls('+14155550188')).finalStatus, 200);
      assert.equal((await phone.nextInvite(3000)).toUser, AGENT_TWO.endpoint);
    } finally {
      await phone.stop();
    }
  });

  test('the agent is busy in another call: the IVR at once', async () => {
    const phone = await startAgentPhone({ port: AGENT_TWO.port, holdMs: 60_000 });
    try {
      await rememberCall('bob', 'PJSIP/1002', '+14155550199', 1);
      // Another customer's call keeps bob's phone busy (the harness dials him directly).
      const other = placeCall({ fromPort: CUSTOMER_PORT_2, fromUser: '+14155550000', to: `agent-${AGENT_TWO.endpoint}`, server: env.sipServer, holdMs: 4000 });
      await phone.nextInvite(3000);
      await waitForEndpointChannels(`PJSIP/${AGENT_TWO.endpoint}`, 1);
      const started = Date.now();
      const call = customerCalls('+14155550199');
      const atIvr = await ivr.nextInvite(3000);
      assert.equal(atIvr.fromUser, '+14155550199');
      assert.ok(Date.now() - started < 1500, 'no ring at the busy agent first');
      assert.equal((await call).finalStatus, 200);
      assert.equal((await other).finalStatus, 200);
      assert.equal((await phone.takeInvites()).length, 0, 'the busy agent was not rung');
      assert.equal((await lastInbound()).reason, 'memory_miss:agent_busy');
    } finally {
      await phone.stop();
    }
  });

  test('the agent is not registered: the IVR', async () => {
    await rememberCall('dave', `PJSIP/${OFFLINE_AGENT.endpoint}`, '+14155550211', 2);
    assert.equal((await customerCalls('+14155550211')).finalStatus, 200);
    assert.equal((await ivr.nextInvite(3000)).fromUser, '+14155550211');
    assert.equal((await lastInbound()).reason, 'memory_miss:agent_offline');
  });

  test('the agent does not answer: one ring cycle (5 s here), then the IVR; the record says so', async () => {
    const phone = await startAgentPhone({ port: AGENT_ONE.port, mode: 'ring' });
    try {
      await rememberCall('alice', 'PJSIP/1001', '+14155550222', 5);
      const call = customerCalls('+14155550222', 300, 20_000);
      const rang = await phone.nextInvite(3000);
      const atIvr = await ivr.nextInvite(9000);
      const ringMs = atIvr.receivedAt - rang.receivedAt;
      assert.ok(ringMs > 4500 && ringMs < 6500, `the agent rang ${ringMs} ms before the IVR`);
      assert.equal((await call).finalStatus, 200);
      const row = await lastInboundEnded();
      assert.deepEqual([row.reason, row.agentId, row.noAnswerRoute], ['memory_hit', 'alice', 'ivr']);
    } finally {
      await phone.stop();
    }
  });

  test('the agent rejects the call (486): the IVR at once', async () => {
    const phone = await startAgentPhone({ port: AGENT_ONE.port, mode: 'busy' });
    try {
      await rememberCall('alice', 'PJSIP/1001', '+14155550288', 3);
      const call = customerCalls('+14155550288');
      const rang = await phone.nextInvite(3000);
      const atIvr = await ivr.nextInvite(3000);
      assert.ok(atIvr.receivedAt - rang.receivedAt < 1000, `the IVR rang ${atIvr.receivedAt - rang.receivedAt} ms after the agent's phone refused`);
      assert.equal((await call).finalStatus, 200);
      const row = await lastInboundEnded();
      assert.deepEqual([row.reason, row.noAnswerRoute], ['memory_hit', 'ivr']);
    } finally {
      await phone.stop();
    }
  });

  test('a paused agent is skipped until the pause ends', async () => {
    const phone = await startAgentPhone({ port: AGENT_ONE.port });
    try {
      await rememberCall('alice', 'PJSIP/1001', '+14155550233', 1);
      await setAgentPaused(adapter.db.db, 'alice', true, 'lunch');
      await adapter.reload();
      assert.equal((await customerCalls('+14155550233')).finalStatus, 200);
      assert.equal((await ivr.nextInvite(3000)).fromUser, '+14155550233');
      assert.equal((await lastInbound()).reason, 'memory_miss:agent_paused');

      await setAgentPaused(adapter.db.db, 'alice', false);
      await adapter.reload();
      assert.equal((await customerCalls('+14155550233')).finalStatus, 200);
      assert.equal((await phone.nextInvite(3000)).toUser, AGENT_ONE.endpoint);
    } finally {
      await phone.stop();
    }
  });
});

describe('the administrator: callpolicy explain inbound, pause, unpause', () => {
  beforeAll(() => running.apply(policy('{ mode: agent-first, ringSeconds: 5 }')));
  const cli = (...args: string[]) =>
    runCli({ ...process.env, DATABASE_URL: running.databaseUrl, ARI_URL: env.ariUrl, ARI_USER: env.ariUser, ARI_PASSWORD: env.ariPassword, LOG_LEVEL: 'silent' }, ...args);

  test('explain says where a call would go now and why, asking the PBX about the agent, without placing a call', async () => {
    await rememberCall('alice', 'PJSIP/1001', '+14155550311', 2);
    await rememberCall('bob', 'PJSIP/1002', '+14155550312', 80);
    const hit = cli('explain', 'inbound', '4155550311');
    assert.match(hit, /last call: agent alice, 2\.0 h ago, answered/);
    assert.match(hit, /agent now: registered, not in a call \(asked the PBX\)/);
    assert.match(hit, /route: +ring agent alice \(PJSIP\/1001\) for 5 s; no answer: the IVR/);
    assert.doesNotMatch(hit, /4155550311/, 'the number is masked (privacy.maskNumbersInLogs)');
    const old = cli('explain', 'inbound', '+14155550312');
    assert.match(old, /last call: agent bob, 80\.0 h ago \(outside the window\)/);
    assert.match(old, /route: +the IVR, because the last call from an agent is older than the window/);
    assert.match(cli('explain', 'inbound', 'anonymous'), /the IVR, because the caller withheld the number/);
    const json = JSON.parse(cli('explain', 'inbound', '+14155550311', '--json')) as { decision: { kind: string; agentId: string } };
    assert.deepEqual([json.decision.kind, json.decision.agentId], ['agent', 'alice']);
    await adapter.flushRecords();
    assert.equal((await adapter.db.db.select().from(calls).where(eq(calls.direction, 'inbound'))).filter((r) => r.customerE164 === '+14155550311').length, 0, 'no call was placed');
  });

  test('pause and unpause from the CLI reach the running adapter (NOTIFY), and explain tells', async () => {
    await rememberCall('alice', 'PJSIP/1001', '+14155550322', 1);
    assert.equal(cli('pause', 'alice', '--note', 'lunch'), 'alice: paused');
    assert.match(cli('pauses'), /alice {2}lunch/);
    assert.match(cli('explain', 'inbound', '+14155550322'), /the IVR, because the agent is paused/);
    await waitFor(() => adapter.policy().pausedAgents.has('alice'), 5000);
    assert.equal((await customerCalls('+14155550322')).finalStatus, 200);
    assert.equal((await ivr.nextInvite(3000)).fromUser, '+14155550322');
    assert.match(cli('calls', '-n', '1'), /inbound {2}from \+1 415\*{4}322 {2}to the IVR {2}memory_miss:agent_paused/);
    assert.equal(cli('unpause', 'alice'), 'alice: available');
    await waitFor(() => !adapter.policy().pausedAgents.has('alice'), 5000);
    assert.throws(() => cli('pause', 'nobody'), /unknown agent 'nobody'/);
  });
});

describe('a Chinese trunk: every national form is one customer', () => {
  beforeAll(() => running.apply(policy('{ mode: agent-first }', 'CN')));

  test('+86..., 0086..., 0... and the bare mobile number reach the agent who called +8613800138000', async () => {
    const out = await callThrough(trunk, AGENT_TWO, '+8613800138000');
    assert.equal(out.view?.destination, '+8613800138000');
    await adapter.flushRecords();
    const phone = await startAgentPhone({ port: AGENT_TWO.port });
    try {
      for (const form of ['+8613800138000', '008613800138000', '013800138000', '13800138000']) {
        assert.equal((await customerCalls(form)).finalStatus, 200, form);
        assert.equal((await phone.nextInvite(3000)).toUser, AGENT_TWO.endpoint, form);
      }
    } finally {
      await phone.stop();
    }
  });
});

describe('only-agent (mode 1)', () => {
  test('the agent does not answer: the voicemail extension the policy names', async () => {
    await running.apply(policy('{ mode: only-agent, ringSeconds: 5, finalDestination: { kind: voicemail, extension: "2001" } }'));
    const phone = await startAgentPhone({ port: AGENT_ONE.port, mode: 'ring' });
    const voicemail = await startAgentPhone({ port: VOICEMAIL_PHONE.port });
    try {
      await rememberCall('alice', 'PJSIP/1001', '+14155550244', 1);
      const call = customerCalls('+14155550244', 300, 20_000);
      await phone.nextInvite(3000);
      const vm = await voicemail.nextInvite(9000);
      assert.equal(vm.fromName, 'voicemail 2001');
      assert.equal((await call).finalStatus, 200);
      await ivr.expectNoInvite(200);
      const row = await lastInboundEnded();
      assert.deepEqual([row.reason, row.noAnswerRoute], ['memory_hit', 'voicemail']);
    } finally {
      await voicemail.stop();
      await phone.stop();
    }
  });

  test('the agent is busy: the caller waits, and is put through when the agent hangs up', async () => {
    await running.apply(policy('{ mode: only-agent, ringSeconds: 10, waitSeconds: 30 }'));
    const phone = await startAgentPhone({ port: AGENT_TWO.port, holdMs: 60_000 });
    try {
      await rememberCall('bob', 'PJSIP/1002', '+14155550255', 1);
      const other = placeCall({ fromPort: CUSTOMER_PORT_2, fromUser: '+14155550000', to: `agent-${AGENT_TWO.endpoint}`, server: env.sipServer, holdMs: 3000 });
      await phone.nextInvite(3000);
      await waitForEndpointChannels(`PJSIP/${AGENT_TWO.endpoint}`, 1);
      // Answered at once (music); the customer stays 8 s, long enough to be put through after 3.
      const waiting = customerCalls('+14155550255', 8000, 30_000);
      await (await other);
      const putThrough = await phone.nextInvite(8000);
      assert.equal(putThrough.fromUser, '+14155550255');
      assert.equal((await waiting).finalStatus, 200);
      await ivr.expectNoInvite(200);
      assert.equal((await lastInbound()).reason, 'memory_hit_wait:busy');
    } finally {
      await phone.stop();
    }
  });

  test('the agent is offline and stays so: after the wait, a goodbye (the PBX hangs up)', async () => {
    await running.apply(policy('{ mode: only-agent, waitSeconds: 5 }'));
    await rememberCall('dave', `PJSIP/${OFFLINE_AGENT.endpoint}`, '+14155550266', 1);
    const started = Date.now();
    const call = await customerCalls('+14155550266', 20_000, 30_000);
    const took = Date.now() - started;
    assert.equal(call.finalStatus, 200, 'answered, to wait with music');
    assert.equal(call.hungUpBy, 'remote');
    assert.ok(took > 4500 && took < 9000, `the wait lasted ${took} ms`);
    await ivr.expectNoInvite(200);
    const row = await lastInboundEnded();
    assert.deepEqual([row.reason, row.noAnswerRoute, row.hungUpBy], ['memory_hit_wait:offline', 'goodbye', 'pbx']);
  });
});

describe('only-agent (mode 1), paused', () => {
  test('a paused agent whose phone is free is never rung: the caller waits, then the goodbye', async () => {
    await running.apply(policy('{ mode: only-agent, waitSeconds: 5 }'));
    const phone = await startAgentPhone({ port: AGENT_ONE.port });
    try {
      await rememberCall('alice', 'PJSIP/1001', '+14155550277', 1);
      await setAgentPaused(adapter.db.db, 'alice', true);
      await adapter.reload();
      const call = await customerCalls('+14155550277', 20_000, 30_000);
      assert.deepEqual([call.finalStatus, call.hungUpBy], [200, 'remote']);
      assert.equal((await phone.takeInvites()).length, 0, 'the paused agent was not rung');
      const row = await lastInboundEnded();
      assert.deepEqual([row.reason, row.noAnswerRoute], ['memory_hit_wait:paused', 'goodbye']);
    } finally {
      await setAgentPaused(adapter.db.db, 'alice', false);
      await adapter.reload();
      await phone.stop();
    }
  });
});

describe('outbound records: answered, and who hung up first', () => {
  beforeAll(() => running.apply(policy('{ mode: off }')));

  test('the agent hangs up first', async () => {
    await callThrough(trunk, AGENT_ONE, '+14155550300', { holdMs: 100 });
    const row = await lastOutboundEnded();
    assert.deepEqual([row.dialStatus, row.answeredAt !== null, row.hungUpBy], ['ANSWER', true, 'agent']);
  });

  test('the customer hangs up first', async () => {
    // The trunk (customer side) hangs up 200 ms after answering; the agent would stay 3 s.
    await callThrough(trunk, AGENT_ONE, '+14155550301', { holdMs: 3000 });
    const row = await lastOutboundEnded();
    assert.deepEqual([row.dialStatus, row.answeredAt !== null, row.hungUpBy], ['ANSWER', true, 'customer']);
  });

  test('memory off: a customer an agent called goes to the IVR', async () => {
    assert.equal((await customerCalls('+14155550300')).finalStatus, 200);
    assert.equal((await ivr.nextInvite(3000)).fromUser, '+14155550300');
    assert.equal((await lastInbound()).reason, 'memory_miss:memory_off');
  });
});

describe('the adapter is stopped', () => {
  test('every inbound call goes to the IVR, none fails', async () => {
    await running.apply(policy('{ mode: agent-first }'));
    await rememberCall('alice', 'PJSIP/1001', '+14155550123', 1);
    // The PBX link closed, as when the adapter is killed (its app is no longer registered).
    await adapter.port.stop();
    const load = await runLoad({ fromPort: CUSTOMER_PORT, fromUser: '+14155550123', to: DID, rate: 5, calls: 20, holdMs: 100, server: env.sipServer });
    assert.equal(load.failed, 0);
    assert.equal(load.succeeded, 20);
    assert.equal((await ivr.takeInvites()).length, 20);
  });
});


/** Until ARI shows the endpoint with `count` channels (the PBX sees the agent busy). */
async function waitForEndpointChannels(endpoint: string, count: number): Promise<void> {
  const [tech, resource] = endpoint.split('/');
  for (let i = 0; i < 50; i++) {
    const e = await ariGet<{ channel_ids: string[] }>(`/endpoints/${tech}/${resource}`);
    if (e.channel_ids.length >= count) return;
    await sleep(50);
  }
  throw new Error(`${endpoint} never had ${count} channel(s)`);
}

