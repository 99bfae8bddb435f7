import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, test } from 'vitest';
import type { CallControlPort, CallEnded, InboundCall } from '../../src/pbx/call-control.js';
import { waitFor } from './outbound-port-contract.js';

/** Where a customer's call ended up, as the phones around the PBX saw it. */
export interface InboundOutcome {
  /** agent: the agent's phone answered; ivr / voicemail: that phone answered; goodbye: the PBX hung up. */
  reached: 'agent' | 'ivr' | 'voicemail' | 'goodbye';
  /** The agent's phone rang (whatever came after). */
  agentRang: boolean;
  /** voicemail: the mailbox the PBX asked for. */
  mailbox?: string;
}

/** Drives one PBX implementation's inbound side from the outside: a customer on the trunk, an agent's phone, the IVR. */
export interface InboundContractHarness {
  port: CallControlPort;
  /** The agent's endpoint as the policy names it (PJSIP/1001, user/1001, ...). */
  agentEndpoint: string;
  /** The customer calls the DID from `callerNumber`; the agent's phone answers or only rings. */
  placeInbound(callerNumber: string, opts: { agentAnswers: boolean }): Promise<InboundOutcome>;
  close(): Promise<void>;
}

type Script = (call: InboundCall) => Promise<void>;

/**
 * The inbound half of the call-control contract (call memory): what every PBX implementation must
 * do with ringAgent, waitForAgent and toIvr, and what it reports at the end.
 */
export function inboundPortContract(name: string, makeHarness: () => Promise<InboundContractHarness>): void {
  describe(`inbound call-control contract: ${name}`, () => {
    let h: InboundContractHarness;
    let script: Script = async (call) => call.toIvr();
    const seen: InboundCall[] = [];
    const ended: CallEnded[] = [];

    beforeAll(async () => {
      h = await makeHarness();
      await h.port.start({
        outbound: async (call) => call.useDefault(),
        inbound: async (call) => {
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

    const endOf = async (id: string) => {
      await waitFor(() => ended.some((e) => e.id === id), 10_000);
      return ended.find((e) => e.id === id)!;
    };

    test('a call arrives with the caller number as the trunk presented it, and the trunk', async () => {
      script = async (call) => call.toIvr();
      await h.placeInbound('013800138000', { agentAnswers: true });
      const call = seen.at(-1)!;
      assert.equal(call.callerNumber, '013800138000');
      assert.equal(call.trunk, 'trunk');
      assert.ok(call.dialed.length > 0, 'the dialled number (DID) is given');
    });

    test('toIvr: the IVR takes the call; its end is reported as the default route', async () => {
      script = async (call) => call.toIvr();
      assert.deepEqual(await h.placeInbound('+14155550123', { agentAnswers: true }), { reached: 'ivr', agentRang: false });
      const end = await endOf(seen.at(-1)!.id);
      assert.equal(end.finalAction, 'default');
    });

    test('ringAgent: the agent answers; the end says answered, and who hung up first', async () => {
      script = async (call) => call.ringAgent(h.agentEndpoint, 5, { kind: 'ivr' });
      assert.deepEqual(await h.placeInbound('+14155550123', { agentAnswers: true }), { reached: 'agent', agentRang: true });
      const end = await endOf(seen.at(-1)!.id);
      assert.equal(end.finalAction, 'dial');
      assert.equal(end.dialStatus, 'ANSWER');
      assert.ok(end.answeredAt instanceof Date);
      assert.equal(end.hungUpBy, 'customer');
      assert.equal(end.noAnswerRoute ?? null, null);
    });

    test('ringAgent: no answer within the ring time, then the IVR', async () => {
      script = async (call) => call.ringAgent(h.agentEndpoint, 2, { kind: 'ivr' });
      assert.deepEqual(await h.placeInbound('+14155550123', { agentAnswers: false }), { reached: 'ivr', agentRang: true });
      assert.equal((await endOf(seen.at(-1)!.id)).noAnswerRoute, 'ivr');
    });

    test('ringAgent: no answer, then the voicemail extension given', async () => {
      script = async (call) => call.ringAgent(h.agentEndpoint, 2, { kind: 'voicemail', extension: '2001' });
      assert.deepEqual(await h.placeInbound('+14155550123', { agentAnswers: false }), { reached: 'voicemail', agentRang: true, mailbox: '2001' });
      assert.equal((await endOf(seen.at(-1)!.id)).noAnswerRoute, 'voicemail');
    });

    test('waitForAgent: a free agent is rung and answers', async () => {
      script = async (call) => call.waitForAgent(h.agentEndpoint, { ringSeconds: 5, waitSeconds: 10, then: { kind: 'goodbye' } });
      assert.deepEqual(await h.placeInbound('+14155550123', { agentAnswers: true }), { reached: 'agent', agentRang: true });
    });

    test('waitForAgent: the agent never answers; when the wait is over, a goodbye', async () => {
      script = async (call) => call.waitForAgent(h.agentEndpoint, { ringSeconds: 2, waitSeconds: 3, then: { kind: 'goodbye' } });
      assert.deepEqual(await h.placeInbound('+14155550123', { agentAnswers: false }), { reached: 'goodbye', agentRang: true });
      const end = await endOf(seen.at(-1)!.id);
      assert.equal(end.noAnswerRoute, 'goodbye');
      assert.equal(end.hungUpBy, 'pbx');
    });

    test('unsafe agent endpoints and voicemail extensions are refused before they reach the PBX', async () => {
      const errors: string[] = [];
      script = async (call) => {
        for (const attempt of [
          () => call.ringAgent(`${h.agentEndpoint}&PJSIP/1002`, 5, { kind: 'ivr' }),
          () => call.ringAgent(`${h.agentEndpoint},30`, 5, { kind: 'ivr' }),
          () => call.ringAgent(h.agentEndpoint, 5, { kind: 'voicemail', extension: '2001*ivr' }),
          () => call.waitForAgent(h.agentEndpoint, { ringSeconds: 0, waitSeconds: 10, then: { kind: 'goodbye' } }),
        ]) {
          await attempt().catch((e: Error) => errors.push(e.message));
        }
        await call.toIvr();
      };
      assert.deepEqual(await h.placeInbound('+14155550123', { agentAnswers: true }), { reached: 'ivr', agentRang: false });
      assert.equal(errors.length, 4, errors.join('\n'));
    });
  });
}
