import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { beforeEach, describe, test } from 'vitest';
import { createOutboundFlow } from '../../src/flows/outbound-flow.js';
import { createLogger } from '../../src/log.js';
import type { OutboundCall } from '../../src/pbx/call-control.js';
import { createFakeCallControl } from '../../src/pbx/fake/fake-call-control.js';
import { DEFAULT_CHAINS, type PoolNumber } from '../../src/policy/caller-id-types.js';
import { createNumberInventory } from '../../src/policy/number-inventory.js';
import type { NewCallRecord } from '../../src/store/call-records.js';
import type { RuntimePolicy } from '../../src/store/load-policy.js';
import { waitFor } from '../contract/outbound-port-contract.js';
import { DEFAULT_MEMORY } from '../../src/policy/call-memory.js';
import { SURVEY_OFF } from '../../src/policy/survey.js';

const nyc = { country: 'US', region: 'US:NY', area: 'US:212' };
const london = { country: 'GB', region: 'GB:London', area: 'GB:London' };

function makePolicy(over: Partial<RuntimePolicy> = {}): RuntimePolicy {
  const pool: PoolNumber[] = [
    { e164: '+12125550100', enabled: true, groups: [], location: nyc, lastUsedAt: 0 },
    { e164: '+442079460000', enabled: true, groups: [], location: london, lastUsedAt: 0 },
  ];
  return {
    defaultCountry: 'US',
    callerId: { strategy: 'area', selection: 'lru', chains: { ...DEFAULT_CHAINS }, onInvalidNumber: 'reject' },
    trunks: {
      trunk: { callerIdFormat: 'e164', calleeFormat: 'e164', displayName: 'ACME' },
      usnat: { country: 'US', callerIdFormat: 'national', calleeFormat: 'national', displayName: 'ACME US', internationalPrefix: '011', emergencyCallerId: '+12125550199' },
      usplain: { country: 'US', callerIdFormat: 'national', calleeFormat: 'national', displayName: '' },
      cn: { country: 'CN', callerIdFormat: 'national', calleeFormat: 'national', displayName: 'ACME CN', internationalPrefix: '00' },
    },
    privacy: { maskNumbersInLogs: true },
    protection: { mode: 'off' },
    emergency: { numbers: { US: ['922'] }, callerId: '+14155550100' },
    inventory: createNumberInventory(pool, [{ id: 'alice', endpoint: 'PJSIP/1001', groups: [], allowedNumbers: [], chosenNumber: null }]),
    memory: DEFAULT_MEMORY,
    survey: SURVEY_OFF,
    pausedAgents: new Set<string>(),
    configured: true,
    ...over,
  };
}

describe('emergency numbers in the outbound flow', () => {
  let records: NewCallRecord[];
  let logs: string;
  let policy: RuntimePolicy;
  let locateCalls: number;
  let fake: ReturnType<typeof createFakeCallControl>;
  let flow: ReturnType<typeof createOutboundFlow>;

  beforeEach(async () => {
    records = [];
    logs = '';
    locateCalls = 0;
    policy = makePolicy();
    flow = createOutboundFlow({
      policy: () => policy,
      locate: async (e164) => {
        locateCalls++;
        return e164.startsWith('+44') ? london : nyc;
      },
      recorder: { recordDecision: (r) => void records.push(r), recordEnd: () => undefined },
      logger: createLogger('debug', new Writable({ write: (c, _e, cb) => ((logs += c.toString()), cb()) })),
      pbx: 'fake',
      random: () => 0,
    });
    fake = createFakeCallControl();
    await fake.port.start({ outbound: flow.handle, ended: flow.ended });
  });

  async function onlyRecord(): Promise<NewCallRecord> {
    await waitFor(() => records.length === 1, 1000);
    return records[0]!;
  }

  test('911 goes to the trunk as dialled, with the site callback number and the trunk display name', async () => {
    const r = await fake.placeCall({ endpoint: 'PJSIP/1001', dialed: '911' });
    assert.deepEqual(r, { outcome: 'dialed', trunk: { destination: '911', callerIdNumber: '+14155550100', callerIdName: 'ACME' } });
    const rec = await onlyRecord();
    assert.equal(rec.action, 'dial');
    assert.equal(rec.reason, 'emergency_number');
    assert.equal(rec.tier, 'emergency');
    assert.equal(rec.callerId, '+14155550100');
    assert.equal(rec.strategy, null);
    assert.equal(locateCalls, 0, 'no look-up for an emergency call');
  });

  test('the trunk\'s own callback number wins, formatted as the trunk wants caller IDs', async () => {
    const r = await fake.placeCall({ endpoint: 'PJSIP/1001', dialed: '911', trunk: 'usnat' });
    assert.deepEqual(r.trunk, { destination: '911', callerIdNumber: '2125550199', callerIdName: 'ACME US' });
    assert.equal((await onlyRecord()).callerId, '+12125550199');
  });

  test('no callback number anywhere: the PBX default caller ID, never a pool number', async () => {
    policy = makePolicy({ emergency: { numbers: {} } });
    const r = await fake.placeCall({ endpoint: 'PJSIP/1001', dialed: '112', defaultCallerId: { number: '+15550000001', name: '' } });
    assert.deepEqual(r, { outcome: 'default', trunk: { destination: '112', callerIdNumber: '+15550000001', callerIdName: '' } });
    const rec = await onlyRecord();
    assert.equal(rec.action, 'default');
    assert.equal(rec.reason, 'emergency_number');
    assert.equal(rec.tier, 'emergency');
    assert.equal(rec.callerId, null);
    assert.deepEqual(policy.inventory.all().map((n) => n.lastUsedAt), [0, 0], 'no pool number was reserved');
  });

  test('never rejected: not by onInvalidNumber, not for an unknown agent, not without a policy', async () => {
    policy = makePolicy({ callerId: { ...makePolicy().callerId, onInvalidNumber: 'reject' } });
    assert.equal((await fake.placeCall({ endpoint: 'PJSIP/7777', dialed: '911' })).outcome, 'dialed');
    policy = makePolicy({ configured: false, inventory: createNumberInventory([], []), trunks: {} });
    const r = await fake.placeCall({ endpoint: 'PJSIP/7777', dialed: '933', trunk: 'unknown-trunk' });
    assert.deepEqual(r.trunk, { destination: '933', callerIdNumber: '+14155550100', callerIdName: '' });
  });

  test('the list is that of the trunk\'s country, plus the numbers the policy adds', async () => {
    assert.deepEqual((await fake.placeCall({ endpoint: 'PJSIP/1001', dialed: '110', trunk: 'cn' })).trunk?.destination, '110');
    assert.equal((await fake.placeCall({ endpoint: 'PJSIP/1001', dialed: '120', trunk: 'cn' })).outcome, 'dialed');
    // 110 is not an emergency number in the US: the gate refuses it as before.
    assert.equal((await fake.placeCall({ endpoint: 'PJSIP/1001', dialed: '110', trunk: 'usnat' })).outcome, 'rejected');
    assert.deepEqual((await fake.placeCall({ endpoint: 'PJSIP/1001', dialed: '922' })).trunk?.destination, '922');
    assert.equal((await fake.placeCall({ endpoint: 'PJSIP/1001', dialed: '922', trunk: 'cn' })).outcome, 'rejected');
  });

  test('anything but the exact digits is not an emergency number', async () => {
    for (const dialed of ['+911', '911 ', '9-11', '0911']) {
      assert.equal((await fake.placeCall({ endpoint: 'PJSIP/1001', dialed })).outcome, 'rejected', dialed);
    }
    await waitFor(() => records.length === 4, 1000);
    assert.ok(records.every((r) => r.reason.startsWith('invalid_number:')));
  });

  test('decided before any await: the PBX has the decision in the same tick as the call', () => {
    const calls: string[] = [];
    const call: OutboundCall = {
      id: 'e1', endpoint: 'PJSIP/1001', dialed: '911', trunk: 'trunk',
      dial: async (callerId, destination) => void calls.push(`dial ${callerId.number} ${destination}`),
      useDefault: async () => void calls.push('default'),
      reject: async () => void calls.push('reject'),
      byCustomerId: false,
      refuseCustomerId: async () => void calls.push('refuse-id'),
    };
    void flow.handle(call);
    assert.deepEqual(calls, ['dial +14155550100 911']);
  });

  test('the log line names the emergency number (no personal data) and the reason', async () => {
    await fake.placeCall({ endpoint: 'PJSIP/1001', dialed: '911' });
    await waitFor(() => logs.includes('outbound caller ID'), 1000);
    const line = JSON.parse(logs.trim().split('\n').at(-1)!);
    assert.equal(line.dialed, '911');
    assert.equal(line.reason, 'emergency_number');
    assert.equal(line.tier, 'emergency');
  });
});

describe('numbers from abroad in the outbound flow', () => {
  let fake: ReturnType<typeof createFakeCallControl>;
  beforeEach(async () => {
    const policy = makePolicy({ callerId: { ...makePolicy().callerId, strategy: 'area', chains: { ...DEFAULT_CHAINS, area: ['area', 'pool'] } } });
    const flow = createOutboundFlow({
      policy: () => policy,
      locate: async (e164) => (e164.startsWith('+44') ? london : nyc),
      recorder: { recordDecision: () => undefined, recordEnd: () => undefined },
      logger: createLogger('silent'),
      pbx: 'fake',
      random: () => 0,
    });
    fake = createFakeCallControl();
    await fake.port.start({ outbound: flow.handle });
  });

  test('a US national trunk: home numbers national, a London number with the trunk\'s 011', async () => {
    assert.deepEqual((await fake.placeCall({ endpoint: 'PJSIP/1001', dialed: '2125550123', trunk: 'usnat' })).trunk, {
      destination: '2125550123', callerIdNumber: '2125550100', callerIdName: 'ACME US',
    });
    assert.deepEqual((await fake.placeCall({ endpoint: 'PJSIP/1001', dialed: '011442079460001', trunk: 'usnat' })).trunk, {
      destination: '011442079460001', callerIdNumber: '011442079460000', callerIdName: 'ACME US',
    });
  });

  test('without an international prefix, numbers from abroad go out in E.164', async () => {
    assert.deepEqual((await fake.placeCall({ endpoint: 'PJSIP/1001', dialed: '+442079460001', trunk: 'usplain' })).trunk, {
      destination: '+442079460001', callerIdNumber: '+442079460000', callerIdName: '',
    });
  });

  test('a CN national trunk: a US callee and caller ID go out with 00', async () => {
    assert.deepEqual((await fake.placeCall({ endpoint: 'PJSIP/1001', dialed: '+12125550123', trunk: 'cn' })).trunk, {
      destination: '0012125550123', callerIdNumber: '0012125550100', callerIdName: 'ACME CN',
    });
  });
});
