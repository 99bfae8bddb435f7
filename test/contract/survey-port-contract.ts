import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, test } from 'vitest';
import type { CallControlPort, SurveyCall, SurveyLegEvent } from '../../src/pbx/call-control.js';
import type { CustomerStep } from '../sandbox/sipp-survey.js';
import { waitFor } from './outbound-port-contract.js';

/** What the customer's side saw of a surveyed call. */
export interface SurveyedCallView {
  /** Who ended the customer's leg: the PBX (the adapter hung it up) or the customer. */
  endedBy: 'pbx' | 'customer';
  /** The customer heard audio after the agent hung up (RTP with speech); null: this harness cannot tell. */
  heardAudio: boolean | null;
}

/** Drives one PBX implementation's survey side from the outside: an agent, a customer, keys. */
export interface SurveyContractHarness {
  port: CallControlPort;
  /** The agent's endpoint as the policy names it. */
  agentEndpoint: string;
  /**
   * An answered call in `direction` between the agent and a customer that the agent hangs up
   * first; the customer then follows `steps` (keys, pauses, a hang-up), counted from the agent's
   * hang-up. The port's outbound/inbound handlers put the call through with `{ survey }`.
   */
  surveyedCall(direction: 'outbound' | 'inbound', steps: CustomerStep[], opts?: { survey?: boolean }): Promise<SurveyedCallView>;
  /** The same call, but the customer hangs up first. */
  customerHangsUpFirst(direction: 'outbound' | 'inbound'): Promise<void>;
  close(): Promise<void>;
}

type Script = (call: SurveyCall, events: SurveyLegEvent[]) => Promise<void>;

/** Waits until the leg's events include one of `kind` (or the time runs out). */
async function eventOf(events: SurveyLegEvent[], kind: SurveyLegEvent['kind'], ms: number): Promise<SurveyLegEvent | undefined> {
  try {
    await waitFor(() => events.some((e) => e.kind === kind), ms);
  } catch {
    return undefined;
  }
  return events.find((e) => e.kind === kind);
}

/**
 * The survey half of the call-control contract: a customer's leg reaches the survey handler only
 * when the agent hung up first on an answered call the adapter offered for a survey, linked to
 * that call; prompts play and say when they are done; keys (RFC 2833 and SIP INFO) arrive;
 * the customer's hang-up arrives; hangup() ends the leg.
 */
export function surveyPortContract(name: string, makeHarness: () => Promise<SurveyContractHarness>): void {
  describe(`survey call-control contract: ${name}`, () => {
    let h: SurveyContractHarness;
    let script: Script = async (call) => call.hangup();
    const legs: { call: SurveyCall; events: SurveyLegEvent[] }[] = [];
    const placed: { direction: 'outbound' | 'inbound'; id: string }[] = [];
    let offer = true;

    beforeAll(async () => {
      h = await makeHarness();
      await h.port.start({
        outbound: async (call) => {
          placed.push({ direction: 'outbound', id: call.id });
          await call.dial({ number: '+14155550100', name: '' }, call.dialed, { survey: offer });
        },
        inbound: async (call) => {
          placed.push({ direction: 'inbound', id: call.id });
          await call.ringAgent(h.agentEndpoint, 10, { kind: 'ivr' }, { survey: offer });
        },
        survey: async (call) => {
          const events: SurveyLegEvent[] = [];
          call.onEvent((e) => events.push(e));
          legs.push({ call, events });
          await script(call, events);
        },
      });
    });
    afterAll(async () => {
      await h.port.stop();
      await h.close();
    });

    for (const direction of ['outbound', 'inbound'] as const) {
      test(`${direction}: the agent hangs up first; the customer's leg reaches the survey, linked to the call; a prompt plays to its end; hangup ends the leg`, async () => {
        offer = true;
        const before = legs.length;
        script = async (call, events) => {
          await call.play(['beep']);
          await eventOf(events, 'played', 5000);
          await call.hangup();
        };
        const view = await h.surveyedCall(direction, []);
        assert.equal(legs.length, before + 1, 'one survey leg');
        const leg = legs.at(-1)!;
        const call = placed.filter((p) => p.direction === direction).at(-1)!;
        assert.equal(leg.call.direction, direction);
        assert.equal(leg.call.callId, call.id, 'the leg names the call it follows');
        assert.equal(leg.call.agentEndpoint, h.agentEndpoint);
        assert.equal(leg.call.resumed, false);
        assert.deepEqual(
          leg.events.map((e) => e.kind),
          ['played'],
          'the prompt played to its end, nothing else happened',
        );
        assert.equal(view.endedBy, 'pbx');
        if (view.heardAudio !== null) assert.equal(view.heardAudio, true, 'the customer heard the prompt');
      });
    }

    for (const via of ['rfc2833', 'info'] as const) {
      test(`a key the customer presses (${via === 'info' ? 'SIP INFO' : 'RFC 2833'}) arrives while a prompt plays`, async () => {
        offer = true;
        script = async (call, events) => {
          await call.play(['silence/10']);
          await eventOf(events, 'key', 8000);
          await call.hangup();
        };
        await h.surveyedCall('outbound', [{ pauseMs: 1000 }, { key: '7', via }]);
        const leg = legs.at(-1)!;
        const keys = leg.events.filter((e) => e.kind === 'key').map((e) => (e as { digit: string }).digit);
        assert.deepEqual(keys, ['7']);
        assert.ok(!leg.events.some((e) => e.kind === 'played'), 'the 10 s prompt was still playing');
      });
    }

    test('a new play replaces the one playing: only the last one says played', async () => {
      offer = true;
      script = async (call, events) => {
        await call.play(['silence/10']);
        await call.play(['beep']);
        await eventOf(events, 'played', 5000);
        await sleep(300);
        await call.hangup();
      };
      await h.surveyedCall('inbound', []);
      assert.deepEqual(
        legs.at(-1)!.events.map((e) => e.kind),
        ['played'],
      );
    });

    test('stopPlaying: nothing says played; the customer hanging up arrives as gone', async () => {
      offer = true;
      script = async (call, events) => {
        await call.play(['silence/10']);
        await sleep(200);
        await call.stopPlaying();
        await eventOf(events, 'gone', 10_000);
      };
      const view = await h.surveyedCall('outbound', [{ pauseMs: 1500 }, { hangup: true }]);
      assert.equal(view.endedBy, 'customer');
      // The customer's phone is done when its BYE is answered; the PBX tells the adapter just after.
      await eventOf(legs.at(-1)!.events, 'gone', 5000);
      assert.deepEqual(
        legs.at(-1)!.events.map((e) => e.kind),
        ['gone'],
      );
    });

    test('the outcome noted after stopping a long prompt takes effect at once, and the next prompt plays', async () => {
      offer = true;
      let markedMs = -1;
      script = async (call, events) => {
        await call.play(['silence/10']);
        await sleep(500);
        const started = Date.now();
        // As the survey flow does when the outcome is known: stop, note, play the closing prompt.
        const stopped = call.stopPlaying();
        const marked = call.markOutcomeRecorded();
        const played = call.play(['beep']);
        await Promise.all([stopped, marked, played]);
        markedMs = Date.now() - started;
        await eventOf(events, 'played', 5000);
        await call.hangup();
      };
      await h.surveyedCall('outbound', []);
      assert.ok(markedMs >= 0 && markedMs < 1000, `stop, note and play took ${markedMs} ms (a note queued behind the 10 s prompt would take 10 s)`);
      assert.deepEqual(
        legs.at(-1)!.events.map((e) => e.kind),
        ['played'],
      );
    });

    for (const direction of ['outbound', 'inbound'] as const) {
      test(`${direction}: the customer hangs up first: no survey leg`, async () => {
        offer = true;
        const before = legs.length;
        await h.customerHangsUpFirst(direction);
        await sleep(1000);
        assert.equal(legs.length, before, 'no survey');
      });

      test(`${direction}: a call not offered for a survey never reaches the survey, even when the agent hangs up first`, async () => {
        offer = false;
        const before = legs.length;
        const view = await h.surveyedCall(direction, [], { survey: false });
        assert.equal(legs.length, before, 'no survey');
        assert.equal(view.endedBy, 'pbx', 'the call ended when the agent hung up');
        if (view.heardAudio !== null) assert.equal(view.heardAudio, false);
      });
    }
  });
}
