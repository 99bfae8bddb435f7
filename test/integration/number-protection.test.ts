// Number protection end to end (issue 9): real Asterisk, real SIP from sipp, real PostgreSQL, and
// the customer-ID interface as a real HTTP server. Every SIP message that the agent's sipp
// received (every header, SDP included) is searched for the customer's real number in every form
// it can take, and for the hidden digits with a neighbour: inbound through the site's IVR,
// memory-routed inbound, outbound (the trunk sends the callee's identity in 180/200 and a
// mid-call UPDATE), call by customer ID; with the interface answering, down, slow and returning
// garbage. Controls with protection off show that the same search does find the number.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { desc, eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, test } from 'vitest';
import { createLogger } from '../../src/log.js';
import { maskNumber } from '../../src/phone/mask-number.js';
import { calls } from '../../src/store/schema/index.js';
import { placeCall, runLoad, startAgentPhone, startTrunk, type ReceivedInvite, type Trunk } from '../sandbox/sipp.js';
import { findLeaks } from '../support/sip-leaks.js';
import { startCustomerIdServer, type CustomerIdServer } from '../support/customer-id-server.js';
import { runCli } from '../support/fault-rig.js';
import { seedRememberedCall } from '../support/remembered-call.js';
import { ariGet, assertNoChannelsLeft } from './ari-checks.js';
import { startInProcessAdapter, type InProcessAdapter } from './asterisk-harness.js';
import { integrationEnv } from './env.js';
import { AGENT_PAI, AGENT_PAI_TWO, CUSTOMER_PORT, CUSTOMER_PORT_2, OUTSIDE_LINE, TRUNK_PORT } from './topology.js';

const env = integrationEnv();
const AUTH = 'Bearer test-secret-4b1d';
/** A customer with an ID at the interface, one without, and what the trunk reveals on outbound calls. */
const CUSTOMER = '+8613800138000';
const CUSTOMER_ID = 'C-1001';
const STRANGER = '+8613912345678';
const FORWARDED_TO = '+8613722334455';
const UPDATED_TO = '+8618655667788';
const PREFIX = '*9';
const DID = '+861062345000';

let server: CustomerIdServer;
let running: InProcessAdapter;
const logs: string[] = [];

function policy(protection: string): string {
  return `
defaultCountry: CN
callerId: { strategy: group }
trunks:
  trunk: { country: CN }
memory: { mode: agent-first, ringSeconds: 5 }
protection: ${protection}
groups: [sales]
numbers:
  - { number: "+861062345678", groups: [sales] }
agents:
  - { id: alice, endpoint: PJSIP/${AGENT_PAI.endpoint}, groups: [sales] }
  - { id: bob, endpoint: PJSIP/${AGENT_PAI_TWO.endpoint}, groups: [sales] }
`;
}
const MASK = '{ mode: mask }';
const customerIdMode = (timeoutMs = 400) =>
  `{ mode: customer-id, customerId: { url: "${server.url}", authHeader: Authorization, timeoutMs: ${timeoutMs}, cacheSeconds: 0, negativeCacheSeconds: 0, dialPrefix: "${PREFIX}" } }`;

/** The masked national form the agent may see. */
const masked = (e164: string) => maskNumber(e164).national;

function assertClean(messages: string[], e164: string, what: string): void {
  assert.ok(messages.length > 0, `${what}: the agent's phone received SIP messages`);
  const leaks = findLeaks(messages, e164, masked(e164));
  assert.deepEqual(
    leaks.map((l) => `${l.form} in message ${l.messageIndex}: ${l.excerpt}`),
    [],
    `${what}: the agent's phone received ${e164} (or its hidden digits)`,
  );
}

/** The identity an agent's INVITE carries in From, P-Asserted-Identity and Remote-Party-ID. */
function identity(invite: ReceivedInvite): { from: string; fromName: string; pai: string | null; paiName: string | null; rpid: string | undefined } {
  return { from: invite.fromUser, fromName: invite.fromName, pai: invite.paiUser, paiName: invite.paiName, rpid: invite.headers['remote-party-id']?.[0] };
}

/** A customer calls `to` from `from` through the trunk; the agent's phone on `port` answers; returns what that phone received. */
async function customerCallsAgent(from: string, to: string, agentPort: number): Promise<{ invite: ReceivedInvite; messages: string[] }> {
  const phone = await startAgentPhone({ port: agentPort, holdMs: 60_000, scenario: 'uas-answer-tolerant.xml' });
  try {
    const call = await placeCall({ fromPort: CUSTOMER_PORT, fromUser: from, to, server: env.sipServer, holdMs: 600 });
    assert.equal(call.finalStatus, 200, `the customer's call to ${to} was answered`);
    const invite = await phone.nextInvite(3000);
    await sleep(300);
    return { invite, messages: await phone.receivedMessages() };
  } finally {
    await phone.stop();
  }
}

/** An outbound call by the agent to `dialed`; the trunk reveals other identities; returns the agent's received messages and the trunk's INVITE. */
async function agentCalls(trunk: Trunk, dialed: string): Promise<{ status: number; messages: string[]; invite: ReceivedInvite | null }> {
  await trunk.takeInvites();
  const call = await placeCall({ fromPort: AGENT_PAI.port, fromUser: AGENT_PAI.endpoint, fromName: AGENT_PAI.name, to: dialed, server: env.sipServer, holdMs: 1500, collectMessages: true, scenario: 'agent-call-tolerant.xml' });
  const invites = await trunk.takeInvites();
  return { status: call.finalStatus, messages: call.received ?? [], invite: invites[0] ?? null };
}

/**
 * Received messages without the dialog's own addresses: on an outbound call To (in responses) and
 * From (in Asterisk's in-dialog requests, which swap them) echo the URI the agent itself dialled.
 */
const withoutDialogEcho = (messages: string[], dialed: string) =>
  messages.map((m) => m.replace(/^(To|t|From|f):.*$/gim, (line) => (line.includes(`sip:${dialed}@`) ? 'Echo: (removed)' : line)));

/** The trunk answers revealing `number` (PAI and RPID in 180/200), then `updated` in an UPDATE 300 ms into the call. */
function identityTrunk(name: string, number: string, updated: string): Promise<Trunk> {
  return startTrunk({ port: TRUNK_PORT, holdMs: 60_000, scenario: 'uas-answer-identity.xml', vars: { ID_NAME: name, ID_NUMBER: number, ID2_NUMBER: updated, UPDATE_AFTER_MS: '300' } });
}

async function lastCall(direction: 'inbound' | 'outbound') {
  await running.adapter.flushRecords();
  const [row] = await running.adapter.db.db.select().from(calls).where(eq(calls.direction, direction)).orderBy(desc(calls.decidedAt)).limit(1);
  assert.ok(row, `the ${direction} call was recorded`);
  return row;
}

beforeAll(async () => {
  server = await startCustomerIdServer({ [CUSTOMER]: CUSTOMER_ID });
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  running = await startInProcessAdapter({ env: { CALLPOLICY_CUSTOMER_ID_AUTH: AUTH }, logger: createLogger('debug', stream) });
});
afterAll(async () => {
  await running?.stop();
  await server?.close();
});
afterEach(() => assertNoChannelsLeft(5000));

describe('inbound through the site IVR (the b(callpolicy-protect) recipe)', () => {
  const to = `protected-agent-${AGENT_PAI.endpoint}`;

  test('control, protection off: the same search finds the number the agent received', async () => {
    await running.apply(policy('{ mode: off }'));
    const { invite, messages } = await customerCallsAgent(CUSTOMER, to, AGENT_PAI.port);
    assert.equal(invite.fromUser, CUSTOMER);
    assert.ok(findLeaks(messages, CUSTOMER, masked(CUSTOMER)).length > 0, 'the search finds the real number when nothing protects it');
  });

  test('mask: From, PAI and RPID carry 138****8000, and no message holds the real number', async () => {
    await running.apply(policy(MASK));
    const { invite, messages } = await customerCallsAgent(CUSTOMER, to, AGENT_PAI.port);
    const id = identity(invite);
    assert.equal(id.from, '138****8000');
    assert.equal(id.fromName, '+86 138****8000');
    assert.equal(id.pai, '138****8000');
    assert.match(id.rpid ?? '', /138\*\*\*\*8000/);
    assertClean(messages, CUSTOMER, 'mask, IVR');
    // Each form the trunk may present: E.164, national with trunk prefix, digits only.
    for (const form of ['013800138000', '8613800138000']) {
      const again = await customerCallsAgent(form, to, AGENT_PAI.port);
      assert.equal(again.invite.fromUser, '138****8000', form);
      assertClean(again.messages, CUSTOMER, `mask, IVR, caller as ${form}`);
    }
    // A NANP and a British number from abroad: four digits hidden, nothing more shown (short numbers: unit tests).
    for (const [caller, shown] of [['+14155550123', '415****123'], ['+442071838750', '207****750']] as const) {
      const other = await customerCallsAgent(caller, to, AGENT_PAI.port);
      assert.equal(other.invite.fromUser, shown, caller);
      assert.equal(other.invite.fromUser, masked(caller), caller);
      assertClean(other.messages, caller, `mask, IVR, caller ${caller}`);
    }
  });

  test('customer-id: the agent sees the ID (and the prefix to call back); a number without an ID: masked', async () => {
    await running.apply(policy(customerIdMode()));
    const { invite, messages } = await customerCallsAgent(CUSTOMER, to, AGENT_PAI.port);
    assert.deepEqual([invite.fromUser, invite.fromName, invite.paiUser], [`${PREFIX}${CUSTOMER_ID}`, CUSTOMER_ID, `${PREFIX}${CUSTOMER_ID}`]);
    assertClean(messages, CUSTOMER, 'customer-id, IVR');
    assert.ok(server.requests.some((r) => r.query === `number=${encodeURIComponent(CUSTOMER)}` && r.auth === AUTH), 'asked the interface with the secret from the environment');
    const other = await customerCallsAgent(STRANGER, to, AGENT_PAI.port);
    assert.equal(other.invite.fromUser, masked(STRANGER));
    assertClean(other.messages, STRANGER, 'customer-id, no such customer');
  });

  for (const mode of ['down', 'slow', 'garbage'] as const) {
    test(`customer-id with the interface ${mode}: the agent sees the masked number, the call is not held up`, async () => {
      await running.apply(policy(customerIdMode(400)));
      const stopped = mode === 'down' ? await stopServerFor() : undefined;
      if (mode === 'slow') server.mode = 'slow';
      if (mode === 'garbage') server.mode = 'garbage';
      try {
        const started = Date.now();
        const { invite, messages } = await customerCallsAgent(CUSTOMER, to, AGENT_PAI.port);
        assert.equal(invite.fromUser, '138****8000');
        assertClean(messages, CUSTOMER, `interface ${mode}`);
        assert.ok(Date.now() - started < 2500 + 600 + 1000, 'within the interface limit, not the PBX wait');
      } finally {
        server.mode = 'ok';
        await stopped?.();
      }
    });
  }
});

/** Points the policy at a closed port for one test (the interface is down). */
async function stopServerFor(): Promise<() => Promise<void>> {
  const url = server.url;
  await running.apply(policy(customerIdMode(400).replace(url, 'http://127.0.0.1:9/customer-id')));
  return async () => {
    await running.apply(policy(customerIdMode(400)));
  };
}

describe('memory-routed inbound (the adapter rings the agent)', () => {
  test('the remembered agent is rung with the protected form; the record keeps the real number', async () => {
    await running.apply(policy(customerIdMode()));
    await seedRemembered('bob', `PJSIP/${AGENT_PAI_TWO.endpoint}`, CUSTOMER);
    const { invite, messages } = await customerCallsAgent(CUSTOMER, DID, AGENT_PAI_TWO.port);
    assert.equal(invite.fromUser, `${PREFIX}${CUSTOMER_ID}`);
    assertClean(messages, CUSTOMER, 'memory-routed');
    const row = await lastCall('inbound');
    assert.deepEqual([row.reason, row.agentId, row.customerE164], ['memory_hit', 'bob', CUSTOMER]);
  });
});

/** An answered outbound call an hour ago by `agentId` to `customer`, as the adapter would have recorded it. */
function seedRemembered(agentId: string, endpoint: string, customer: string): Promise<void> {
  return seedRememberedCall(running.adapter.db.db, { pbx: 'asterisk', agentId, endpoint, customer, callerId: '+861062345678' });
}

describe('memory-routed inbound, only-agent: the caller waits for the busy agent', () => {
  test('put through when the phone is free, with only the masked caller', async () => {
    await running.apply(policy(MASK).replace('memory: { mode: agent-first, ringSeconds: 5 }', 'memory: { mode: only-agent, ringSeconds: 10, waitSeconds: 30 }'));
    await seedRemembered('bob', `PJSIP/${AGENT_PAI_TWO.endpoint}`, STRANGER);
    const phone = await startAgentPhone({ port: AGENT_PAI_TWO.port, holdMs: 60_000, scenario: 'uas-answer-tolerant.xml' });
    try {
      // Another call keeps the phone busy for 3 s (straight to the phone, not through the adapter).
      const other = placeCall({ fromPort: CUSTOMER_PORT_2, fromUser: '+8613711112222', to: `agent-${AGENT_PAI_TWO.endpoint}`, server: env.sipServer, holdMs: 3000 });
      await phone.nextInvite(3000);
      for (let i = 0; i < 50 && (await ariGet<{ channel_ids: string[] }>(`/endpoints/PJSIP/${AGENT_PAI_TWO.endpoint}`)).channel_ids.length === 0; i++) await sleep(50);
      const waiting = placeCall({ fromPort: CUSTOMER_PORT, fromUser: STRANGER, to: DID, server: env.sipServer, holdMs: 8000, timeoutMs: 30_000 });
      await other;
      const putThrough = await phone.nextInvite(8000);
      assert.deepEqual([putThrough.fromUser, putThrough.paiUser], [masked(STRANGER), masked(STRANGER)]);
      assert.equal((await waiting).finalStatus, 200);
      assertClean(await phone.receivedMessages(), STRANGER, 'only-agent wait, put through');
      assert.equal((await lastCall('inbound')).reason, 'memory_hit_wait:busy');
    } finally {
      await phone.stop();
    }
  });
});

describe('outbound: the trunk reveals the callee (PAI in 180/200, an UPDATE mid-call)', () => {
  let trunk: Trunk;
  beforeAll(async () => {
    trunk = await identityTrunk('Forwarded', FORWARDED_TO, UPDATED_TO);
  });
  afterAll(() => trunk?.stop());

  test('control, protection off: what the trunk reveals reaches the agent', async () => {
    await running.apply(policy('{ mode: off }'));
    const { status, messages } = await agentCalls(trunk, `${OUTSIDE_LINE}${CUSTOMER}`);
    assert.equal(status, 200);
    const leaked = [FORWARDED_TO, UPDATED_TO].filter((n) => findLeaks(messages, n).length > 0);
    assert.ok(leaked.length > 0, 'without protection the trunk identity reaches the agent');
  });

  test('mask: nothing the trunk reveals reaches the agent, nor the dialled number beyond the echo of its own request', async () => {
    await running.apply(policy(MASK));
    const { status, messages, invite } = await agentCalls(trunk, `${OUTSIDE_LINE}${CUSTOMER}`);
    assert.equal(status, 200);
    assert.equal(invite?.toUser, CUSTOMER, 'the call went out to the real number');
    for (const n of [FORWARDED_TO, UPDATED_TO]) assertClean(messages, n, `trunk identity ${n}`);
    assertClean(withoutDialogEcho(messages, `${OUTSIDE_LINE}${CUSTOMER}`), CUSTOMER, 'the dialled number outside the echo of the dialog URI');
    // What Asterisk itself sent mid-call (never an identity update: Dial's I).
    // The trunk's UPDATE reaches the agent only as the connected-line interception rewrote it.
    const identities = messages.flatMap((m) => [...m.matchAll(/^(?:P-Asserted-Identity|Remote-Party-ID):.*<sip:([^@>]*)@/gim)].map((x) => x[1]));
    assert.ok(identities.length > 0, 'the agent received identity headers');
    assert.deepEqual([...new Set(identities)], ['138****8000'], 'every identity the agent received is the masked one');
  });
});

describe('call by customer ID', () => {
  let trunk: Trunk;
  beforeAll(async () => {
    trunk = await identityTrunk('Callee', CUSTOMER, CUSTOMER);
  });
  afterAll(() => trunk?.stop());

  test('prefix + ID: the real number is dialled with the caller ID by strategy; the agent never receives it', async () => {
    await running.apply(policy(customerIdMode()));
    const { status, messages, invite } = await agentCalls(trunk, `${PREFIX}${CUSTOMER_ID}`);
    assert.equal(status, 200);
    assert.equal(invite?.toUser, CUSTOMER, 'the trunk got the real number');
    assert.equal(invite?.fromUser, '+861062345678', 'the caller ID by strategy');
    assertClean(messages, CUSTOMER, 'call by ID (the trunk presents the callee as PAI)');
    const row = await lastCall('outbound');
    assert.deepEqual([row.customerE164, row.agentId, row.action], [CUSTOMER, 'alice', 'dial']);
  });

  test('an ID that does not resolve: a prompt, a log line, nothing dialled', async () => {
    await running.apply(policy(customerIdMode()));
    const before = logs.length;
    const { status, invite } = await agentCalls(trunk, `${PREFIX}C-9999`);
    assert.equal(status, 200, 'answered to play the prompt');
    assert.equal(invite, null, 'nothing reached the trunk');
    await trunk.expectNoInvite(300);
    const line = logs.slice(before).find((l) => l.includes('call by customer ID not placed'));
    assert.ok(line && line.includes('C-9999') && line.includes('unknown-id'), `a log line names the ID and why: ${line}`);
  });

  test('the interface down or garbage: refused as unavailable, nothing dialled', async () => {
    for (const mode of ['garbage', 'error'] as const) {
      await running.apply(policy(customerIdMode()));
      server.mode = mode;
      try {
        const before = logs.length;
        const { invite } = await agentCalls(trunk, `${PREFIX}${CUSTOMER_ID}`);
        assert.equal(invite, null, `${mode}: nothing reached the trunk`);
        assert.ok(logs.slice(before).some((l) => l.includes('call by customer ID not placed') && l.includes('id-unavailable')), `${mode}: logged`);
      } finally {
        server.mode = 'ok';
      }
    }
  });
});

describe('what administrators and logs show while protection is on', () => {
  test('no log line and no `callpolicy calls` line holds a real number', async () => {
    const all = logs.join('\n');
    for (const n of [CUSTOMER, STRANGER]) assert.deepEqual(findLeaks([all], n, masked(n)).map((l) => l.excerpt), [], `logs hold ${n}`);
    const out = await runCli({ ...process.env, DATABASE_URL: running.databaseUrl, LOG_LEVEL: 'silent' }, 'calls', '--limit', '50');
    assert.match(out, /138\*\*\*\*8000/);
    for (const n of [CUSTOMER, STRANGER]) assert.deepEqual(findLeaks([out], n, masked(n)).map((l) => l.excerpt), [], `callpolicy calls shows ${n}`);
  });
});

describe('the interface failing under a steady call rate', () => {
  test('40 inbound calls at 4/s while the interface turns slow, then garbage: every call answered, each agent INVITE the ID or the mask', async () => {
    await running.apply(policy(customerIdMode(300)));
    const phone = await startAgentPhone({ port: AGENT_PAI.port, holdMs: 60_000, scenario: 'uas-answer-tolerant.xml' });
    const before = await running.adapter.db.db.select().from(calls).where(eq(calls.direction, 'inbound'));
    try {
      const load = runLoad({ fromPort: CUSTOMER_PORT, fromUser: CUSTOMER, to: `protected-agent-${AGENT_PAI.endpoint}`, rate: 4, calls: 40, holdMs: 500, server: env.sipServer });
      await sleep(3000);
      server.mode = 'slow';
      await sleep(3000);
      server.mode = 'garbage';
      const r = await load;
      server.mode = 'ok';
      assert.deepEqual([r.succeeded, r.failed], [40, 0]);
      const invites = await phone.takeInvites();
      assert.equal(invites.length, 40);
      const shown = invites.map((i) => i.fromUser);
      assert.ok(shown.every((u) => u === `${PREFIX}${CUSTOMER_ID}` || u === '138****8000'), `only the ID or the mask: ${[...new Set(shown)].join(', ')}`);
      assert.ok(shown.includes(`${PREFIX}${CUSTOMER_ID}`) && shown.includes('138****8000'), 'both while it answered and after it failed');
      const pdd = [...r.pddMs].sort((a, b) => a - b);
      assert.ok(pdd[pdd.length - 1]! < 1500, `no call waited past the interface limit and the IVR: max PDD ${pdd[pdd.length - 1]} ms`);
      assertClean(await phone.receivedMessages(), CUSTOMER, 'under load');
      await running.adapter.flushRecords();
      const after = await running.adapter.db.db.select().from(calls).where(eq(calls.direction, 'inbound'));
      const fresh = after.filter((a) => !before.some((b) => b.channelId === a.channelId));
      assert.equal(fresh.length, 40, 'every call recorded');
      assert.ok(fresh.every((row) => row.customerE164 === CUSTOMER), 'with the real number');
    } finally {
      server.mode = 'ok';
      await phone.stop();
    }
  });
});

/** Sets a dialplan global over ARI (as [globals] in extensions.conf would). */
async function setGlobal(variable: string, value: string): Promise<void> {
  const res = await fetch(`${env.ariUrl}/ari/asterisk/variable?${new URLSearchParams({ variable, value })}`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${env.ariUser}:${env.ariPassword}`).toString('base64')}` },
  });
  assert.ok(res.ok, `set ${variable}: ${res.status}`);
}

// Last: the adapter's link is stopped here (Stasis() then fails at once, as with the adapter down).
describe('the adapter down, CALLPOLICY_NUMBER_PROTECTION=on', () => {
  let trunk: Trunk;
  beforeAll(async () => {
    await running.apply(policy(MASK));
    await running.adapter.port.stop();
    await setGlobal('CALLPOLICY_NUMBER_PROTECTION', 'on');
    trunk = await identityTrunk('Forwarded', FORWARDED_TO, UPDATED_TO);
  });
  afterAll(async () => {
    await setGlobal('CALLPOLICY_NUMBER_PROTECTION', '');
    await trunk?.stop();
  });

  test("inbound through the site IVR: the agent sees '****'", async () => {
    const { invite, messages } = await customerCallsAgent(CUSTOMER, `protected-agent-${AGENT_PAI.endpoint}`, AGENT_PAI.port);
    assert.deepEqual([invite.fromUser, invite.fromName, invite.paiUser], ['****', '****', '****']);
    assertClean(messages, CUSTOMER, 'adapter down, IVR');
  });

  test('outbound with the default caller ID: nothing the trunk reveals reaches the agent', async () => {
    const { status, messages, invite } = await agentCalls(trunk, `${OUTSIDE_LINE}${CUSTOMER}`);
    assert.equal(status, 200);
    assert.ok(invite, 'the call went out (default caller ID)');
    for (const n of [FORWARDED_TO, UPDATED_TO]) assertClean(messages, n, `adapter down, trunk identity ${n}`);
  });
});
