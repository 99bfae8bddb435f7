// The shipped dialplan's guarantees that hold whatever the adapter does, through the README's
// routing (extensions.conf.sample's [agents]: the emergency context first, then "9" + number):
// - emergency numbers reach the trunk at once with the site's callback number, adapter down,
//   adapter up, or adapter hung;
// - no call waits more than CALLPOLICY_DECISION_TIMEOUT (2 s) for a decision: an app that is
//   registered but never answers (an adapter that died while deciding) costs 2 s, then the
//   default caller ID;
// - a dialled string that is not digits with an optional leading + is refused, not filtered.
// Real SIP: sipp agent phones, Asterisk, a sipp trunk.
import assert from 'node:assert/strict';
import { afterAll, afterEach, beforeAll, describe, test } from 'vitest';
import WebSocket from 'ws';
import { placeCall, startTrunk, type Trunk } from '../sandbox/sipp.js';
import { ariGet, assertNoChannelsLeft } from './ari-checks.js';
import { integrationEnv } from './env.js';
import { AGENT_ONE, DEFAULT_NUMBER, EMERGENCY_NUMBER, OUTSIDE_LINE, TRUNK_PORT } from './topology.js';

const env = integrationEnv();

function dial(to: string, holdMs = 100) {
  return placeCall({ fromPort: AGENT_ONE.port, fromUser: AGENT_ONE.endpoint, fromName: AGENT_ONE.name, to, server: env.sipServer, holdMs, timeoutMs: 15_000 });
}

/** Registers the Stasis app and never answers a call: an adapter hung or killed mid-decision. */
async function registerSilentApp(): Promise<{ seen: string[]; close(): Promise<void> }> {
  const url = `${env.ariUrl.replace(/^http/, 'ws')}/ari/events?app=${env.ariApp}&api_key=${encodeURIComponent(`${env.ariUser}:${env.ariPassword}`)}`;
  const ws = new WebSocket(url);
  const seen: string[] = [];
  ws.on('message', (data) => {
    const event = JSON.parse(String(data)) as { type: string; channel?: { id: string } };
    if (event.type === 'StasisStart' && event.channel) seen.push(event.channel.id);
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return {
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        ws.once('close', () => resolve());
        ws.close();
      }),
  };
}

let trunk: Trunk;
beforeAll(async () => {
  const apps = await ariGet<{ name: string }[]>('/applications');
  assert.ok(!apps.some((a) => a.name === env.ariApp), `the Stasis app "${env.ariApp}" is registered: these tests need it free`);
  trunk = await startTrunk({ port: TRUNK_PORT });
});
afterAll(async () => {
  await trunk?.stop();
});
afterEach(() => assertNoChannelsLeft(5000));

async function expectEmergencyCall(dialled: string, number: string): Promise<number> {
  await trunk.takeInvites();
  const started = performance.now();
  const call = await dial(dialled);
  assert.equal(call.finalStatus, 200, `${dialled}: the call was answered by the trunk`);
  const invite = await trunk.nextInvite(3000);
  assert.equal(invite.toUser, number, `${dialled} reached the trunk as ${number}`);
  assert.equal(invite.fromUser, EMERGENCY_NUMBER, 'the caller ID is the site callback number');
  assert.equal(invite.paiUser, EMERGENCY_NUMBER, 'P-Asserted-Identity too');
  assert.doesNotMatch(invite.raw, new RegExp(AGENT_ONE.name), 'the agent name appears nowhere');
  assert.deepEqual(await trunk.takeInvites(), [], 'one INVITE');
  return call.pddMs ?? performance.now() - started;
}

describe('emergency numbers, adapter down', () => {
  const cases: [string, string][] = [
    ['911', '911'],
    ['933', '933'],
    [`${OUTSIDE_LINE}911`, '911'],
    [`${OUTSIDE_LINE}112`, '112'],
    [`${OUTSIDE_LINE}110`, '110'],
    [`${OUTSIDE_LINE}999`, '999'],
    [`${OUTSIDE_LINE}000`, '000'],
  ];
  for (const [dialled, number] of cases) {
    test(`${dialled} reaches the trunk as ${number} with the emergency caller ID`, async () => {
      await expectEmergencyCall(dialled, number);
    });
  }
});

describe('the adapter is registered but never answers', () => {
  let app: Awaited<ReturnType<typeof registerSilentApp>>;
  beforeAll(async () => {
    app = await registerSilentApp();
  });
  afterAll(async () => {
    await app?.close();
  });

  test('an emergency call never enters Stasis and is not delayed', async () => {
    const before = app.seen.length;
    const pdd = await expectEmergencyCall(`${OUTSIDE_LINE}911`, '911');
    assert.equal(app.seen.length, before, 'the adapter never saw the emergency call');
    assert.ok(pdd < 1000, `post-dial delay ${pdd.toFixed(0)} ms`);
    await expectEmergencyCall('911', '911');
    assert.equal(app.seen.length, before);
  });

  test('an outside call waits 2 s at most, then leaves with the default caller ID', async () => {
    await trunk.takeInvites();
    const started = performance.now();
    const call = await dial(`${OUTSIDE_LINE}+14155550123`);
    assert.equal(call.finalStatus, 200);
    const invite = await trunk.nextInvite(5000);
    const waited = performance.now() - started;
    assert.equal(app.seen.length >= 1, true, 'the call did enter Stasis');
    assert.equal(invite.toUser, '+14155550123');
    assert.equal(invite.fromUser, DEFAULT_NUMBER);
    assert.ok(waited >= 1900 && waited < 3000, `the call waited ${waited.toFixed(0)} ms for a decision`);
  });
});

describe('adapter down: what is not a number is refused, never filtered into one', () => {
  for (const dialled of ['+1212555&1234', '+1212555,1234', '+12125551234,1', '1212+5551234', '+1212555 1234', '+12125551234)', '+12125551234(', '12125551234|x']) {
    test(`${JSON.stringify(dialled)} is refused (484) and nothing reaches the trunk`, async () => {
      await trunk.takeInvites();
      const call = await dial(`${OUTSIDE_LINE}${dialled}`);
      assert.equal(call.finalStatus, 484);
      await trunk.expectNoInvite(300);
    });
  }

  test('a clean number still goes out', async () => {
    await trunk.takeInvites();
    const call = await dial(`${OUTSIDE_LINE}+12125551234`);
    assert.equal(call.finalStatus, 200);
    assert.equal((await trunk.nextInvite(3000)).toUser, '+12125551234');
  });
});
