// The end report (src/pbx/freeswitch/fs-end-report.ts, callEndedOf) on the CHANNEL_HANGUP_COMPLETE
// events of this project's own calls on a real FreeSWITCH 1.10.12, as the adapter's control link
// received them (real-1.10.12/11-control-link.txt, JSON). The calls are those of files 04-10 (each
// file's connect reply names the channel). Expected values are the recorded facts, quoted first.
import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import { callEndedOf, legOf } from '../../src/pbx/freeswitch/fs-end-report.js';
import { header, jsonEvents, serverFrames } from '../support/fake-freeswitch/transcript.js';

const CONTROL = 'real-1.10.12/11-control-link.txt';
const ends = jsonEvents(CONTROL).filter((e) => e['Event-Name'] === 'CHANNEL_HANGUP_COMPLETE');

function endOf(uuid: string): Record<string, string> {
  const found = ends.filter((e) => e['Unique-ID'] === uuid);
  assert.equal(found.length, 1, `one CHANNEL_HANGUP_COMPLETE of ${uuid} in ${CONTROL}`);
  return found[0]!;
}

/** The channel a recorded call socket was about: its connect reply's Unique-ID. */
const channelOf = (file: string) => header(serverFrames(`real-1.10.12/${file}`)[0]!.headers, 'Unique-ID')!;

const fromMicros = (us: string) => new Date(Math.floor(Number(us) / 1000));

const facts = (e: Record<string, string>) => ({
  kind: e.variable_callpolicy_kind,
  outcome: e.variable_callpolicy_outcome,
  disposition: e.variable_sip_hangup_disposition,
  bridged: e.variable_bridge_uuid,
  billsec: e.variable_billsec,
  q850: e.variable_hangup_cause_q850,
  dial: e.variable_DIALSTATUS,
});

describe('outbound calls the agent hung up first (06, 07, 08): the agent leg that the adapter decided', () => {
  // The customer's leg (B) went on to the survey; the agent's (A) ended with the agent's BYE.
  test.each([
    ['06-survey-outbound-no-input.txt', '022660a2-0804-4b9d-a50d-96e48e67bcdc', '8', '1796666213609729'],
    ['07-survey-outbound-rfc2833-key1.txt', 'b319df82-2c30-4de1-98ca-11b0ecab7789', '2', '1796666274569740'],
    ['08-survey-outbound-sipinfo-key2.txt', 'ef294874-f8d3-45d3-b6b1-62338633802f', '2', '1796666316329735'],
  ])('%s: agent leg %s: answered, %s s, ANSWER, the agent hung up, the dial route ran', (file, agent, billsec, answered) => {
    const e = endOf(agent);
    const survey = channelOf(file);
    assert.deepEqual(facts(e), { kind: 'outbound', outcome: 'dial', disposition: 'recv_bye', bridged: survey, billsec, q850: '16', dial: 'SUCCESS' });
    const end = callEndedOf(e);
    assert.equal(legOf(e), 'agent');
    assert.deepEqual(
      { id: end.id, hungUpBy: end.hungUpBy, talkSeconds: end.talkSeconds, dialStatus: end.dialStatus, finalAction: end.finalAction, cause: end.cause, noAnswerRoute: end.noAnswerRoute },
      { id: agent, hungUpBy: 'agent', talkSeconds: Number(billsec), dialStatus: 'ANSWER', finalAction: 'dial', cause: 16, noAnswerRoute: null },
    );
    assert.deepEqual(end.answeredAt, fromMicros(answered));
    assert.deepEqual(end.at, fromMicros(e['Event-Date-Timestamp']!));
  });
});

describe("inbound calls the agent hung up first (09, 10): the customer's channel, which went on to the survey", () => {
  test.each([
    ['09-survey-inbound-rfc2833-key3.txt', '9260f3a6-62fb-4ec3-b952-abca8a036d2a', '8', '1796666337309741'],
    ['10-survey-inbound-sipinfo-key1.txt', '29e49a1c-d618-4e5f-a90f-22eb47a949a5', '7', '1796666359289759'],
  ])("%s: the customer's leg: the agent hung up first, ANSWER, the ring route ran", (file, agentLeg, billsec, answered) => {
    const customer = channelOf(file);
    const e = endOf(customer);
    // The survey (the adapter's hangup: NORMAL_UNSPECIFIED, 31) ended the customer's channel; the agent's leg had ended with its BYE.
    assert.deepEqual(facts(e), { kind: 'survey', outcome: 'ring', disposition: 'send_bye', bridged: agentLeg, billsec, q850: '31', dial: 'SUCCESS' });
    assert.equal(endOf(agentLeg).variable_sip_hangup_disposition, 'recv_bye');
    assert.equal(e.variable_callpolicy_direction, 'inbound');
    const end = callEndedOf(e);
    assert.equal(legOf(e), 'customer');
    assert.deepEqual(
      { id: end.id, hungUpBy: end.hungUpBy, dialStatus: end.dialStatus, finalAction: end.finalAction, cause: end.cause, noAnswerRoute: end.noAnswerRoute },
      { id: customer, hungUpBy: 'agent', dialStatus: 'ANSWER', finalAction: 'dial', cause: 31, noAnswerRoute: null },
    );
    assert.deepEqual(end.answeredAt, fromMicros(answered));
    // Recorded before the dialplan set callpolicy_talk_end: the report falls back to billsec, the
    // customer's whole answered time with the survey (the agent's leg: 2 s).
    assert.equal(end.talkSeconds, Number(billsec));
    assert.equal(endOf(agentLeg).variable_billsec, '2');
  });
});

describe('inbound calls no agent took (04 ring, 05 wait): what the report gets right', () => {
  test("04: ring, the agent's phone refused (recv_refuse, NORMAL_TEMPORARY_FAILURE): the no-answer route (IVR) ran, the PBX hung up", () => {
    const uuid = channelOf('04-inbound-ring-masked.txt');
    const e = endOf(uuid);
    assert.deepEqual(facts(e), { kind: 'inbound', outcome: 'ring', disposition: 'send_bye', bridged: undefined, billsec: '3', q850: '16', dial: 'NORMAL_TEMPORARY_FAILURE' });
    assert.equal(e.variable_callpolicy_noanswer_route, 'ivr');
    const end = callEndedOf(e);
    assert.equal(legOf(e), 'customer');
    assert.deepEqual(
      { id: end.id, hungUpBy: end.hungUpBy, finalAction: end.finalAction, cause: end.cause, noAnswerRoute: end.noAnswerRoute },
      { id: uuid, hungUpBy: 'pbx', finalAction: 'dial', cause: 16, noAnswerRoute: 'ivr' },
    );
  });

  test('05: wait for the only agent, who was not registered: the goodbye after the wait, the PBX hung up', () => {
    const uuid = channelOf('05-inbound-wait-only-agent.txt');
    const e = endOf(uuid);
    assert.deepEqual(facts(e), { kind: 'inbound', outcome: 'wait', disposition: 'send_bye', bridged: undefined, billsec: '25', q850: '16', dial: 'USER_NOT_REGISTERED' });
    const end = callEndedOf(e);
    assert.deepEqual(
      { id: end.id, hungUpBy: end.hungUpBy, finalAction: end.finalAction, dialStatus: end.dialStatus, noAnswerRoute: end.noAnswerRoute },
      { id: uuid, hungUpBy: 'pbx', finalAction: 'dial', dialStatus: 'CHANUNAVAIL', noAnswerRoute: 'goodbye' },
    );
  });
});

test('03: the call by customer ID refused by the adapter: not answered, the reject route, the PBX refused it', () => {
  const uuid = channelOf('03-customer-id-refused.txt');
  const e = endOf(uuid);
  assert.deepEqual(
    [e.variable_callpolicy_kind, e.variable_callpolicy_outcome, e.variable_sip_hangup_disposition, e.variable_answer_uepoch, e['Hangup-Cause']],
    ['customer-id', 'refused-unknown-id', 'send_refuse', '0', 'UNALLOCATED_NUMBER'],
  );
  const end = callEndedOf(e);
  assert.deepEqual(
    { answeredAt: end.answeredAt, talkSeconds: end.talkSeconds, hungUpBy: end.hungUpBy, finalAction: end.finalAction, dialStatus: end.dialStatus, cause: end.cause },
    { answeredAt: null, talkSeconds: null, hungUpBy: 'pbx', finalAction: 'reject', dialStatus: null, cause: 1 },
  );
});

test('every CHANNEL_HANGUP_COMPLETE the control link received is understood (no throw, its own id, its own time)', () => {
  assert.equal(ends.length, 94);
  for (const e of ends) {
    const end = callEndedOf(e);
    assert.equal(end.id, e['Unique-ID']);
    assert.deepEqual(end.at, fromMicros(e['Event-Date-Timestamp']!));
  }
});
