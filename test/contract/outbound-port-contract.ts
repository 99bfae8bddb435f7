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

    test('an empty display name stays empty (the agent name does not leak)', async () => {
      script = async (call) => call.dial({ number: '+12125550199', name: '' }, '+14155550123');
      const got = await h.placeCall('+14155550123');
      assert.equal(got?.callerIdName, '');
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

    test('the end of a released call is reported', async () => {
      script = async (call) => call.dial({ number: '+12125550199', name: '' }, '+14155550123');
      await h.placeCall('+14155550123');
      const id = seen.at(-1)!.id;
      await waitFor(() => ended.some((e) => e.id === id), 10_000);
      assert.ok(ended.find((e) => e.id === id)!.at instanceof Date);
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
