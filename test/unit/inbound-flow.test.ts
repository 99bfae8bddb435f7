// Call memory's flow over the fake PBX: the caller's number read with the trunk's country, the
// look-up, the agent's state from the PBX (or a pause), the route taken, and the record; any
// failure on the way sends the call to the IVR. (Routing rules in detail: call-memory.test.ts.)
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { beforeEach, describe, test } from 'vitest';
import { createInboundFlow } from '../../src/flows/inbound-flow.js';
import { createLogger } from '../../src/log.js';
import { createFakeCallControl } from '../../src/pbx/fake/fake-call-control.js';
import { DEFAULT_MEMORY, type MemorySettings, type RememberedCall } from '../../src/policy/call-memory.js';
import { SURVEY_OFF } from '../../src/policy/survey.js';
import { DEFAULT_CHAINS } from '../../src/policy/caller-id-types.js';
import { createNumberInventory } from '../../src/policy/number-inventory.js';
import type { NewCallRecord } from '../../src/store/call-records.js';
import type { RuntimePolicy } from '../../src/store/load-policy.js';

const NOW = Date.parse('2026-11-25T12:00:00Z');
const policy: RuntimePolicy = {
  defaultCountry: 'US',
  callerId: { strategy: 'area', selection: 'random', chains: { ...DEFAULT_CHAINS }, onInvalidNumber: 'reject' },
  trunks: { trunk: { callerIdFormat: 'e164', calleeFormat: 'e164', displayName: '' }, cn: { country: 'CN', callerIdFormat: 'e164', calleeFormat: 'e164', displayName: '' } },
  privacy: { maskNumbersInLogs: true },
  protection: { mode: 'off' },
  emergency: { numbers: {} },
  inventory: createNumberInventory([], [
    { id: 'alice', endpoint: 'PJSIP/1001', groups: [], allowedNumbers: [], chosenNumber: null },
    { id: 'bob', endpoint: 'PJSIP/1002', groups: [], allowedNumbers: [], chosenNumber: null },
  ]),
  memory: DEFAULT_MEMORY,
  survey: SURVEY_OFF,
  pausedAgents: new Set<string>(),
  configured: true,
};

describe('inbound flow over the fake PBX', () => {
  let fake: ReturnType<typeof createFakeCallControl>;
  let records: NewCallRecord[];
  let logs: string;
  let memory: MemorySettings;
  let calls: Map<string, RememberedCall>;
  let lookUps: { customer: string; since: number; answeredOnly: boolean }[];
  let lookUpFails: boolean;
  let paused: Set<string>;
  let protection: RuntimePolicy['protection'];

  /** A call, and then the flow's bookkeeping after the route (it records once the PBX took it). */
  const place = async (req: Parameters<typeof fake.placeInbound>[0]) => {
    const r = await fake.placeInbound(req);
    await new Promise((resolve) => setImmediate(resolve));
    return r;
  };

  beforeEach(async () => {
    fake = createFakeCallControl();
    records = [];
    logs = '';
    memory = { ...DEFAULT_MEMORY, mode: 'agent-first' };
    calls = new Map([
      ['+8613800138000', { agentId: 'alice', at: NOW - 3_600_000, answered: false }],
      ['+14155550123', { agentId: 'bob', at: NOW - 7_200_000, answered: true }],
    ]);
    lookUps = [];
    lookUpFails = false;
    paused = new Set();
    protection = { mode: 'off' };
    const flow = createInboundFlow({
      policy: () => ({ ...policy, memory, pausedAgents: paused, protection }),
      lookUp: async (customer, since, { answeredOnly }) => {
        lookUps.push({ customer, since: since.getTime(), answeredOnly });
        if (lookUpFails) throw new Error('database unreachable');
        const c = calls.get(customer);
        return c && c.at >= since.getTime() && (!answeredOnly || c.answered) ? c : null;
      },
      endpointStatus: (endpoint) => fake.port.endpointStatus(endpoint),
      recorder: { recordDecision: (r) => void records.push(r) },
      logger: createLogger('info', new Writable({ write: (c, _e, cb) => ((logs += c.toString()), cb()) })),
      pbx: 'fake',
      now: () => NOW,
    });
    await fake.port.start({ outbound: async () => undefined, inbound: flow.handle });
  });

  test('a Chinese customer calling back in any national form reaches the agent who called them', async () => {
    for (const callerNumber of ['+8613800138000', '008613800138000', '013800138000', '13800138000']) {
      const r = await place({ callerNumber, trunk: 'cn' });
      assert.deepEqual(r, { outcome: 'agent', endpoint: 'PJSIP/1001', ringSeconds: 20, onNoAnswer: { kind: 'ivr' } }, callerNumber);
    }
    assert.deepEqual(new Set(lookUps.map((l) => l.customer)), new Set(['+8613800138000']));
    assert.equal(lookUps[0]!.since, NOW - 72 * 3_600_000);
    assert.equal(records.length, 4);
    assert.deepEqual(
      { ...records[0], decidedAt: undefined, decisionMicros: undefined },
      { direction: 'inbound', pbx: 'fake', channelId: records[0]!.channelId, agentId: 'alice', agentEndpoint: 'PJSIP/1001', customerE164: '+8613800138000', action: 'dial', reason: 'memory_hit', decidedAt: undefined, decisionMicros: undefined },
    );
  });

  test('number protection: the agent is rung, and the IVR reached, with only the masked caller; the record keeps the number', async () => {
    protection = { mode: 'mask' };
    const r = await place({ callerNumber: '013800138000', trunk: 'cn' });
    assert.deepEqual(r, { outcome: 'agent', endpoint: 'PJSIP/1001', ringSeconds: 20, onNoAnswer: { kind: 'ivr' }, protect: { number: '138****8000', name: '+86 138****8000' } });
    assert.deepEqual(await place({ callerNumber: '+8613912345678', trunk: 'cn' }), { outcome: 'ivr', via: 'adapter', protect: { number: '139****5678', name: '+86 139****5678' } });
    assert.deepEqual(await place({ callerNumber: 'anonymous', trunk: 'cn' }), { outcome: 'ivr', via: 'adapter', protect: { number: 'anonymous', name: 'Anonymous' } });
    assert.equal(records[0]!.customerE164, '+8613800138000');
    assert.ok(!/13800138000|13912345678/.test(logs), 'no log line holds a real number');
    assert.match(logs, /"shown":"138\*\*\*\*8000"/);
  });

  test('agent-first: a busy, offline or paused agent sends the call to the IVR, saying why', async () => {
    fake.setEndpoint('PJSIP/1002', { reachable: true, inCall: true });
    assert.deepEqual(await place({ callerNumber: '4155550123' }), { outcome: 'ivr', via: 'adapter' });
    fake.setEndpoint('PJSIP/1002', { reachable: false, inCall: false });
    assert.deepEqual(await place({ callerNumber: '4155550123' }), { outcome: 'ivr', via: 'adapter' });
    fake.setEndpoint('PJSIP/1002', { reachable: true, inCall: false });
    paused.add('bob');
    assert.deepEqual(await place({ callerNumber: '4155550123' }), { outcome: 'ivr', via: 'adapter' });
    assert.deepEqual(
      records.map((r) => r.reason),
      ['memory_miss:agent_busy', 'memory_miss:agent_offline', 'memory_miss:agent_paused'],
    );
    assert.ok(records.every((r) => r.action === 'default' && r.agentId === null && r.customerE164 === '+14155550123'));
  });

  test('only-agent: a busy agent makes the caller wait for them, then the final destination', async () => {
    memory = { ...DEFAULT_MEMORY, mode: 'only-agent', waitSeconds: 90, finalDestination: { kind: 'voicemail', extension: '8000' } };
    fake.setEndpoint('PJSIP/1002', { reachable: true, inCall: true });
    assert.deepEqual(await place({ callerNumber: '+1 415 555 0123' }), {
      outcome: 'wait-for-agent',
      endpoint: 'PJSIP/1002',
      ringSeconds: 20,
      waitSeconds: 90,
      then: { kind: 'voicemail', extension: '8000' },
      offerAgent: true,
    });
    assert.equal(records[0]!.reason, 'memory_hit_wait:busy');
  });

  test('only-agent: a paused agent is never offered the call; the caller waits, then the final destination', async () => {
    memory = { ...DEFAULT_MEMORY, mode: 'only-agent' };
    paused.add('bob');
    const r = await place({ callerNumber: '+14155550123' });
    assert.equal(r.outcome, 'wait-for-agent');
    assert.equal(r.outcome === 'wait-for-agent' && r.offerAgent, false);
    assert.equal(records[0]!.reason, 'memory_hit_wait:paused');
  });

  test('no memory: withheld numbers, strangers, memory off, unanswered calls when they do not count', async () => {
    assert.deepEqual(await place({ callerNumber: 'anonymous' }), { outcome: 'ivr', via: 'adapter' });
    assert.deepEqual(await place({ callerNumber: '+442079460000' }), { outcome: 'ivr', via: 'adapter' });
    memory = { ...memory, countUnanswered: false };
    assert.deepEqual(await place({ callerNumber: '13800138000', trunk: 'cn' }), { outcome: 'ivr', via: 'adapter' });
    assert.equal(lookUps.at(-1)!.answeredOnly, true);
    memory = { ...DEFAULT_MEMORY };
    assert.deepEqual(await place({ callerNumber: '4155550123' }), { outcome: 'ivr', via: 'adapter' });
    assert.deepEqual(
      records.map((r) => r.reason),
      ['memory_miss:withheld', 'memory_miss:no_outbound_call', 'memory_miss:no_outbound_call', 'memory_miss:memory_off'],
    );
  });

  test('a failed look-up is the IVR, logged, and the customer number never appears in the log', async () => {
    lookUpFails = true;
    assert.deepEqual(await place({ callerNumber: '4155550123' }), { outcome: 'ivr', via: 'adapter' });
    assert.equal(records[0]!.reason, 'memory_miss:lookup_failed');
    assert.match(logs, /call memory look-up failed/);
    assert.ok(!logs.includes('4155550123'));
  });

  test('with no adapter linked the fake PBX, like the dialplan, sends the call to the IVR', async () => {
    await fake.port.stop();
    assert.deepEqual(await place({ callerNumber: '4155550123' }), { outcome: 'ivr', via: 'no-adapter' });
  });
});
