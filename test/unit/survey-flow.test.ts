// The survey flow over the fake PBX: the template chosen by direction and the agent's group, the
// state machine driven by real timing (prompts that take time to play, the wait for a key that
// starts when they end, keys that cut a prompt short), exactly one recorded outcome per survey,
// linked to its call, and calls not surveyed at all. (The state machine alone: survey.test.ts.)
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeEach, describe, test } from 'vitest';
import { createOutboundFlow } from '../../src/flows/outbound-flow.js';
import { createSurveyFlow, type SurveyedCall } from '../../src/flows/survey-flow.js';
import { createLogger } from '../../src/log.js';
import { createFakeCallControl } from '../../src/pbx/fake/fake-call-control.js';
import { DEFAULT_MEMORY } from '../../src/policy/call-memory.js';
import { DEFAULT_CHAINS } from '../../src/policy/caller-id-types.js';
import { createNumberInventory } from '../../src/policy/number-inventory.js';
import { SURVEY_OFF, type SurveySettings, type SurveyTemplate } from '../../src/policy/survey.js';
import type { NewSurveyResult } from '../../src/store/call-records.js';
import type { RuntimePolicy } from '../../src/store/load-policy.js';

const T: SurveyTemplate = {
  intro: 'survey/intro',
  closing: 'survey/thanks',
  invalid: 'survey/invalid',
  keys: { '1': { label: 'satisfied', score: 3 }, '2': { label: 'neutral', score: 2 }, '3': { label: 'dissatisfied', score: 1 } },
  tries: 2,
  timeoutSeconds: 0.3,
};
const VIP: SurveyTemplate = { ...T, intro: 'vip/intro', tries: 1 };

const SURVEY: SurveySettings = {
  enabled: true,
  outbound: true,
  inbound: true,
  rules: [{ group: 'vip', template: 'vip' }, { direction: 'inbound', template: 'in' }],
  defaultTemplate: 'main',
  templates: { main: T, vip: VIP, in: { ...T, intro: 'in/intro' } },
};

function policyWith(survey: SurveySettings): RuntimePolicy {
  return {
    defaultCountry: 'US',
    callerId: { strategy: 'group', selection: 'random', chains: { ...DEFAULT_CHAINS }, onInvalidNumber: 'reject' },
    trunks: { trunk: { callerIdFormat: 'e164', calleeFormat: 'e164', displayName: '' } },
    privacy: { maskNumbersInLogs: true },
    protection: { mode: 'off' },
    emergency: { numbers: {} },
    inventory: createNumberInventory(
      [{ e164: '+14155550100', enabled: true, groups: ['sales', 'vip'], location: { country: 'US', region: null, area: null }, lastUsedAt: 0 }],
      [
        { id: 'alice', endpoint: 'PJSIP/1001', groups: ['sales'], allowedNumbers: [], chosenNumber: null },
        { id: 'victor', endpoint: 'PJSIP/1005', groups: ['sales', 'vip'], allowedNumbers: [], chosenNumber: null },
      ],
    ),
    memory: DEFAULT_MEMORY,
    survey,
    pausedAgents: new Set<string>(),
    configured: true,
  };
}

/** Prompt durations the fake plays: the intro is long enough to press a key during it. */
const DURATIONS = { 'survey/intro': 200, 'vip/intro': 200, 'in/intro': 200, 'survey/thanks': 50, 'survey/invalid': 50 };

describe('survey flow over the fake PBX', () => {
  let fake: ReturnType<typeof createFakeCallControl>;
  let results: NewSurveyResult[];
  let policy: RuntimePolicy;
  let facts: Map<string, SurveyedCall>;

  beforeEach(async () => {
    fake = createFakeCallControl();
    results = [];
    policy = policyWith(SURVEY);
    facts = new Map([['call-1', { agentId: 'alice', customerE164: '+14155550123' }]]);
    const flow = createSurveyFlow({
      policy: () => policy,
      callFacts: async (id) => facts.get(id) ?? null,
      recorder: { recordSurvey: (r) => results.push(r) },
      logger: createLogger('silent'),
      pbx: 'fake',
    });
    await fake.port.start({ outbound: async (c) => c.useDefault(), survey: flow.handle });
  });

  const survey = (customer: Parameters<typeof fake.placeSurvey>[0]['customer'], more: Partial<Parameters<typeof fake.placeSurvey>[0]> = {}) =>
    fake.placeSurvey({ direction: 'outbound', callId: 'call-1', agentEndpoint: 'PJSIP/1001', customer, promptDurations: DURATIONS, ...more });

  test('a key after the intro: rated, linked to the call, the closing prompt, then the adapter hangs up', async () => {
    const r = await survey([{ atMs: 300, key: '2' }]);
    assert.deepEqual(
      r.plays.map((p) => [p.prompts, p.completed]),
      [
        [['survey/intro'], true],
        [['survey/thanks'], true],
      ],
    );
    assert.equal(r.endedBy, 'adapter');
    assert.equal(r.outcomeMarked, true, 'the outcome is noted on the leg');
    assert.equal(results.length, 1);
    const row = results[0]!;
    assert.deepEqual(
      [row.outcome, row.dtmfKey, row.label, row.score, row.attempts, row.template, row.direction, row.callChannelId, row.agentId, row.customerE164, row.agentGroups],
      ['rated', '2', 'neutral', 2, 1, 'main', 'outbound', 'call-1', 'alice', '+14155550123', ['sales']],
    );
    assert.ok(row.endedAt! >= row.startedAt!);
  });

  test('a key while the intro plays cuts it short (barge-in)', async () => {
    const r = await survey([{ atMs: 50, key: '1' }]);
    assert.equal(r.plays[0]!.completed, false, 'the intro was cut short');
    assert.deepEqual(r.plays[1]!.prompts, ['survey/thanks']);
    assert.equal(results[0]!.outcome, 'rated');
  });

  test('a wrong key, then a right one: the invalid prompt and the intro again, rated on the second try', async () => {
    const r = await survey([
      { atMs: 250, key: '9' },
      { atMs: 600, key: '3' },
    ]);
    assert.deepEqual(
      r.plays.map((p) => p.prompts),
      [['survey/intro'], ['survey/invalid', 'survey/intro'], ['survey/thanks']],
    );
    assert.deepEqual([results[0]!.outcome, results[0]!.dtmfKey, results[0]!.score, results[0]!.attempts], ['rated', '3', 1, 2]);
  });

  test('a wrong key on the last try: invalid, with that key', async () => {
    await survey([
      { atMs: 250, key: '9' },
      { atMs: 600, key: '#' },
    ]);
    assert.deepEqual([results[0]!.outcome, results[0]!.dtmfKey, results[0]!.label, results[0]!.attempts], ['invalid', '#', null, 2]);
  });

  test('no key: the wait starts when the intro has played; asked again, then no input', async () => {
    const started = Date.now();
    const r = await survey([]);
    const took = Date.now() - started;
    assert.deepEqual(
      r.plays.map((p) => p.prompts),
      [['survey/intro'], ['survey/intro'], ['survey/thanks']],
    );
    // Two intros (200 ms each) and two waits (300 ms each) before the outcome.
    assert.ok(took >= 1000, `no input came after both waits (${took} ms)`);
    assert.deepEqual([results[0]!.outcome, results[0]!.attempts], ['no_input', 2]);
  });

  test('the customer hangs up during the intro: hung up, recorded once, nothing more played', async () => {
    const r = await survey([{ atMs: 100, hangup: true }]);
    assert.equal(r.endedBy, 'customer');
    assert.equal(r.plays.length, 1);
    assert.deepEqual(
      results.map((x) => [x.outcome, x.attempts]),
      [['hung_up', 1]],
    );
  });

  test('the customer hangs up during the closing prompt: the rating stands, one row', async () => {
    await survey([
      { atMs: 250, key: '1' },
      { atMs: 270, hangup: true },
    ]);
    await sleep(50);
    assert.deepEqual(
      results.map((x) => x.outcome),
      ['rated'],
    );
  });

  test("the agent's group picks the template (vip: asked once), inbound calls their own", async () => {
    facts.set('call-2', { agentId: 'victor', customerE164: '+14155550199' });
    await survey([], { callId: 'call-2' });
    assert.deepEqual([results[0]!.template, results[0]!.outcome, results[0]!.attempts, results[0]!.agentGroups], ['vip', 'no_input', 1, ['sales', 'vip']]);
    await survey([{ atMs: 250, key: '1' }], { direction: 'inbound' });
    assert.equal(results[1]!.template, 'in');
  });

  test('a call the adapter does not know: the agent from the endpoint the PBX names, the customer unknown', async () => {
    await survey([{ atMs: 250, key: '1' }], { callId: 'unknown-call', agentEndpoint: 'PJSIP/1005' });
    assert.deepEqual([results[0]!.agentId, results[0]!.customerE164, results[0]!.template], ['victor', null, 'vip']);
  });

  test('surveys off, the direction off, or the outcome already recorded: hung up at once, nothing recorded', async () => {
    policy = policyWith(SURVEY_OFF);
    assert.deepEqual((await survey([{ atMs: 100, key: '1' }])).plays, []);
    policy = policyWith({ ...SURVEY, inbound: false });
    assert.deepEqual((await survey([{ atMs: 100, key: '1' }], { direction: 'inbound' })).plays, []);
    policy = policyWith(SURVEY);
    const resumed = await survey([{ atMs: 100, key: '1' }], { resumed: { outcomeRecorded: true } });
    assert.deepEqual([resumed.plays, resumed.endedBy], [[], 'adapter']);
    assert.equal(results.length, 0);
  });

  test('a leg re-adopted before its outcome was recorded is asked again from the start', async () => {
    const r = await survey([{ atMs: 250, key: '3' }], { resumed: { outcomeRecorded: false } });
    assert.deepEqual(r.plays[0]!.prompts, ['survey/intro']);
    assert.equal(results[0]!.outcome, 'rated');
  });
});

describe('outbound calls offer the survey', () => {
  test('only when surveys are on for outbound calls and the agent is known; never for emergency numbers', async () => {
    const fake = createFakeCallControl();
    let policy = policyWith(SURVEY);
    const flow = createOutboundFlow({
      policy: () => policy,
      locate: async () => ({ country: 'US', region: null, area: null }),
      recorder: { recordDecision: () => undefined, recordEnd: () => undefined },
      logger: createLogger('silent'),
      pbx: 'fake',
    });
    await fake.port.start({ outbound: flow.handle });
    assert.equal((await fake.placeCall({ endpoint: 'PJSIP/1001', dialed: '+14155550123' })).survey, true);
    assert.equal((await fake.placeCall({ endpoint: 'PJSIP/1001', dialed: '911' })).survey, undefined, 'emergency calls are never surveyed');
    assert.equal((await fake.placeCall({ endpoint: 'PJSIP/1999', dialed: '+14155550123' })).survey, undefined, 'an unknown agent has nobody to rate');
    policy = policyWith({ ...SURVEY, outbound: false });
    assert.equal((await fake.placeCall({ endpoint: 'PJSIP/1001', dialed: '+14155550123' })).survey, undefined);
  });
});
