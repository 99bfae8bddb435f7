import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { CallGoneError, type CallControlPort, type CallEnded, type OutboundCall } from '../../src/pbx/call-control.js';

/** What the far end (the trunk) received for one agent call, or null if nothing reached it. */
export interface TrunkView {
  destination: string;
  callerIdNumber: string;
  callerIdName: string;
}

/** Drives one PBX implementation from the outside: its phones, its trunk. */
export interface ContractHarness {
  port: CallControlPort;
  agentEndpoint: string;
  defaultCallerId: { number: string; name: string };
  /** The agent dials; resolves with what the trunk got. `cancelAfterMs` hangs up while undecided. */
  placeCall(dialed: string, opts?: { cancelAfterMs?: number }): Promise<TrunkView | null>;
  close(): Promise<void>;
}

type Script = (call: OutboundCall) => Promise<void>;

/**
 * The call-control port contract: every PBX implementation (fake, Asterisk, FreeSWITCH)
 * must pass these cases, so the flows can rely on the same behaviour from each.
 */
export function outboundPortContract(name: string, makeHarness: () => Promise<ContractHarness>): void {
  describe(`call-control port contract: ${name}`, () => {
    let h: ContractHarness;
    let script: Script = async (call) => call.useDefault();
    const seen: OutboundCall[] = [];
    const ended: CallEnded[] = [];

    beforeAll(async () => {
      h = await makeHarness();
      await h.port.start({
        outbound: async (call) => {
          seen.push(call);
          await script(call);
        },
        ended: (info) => ended.push(info),
      });
    });
    afterAll(async () => {
      await h.port.stop();
      await h.close();
    });

    test('the link is up after start', () => {
      assert.equal(h.port.linkState(), 'up');
    });

    test('a call arrives with the agent endpoint, the dialled number and the trunk', async () => {
      script = async (call) => call.useDefault();
      await h.placeCall('+14155550123');
      const call = seen.at(-1)!;
      assert.equal(call.endpoint, h.agentEndpoint);
      assert.equal(call.dialed, '+14155550123');
      assert.equal(call.trunk, 'trunk');
    });

    test('dial presents the caller ID and destination to the trunk', async () => {
      script = async (call) => call.dial({ number: '+12125550199', name: "ACME, Inc. & O'Neil (EU)" }, '+14155550123');
      const got = await h.placeCall('+14155550123');
      assert.deepEqual(got, { destination: '+14155550123', callerIdNumber: '+12125550199', callerIdName: "ACME, Inc. & O'Neil (EU)" });
    });

    // Asterisk sends no name; FreeSWITCH sends the number as the name, since an empty one would let
    // the directory's name for the agent ("Extension 1001") through. Never the agent's name.
    test('an empty display name sends no name, or the number itself: never the agent name', async () => {
      script = async (call) => call.dial({ number: '+12125550199', name: '' }, '+14155550123');
      const got = await h.placeCall('+14155550123');
      assert.ok(['', '+12125550199'].includes(got?.callerIdName ?? 'none'), `display name ${JSON.stringify(got?.callerIdName)}`);
      assert.equal(got?.callerIdNumber, '+12125550199');
    });

    test('useDefault sends the call out with the default caller ID', async () => {
      script = async (call) => call.useDefault();
      const got = await h.placeCall('+14155550123');
      assert.deepEqual(got, { destination: '+14155550123', callerIdNumber: h.defaultCallerId.number, callerIdName: h.defaultCallerId.name });
    });

    test('reject keeps the call away from the trunk', async () => {
      script = async (call) => call.reject();
      assert.equal(await h.placeCall('+14155550123'), null);
    });

    test('unsafe destinations and caller IDs are refused before they reach the PBX', async () => {
      const errors: string[] = [];
      script = async (call) => {
        for (const attempt of [
          () => call.dial({ number: '+12125550199', name: '' }, '+1415&PJSIP/evil'),
          () => call.dial({ number: '+1212;x', name: '' }, '+14155550123'),
          () => call.dial({ number: '+12125550199', name: 'a"<sip:x>' }, '+14155550123'),
          () => call.dial({ number: '+12125550199', name: 'a|+1900' }, '+14155550123'),
        ]) {
          await attempt().catch((e: Error) => errors.push(e.message));
        }
        await call.reject();
      };
      assert.equal(await h.placeCall('+14155550123'), null);
      assert.equal(errors.length, 4);
    });

    test('a call that hung up before the decision gives CallGoneError, not a crash', async () => {
      let error: unknown;
      script = async (call) => {
        await new Promise((r) => setTimeout(r, 1500));
        error = await call.dial({ number: '+12125550199', name: '' }, '+14155550123').then(
          () => undefined,
          (e: unknown) => e,
        );
      };
      assert.equal(await h.placeCall('+14155550123', { cancelAfterMs: 300 }), null);
      await waitFor(() => error !== undefined, 5000);
      assert.ok(error instanceof CallGoneError, `expected CallGoneError, got ${String(error)}`);
    });

    const endOf = async (id: string) => {
      await waitFor(() => ended.some((e) => e.id === id), 10_000);
      return ended.find((e) => e.id === id)!;
    };

    test('the end of a dialled call is reported: answered, dial status, what the PBX did', async () => {
      script = async (call) => call.dial({ number: '+12125550199', name: '' }, '+14155550123');
      const before = Date.now();
      await h.placeCall('+14155550123');
      const end = await endOf(seen.at(-1)!.id);
      assert.ok(end.at instanceof Date && end.at.getTime() >= before - 1000);
      assert.equal(end.finalAction, 'dial');
      assert.equal(end.dialStatus, 'ANSWER');
      assert.ok(end.answeredAt instanceof Date, 'the trunk answered');
      assert.ok(end.answeredAt.getTime() <= end.at.getTime());
      assert.ok(end.talkSeconds !== null && end.talkSeconds >= 0 && end.talkSeconds < 10, `talk ${end.talkSeconds} s`);
      assert.equal(ended.filter((e) => e.id === end.id).length, 1, 'one end per call');
    });

    test('the end of a rejected call is reported too, never answered', async () => {
      script = async (call) => call.reject();
      await h.placeCall('+14155550123');
      const end = await endOf(seen.at(-1)!.id);
      assert.equal(end.finalAction, 'reject');
      assert.equal(end.answeredAt, null);
      assert.equal(end.talkSeconds, null);
    });

    test('the end of a call that hung up during the decision is reported, with no final action', async () => {
      script = async () => new Promise((r) => setTimeout(r, 1200));
      assert.equal(await h.placeCall('+14155550123', { cancelAfterMs: 300 }), null);
      const end = await endOf(seen.at(-1)!.id);
      assert.equal(end.finalAction, null);
      assert.equal(end.answeredAt, null);
    });

    test('following a call the PBX does not have says it is gone', async () => {
      const r = await h.port.follow(['no-such-call-1', 'no-such-call-2']);
      assert.deepEqual(r.following, []);
      assert.deepEqual(r.gone.sort(), ['no-such-call-1', 'no-such-call-2']);
    });

    test('a decision later than the PBX waits: CallGoneError, the default caller ID, and the end says so', async () => {
      let error: unknown;
      script = async (call) => {
        await new Promise((r) => setTimeout(r, 2600));
        error = await call.dial({ number: '+12125550199', name: '' }, '+14155550123').then(
          () => undefined,
          (e: unknown) => e,
        );
      };
      const got = await h.placeCall('+14155550123');
      assert.equal(got?.callerIdNumber, h.defaultCallerId.number, 'the PBX went on with the default caller ID');
      await waitFor(() => error !== undefined, 5000);
      assert.ok(error instanceof CallGoneError, `expected CallGoneError, got ${String(error)}`);
      const end = await endOf(seen.at(-1)!.id);
      assert.equal(end.finalAction, 'default');
      assert.equal(end.dialStatus, 'ANSWER');
    });
  });
}

export async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
