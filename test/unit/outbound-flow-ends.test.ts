// Records are exact: every call the flow sees is recorded once, its end after its decision,
// even when the call hung up during the decision or the PBX stopped waiting for it.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'vitest';
import { createOutboundFlow } from '../../src/flows/outbound-flow.js';
import { createLogger } from '../../src/log.js';
import { CallGoneError, type CallEnded, type OutboundCall } from '../../src/pbx/call-control.js';
import { createFakeCallControl } from '../../src/pbx/fake/fake-call-control.js';
import { DEFAULT_CHAINS } from '../../src/policy/caller-id-types.js';
import { createNumberInventory } from '../../src/policy/number-inventory.js';
import type { RuntimePolicy } from '../../src/store/load-policy.js';
import { waitFor } from '../contract/outbound-port-contract.js';
import { DEFAULT_MEMORY } from '../../src/policy/call-memory.js';
import { SURVEY_OFF } from '../../src/policy/survey.js';

const sf = { country: 'US', region: 'US:CA', area: 'US:415' };

function policy(): RuntimePolicy {
  return {
    defaultCountry: 'US',
    callerId: { strategy: 'area', selection: 'lru', chains: { ...DEFAULT_CHAINS }, onInvalidNumber: 'reject' },
    trunks: { trunk: { callerIdFormat: 'e164', calleeFormat: 'e164', displayName: 'ACME' } },
    privacy: { maskNumbersInLogs: true },
    protection: { mode: 'off' },
    emergency: { numbers: {} },
    inventory: createNumberInventory(
      [{ e164: '+14155550100', enabled: true, groups: [], location: sf, lastUsedAt: 0 }],
      [{ id: 'alice', endpoint: 'PJSIP/1001', groups: [], allowedNumbers: [], chosenNumber: null }],
    ),
    memory: DEFAULT_MEMORY,
    survey: SURVEY_OFF,
    pausedAgents: new Set<string>(),
    configured: true,
  } as RuntimePolicy;
}

function setup(locate: () => Promise<typeof sf>) {
  const journal: { kind: 'decision' | 'end'; channelId: string; row: Record<string, unknown> }[] = [];
  const flow = createOutboundFlow({
    policy,
    locate,
    recorder: {
      recordDecision: (r) => void journal.push({ kind: 'decision', channelId: r.channelId, row: r as Record<string, unknown> }),
      recordEnd: (e) => void journal.push({ kind: 'end', channelId: e.channelId, row: e as unknown as Record<string, unknown> }),
    },
    logger: createLogger('silent', new Writable({ write: (_c, _e, cb) => cb() })),
    pbx: 'fake',
  });
  return { flow, journal };
}

const endOf = (id: string, over: Partial<CallEnded> = {}): CallEnded => ({
  id,
  at: new Date(),
  cause: 16,
  answeredAt: null,
  talkSeconds: null,
  dialStatus: null,
  finalAction: null,
  ...over,
});

describe('outbound flow: call ends', () => {
  test('a call that hangs up during the decision: decision recorded, then its end, never the other way round', async () => {
    let finishLocate!: () => void;
    const { flow, journal } = setup(() => new Promise((resolve) => (finishLocate = () => resolve(sf))));
    const gone = async () => {
      throw new CallGoneError('c1');
    };
    const call: OutboundCall = { id: 'c1', endpoint: 'PJSIP/1001', dialed: '+14155550123', trunk: 'trunk', dial: gone, useDefault: gone, reject: gone, byCustomerId: false, refuseCustomerId: gone };
    const handled = flow.handle(call);
    flow.ended(endOf('c1', { cause: 16 }));
    assert.equal(journal.length, 0, 'nothing is written while the call is being decided');
    finishLocate();
    await handled;
    assert.deepEqual(
      journal.map((j) => j.kind),
      ['decision', 'end'],
    );
    assert.equal(journal[0]!.row.action, 'dial', 'the decision is recorded as made');
    assert.equal(journal[1]!.row.finalAction, null, 'the end says the PBX did not act on it');
    assert.equal(journal[1]!.row.pbx, 'fake');
  });

  test('a decision the PBX stopped waiting for is recorded, and its end says the PBX used the default', async () => {
    const { flow, journal } = setup(() => new Promise((resolve) => setTimeout(() => resolve(sf), 120)));
    const fake = createFakeCallControl();
    await fake.port.start({ outbound: flow.handle, ended: flow.ended });
    const result = await fake.placeCall({ endpoint: 'PJSIP/1001', dialed: '+14155550123', decisionTimeoutMs: 40 });
    assert.equal(result.outcome, 'default', 'the PBX went on without the adapter');
    await waitFor(() => journal.length === 2, 2000);
    assert.deepEqual(
      journal.map((j) => j.kind),
      ['decision', 'end'],
    );
    assert.equal(journal[0]!.row.callerId, '+14155550100');
    assert.equal(journal[1]!.row.finalAction, 'default');
    assert.equal(journal[1]!.row.dialStatus, 'ANSWER');
  });

  test('an ordinary call: one decision, one end with answer and talk time', async () => {
    const { flow, journal } = setup(async () => sf);
    const fake = createFakeCallControl();
    await fake.port.start({ outbound: flow.handle, ended: flow.ended });
    await fake.placeCall({ endpoint: 'PJSIP/1001', dialed: '+14155550123' });
    await waitFor(() => journal.length === 2, 2000);
    assert.deepEqual(
      journal.map((j) => j.kind),
      ['decision', 'end'],
    );
    assert.equal(journal[1]!.row.finalAction, 'dial');
    assert.ok(journal[1]!.row.answeredAt instanceof Date);
    assert.equal(journal[1]!.row.talkSeconds, 0);
  });
});
