// With no adapter connected, agents' calls still go out, with the PBX's default caller ID, and
// nothing an agent dials can reach the trunk's dial string except digits and '+'.
// Real SIP through the sandboxed Asterisk: sipp phones on the agents' ports, a sipp trunk.
import { afterAll, afterEach, beforeAll, describe, test } from 'vitest';
import assert from 'node:assert/strict';
import { placeCall, startTrunk, type Trunk } from '../sandbox/sipp.js';
import { ariGet, assertNoChannelsLeft } from './ari-checks.js';
import { integrationEnv } from './env.js';
import { AGENT_ONE, DEFAULT_NUMBER, OUTSIDE_LINE, PLAIN_AGENT, TRUNK_PORT } from './topology.js';

const env = integrationEnv();
const CUSTOMER = '+14155550123';

/** Agents dial 9 + the number (the README's routing); the plain-outbound baseline has no prefix. */
function callFrom(agent: { port: number; endpoint: string; name: string; context?: string }, to: string, holdMs = 100) {
  const dialed = agent.context ? to : `${OUTSIDE_LINE}${to}`;
  return placeCall({ fromPort: agent.port, fromUser: agent.endpoint, fromName: agent.name, to: dialed, server: env.sipServer, holdMs });
}

beforeAll(async () => {
  const apps = await ariGet<{ name: string }[]>('/applications');
  assert.ok(
    !apps.some((a) => a.name === env.ariApp),
    `the Stasis app "${env.ariApp}" is registered: these tests need the adapter to be down`,
  );
});

afterEach(async () => {
  await assertNoChannelsLeft(3000);
});

describe('adapter down, the trunk answers', () => {
  let trunk: Trunk;
  beforeAll(async () => {
    trunk = await startTrunk({ port: TRUNK_PORT });
  });
  afterAll(async () => {
    await trunk?.stop();
  });

  test('the call goes out with the default caller ID in From and P-Asserted-Identity, not the agent name', async () => {
    await trunk.takeInvites();
    const call = await callFrom(AGENT_ONE, CUSTOMER);
    assert.equal(call.finalStatus, 200);
    assert.equal(call.hungUpBy, 'agent');

    const invite = await trunk.nextInvite(5000);
    assert.equal(invite.toUser, CUSTOMER);
    assert.equal(invite.fromUser, DEFAULT_NUMBER);
    assert.equal(invite.paiUser, DEFAULT_NUMBER, 'P-Asserted-Identity carries the default number');
    assert.notEqual(invite.fromName, AGENT_ONE.name);
    assert.notEqual(invite.paiName, AGENT_ONE.name);
    assert.doesNotMatch(invite.raw, new RegExp(AGENT_ONE.name), 'the agent name appears nowhere in the INVITE');
    assert.doesNotMatch(invite.raw, new RegExp(`sip:${AGENT_ONE.endpoint}@`), 'the agent extension is not the caller');
    assert.deepEqual(await trunk.takeInvites(), [], 'one call, one INVITE');
  });

  // What an agent's phone may send in the Request-URI user part, trying to add to the dial
  // string: '&' (a second Dial target), ',' (Dial options), escapes, parentheses.
  const injections = [
    '+1415555&0123',
    `${CUSTOMER}&PJSIP/1002`,
    '+1415555,0123',
    `${CUSTOMER},1,U(evil)`,
    '+1415555%260123',
    `${CUSTOMER}&Local/s@agents`,
  ];
  for (const dialled of injections) {
    test(`dialling ${JSON.stringify(dialled)} never reaches the trunk with anything but digits and +`, async () => {
      await trunk.takeInvites();
      const call = await callFrom(AGENT_ONE, dialled);
      // Whatever the answer, at most one INVITE reached the trunk, and only with a clean number.
      const invites = await trunk.takeInvites();
      assert.ok(invites.length <= 1, `${invites.length} INVITEs reached the trunk`);
      for (const invite of invites) {
        assert.match(invite.toUser, /^\+?[0-9]+$/, `the trunk was dialled as ${invite.requestUri}`);
        assert.doesNotMatch(invite.raw.split('\n')[0]!, /[&,%()]|PJSIP|Local/i);
        assert.equal(invite.fromUser, DEFAULT_NUMBER);
      }
      if (invites.length === 1) assert.equal(call.finalStatus, 200);
      else assert.notEqual(call.finalStatus, 200);
    });
  }

  test('"+1415555&0123" is refused (484), not filtered into +14155550123', async () => {
    await trunk.takeInvites();
    const call = await callFrom(AGENT_ONE, '+1415555&0123');
    assert.equal(call.finalStatus, 484);
    await trunk.expectNoInvite(300);
  });

  test('a dialled string that is no number is refused by the dialplan (404), not sent', async () => {
    await trunk.takeInvites();
    const call = await callFrom(AGENT_ONE, 'abc');
    assert.equal(call.finalStatus, 404);
    await trunk.expectNoInvite(300);
  });

  test('baseline context plain-outbound: fixed caller ID, direct Dial, no Stasis', async () => {
    await trunk.takeInvites();
    const call = await callFrom(PLAIN_AGENT, CUSTOMER);
    assert.equal(call.finalStatus, 200);
    const invite = await trunk.nextInvite(5000);
    assert.equal(invite.toUser, CUSTOMER);
    assert.equal(invite.fromUser, DEFAULT_NUMBER);
    assert.equal(invite.paiUser, DEFAULT_NUMBER);
    assert.notEqual(invite.fromName, PLAIN_AGENT.name);
  });
});

describe('adapter down, the trunk hangs up first', () => {
  let trunk: Trunk;
  beforeAll(async () => {
    trunk = await startTrunk({ port: TRUNK_PORT, holdMs: 300 });
  });
  afterAll(async () => {
    await trunk?.stop();
  });

  test('the customer hangs up: the agent phone receives the BYE', async () => {
    const call = await callFrom(AGENT_ONE, CUSTOMER, 10_000);
    assert.equal(call.finalStatus, 200);
    assert.equal(call.hungUpBy, 'remote');
    assert.ok(call.durationMs < 5000, `the call lasted ${call.durationMs} ms`);
    assert.equal((await trunk.nextInvite(1000)).toUser, CUSTOMER);
  });
});

describe('adapter down, the trunk is busy', () => {
  let trunk: Trunk;
  beforeAll(async () => {
    trunk = await startTrunk({ port: TRUNK_PORT, mode: 'busy' });
  });
  afterAll(async () => {
    await trunk?.stop();
  });

  test('the agent hears busy (486)', async () => {
    const call = await callFrom(AGENT_ONE, CUSTOMER);
    assert.equal(call.finalStatus, 486);
    assert.equal(call.hungUpBy, null);
    const invite = await trunk.nextInvite(1000);
    assert.equal(invite.fromUser, DEFAULT_NUMBER);
  });
});
