// Every caller-ID strategy and fallback end to end: sipp agent phone -> Asterisk -> adapter
// (in this process, over ARI, on a fresh PostgreSQL database) -> sipp trunk. Asserts what the
// trunk received in From and P-Asserted-Identity, and what the database recorded.
import assert from 'node:assert/strict';
import { afterAll, afterEach, beforeAll, describe, test } from 'vitest';
import { desc } from 'drizzle-orm';
import { startTrunk, type Trunk } from '../sandbox/sipp.js';
import { setChosenNumber } from '../../src/store/load-policy.js';
import { calls } from '../../src/store/schema/index.js';
import { assertNoChannelsLeft } from './ari-checks.js';
import { callThrough, startInProcessAdapter, type InProcessAdapter } from './asterisk-harness.js';
import type { Adapter } from '../../src/adapter.js';
import { AGENT_ONE, AGENT_THREE, AGENT_TWO, DEFAULT_NUMBER, TRUNK_PORT } from './topology.js';

const policyYaml = (strategy: string, extra: { format?: string; selection?: string } = {}) => `
defaultCountry: US
callerId:
  strategy: ${strategy}
  selection: ${extra.selection ?? 'random'}
  chains: { area: [area, region, country, pool], agent: [chosen, group, pool] }
trunks:
  trunk: { callerIdFormat: ${extra.format ?? 'e164'}, displayName: "ACME Support" }
groups: [sales, support, billing]
numbers:
  - { number: "+14155550100", groups: [sales] }
  - { number: "+14155550101", groups: [sales] }
  - { number: "+12125550100", groups: [support] }
  - { number: "+13105550100" }
  - { number: "+861062345678" }
  - { number: "+8675588880000" }
  - { number: "+442079460000" }
  - { number: "+12125550199", enabled: false }
agents:
  - { id: alice, endpoint: PJSIP/1001, groups: [sales] }
  - { id: bob, endpoint: PJSIP/1002, groups: [billing] }
  - { id: carol, endpoint: PJSIP/1003, numbers: ["+12125550100", "+442079460000"], chosen: "+442079460000" }
`;

let running: InProcessAdapter;
let adapter: Adapter;
let trunk: Trunk;
const apply = (yaml: string) => running.apply(yaml);

async function lastRecord() {
  await adapter.flushRecords();
  const [row] = await adapter.db.db.select().from(calls).orderBy(desc(calls.decidedAt)).limit(1);
  assert.ok(row, 'the call was recorded');
  return row;
}

beforeAll(async () => {
  running = await startInProcessAdapter();
  adapter = running.adapter;
  trunk = await startTrunk({ port: TRUNK_PORT });
});
afterAll(async () => {
  await trunk?.stop();
  await running?.stop();
});
afterEach(() => assertNoChannelsLeft(3000));

describe('area strategy', () => {
  beforeAll(() => apply(policyYaml('area')));

  test('a New York callee gets the New York number, with the display name set on purpose', async () => {
    const { view } = await callThrough(trunk, AGENT_ONE, '+12125550123');
    assert.deepEqual(view, { destination: '+12125550123', callerIdNumber: '+12125550100', callerIdName: 'ACME Support' });
    const row = await lastRecord();
    assert.equal(row.customerE164, '+12125550123');
    assert.equal(row.callerId, '+12125550100');
    assert.equal(row.agentId, 'alice');
    assert.deepEqual([row.strategy, row.tier, row.fallback, row.action], ['area', 'area', false, 'dial']);
    });

  test('a national number is read with the default country', async () => {
    const { view } = await callThrough(trunk, AGENT_ONE, '4155550123');
    assert.equal(view?.destination, '+14155550123');
    assert.match(view!.callerIdNumber, /^\+1415555010[01]$/);
  });

  test('no number in the area: same state first (region fallback)', async () => {
    const { view } = await callThrough(trunk, AGENT_ONE, '+16195550123'); // San Diego, CA
    assert.ok(['+14155550100', '+14155550101', '+13105550100'].includes(view!.callerIdNumber), view!.callerIdNumber);
    const row = await lastRecord();
    assert.deepEqual([row.tier, row.fallback], ['region', true]);
  });

  test('a Beijing mobile gets the Beijing landline; a Shenzhen mobile the Shenzhen number', async () => {
    assert.equal((await callThrough(trunk, AGENT_ONE, '+8613800138000')).view?.callerIdNumber, '+861062345678');
    assert.equal((await callThrough(trunk, AGENT_ONE, '+8613712345678')).view?.callerIdNumber, '+8675588880000'); // Dongguan, Guangdong: same province
    assert.equal((await lastRecord()).tier, 'region');
  });

  test('a country with no pool number falls back to the pool', async () => {
    await callThrough(trunk, AGENT_ONE, '+4930123456');
    assert.deepEqual([(await lastRecord()).tier, (await lastRecord()).fallback], ['pool', true]);
  });

  test('the disabled New York number is never used', async () => {
    for (let i = 0; i < 3; i++) {
      assert.equal((await callThrough(trunk, AGENT_ONE, '+12125550123')).view?.callerIdNumber, '+12125550100');
    }
  });
});

describe('group strategy', () => {
  beforeAll(() => apply(policyYaml('group')));

  test('an agent of sales gets a sales number', async () => {
    const { view } = await callThrough(trunk, AGENT_ONE, '+12125550123');
    assert.match(view!.callerIdNumber, /^\+1415555010[01]$/);
    assert.deepEqual([(await lastRecord()).tier, (await lastRecord()).fallback], ['group', false]);
  });

  test('an agent whose group has no number gets one from the pool', async () => {
    const { view } = await callThrough(trunk, AGENT_TWO, '+12125550123');
    assert.notEqual(view!.callerIdNumber, '+12125550199');
    const row = await lastRecord();
    assert.deepEqual([row.agentId, row.tier, row.fallback], ['bob', 'pool', true]);
  });
});

describe('agent strategy', () => {
  beforeAll(() => apply(policyYaml('agent')));

  test("the agent's chosen number is used", async () => {
    assert.equal((await callThrough(trunk, AGENT_THREE, '+12125550123')).view?.callerIdNumber, '+442079460000');
    assert.deepEqual([(await lastRecord()).tier, (await lastRecord()).fallback], ['chosen', false]);
  });

  test('after a new choice the next call uses it', async () => {
    await setChosenNumber(adapter.db.db, 'carol', '+12125550100');
    await adapter.reload();
    assert.equal((await callThrough(trunk, AGENT_THREE, '+14155550123')).view?.callerIdNumber, '+12125550100');
  });

  test('with no choice the fallback chain applies (group, then pool)', async () => {
    const { view } = await callThrough(trunk, AGENT_ONE, '+12125550123');
    assert.match(view!.callerIdNumber, /^\+1415555010[01]$/);
    assert.deepEqual([(await lastRecord()).tier, (await lastRecord()).fallback], ['group', true]);
  });
});

describe('trunk format, bad input, unknown agents', () => {
  test('a trunk that wants national numbers gets them', async () => {
    await apply(policyYaml('area', { format: 'national' }));
    const { view } = await callThrough(trunk, AGENT_ONE, '+12125550123');
    assert.equal(view?.callerIdNumber, '2125550100');
  });

  test('a dialled string with an injection character is refused (484) by the dialplan before the adapter', async () => {
    await apply(policyYaml('area'));
    await adapter.flushRecords();
    const before = await adapter.db.db.select().from(calls);
    const { view, finalStatus } = await callThrough(trunk, AGENT_ONE, '+1415555&0123');
    assert.equal(view, null);
    assert.equal(finalStatus, 484);
    await adapter.flushRecords();
    assert.equal((await adapter.db.db.select().from(calls)).length, before.length, 'the adapter never saw it');
  });

  test('a number that does not parse is refused', async () => {
    const { view, finalStatus } = await callThrough(trunk, AGENT_ONE, '+999123');
    assert.equal(view, null);
    assert.equal(finalStatus, 484);
  });

  test('an unknown agent gets the default caller ID', async () => {
    await apply(policyYaml('area').replace(/  - \{ id: alice.*\n/, ''));
    const { view } = await callThrough(trunk, AGENT_ONE, '+12125550123');
    assert.equal(view?.callerIdNumber, DEFAULT_NUMBER);
    assert.equal((await lastRecord()).reason, 'unknown_agent');
  });

  test('the end of each call is recorded', async () => {
    await apply(policyYaml('area'));
    await callThrough(trunk, AGENT_ONE, '+12125550123');
    const row = await lastRecord();
    let ended = row.endedAt;
    for (let i = 0; i < 50 && !ended; i++) {
      await new Promise((r) => setTimeout(r, 100));
      await adapter.flushRecords();
      ended = (await adapter.db.db.select().from(calls).orderBy(desc(calls.decidedAt)).limit(1))[0]!.endedAt;
    }
    assert.ok(ended instanceof Date && ended >= row.decidedAt, 'ended_at is set after the decision');
  });
});
