import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { beforeEach, describe, test } from 'vitest';
import { createOutboundFlow } from '../../src/flows/outbound-flow.js';
import { createLogger } from '../../src/log.js';
import { createFakeCallControl } from '../../src/pbx/fake/fake-call-control.js';
import { DEFAULT_CHAINS, type PoolNumber } from '../../src/policy/caller-id-types.js';
import { createNumberInventory } from '../../src/policy/number-inventory.js';
import type { NewCallRecord } from '../../src/store/call-records.js';
import type { RuntimePolicy } from '../../src/store/load-policy.js';
import { waitFor } from '../contract/outbound-port-contract.js';
import { DEFAULT_MEMORY } from '../../src/policy/call-memory.js';
import { SURVEY_OFF } from '../../src/policy/survey.js';

const sf = { country: 'US', region: 'US:CA', area: 'US:415' };
const nyc = { country: 'US', region: 'US:NY', area: 'US:212' };
const locations: Record<string, typeof sf> = { '+14155550123': sf, '+12125550123': nyc };

function makePolicy(over: Partial<RuntimePolicy['callerId']> = {}): RuntimePolicy {
  const pool: PoolNumber[] = [
    { e164: '+14155550100', enabled: true, groups: ['sales'], location: sf, lastUsedAt: 0 },
    { e164: '+12125550100', enabled: true, groups: [], location: nyc, lastUsedAt: 0 },
  ];
  return {
    defaultCountry: 'US',
    callerId: { strategy: 'area', selection: 'random', chains: { ...DEFAULT_CHAINS }, onInvalidNumber: 'reject', ...over },
    trunks: { trunk: { callerIdFormat: 'e164', calleeFormat: 'e164', displayName: 'ACME' }, carrier2: { callerIdFormat: 'national', calleeFormat: 'national', displayName: '' } },
    privacy: { maskNumbersInLogs: true },
    protection: { mode: 'off' },
    emergency: { numbers: {} },
    inventory: createNumberInventory(pool, [
      { id: 'alice', endpoint: 'PJSIP/1001', groups: ['sales'], allowedNumbers: ['+12125550100'], chosenNumber: '+12125550100' },
    ]),
    memory: DEFAULT_MEMORY,
    survey: SURVEY_OFF,
    pausedAgents: new Set<string>(),
    configured: true,
  };
}

describe('outbound flow over the fake PBX', () => {
  let records: NewCallRecord[];
  let logs: string;
  let policy: RuntimePolicy;
  let fake: ReturnType<typeof createFakeCallControl>;
  let locateFails = false;

  beforeEach(async () => {
    records = [];
    logs = '';
    locateFails = false;
    policy = makePolicy();
    const sink = new Writable({
      write(chunk, _enc, cb) {
        logs += chunk.toString();
        cb();
      },
    });
    const flow = createOutboundFlow({
      policy: () => policy,
      locate: async (e164) => {
        if (locateFails) throw new Error('geo data unreadable');
        return locations[e164] ?? { country: 'US', region: null, area: null };
      },
      recorder: { recordDecision: (r) => void records.push(r), recordEnd: () => undefined },
      logger: createLogger('debug', sink),
      pbx: 'fake',
      random: () => 0,
    });
    fake = createFakeCallControl();
    await fake.port.start({ outbound: flow.handle, ended: flow.ended });
  });

  test('area strategy: the trunk gets the same-area number and the display name set on purpose', async () => {
    const r = await fake.placeCall({ endpoint: 'PJSIP/1001', dialed: '+12125550123' });
    assert.deepEqual(r, { outcome: 'dialed', trunk: { destination: '+12125550123', callerIdNumber: '+12125550100', callerIdName: 'ACME' } });
    await waitFor(() => records.length === 1, 1000);
    assert.equal(records[0]!.strategy, 'area');
    assert.equal(records[0]!.tier, 'area');
    assert.equal(records[0]!.fallback, false);
    assert.equal(records[0]!.customerE164, '+12125550123');
    assert.equal(records[0]!.agentId, 'alice');
    assert.equal(records[0]!.action, 'dial');
  });

  test('national dialling with the default country, national format on a trunk that wants it', async () => {
    const r = await fake.placeCall({ endpoint: 'PJSIP/1001', dialed: '4155550123', trunk: 'carrier2' });
    assert.deepEqual(r.trunk, { destination: '4155550123', callerIdNumber: '4155550100', callerIdName: '' });
  });

  test('group and agent strategies', async () => {
    policy = makePolicy({ strategy: 'group' });
    assert.equal((await fake.placeCall({ endpoint: 'PJSIP/1001', dialed: '+12125550123' })).trunk?.callerIdNumber, '+14155550100');
    policy = makePolicy({ strategy: 'agent' });
    assert.equal((await fake.placeCall({ endpoint: 'PJSIP/1001', dialed: '+14155550123' })).trunk?.callerIdNumber, '+12125550100');
  });

  test('the decision is logged in one structured line with the customer number masked', async () => {
    await fake.placeCall({ endpoint: 'PJSIP/1001', dialed: '+12125550123' });
    await waitFor(() => logs.includes('outbound caller ID'), 1000);
    const line = JSON.parse(logs.trim().split('\n').at(-1)!);
    assert.equal(line.msg, 'outbound caller ID');
    assert.equal(line.callerId, '+12125550100');
    assert.equal(line.tier, 'area');
    assert.equal(line.dialed, '+1 212****123');
    assert.ok(!logs.includes('+12125550123'), 'the real customer number must not be logged');
  });

  for (const dialed of ['+1415555&0123', '+1415,5550123', '4155550123|x', '+1415/5550123', '415;5550123', '415^5550123', '"4155550123"', "'4155550123'", '415 555 0123', '4155550123\n', '4155\u00000123']) {
    test(`dial-string injection ${JSON.stringify(dialed)} is rejected before the trunk`, async () => {
      const r = await fake.placeCall({ endpoint: 'PJSIP/1001', dialed });
      assert.deepEqual(r, { outcome: 'rejected', trunk: null });
      await waitFor(() => records.length === 1, 1000);
      assert.equal(records[0]!.reason, 'invalid_number:forbidden_characters');
    });
  }

  test('an invalid number goes out with the default caller ID when so configured', async () => {
    policy = makePolicy({ onInvalidNumber: 'default' });
    const r = await fake.placeCall({ endpoint: 'PJSIP/1001', dialed: '12' });
    assert.equal(r.outcome, 'default');
    await waitFor(() => records.length === 1, 1000);
    assert.match(records[0]!.reason, /^invalid_number:/);
  });

  test('too long a number is rejected', async () => {
    const r = await fake.placeCall({ endpoint: 'PJSIP/1001', dialed: '+1'.padEnd(40, '5') });
    assert.equal(r.outcome, 'rejected');
    await waitFor(() => records.length === 1, 1000);
    assert.equal(records[0]!.reason, 'invalid_number:too_long');
  });

  test('an unknown agent gets the default caller ID', async () => {
    const r = await fake.placeCall({ endpoint: 'PJSIP/7777', dialed: '+12125550123' });
    assert.equal(r.outcome, 'default');
    await waitFor(() => records.length === 1, 1000);
    assert.equal(records[0]!.reason, 'unknown_agent');
  });

  test('a failing location lookup still decides, at country level', async () => {
    locateFails = true;
    const r = await fake.placeCall({ endpoint: 'PJSIP/1001', dialed: '+12125550123' });
    assert.equal(r.outcome, 'dialed');
    await waitFor(() => records.length === 1, 1000);
    assert.equal(records[0]!.tier, 'pool');
    assert.equal(records[0]!.fallback, true);
  });

  test('an empty pool sends the default caller ID', async () => {
    policy = { ...makePolicy(), inventory: createNumberInventory([], []) };
    assert.equal((await fake.placeCall({ endpoint: 'PJSIP/1001', dialed: '+12125550123' })).outcome, 'default');
  });

  test('a caller who hangs up during the decision is not a crash, leaves a log line and is still recorded', async () => {
    policy = makePolicy();
    const slow = createOutboundFlow({
      policy: () => policy,
      locate: () => new Promise((r) => setTimeout(() => r(nyc), 200)),
      recorder: { recordDecision: (r) => void records.push(r), recordEnd: () => undefined },
      logger: createLogger('debug', new Writable({ write: (c, _e, cb) => ((logs += c.toString()), cb()) })),
      pbx: 'fake',
    });
    const f2 = createFakeCallControl();
    await f2.port.start({ outbound: slow.handle });
    const r = await f2.placeCall({ endpoint: 'PJSIP/1001', dialed: '+12125550123', cancelAfterMs: 20 });
    assert.equal(r.outcome, 'gone');
    await waitFor(() => logs.includes('the call left the decision point before the decision reached the PBX'), 2000);
    await waitFor(() => records.length === 1, 1000);
    assert.equal(records[0]!.customerE164, '+12125550123');
  });

  test('the adapter link being down means the PBX default, without the adapter', async () => {
    fake.setLinkState('down');
    const r = await fake.placeCall({ endpoint: 'PJSIP/1001', dialed: '+12125550123' });
    assert.equal(r.outcome, 'default');
    assert.equal(records.length, 0);
  });

  test("number protection on: the agent's phone is to get only the masked number", async () => {
    policy = { ...makePolicy(), protection: { mode: 'mask' } };
    const r = await fake.placeCall({ endpoint: 'PJSIP/1001', dialed: '+12125550123' });
    assert.equal(r.outcome, 'dialed');
    assert.deepEqual(r.protect, { number: '212****123', name: '+1 212****123' });
    const unknown = await fake.placeCall({ endpoint: 'PJSIP/1999', dialed: '+12125550123' });
    assert.deepEqual([unknown.outcome, unknown.protect?.number], ['default', '212****123'], 'an agent not in the policy is protected too');
    const bad = await fake.placeCall({ endpoint: 'PJSIP/1001', dialed: 'nonsense' });
    assert.equal(bad.outcome, 'rejected');
    await waitFor(() => records.length === 3, 1000);
    assert.ok(!/2125550123/.test(logs), 'no log line holds the dialled number');
  });

  test('a call by customer ID with protection off or mask: refused as unknown, nothing dialled, a warning', async () => {
    policy = { ...makePolicy(), protection: { mode: 'mask' } };
    const r = await fake.placeCall({ endpoint: 'PJSIP/1001', dialed: '*9C-1001', byCustomerId: true });
    assert.deepEqual([r.outcome, r.why, r.trunk], ['refused-id', 'unknown-id', null]);
    await waitFor(() => records.length === 1, 1000);
    assert.deepEqual([records[0]!.action, records[0]!.reason, records[0]!.agentId], ['reject', 'customer_id_unknown', 'alice']);
    assert.match(logs, /call by customer ID not placed/);
  });

});
