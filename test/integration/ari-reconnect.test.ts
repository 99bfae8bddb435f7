// The ARI link under failure: Asterisk unreachable at start, the websocket dropped mid-run, and
// calls left waiting in the Stasis app by an adapter that went away (re-adopted by the next).
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, test } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { placeCall, startAgentPhone, startTrunk, type Trunk } from '../sandbox/sipp.js';
import type { CallControlPort, InboundCall, SurveyCall } from '../../src/pbx/call-control.js';
import { waitFor } from '../contract/outbound-port-contract.js';
import { ariGet, assertNoChannelsLeft } from './ari-checks.js';
import { ariPort, callThrough } from './asterisk-harness.js';
import { integrationEnv } from './env.js';
import { AGENT_ONE, CUSTOMER_PORT, OUTSIDE_LINE, TRUNK_PORT } from './topology.js';

const env = integrationEnv();
let trunk: Trunk;
const ports: CallControlPort[] = [];

/**
 * A TCP relay in front of ARI that the test can cut or hold closed. It counts what passes:
 * websocket upgrades (an app registration each) and GET /applications/<app> (re-adoptions).
 * With `refuseUpgrades` it drops every websocket upgrade while plain REST still works.
 */
function createRelay(listenPort: number) {
  const target = new URL(env.ariUrl);
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  const seen = { upgrades: 0, readoptions: 0 };
  const relay = {
    url: `http://127.0.0.1:${listenPort}`,
    seen,
    refuseUpgrades: false,
    async open() {
      server = createServer((client) => {
        const upstream = connect(Number(target.port || 80), target.hostname);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('close', () => sockets.delete(s));
          s.on('error', () => undefined);
        }
        client.on('data', (chunk: Buffer) => {
          const text = chunk.toString('latin1');
          if (/^GET \/ari\/events\?/m.test(text)) {
            seen.upgrades++;
            if (relay.refuseUpgrades) {
              client.destroy();
              upstream.destroy();
              return;
            }
          }
          if (new RegExp(`^GET /ari/applications/${env.ariApp} `, 'm').test(text)) seen.readoptions++;
          upstream.write(chunk);
        });
        upstream.pipe(client);
      });
      await new Promise<void>((resolve) => server!.listen(listenPort, '127.0.0.1', resolve));
    },
    cut() {
      for (const s of sockets) s.destroy();
    },
    async close() {
      relay.cut();
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      server = undefined;
    },
  };
  return relay;
}

const dialFixed = async (call: Parameters<Parameters<CallControlPort['start']>[0]['outbound']>[0]) =>
  call.dial({ number: '+12125550199', name: 'ACME' }, '+14155550123');

beforeAll(async () => {
  trunk = await startTrunk({ port: TRUNK_PORT });
});
afterAll(async () => {
  for (const p of ports) await p.stop();
  await trunk?.stop();
});
afterEach(() => assertNoChannelsLeft(3000));

test('Asterisk unreachable at start: the port keeps trying and comes up when it can', async () => {
  const relay = createRelay(18088);
  const port = ariPort({ url: relay.url });
  ports.push(port);
  const started = port.start({ outbound: dialFixed });
  await sleep(700);
  assert.notEqual(port.linkState(), 'up');
  await relay.open();
  await started;
  assert.equal(port.linkState(), 'up');
  assert.equal((await callThrough(trunk, AGENT_ONE, '+14155550123')).view?.callerIdNumber, '+12125550199');
  await port.stop();
  await relay.close();
});

test('the websocket drops: the port reconnects, registers the app again, and calls get decisions', async () => {
  const relay = createRelay(18089);
  await relay.open();
  const port = ariPort({ url: relay.url });
  ports.push(port);
  await port.start({ outbound: dialFixed });
  relay.cut();
  await waitFor(() => port.linkState() !== 'up', 3000);
  await waitFor(() => port.linkState() === 'up', 10_000);
  const apps = await ariGet<{ name: string }[]>('/applications');
  assert.ok(apps.some((a) => a.name === env.ariApp), 'the app is registered again');
  assert.equal((await callThrough(trunk, AGENT_ONE, '+14155550123')).view?.callerIdNumber, '+12125550199');
  await sleep(300);
  assert.deepEqual(relay.seen, { upgrades: 2, readoptions: 2 }, 'one registration and one re-adoption per connect');
  await port.stop();
  await relay.close();
});

test('a start that fails leaves no websocket behind: one owner reconnects, no second registration', async () => {
  const relay = createRelay(18090);
  await relay.open();
  relay.refuseUpgrades = true;
  const port = ariPort({ url: relay.url, connectTimeoutMs: 800 });
  ports.push(port);
  const started = port.start({ outbound: dialFixed });
  // ari-client retries the refused upgrade on its own schedule; our start gives up after 800 ms
  // and builds a new client. The first client's scheduled retries must not register the app.
  await sleep(2500);
  assert.notEqual(port.linkState(), 'up');
  relay.refuseUpgrades = false;
  await started;
  assert.equal(port.linkState(), 'up');
  const upgradesWhenUp = relay.seen.upgrades;
  await sleep(3000);
  assert.equal(relay.seen.upgrades, upgradesWhenUp, 'no websocket opened after the link came up');
  assert.equal((await callThrough(trunk, AGENT_ONE, '+14155550123')).view?.callerIdNumber, '+12125550199');
  await port.stop();
  await relay.close();
});

test('a call left waiting in Stasis by a vanished adapter is re-adopted by the next one', async () => {
  const stuck = ariPort();
  // This adapter takes the call and never answers: as if it died mid-decision.
  await stuck.start({ outbound: () => new Promise<void>(() => undefined) });
  await trunk.takeInvites();
  const call = placeCall({ fromPort: AGENT_ONE.port, fromUser: AGENT_ONE.endpoint, to: `${OUTSIDE_LINE}+14155550123`, server: env.sipServer, holdMs: 150, timeoutMs: 20_000 });
  let waiting: string[] = [];
  for (let i = 0; i < 50 && waiting.length === 0; i++) {
    await sleep(100);
    waiting = (await ariGet<{ channel_ids: string[] }>(`/applications/${env.ariApp}`)).channel_ids;
  }
  assert.equal(waiting.length, 1, 'the call waits in the Stasis app');
  await stuck.stop();

  const next = ariPort();
  ports.push(next);
  await next.start({ outbound: dialFixed });
  const result = await call;
  assert.equal(result.finalStatus, 200);
  const invite = await trunk.nextInvite(5000);
  assert.equal(invite.fromUser, '+12125550199');
  assert.equal(invite.paiUser, '+12125550199');
  await next.stop();
});

test("a customer's call left waiting in Stasis is re-adopted as an inbound call, with its caller and trunk", async () => {
  const stuck = ariPort();
  await stuck.start({ outbound: dialFixed, inbound: () => new Promise<void>(() => undefined) });
  const phone = await startAgentPhone({ port: AGENT_ONE.port });
  try {
    const call = placeCall({ fromPort: CUSTOMER_PORT, fromUser: '013800138000', to: '+15550001000', server: env.sipServer, holdMs: 150, timeoutMs: 20_000 });
    let waiting: string[] = [];
    for (let i = 0; i < 50 && waiting.length === 0; i++) {
      await sleep(50);
      waiting = (await ariGet<{ channel_ids: string[] }>(`/applications/${env.ariApp}`)).channel_ids;
    }
    assert.equal(waiting.length, 1, 'the call waits in the Stasis app');
    await stuck.stop();

    const next = ariPort();
    ports.push(next);
    const adopted: InboundCall[] = [];
    await next.start({
      outbound: dialFixed,
      inbound: async (c) => {
        adopted.push(c);
        await c.ringAgent(`PJSIP/${AGENT_ONE.endpoint}`, 5, { kind: 'ivr' });
      },
    });
    assert.equal((await call).finalStatus, 200);
    assert.equal((await phone.nextInvite(3000)).fromUser, '013800138000');
    assert.deepEqual(adopted.map((c) => [c.callerNumber, c.trunk, c.dialed]), [['013800138000', 'trunk', '+15550001000']]);
    await next.stop();
  } finally {
    await phone.stop();
  }
});

test('a call that outlives its adapter is followed by the next one, which records its end', async () => {
  const first = ariPort();
  const decided: string[] = [];
  await first.start({
    outbound: async (call) => {
      decided.push(call.id);
      await dialFixed(call);
    },
    ended: () => undefined,
  });
  await trunk.takeInvites();
  const call = placeCall({ fromPort: AGENT_ONE.port, fromUser: AGENT_ONE.endpoint, to: `${OUTSIDE_LINE}+14155550123`, server: env.sipServer, holdMs: 2500, timeoutMs: 20_000 });
  await waitFor(() => decided.length === 1, 5000);
  await trunk.nextInvite(5000);
  await first.stop(); // the adapter goes away while the call is talking

  const ends: import('../../src/pbx/call-control.js').CallEnded[] = [];
  const next = ariPort();
  ports.push(next);
  await next.start({ outbound: dialFixed, ended: (e) => ends.push(e) });
  const r = await next.follow([decided[0]!]);
  assert.deepEqual(r, { following: [decided[0]], gone: [] });
  assert.equal((await call).finalStatus, 200);
  await waitFor(() => ends.length === 1, 5000);
  assert.equal(ends[0]!.id, decided[0]);
  assert.equal(ends[0]!.finalAction, 'dial');
  assert.ok(ends[0]!.talkSeconds !== null && ends[0]!.talkSeconds >= 1, `talk ${ends[0]!.talkSeconds} s`);
  assert.deepEqual(await next.follow([decided[0]!]), { following: [], gone: [decided[0]] }, 'once ended, it is gone');
  await next.stop();
});

const dialSurveyed = async (call: Parameters<Parameters<CallControlPort['start']>[0]['outbound']>[0]) =>
  call.dial({ number: '+12125550199', name: 'ACME' }, '+14155550123', { survey: true });

/**
 * An agent's call whose customer's leg is left in its survey by an adapter that then goes away:
 * its survey handler does `atLeg` and never finishes. Resolves with the call's id once the leg
 * waits in the Stasis app and that adapter is stopped.
 */
async function surveyLegLeftBy(atLeg: (leg: SurveyCall) => Promise<void> = async () => undefined): Promise<string> {
  const decided: string[] = [];
  const stuck = ariPort();
  await stuck.start({
    outbound: async (call) => {
      decided.push(call.id);
      await dialSurveyed(call);
    },
    survey: async (leg) => {
      await atLeg(leg);
      await new Promise<void>(() => undefined);
    },
  });
  await trunk.takeInvites();
  const call = placeCall({ fromPort: AGENT_ONE.port, fromUser: AGENT_ONE.endpoint, to: `${OUTSIDE_LINE}+14155550123`, server: env.sipServer, holdMs: 500, timeoutMs: 20_000 });
  assert.equal((await call).finalStatus, 200);
  await waitFor(() => decided.length === 1, 5000);
  // The agent has hung up: only the customer's leg is left in the app, held for its survey.
  let waiting: string[] = [];
  for (let i = 0; i < 50 && waiting.length !== 1; i++) {
    await sleep(100);
    waiting = (await ariGet<{ channel_ids: string[] }>(`/applications/${env.ariApp}`)).channel_ids;
  }
  assert.equal(waiting.length, 1, "the customer's leg waits in the Stasis app");
  await stuck.stop();
  return decided[0]!;
}

for (const recorded of [false, true]) {
  test(`a survey leg left by a vanished adapter ${recorded ? 'after its outcome was noted is hung up by the next one, not asked again' : 'is re-adopted by the next one and surveyed again'}`, async () => {
    const callId = await surveyLegLeftBy(async (leg) => {
      if (recorded) await leg.markOutcomeRecorded();
    });

    const adopted: SurveyCall[] = [];
    const next = ariPort();
    ports.push(next);
    await next.start({
      outbound: dialFixed,
      survey: async (leg) => {
        adopted.push(leg);
        await leg.hangup();
      },
    });
    await waitFor(() => adopted.length === 1, 5000);
    const leg = adopted[0]!;
    assert.deepEqual(
      [leg.resumed, leg.outcomeRecorded, leg.direction, leg.callId, leg.agentEndpoint],
      [true, recorded, 'outbound', callId, `PJSIP/${AGENT_ONE.endpoint}`],
    );
    await next.stop();
  });
}

test('a survey leg whose adapter never comes back is hung up by the PBX when CALLPOLICY_SURVEY_MAX runs out', async () => {
  const setGlobal = (value: string) =>
    fetch(`${env.ariUrl}/ari/asterisk/variable?variable=CALLPOLICY_SURVEY_MAX&value=${value}`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${env.ariUser}:${env.ariPassword}`).toString('base64')}` },
    });
  assert.equal((await setGlobal('3')).status, 204);
  try {
    await surveyLegLeftBy();
    const left = Date.now();
    // No adapter at all now: the dialplan's own limit ends the customer's leg.
    for (let i = 0; i < 60 && (await ariGet<unknown[]>('/channels')).length > 0; i++) await sleep(100);
    assert.equal((await ariGet<unknown[]>('/channels')).length, 0, "the customer's leg was hung up");
    assert.ok(Date.now() - left < 4000, `within the 3 s limit (${Date.now() - left} ms after the adapter left)`);
  } finally {
    await setGlobal('');
  }
});
