// The survey state machine, every path: rated at once, a wrong key then a right one, a wrong key
// on the last try, silence on every try, a hang-up while asked, a hang-up during the closing
// prompt, events after the end; and which template applies to a call.
import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import { chooseSurveyTemplate, surveyStep, type SurveyCommand, type SurveyEvent, type SurveyState, type SurveyTemplate } from '../../src/policy/survey.js';

const T: SurveyTemplate = {
  intro: 'survey/intro',
  closing: 'survey/thanks',
  invalid: 'survey/invalid',
  keys: { '1': { label: 'satisfied', score: 3 }, '2': { label: 'neutral', score: 2 }, '3': { label: 'dissatisfied', score: 1 } },
  tries: 2,
  timeoutSeconds: 5,
};

/** Feeds the events from idle; returns every command and the final state. */
function run(events: SurveyEvent[], template = T): { commands: SurveyCommand[]; state: SurveyState } {
  let state: SurveyState = { phase: 'idle' };
  const commands: SurveyCommand[] = [];
  for (const e of events) {
    const r = surveyStep(template, state, e);
    state = r.state;
    commands.push(r.command);
  }
  return { commands, state };
}

const outcomes = (cs: SurveyCommand[]) => cs.filter((c) => c.outcome).map((c) => c.outcome);

describe('survey state machine', () => {
  test('start: the intro, then a key is awaited for the timeout', () => {
    assert.deepEqual(run([{ kind: 'start' }]).commands, [{ play: ['survey/intro'], collectSeconds: 5 }]);
  });

  test('a known key: rated with its label and score, the closing prompt, hang up', () => {
    const { commands, state } = run([{ kind: 'start' }, { kind: 'key', digit: '1' }, { kind: 'closed' }]);
    assert.deepEqual(commands[1], { play: ['survey/thanks'], hangup: true, outcome: { kind: 'rated', key: '1', label: 'satisfied', score: 3 } });
    assert.deepEqual(state, { phase: 'done', outcome: { kind: 'rated', key: '1', label: 'satisfied', score: 3 } });
  });

  test('a wrong key, then a right one: the invalid prompt and the intro again, then rated', () => {
    const { commands } = run([{ kind: 'start' }, { kind: 'key', digit: '9' }, { kind: 'key', digit: '3' }]);
    assert.deepEqual(commands[1], { play: ['survey/invalid', 'survey/intro'], collectSeconds: 5 });
    assert.deepEqual(outcomes(commands), [{ kind: 'rated', key: '3', label: 'dissatisfied', score: 1 }]);
  });

  test('a wrong key on the last try: invalid, with the key, then the closing prompt', () => {
    const { commands } = run([{ kind: 'start' }, { kind: 'key', digit: '9' }, { kind: 'key', digit: '#' }]);
    assert.deepEqual(commands[2], { play: ['survey/thanks'], hangup: true, outcome: { kind: 'invalid', key: '#' } });
  });

  test('silence on every try: the intro once more, then no input', () => {
    const { commands } = run([{ kind: 'start' }, { kind: 'timeout' }, { kind: 'timeout' }]);
    assert.deepEqual(commands[1], { play: ['survey/intro'], collectSeconds: 5 });
    assert.deepEqual(commands[2], { play: ['survey/thanks'], hangup: true, outcome: { kind: 'no_input' } });
  });

  test('one try only: the first silence ends it', () => {
    assert.deepEqual(outcomes(run([{ kind: 'start' }, { kind: 'timeout' }], { ...T, tries: 1 }).commands), [{ kind: 'no_input' }]);
    assert.deepEqual(outcomes(run([{ kind: 'start' }, { kind: 'key', digit: '7' }], { ...T, tries: 1 }).commands), [{ kind: 'invalid', key: '7' }]);
  });

  test('the customer hangs up while asked (first or a later try): hung up, nothing played', () => {
    assert.deepEqual(run([{ kind: 'start' }, { kind: 'hangup' }]).commands[1], { outcome: { kind: 'hung_up' } });
    const later = run([{ kind: 'start' }, { kind: 'timeout' }, { kind: 'hangup' }]);
    assert.deepEqual(outcomes(later.commands), [{ kind: 'hung_up' }]);
    assert.equal(later.state.phase, 'done');
  });

  test('a hang-up before the survey started is still one outcome: hung up', () => {
    assert.deepEqual(run([{ kind: 'hangup' }]).commands, [{ outcome: { kind: 'hung_up' } }]);
  });

  test('a hang-up during the closing prompt keeps the outcome: exactly one per survey', () => {
    const { commands, state } = run([{ kind: 'start' }, { kind: 'key', digit: '2' }, { kind: 'hangup' }, { kind: 'hangup' }, { kind: 'key', digit: '1' }]);
    assert.deepEqual(outcomes(commands), [{ kind: 'rated', key: '2', label: 'neutral', score: 2 }]);
    assert.deepEqual(state, { phase: 'done', outcome: { kind: 'rated', key: '2', label: 'neutral', score: 2 } });
  });

  test('keys during the closing prompt and any event after the end do nothing', () => {
    const { commands } = run([{ kind: 'start' }, { kind: 'timeout' }, { kind: 'timeout' }, { kind: 'key', digit: '1' }, { kind: 'closed' }, { kind: 'timeout' }, { kind: 'start' }]);
    assert.deepEqual(commands.slice(3), [{}, {}, {}, {}]);
    assert.deepEqual(outcomes(commands), [{ kind: 'no_input' }]);
  });
});

describe('which survey applies', () => {
  const selection = {
    outbound: true,
    inbound: false,
    rules: [
      { direction: 'outbound' as const, group: 'vip', template: 'vip' },
      { group: 'support', template: 'support' },
    ],
    defaultTemplate: 'default',
  };

  test('by direction: inbound calls only when enabled', () => {
    assert.equal(chooseSurveyTemplate(selection, { direction: 'inbound', agentGroups: ['support'] }), null);
    assert.equal(chooseSurveyTemplate({ ...selection, inbound: true }, { direction: 'inbound', agentGroups: ['support'] }), 'support');
  });

  test('the first rule that matches the direction and one of the agent groups; else the default', () => {
    assert.equal(chooseSurveyTemplate(selection, { direction: 'outbound', agentGroups: ['support', 'vip'] }), 'vip');
    assert.equal(chooseSurveyTemplate({ ...selection, inbound: true }, { direction: 'inbound', agentGroups: ['vip'] }), 'default');
    assert.equal(chooseSurveyTemplate(selection, { direction: 'outbound', agentGroups: [] }), 'default');
  });
});
