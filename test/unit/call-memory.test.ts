// Call memory's routing decision: window edges, both modes, each agent state, pause, withheld numbers.
import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import { DEFAULT_MEMORY, agentState, routeInbound, type AgentState, type InboundFacts, type MemorySettings } from '../../src/policy/call-memory.js';

const NOW = Date.parse('2026-11-25T12:00:00Z');
const HOUR = 3_600_000;
const CUSTOMER = '+8613800138000';
const onlyAgent: MemorySettings = { ...DEFAULT_MEMORY, mode: 'only-agent', finalDestination: { kind: 'voicemail', extension: '8000' } };
const agentFirst: MemorySettings = { ...DEFAULT_MEMORY, mode: 'agent-first' };

function facts(over: Partial<InboundFacts> & { state?: AgentState; hoursAgo?: number; answered?: boolean } = {}): InboundFacts {
  const { state = 'available', hoursAgo = 1, answered = true, ...rest } = over;
  return {
    caller: { ok: true, e164: CUSTOMER },
    remembered: { agentId: 'alice', at: NOW - hoursAgo * HOUR, answered },
    agent: { id: 'alice', state },
    now: NOW,
    ...rest,
  };
}

describe('no memory applies: the IVR, unchanged', () => {
  test('memory off', () => {
    assert.deepEqual(routeInbound(facts(), DEFAULT_MEMORY), { kind: 'ivr', reason: 'memory_off', agentId: null, customer: CUSTOMER });
  });
  test('withheld and unparsable caller IDs', () => {
    for (const reason of ['withheld', 'unparsable'] as const) {
      const r = routeInbound(facts({ caller: { ok: false, reason } }), onlyAgent);
      assert.deepEqual(r, { kind: 'ivr', reason, agentId: null, customer: null });
    }
  });
  test('no outbound call to this customer', () => {
    assert.equal(routeInbound(facts({ remembered: null }), onlyAgent).kind, 'ivr');
    assert.deepEqual(routeInbound(facts({ remembered: null }), agentFirst), { kind: 'ivr', reason: 'no_outbound_call', agentId: null, customer: CUSTOMER });
  });
  test('an agent the policy no longer has', () => {
    assert.deepEqual(routeInbound(facts({ agent: null }), onlyAgent), { kind: 'ivr', reason: 'agent_unknown', agentId: 'alice', customer: CUSTOMER });
    assert.equal(routeInbound(facts({ agent: { id: 'bob', state: 'available' } }), onlyAgent).kind, 'ivr');
  });
});

describe('the window', () => {
  test('72 h by default: exactly 72 h ago counts, one millisecond more does not', () => {
    const at72 = facts({ remembered: { agentId: 'alice', at: NOW - 72 * HOUR, answered: true } });
    assert.equal(routeInbound(at72, agentFirst).kind, 'agent');
    const past = facts({ remembered: { agentId: 'alice', at: NOW - 72 * HOUR - 1, answered: true } });
    assert.deepEqual(routeInbound(past, agentFirst), { kind: 'ivr', reason: 'outside_window', agentId: 'alice', customer: CUSTOMER });
  });
  test('a configured window', () => {
    const s = { ...agentFirst, windowHours: 24 };
    assert.equal(routeInbound(facts({ hoursAgo: 23.9 }), s).kind, 'agent');
    assert.equal(routeInbound(facts({ hoursAgo: 24.1 }), s).kind, 'ivr');
  });
  test('an unanswered outbound call counts by default (returning a missed call), and can be made not to', () => {
    assert.equal(routeInbound(facts({ answered: false }), agentFirst).kind, 'agent');
    const s = { ...agentFirst, countUnanswered: false };
    assert.deepEqual(routeInbound(facts({ answered: false }), s), { kind: 'ivr', reason: 'unanswered_not_counted', agentId: 'alice', customer: CUSTOMER });
    assert.equal(routeInbound(facts({ answered: true }), s).kind, 'agent');
  });
});

describe('mode agent-first (mode 2): the agent if available, else the IVR', () => {
  test('available: one ring cycle, then the IVR', () => {
    assert.deepEqual(routeInbound(facts(), agentFirst), { kind: 'agent', agentId: 'alice', customer: CUSTOMER, ringSeconds: 20, onNoAnswer: { kind: 'ivr' } });
  });
  test('busy, offline or paused: straight to the IVR, saying why', () => {
    for (const state of ['busy', 'offline', 'paused'] as const) {
      assert.deepEqual(routeInbound(facts({ state }), agentFirst), { kind: 'ivr', reason: `agent_${state}`, agentId: 'alice', customer: CUSTOMER });
    }
  });
});

describe('mode only-agent (mode 1): only that agent', () => {
  test('available: ring, then the final destination', () => {
    assert.deepEqual(routeInbound(facts(), onlyAgent), {
      kind: 'agent',
      agentId: 'alice',
      customer: CUSTOMER,
      ringSeconds: 20,
      onNoAnswer: { kind: 'voicemail', extension: '8000' },
    });
  });
  test('busy, offline or paused: the caller waits for the agent, then the final destination', () => {
    for (const state of ['busy', 'offline', 'paused'] as const) {
      assert.deepEqual(routeInbound(facts({ state }), { ...onlyAgent, waitSeconds: 90, ringSeconds: 15 }), {
        kind: 'wait-for-agent',
        agentId: 'alice',
        customer: CUSTOMER,
        agentState: state,
        ringSeconds: 15,
        waitSeconds: 90,
        then: { kind: 'voicemail', extension: '8000' },
      });
    }
  });
  test('the default final destination is a goodbye', () => {
    const r = routeInbound(facts({ state: 'busy' }), { ...onlyAgent, finalDestination: DEFAULT_MEMORY.finalDestination });
    assert.deepEqual(r.kind === 'wait-for-agent' && r.then, { kind: 'goodbye' });
  });
});

test('agent state: a pause wins, then reachability, then being in a call', () => {
  assert.equal(agentState({ reachable: true, inCall: false }, true), 'paused');
  assert.equal(agentState({ reachable: false, inCall: false }, true), 'paused');
  assert.equal(agentState({ reachable: false, inCall: false }, false), 'offline');
  assert.equal(agentState({ reachable: false, inCall: true }, false), 'offline');
  assert.equal(agentState({ reachable: true, inCall: true }, false), 'busy');
  assert.equal(agentState({ reachable: true, inCall: false }, false), 'available');
});
