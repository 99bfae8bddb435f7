// The survey leg's code (src/pbx/freeswitch/fs-survey-leg.ts) replayed against this project's own
// surveys recorded on a real FreeSWITCH 1.10.12 (test/fixtures/freeswitch-esl/real-1.10.12/, files
// 06-10): the recorded adapter's commands are re-issued through the leg, the recorded events are fed
// to it in the recorded order, and the leg must send what was recorded and report what happened.
import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import type { SurveyLegEvent } from '../../src/pbx/call-control.js';
import type { DecisionSocket, EslEvent } from '../../src/pbx/freeswitch/esl-link.js';
import { surveyLegOf } from '../../src/pbx/freeswitch/fs-survey-leg.js';
import { header, parseHeaderBlock, readWire, splitFrames } from '../support/fake-freeswitch/transcript.js';

const DIR = 'real-1.10.12';

/** One recorded step: a command the adapter sent, or an event FreeSWITCH sent on the survey socket. */
type Step = { command: string; headers: [string, string][] } | { event: Record<string, string> };

function stepsOf(file: string): Step[] {
  return readWire(`${DIR}/${file}`).flatMap((chunk): Step[] => {
    if (chunk.from === 'client') {
      const [line = '', ...rest] = chunk.bytes.trimEnd().split('\n');
      return [{ command: line, headers: parseHeaderBlock(rest.join('\n')) }];
    }
    return splitFrames(chunk.bytes)
      .filter((f) => header(f.headers, 'Content-Type') === 'text/event-json')
      .map((f) => ({ event: JSON.parse(f.body) as Record<string, string> }));
  });
}

/** A DecisionSocket that only records what the leg sends: the replay plays FreeSWITCH's part. */
function recordingSocket(uuid: string) {
  const sent: string[] = [];
  /** Event-UUIDs the leg chose for its playbacks, in order. */
  const ids: string[] = [];
  let onEvent: ((e: EslEvent) => void) | undefined;
  const sock: DecisionSocket = {
    uuid,
    data: {},
    closed: false,
    done: new Promise(() => undefined),
    async execute(app, arg, eventUuid) {
      sent.push(`execute ${app} ${arg}`);
      if (eventUuid) ids.push(eventUuid);
    },
    async api(command) {
      sent.push(`api ${command}`);
      return '+OK\n';
    },
    async hangup() {
      sent.push('hangup');
    },
    async executeAndRelease(app, arg) {
      sent.push(`execute ${app} ${arg}`, 'exit');
    },
    async subscribe(_names, listener) {
      onEvent = listener;
    },
    async release() {},
    abort() {},
  };
  return { sock, sent, ids, feed: (e: EslEvent) => onEvent?.(e) };
}

/**
 * Replays a recorded survey: each recorded command is made through the leg's own API (play,
 * stopPlaying, markOutcomeRecorded, hangup), each recorded event is fed to it with the recorded
 * Event-UUIDs mapped to the ones the leg chose. Returns what the leg sent and what it reported.
 */
async function replay(file: string) {
  const steps = stepsOf(file);
  const connect = readWire(`${DIR}/${file}`).find((c) => c.from === 'server')!;
  const uuid = header(splitFrames(connect.bytes)[0]!.headers, 'Unique-ID')!;
  const rec = recordingSocket(uuid);
  const leg = surveyLegOf(rec.sock, { direction: 'outbound', callId: 'call', agentEndpoint: 'user/1001' });
  await leg.ready;
  const reported: SurveyLegEvent[] = [];
  leg.call.onEvent((e) => reported.push(e));
  const recordedIds: string[] = [];
  const expected: string[] = [];
  for (const step of steps) {
    if ('event' in step) {
      const e = { ...step.event };
      const i = recordedIds.indexOf(e['Application-UUID'] ?? '');
      if (i >= 0) e['Application-UUID'] = rec.ids[i]!;
      rec.feed(e);
      continue;
    }
    const [verb, ...words] = step.command.split(' ');
    if (verb === 'sendmsg' && header(step.headers, 'call-command') === 'hangup') {
      expected.push('hangup');
      await leg.call.hangup();
    } else if (verb === 'sendmsg') {
      const arg = header(step.headers, 'execute-app-arg')!;
      recordedIds.push(header(step.headers, 'Event-UUID')!);
      expected.push(`execute playback ${arg}`);
      await leg.call.play([arg.replace(/\.wav$/, '')]);
    } else if (verb === 'api' && words[0] === 'uuid_break') {
      expected.push(`api ${words.join(' ')}`);
      await leg.call.stopPlaying();
    } else if (verb === 'api' && words[0] === 'uuid_setvar') {
      expected.push(`api ${words.join(' ')}`);
      await leg.call.markOutcomeRecorded();
    }
  }
  return { sent: rec.sent, expected, reported, steps };
}

const dtmfOf = (steps: Step[]) => steps.flatMap((s) => ('event' in s && s.event['Event-Name'] === 'DTMF' ? [s.event] : []));

describe('a key during the intro: the key is read from the recorded DTMF event, whatever its source', () => {
  test.each([
    ['07-survey-outbound-rfc2833-key1.txt', '1', 'RTP'],
    ['08-survey-outbound-sipinfo-key2.txt', '2', 'ENDPOINT'],
    ['09-survey-inbound-rfc2833-key3.txt', '3', 'RTP'],
    ['10-survey-inbound-sipinfo-key1.txt', '1', 'ENDPOINT'],
  ])('%s: key %s (DTMF-Source %s), then only the closing prompt says played', async (file, digit, source) => {
    const { sent, expected, reported, steps } = await replay(file);
    // The recording: one DTMF, from that source (SIP INFO says ENDPOINT, not INFO).
    assert.deepEqual(
      dtmfOf(steps).map((e) => [e['DTMF-Digit'], e['DTMF-Source']]),
      [[digit, source]],
    );
    // The leg sent what the recorded adapter sent: intro, uuid_break ... all, uuid_setvar, closing, hangup.
    assert.deepEqual(sent, expected);
    assert.equal(sent.filter((s) => s.startsWith('api uuid_break') && s.endsWith(' all')).length, 1);
    // The cut intro's CHANNEL_EXECUTE_COMPLETE came after the closing prompt was accepted, saying FILE
    // PLAYED: the leg must not take it for the end of the closing prompt.
    assert.deepEqual(reported, [{ kind: 'key', digit }, { kind: 'played' }]);
  });

  test('07: the cut intro reports its completion after the next playback was accepted, and says FILE PLAYED', () => {
    const steps = stepsOf('07-survey-outbound-rfc2833-key1.txt');
    const intro = steps.find((s): s is Extract<Step, { command: string }> => 'command' in s && s.command === 'sendmsg');
    const introId = header(intro!.headers, 'Event-UUID');
    const at = (pred: (s: Step) => boolean) => steps.findIndex(pred);
    const secondPlayback = at((s) => 'command' in s && s.command === 'sendmsg' && header(s.headers, 'Event-UUID') !== introId);
    const introDone = at((s) => 'event' in s && s.event['Event-Name'] === 'CHANNEL_EXECUTE_COMPLETE' && s.event['Application-UUID'] === introId);
    assert.ok(secondPlayback > 0 && introDone > secondPlayback, `intro completes at step ${introDone}, after the next playback (step ${secondPlayback})`);
    assert.equal((steps[introDone] as { event: Record<string, string> }).event['Application-Response'], 'FILE PLAYED');
  });
});

test('06, no key: the intro plays out twice and the closing prompt once, each reported as played once', async () => {
  const { sent, expected, reported, steps } = await replay('06-survey-outbound-no-input.txt');
  assert.deepEqual(dtmfOf(steps), []);
  assert.deepEqual(sent, expected);
  assert.equal(sent.filter((s) => s.startsWith('execute playback')).length, 3);
  assert.deepEqual(reported, [{ kind: 'played' }, { kind: 'played' }, { kind: 'played' }]);
});

test("07-10: after the adapter's own hangup, the recorded HANGUP and later events are not reported as the customer leaving", async () => {
  for (const file of ['07-survey-outbound-rfc2833-key1.txt', '08-survey-outbound-sipinfo-key2.txt', '09-survey-inbound-rfc2833-key3.txt', '10-survey-inbound-sipinfo-key1.txt']) {
    const { reported } = await replay(file);
    assert.ok(!reported.some((e) => e.kind === 'gone'), `${file}: ${JSON.stringify(reported)}`);
  }
});
