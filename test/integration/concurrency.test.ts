// Selection under concurrency over real SIP: ten calls placed at once under `lru`, with enough
// candidates, leave with ten different caller IDs (the number is reserved when it is chosen,
// before anything awaits), and each is recorded once.
import assert from 'node:assert/strict';
import { afterAll, afterEach, beforeAll, test } from 'vitest';
import { calls } from '../../src/store/schema/index.js';
import { runLoad, startTrunk, type Trunk } from '../sandbox/sipp.js';
import { assertNoChannelsLeft } from './ari-checks.js';
import { startInProcessAdapter, type InProcessAdapter } from './asterisk-harness.js';
import { integrationEnv } from './env.js';
import { AGENT_ONE, OUTSIDE_LINE, TRUNK_PORT } from './topology.js';

const POOL = Array.from({ length: 12 }, (_, i) => `+1212555${String(100 + i).padStart(4, '0')}`);
const policy = `
defaultCountry: US
callerId: { strategy: group, selection: lru }
groups: [sales]
numbers:
${POOL.map((n) => `  - { number: "${n}", groups: [sales] }`).join('\n')}
agents:
  - { id: alice, endpoint: PJSIP/1001, groups: [sales] }
`;

const ienv = integrationEnv();
let running: InProcessAdapter;
let trunk: Trunk;

beforeAll(async () => {
  running = await startInProcessAdapter();
  await running.apply(policy);
  trunk = await startTrunk({ port: TRUNK_PORT });
});
afterAll(async () => {
  await trunk?.stop();
  await running?.stop();
});
afterEach(() => assertNoChannelsLeft(5000));

test('ten calls at once under lru get ten different caller IDs', async () => {
  await trunk.takeInvites();
  // 10 calls within 20 ms, each talking 1.5 s: all ten are being decided and dialled together.
  const load = await runLoad({ fromPort: AGENT_ONE.port, fromUser: AGENT_ONE.endpoint, to: `${OUTSIDE_LINE}+12125550123`, rate: 500, calls: 10, holdMs: 1500, server: ienv.sipServer });
  assert.equal(load.succeeded, 10, JSON.stringify(load.statuses));
  const invites = await trunk.takeInvites();
  assert.equal(invites.length, 10);
  const numbers = invites.map((i) => i.fromUser);
  assert.ok(numbers.every((n) => POOL.includes(n)), `pool numbers only: ${numbers.join(', ')}`);
  assert.equal(new Set(numbers).size, 10, `distinct caller IDs: ${numbers.join(', ')}`);

  await running.adapter.flushRecords();
  const rows = await running.adapter.db.db.select().from(calls);
  assert.equal(rows.length, 10, 'one record per call');
  assert.equal(new Set(rows.map((r) => r.callerId)).size, 10);
});
