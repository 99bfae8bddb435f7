// What a FreeSWITCH CHANNEL_HANGUP_COMPLETE says about a call's end (fs-end-report.ts), read from the
// events recorded on a real FreeSWITCH 1.10.12 (test/fixtures/freeswitch-esl/). The expected values are
// the recordings' own facts (quoted below from the transcripts and their notes), not the function's.
import assert from 'node:assert/strict';
import { unescape } from 'node:querystring';
import { describe, test } from 'vitest';
import { callEndedOf, finalActionOf, hungUpByOf, legOf } from '../../src/pbx/freeswitch/fs-end-report.js';
import { jsonEvents, plainEvents } from '../support/fake-freeswitch/transcript.js';

/** A recorded plain CHANNEL_HANGUP_COMPLETE, values decoded as the driver receives them. */
function plainEnd(file: string, uuid: string): Record<string, string> {
  const found = plainEvents(file).filter((e) => e.name === 'CHANNEL_HANGUP_COMPLETE' && e.uniqueId === uuid);
  assert.equal(found.length, 1, `${file}: one CHANNEL_HANGUP_COMPLETE of ${uuid}`);
  return Object.fromEntries(found[0]!.headers.map(([k, v]) => [k, unescape(v)]));
}

function jsonEnd(file: string, uuid: string): Record<string, string> {
  const found = jsonEvents(file).filter((e) => e['Event-Name'] === 'CHANNEL_HANGUP_COMPLETE' && e['Unique-ID'] === uuid);
  assert.equal(found.length, 1, `${file}: one CHANNEL_HANGUP_COMPLETE of ${uuid}`);
  return found[0]!;
}

/** A time in FreeSWITCH's microseconds since the epoch, to the millisecond a Date holds. */
const fromMicros = (us: string) => new Date(Math.floor(Number(us) / 1000));

describe('outbound-callerid-park.txt: the agent (A, 64a74104) dials the carrier (B, c410f828); "Agent sends BYE 2 s after answer"', () => {
  const PARK = 'outbound-callerid-park.txt';
  const A = '64a74104-7b40-4c3e-910d-df32ede69845';
  const B = 'c410f828-177d-4621-b9a9-2a5672036bc9';
  const a = plainEnd(PARK, A);
  const b = plainEnd(PARK, B);

  test('what was recorded (the facts the assertions below rest on)', () => {
    assert.deepEqual(
      [a.variable_sip_hangup_disposition, a.variable_bridge_uuid, a.variable_DIALSTATUS, a.variable_billsec, a['Hangup-Cause'], a.variable_hangup_cause_q850],
      ['recv_bye', B, 'SUCCESS', '2', 'NORMAL_CLEARING', '16'],
    );
    assert.deepEqual(
      [b.variable_sip_hangup_disposition, b.variable_bridge_uuid, b.variable_DIALSTATUS, b.variable_billsec, b['Hangup-Cause'], b.variable_hangup_cause_q850],
      ['send_bye', A, undefined, '2', 'NORMAL_CLEARING', '16'],
    );
    // Both legs were answered at the same moment; the B leg's end was sent first although A hung up.
    assert.equal(a.variable_answer_uepoch, '1795528623521809');
    assert.equal(b.variable_answer_uepoch, '1795528623521809');
    const order = plainEvents(PARK)
      .filter((e) => e.name === 'CHANNEL_HANGUP_COMPLETE')
      .map((e) => e.uniqueId);
    assert.deepEqual(order, [B, A]);
  });

  test("the agent's leg: answered at answer_uepoch, 2 s billed, ANSWER, cause 16, the agent hung up (recv_bye)", () => {
    const end = callEndedOf(a, 'agent');
    assert.equal(end.id, A);
    assert.deepEqual(end.at, fromMicros('1795528625561816'));
    assert.deepEqual(end.answeredAt, fromMicros('1795528623521809'));
    assert.equal(end.talkSeconds, 2);
    assert.equal(end.dialStatus, 'ANSWER');
    assert.equal(end.cause, 16);
    assert.equal(end.hungUpBy, 'agent');
    // This recording's dialplan (park) is not the shipped one: no route ran, so nothing says what the PBX did.
    assert.equal(end.finalAction, null);
  });

  test("the carrier's leg read as the customer's: send_bye on a bridged leg names the other party, the agent", () => {
    // hungUpByOf's promise: "`send_bye` on a bridged leg: FreeSWITCH ended it because the other leg
    // left". The other leg of the customer's is the agent's, and the agent did hang up first.
    const end = callEndedOf(b, 'customer');
    assert.equal(end.id, B);
    assert.equal(end.hungUpBy, 'agent');
    assert.deepEqual(end.answeredAt, fromMicros('1795528623521809'));
    assert.equal(end.talkSeconds, 2);
    assert.equal(end.cause, 16);
    // The B leg was dialled, it did not dial: no DIALSTATUS of its own.
    assert.equal(end.dialStatus, null);
  });

  test('both legs tell the same story whichever end comes first', () => {
    assert.equal(hungUpByOf(a, 'agent'), hungUpByOf(b, 'customer'));
    // Read the other way round (A as a customer's leg, B as an agent's), each still names the party
    // that left first relative to itself: recv_bye -> this leg, send_bye+bridged -> the other one.
    assert.equal(hungUpByOf(a, 'customer'), 'customer');
    assert.equal(hungUpByOf(b, 'agent'), 'customer');
  });
});

test('errors.txt: the parked agent call that was never answered (send_refuse): no answer, no talk time, the PBX ended it', () => {
  const e = plainEnd('errors.txt', 'b12dcece-b2ce-474e-a8ff-9f45e3638e0b');
  assert.deepEqual([e.variable_sip_hangup_disposition, e.variable_answer_uepoch, e.variable_billsec, e.variable_bridge_uuid, e.variable_DIALSTATUS], ['send_refuse', '0', '0', undefined, undefined]);
  const end = callEndedOf(e, 'agent');
  assert.equal(end.id, 'b12dcece-b2ce-474e-a8ff-9f45e3638e0b');
  assert.equal(end.answeredAt, null);
  assert.equal(end.talkSeconds, null);
  assert.equal(end.hungUpBy, 'pbx');
  assert.equal(end.dialStatus, null);
  assert.equal(end.cause, 16);
  assert.deepEqual(end.at, fromMicros(e['Event-Date-Timestamp']!));
  // Whichever party's leg it is, a refused channel was ended by the PBX.
  assert.equal(hungUpByOf(e, 'customer'), 'pbx');
});

describe('dtmf-survey.txt (JSON): the customer (A, 048fc021) reaches the agent (B, 01818f83); "agent BYE first", then the survey', () => {
  const FILE = 'dtmf-survey.txt';
  const CUSTOMER = '048fc021-99ff-4bd1-a89c-2cd5dc88997d';
  const AGENT = '01818f83-ef6a-4777-990f-4ed3927e2760';
  const c = jsonEnd(FILE, CUSTOMER);
  const g = jsonEnd(FILE, AGENT);

  test('what was recorded', () => {
    assert.deepEqual(
      [c.variable_sip_hangup_disposition, c.variable_bridge_uuid, c.variable_DIALSTATUS, c.variable_billsec, c.variable_hangup_cause_q850, c.variable_answer_uepoch],
      ['send_bye', AGENT, 'SUCCESS', '4', '16', '1795528862761820'],
    );
    assert.deepEqual(
      [g.variable_sip_hangup_disposition, g.variable_bridge_uuid, g.variable_DIALSTATUS, g.variable_billsec, g.variable_hangup_cause_q850, g.variable_answer_uepoch],
      ['recv_bye', CUSTOMER, undefined, '2', '16', '1795528862761820'],
    );
  });

  test("the agent's leg: the agent hung up (recv_bye), 2 s billed, no dial status of its own", () => {
    const end = callEndedOf(g, 'agent');
    assert.equal(end.id, AGENT);
    assert.equal(end.hungUpBy, 'agent');
    assert.deepEqual(end.answeredAt, fromMicros('1795528862761820'));
    assert.equal(end.talkSeconds, 2);
    assert.equal(end.dialStatus, null);
    assert.equal(end.cause, 16);
    assert.deepEqual(end.at, fromMicros('1795528864781829'));
  });

  test("the customer's leg: FreeSWITCH sent the BYE (after the survey) on a bridged leg: the agent had left first", () => {
    const end = callEndedOf(c, 'customer');
    assert.equal(end.id, CUSTOMER);
    assert.equal(end.hungUpBy, 'agent');
    assert.deepEqual(end.answeredAt, fromMicros('1795528862761820'));
    // billsec counts the customer's whole answered time: the 2 s with the agent and the survey after.
    assert.equal(end.talkSeconds, 4);
    assert.equal(end.dialStatus, 'ANSWER');
    assert.equal(end.cause, 16);
    assert.deepEqual(end.at, fromMicros('1795528866421817'));
  });
});

test('no SIP hang-up disposition: who hung up is not known (null), never a guess', () => {
  const { variable_sip_hangup_disposition: _, ...without } = plainEnd('outbound-callerid-park.txt', '64a74104-7b40-4c3e-910d-df32ede69845');
  assert.equal(hungUpByOf(without, 'agent'), null);
  assert.equal(callEndedOf(without, 'agent').hungUpBy, null);
});

test("the route that ran (callpolicy_outcome) on a recorded end is the end's finalAction", () => {
  const a = plainEnd('outbound-callerid-park.txt', '64a74104-7b40-4c3e-910d-df32ede69845');
  assert.equal(callEndedOf({ ...a, variable_callpolicy_outcome: 'dial' }, 'agent').finalAction, 'dial');
  assert.equal(callEndedOf({ ...a, variable_callpolicy_outcome: 'default-timeout' }, 'agent').finalAction, 'default');
  assert.equal(callEndedOf({ ...a, variable_callpolicy_outcome: 'reject' }, 'agent').finalAction, 'reject');
});

describe('finalActionOf: the route extension that ran, in the port\'s words', () => {
  test('each route of [callpolicy-route] the outbound dialplan can run', () => {
    const cases: [string, string][] = [
      ['dial', 'dial'],
      ['default', 'default'],
      ['default-down', 'default'],
      ['default-timeout', 'default'],
      ['reject', 'reject'],
      ['refused-unknown-id', 'reject'],
      ['refused-id-unavailable', 'reject'],
    ];
    for (const [route, action] of cases) assert.equal(finalActionOf(route), action, route);
  });

  test('no route ran: null', () => {
    assert.equal(finalActionOf(undefined), null);
    assert.equal(finalActionOf(''), null);
  });

  test('garbage: null', () => {
    for (const v of ['garbage', 'DIAL', 'Dial', ' dial', 'dial ', 'dial\n', 'rejected', 'null', 'undefined', '0']) assert.equal(finalActionOf(v), null, JSON.stringify(v));
  });

  test('garbage that begins like a route is garbage too: null, never a wrong value', () => {
    // The Asterisk end report's rule (ari-end-report.test.ts: "anything unexpected becomes null").
    for (const v of ['defaultX', 'default; DROP', 'refused', 'refusedX']) assert.equal(finalActionOf(v), null, JSON.stringify(v));
  });
});

describe("whose phone a channel is, from the shipped dialplan's variables on it (legOf)", () => {
  // dtmf-survey.txt: the customer's leg (A, 048fc021) went on to play_and_get_digits after the
  // agent's BYE: what the shipped [callpolicy-survey] does, which marks the channel kind=survey.
  const customer = jsonEnd('dtmf-survey.txt', '048fc021-99ff-4bd1-a89c-2cd5dc88997d');

  test('a customer\'s call from the trunk (kind inbound) is the customer\'s leg; an agent\'s call is the agent\'s', () => {
    assert.equal(legOf({ ...customer, variable_callpolicy_kind: 'inbound' }), 'customer');
    assert.equal(legOf({ ...customer, variable_callpolicy_kind: 'outbound' }), 'agent');
    assert.equal(legOf({ ...customer, variable_callpolicy_kind: 'customer-id' }), 'agent');
  });

  test('an inbound call whose channel went on to the survey: the customer\'s leg, and the agent hung up first', () => {
    const surveyed = { ...customer, variable_callpolicy_kind: 'survey', variable_callpolicy_direction: 'inbound' };
    assert.equal(legOf(surveyed), 'customer');
    const end = callEndedOf(surveyed);
    assert.equal(end.hungUpBy, 'agent');
    assert.equal(end.id, '048fc021-99ff-4bd1-a89c-2cd5dc88997d');
    assert.ok(end.answeredAt instanceof Date);
  });
});

test("an originate failure outside Asterisk's words is a congestion; the known ones keep their word", () => {
  const base = { 'Unique-ID': 'u1', 'Event-Date-Timestamp': '1796666345089762', variable_hangup_cause_q850: '41' };
  assert.equal(callEndedOf({ ...base, variable_DIALSTATUS: 'NORMAL_TEMPORARY_FAILURE' }).dialStatus, 'CONGESTION');
  assert.equal(callEndedOf({ ...base, variable_DIALSTATUS: 'USER_BUSY' }).dialStatus, 'BUSY');
  assert.equal(callEndedOf({ ...base, variable_DIALSTATUS: 'USER_NOT_REGISTERED' }).dialStatus, 'CHANUNAVAIL');
  assert.equal(callEndedOf({ ...base }).dialStatus, null);
});
