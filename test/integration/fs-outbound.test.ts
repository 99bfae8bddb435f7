// Outbound caller ID on the real FreeSWITCH: sipp agent phone (digest auth) -> FreeSWITCH with
// the shipped dialplan/freeswitch files -> the adapter (this process, sync socket) -> the sipp
// trunk through the shipped gateway sample. Asserts what the trunk received in From and
// P-Asserted-Identity, and what the database recorded; emergency numbers and hostile strings.
import assert from 'node:assert/strict';
import { desc } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, test } from 'vitest';
import { calls } from '../../src/store/schema/index.js';
import { startTrunk, type Trunk } from '../sandbox/sipp.js';
import { assertNoFsChannelsLeft, fsCallThrough, fsPlaceCall, startFsAdapter, type FsInProcessAdapter } from './fs-harness.js';
import { FS_DIRECT_AGENT, FS_AGENT_ONE, FS_AGENT_THREE, FS_AGENT_TWO, FS_DEFAULT_NUMBER, FS_EMERGENCY_NUMBER, FS_TRUNK_PORT } from './fs-topology.js';

const policyYaml = (strategy: string, extra: { displayName?: string; format?: string } = {}) => `
defaultCountry: US
callerId:
  strategy: ${strategy}
  chains: { area: [area, region, country, pool], agent: [chosen, group, pool] }
trunks:
  trunk: { callerIdFormat: ${extra.format ?? 'e164'}, displayName: "${extra.displayName ?? 'ACME Support'}" }
groups: [sales, support, billing]
numbers:
  - { number: "+14155550100", groups: [sales] }
  - { number: "+12125550100", groups: [support] }
  - { number: "+13105550100" }
  - { number: "+861062345678" }
  - { number: "+442079460000" }
  - { number: "+12125550199", enabled: false }
agents:
  - { id: alice, endpoint: user/1001, groups: [sales] }
  - { id: bob, endpoint: user/1002, groups: [billing] }
  - { id: carol, endpoint: user/1003, numbers: ["+12125550100", "+442079460000"], chosen: "+442079460000" }
`;

let running: FsInProcessAdapter;
let trunk: Trunk;

async function lastRecord() {
  await running.adapter.flushRecords();
  const [row] = await running.adapter.db.db.select().from(calls).orderBy(desc(calls.decidedAt)).limit(1);
  assert.ok(row, 'the call was recorded');
  return row;
}

async function recordCount(): Promise<number> {
  await running.adapter.flushRecords();
  return (await running.adapter.db.db.select().from(calls)).length;
}

beforeAll(async () => {
  running = await startFsAdapter();
  trunk = await startTrunk({ port: FS_TRUNK_PORT });
});
afterAll(async () => {
  await trunk?.stop();
  await running?.stop();
});
afterEach(() => assertNoFsChannelsLeft(3000));

describe('caller ID by strategy on FreeSWITCH', () => {
  test('area: a New York callee gets the New York number, with the trunk display name', async () => {
    await running.apply(policyYaml('area'));
    const { view } = await fsCallThrough(trunk, FS_AGENT_ONE, '+12125550123');
    assert.deepEqual(view, { destination: '+12125550123', callerIdNumber: '+12125550100', callerIdName: 'ACME Support' });
    const row = await lastRecord();
    assert.deepEqual([row.pbx, row.agentId, row.customerE164, row.callerId, row.tier, row.action], ['freeswitch', 'alice', '+12125550123', '+12125550100', 'area', 'dial']);
  });

  test('area: a Beijing mobile gets the Beijing landline (region tier)', async () => {
    const { view } = await fsCallThrough(trunk, FS_AGENT_ONE, '+8613800138000');
    assert.equal(view?.callerIdNumber, '+861062345678');
  });

  test('area: a national number is read with the default country', async () => {
    const { view } = await fsCallThrough(trunk, FS_AGENT_ONE, '3105550123');
    assert.equal(view?.destination, '+13105550123');
    assert.equal(view?.callerIdNumber, '+13105550100');
  });

  test('group: an agent of sales gets the sales number; a group with none falls back to the pool', async () => {
    await running.apply(policyYaml('group'));
    assert.equal((await fsCallThrough(trunk, FS_AGENT_ONE, '+12125550123')).view?.callerIdNumber, '+14155550100');
    const bob = await fsCallThrough(trunk, FS_AGENT_TWO, '+12125550123');
    assert.notEqual(bob.view?.callerIdNumber, '+12125550199', 'the disabled number is never used');
    const row = await lastRecord();
    assert.deepEqual([row.agentId, row.tier, row.fallback], ['bob', 'pool', true]);
  });

  test("agent: the agent's chosen number; without a choice the chain (group)", async () => {
    await running.apply(policyYaml('agent'));
    assert.equal((await fsCallThrough(trunk, FS_AGENT_THREE, '+12125550123')).view?.callerIdNumber, '+442079460000');
    assert.equal((await fsCallThrough(trunk, FS_AGENT_ONE, '+12125550123')).view?.callerIdNumber, '+14155550100');
    assert.deepEqual([(await lastRecord()).tier, (await lastRecord()).fallback], ['group', true]);
  });

  test('a trunk that wants national numbers gets them', async () => {
    await running.apply(policyYaml('area', { format: 'national' }));
    assert.equal((await fsCallThrough(trunk, FS_AGENT_ONE, '+12125550123')).view?.callerIdNumber, '2125550100');
  });

  test("an empty trunk display name sends no name: never the directory's internal name", async () => {
    await running.apply(policyYaml('area', { displayName: '' }));
    const { view, invite } = await fsCallThrough(trunk, FS_AGENT_ONE, '+12125550123');
    assert.equal(view?.callerIdNumber, '+12125550100');
    assert.ok(!/Extension 1001|Agent 1001/.test(invite!.raw), `the agent's internal name reached the trunk:\n${invite!.raw}`);
    assert.ok(['', '+12125550100'].includes(view!.callerIdName), `display name: ${JSON.stringify(view!.callerIdName)}`);
  });

  test('an unknown agent gets the default caller ID, and no internal name', async () => {
    await running.apply(policyYaml('area').replace(/  - \{ id: alice.*\n/, ''));
    const { view, invite } = await fsCallThrough(trunk, FS_AGENT_ONE, '+12125550123');
    assert.equal(view?.callerIdNumber, FS_DEFAULT_NUMBER);
    assert.ok(!/Extension 1001|Agent 1001/.test(invite!.raw), `the agent's internal name reached the trunk:\n${invite!.raw}`);
    assert.equal((await lastRecord()).reason, 'unknown_agent');
  });
});

describe('emergency numbers and hostile strings on FreeSWITCH', () => {
  beforeAll(() => running.apply(policyYaml('area')));

  test("911 reaches the trunk with the site's callback number, never the agent's name, and the adapter is not asked", async () => {
    const before = await recordCount();
    const { view, invite } = await fsCallThrough(trunk, FS_AGENT_ONE, '911', { prefix: '' });
    assert.equal(view?.destination, '911');
    assert.equal(view?.callerIdNumber, FS_EMERGENCY_NUMBER);
    assert.ok(!/Extension 1001|Agent 1001/.test(invite!.raw), `the agent's internal name reached the trunk:\n${invite!.raw}`);
    assert.equal(await recordCount(), before, 'the adapter never saw the emergency call');
  });

  test('9 + 911 is an emergency call too', async () => {
    const { view } = await fsCallThrough(trunk, FS_AGENT_ONE, '911');
    assert.equal(view?.callerIdNumber, FS_EMERGENCY_NUMBER);
  });

  test('a dialled string with an injection character is refused before the adapter, nothing reaches the trunk', async () => {
    const before = await recordCount();
    for (const dialed of ['+1415555&0123', '+14155550123,9', '${sip_from_user}', '+1415|5550123']) {
      const { view, finalStatus } = await fsCallThrough(trunk, FS_AGENT_ONE, dialed);
      assert.equal(view, null, `${dialed} reached the trunk`);
      assert.ok(finalStatus >= 400, `${dialed}: final ${finalStatus}`);
    }
    assert.equal(await recordCount(), before, 'the adapter never saw them');
  });

  test('a number that does not parse is refused by the adapter (404 after the prompt), nothing reaches the trunk', async () => {
    const { view, finalStatus } = await fsCallThrough(trunk, FS_AGENT_ONE, '+999123');
    assert.equal(view, null);
    assert.equal(finalStatus, 404);
    assert.equal((await lastRecord()).action, 'reject');
  });

  test('a call by customer ID with spaces or context words never picks another context', async () => {
    const before = await recordCount();
    const r = await fsPlaceCall(FS_AGENT_ONE, '*9x XML callpolicy-inbound');
    assert.ok(r.finalStatus >= 400, `final ${r.finalStatus}`);
    await running.adapter.flushRecords();
    const rows = await running.adapter.db.db.select().from(calls);
    assert.equal(rows.filter((c) => c.direction === 'inbound').length, 0, 'no bogus inbound record');
    assert.ok(rows.length - before <= 1);
  });

  test("the shipped callpolicy-outbound context refuses them too (an agent whose user_context is callpolicy-outbound)", async () => {
    await running.adapter.flushRecords();
    const before = await recordCount();
    for (const dialed of ['*9x XML callpolicy-inbound', '*9C-1${uuid}', '+1415555&0123']) {
      const r = await fsPlaceCall(FS_DIRECT_AGENT, dialed);
      assert.equal(r.finalStatus, 484, `${dialed}: final ${r.finalStatus}`);
    }
    assert.equal(await recordCount(), before, 'the adapter never saw them');
  });
});
