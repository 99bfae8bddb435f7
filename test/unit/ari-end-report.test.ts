// What the shipped dialplan reports at a call's end (h extension, inbound hangup handler), read.
import assert from 'node:assert/strict';
import { test } from 'vitest';
import { parseEndReport } from '../../src/pbx/asterisk/ari-call-control.js';

const AGENT = 'PJSIP/1001-0000002a';
const CUSTOMER = 'PJSIP/trunk-0000002b';

test('outbound: the agent hung up first when the hang-up source is their own channel', () => {
  const r = parseEndReport(['decided', 'ANSWER', '12500', '16', AGENT], AGENT);
  assert.deepEqual(r, { outcome: 'decided', followed: true, finalAction: 'dial', dialStatus: 'ANSWER', answeredMs: 12500, cause: 16, hungUpBy: 'agent', noAnswerRoute: null });
  assert.equal(parseEndReport(['decided', 'ANSWER', '12500', '16', 'PJSIP/trunk-00000031'], AGENT).hungUpBy, 'customer');
});

test('inbound: the customer is this channel; the agent is the other one; dialplan/... is the PBX', () => {
  assert.equal(parseEndReport(['agent', 'ANSWER', '900', '16', CUSTOMER, ''], CUSTOMER).hungUpBy, 'customer');
  assert.equal(parseEndReport(['agent', 'ANSWER', '900', '16', AGENT, ''], CUSTOMER).hungUpBy, 'agent');
  const goodbye = parseEndReport(['agent-wait', 'NOANSWER', '0', '16', 'dialplan/builtin', 'goodbye'], CUSTOMER);
  assert.deepEqual([goodbye.hungUpBy, goodbye.noAnswerRoute, goodbye.finalAction], ['pbx', 'goodbye', 'dial']);
  assert.equal(parseEndReport(['ivr', '', '', '16', CUSTOMER, ''], CUSTOMER).finalAction, 'default');
});

test('calls the adapter never saw are not followed; a call hung up while deciding is', () => {
  for (const outcome of ['refused', 'default-down', 'ivr-down']) assert.equal(parseEndReport([outcome, '', '', '16', ''], AGENT).followed, false, outcome);
  const during = parseEndReport(['', '', '', '16', AGENT], AGENT);
  assert.deepEqual([during.followed, during.finalAction, during.hungUpBy], [true, null, null]);
});

test('anything unexpected becomes null, never a wrong value', () => {
  const r = parseEndReport(['agent', 'ANSWER; DROP', '-5', '16x', '', 'voicemail*2001'], CUSTOMER);
  assert.deepEqual([r.dialStatus, r.answeredMs, r.cause, r.hungUpBy, r.noAnswerRoute], [null, null, null, null, null]);
});
