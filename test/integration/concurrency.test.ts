// Selection under concurrency over real SIP: ten calls placed at once under `lru`, with enough
// candidates, leave with ten different caller IDs (the number is reserved when it is chosen,
// before anything awaits), and each is recorded once.
import assert from 'node:assert/strict';
import { afterAll, afterEach, beforeAll, test } from 'vitest';
import { startAdapter, type Adapter } from '../../src/adapter.js';
import { loadEnv } from '../../src/config/env.js';
import { parsePolicyFile } from '../../src/config/policy-file.js';
import { createLogger } from '../../src/log.js';
import { createLocator } from '../../src/phone/index.js';
import { applyPolicy } from '../../src/store/apply-policy.js';
import { calls } from '../../src/store/schema/index.js';
import { runLoad, startTrunk, type Trunk } from '../sandbox/sipp.js';
import { createTempDatabase } from '../support/temp-database.js';
import { assertNoChannelsLeft } from './ari-checks.js';
import { ariPort } from './asterisk-harness.js';
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
let adapter: Adapter;
let trunk: Trunk;
let dropDb: () => Promise<void>;

beforeAll(async () => {
  const db = await createTempDatabase(ienv.databaseUrl);
  dropDb = db.drop;
  const env = loadEnv({ ARI_URL: ienv.ariUrl, ARI_USER: ienv.ariUser, ARI_PASSWORD: ienv.ariPassword, ARI_APP: ienv.ariApp, DATABASE_URL: db.url, CALLPOLICY_DATA_DIR: `${process.env.TMPDIR ?? '/tmp'}/cp-concurrency-${process.pid}` });
  adapter = await startAdapter(env, createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'), { http: false, port: ariPort() });
  await adapter.connected;
  const locator = createLocator();
  await applyPolicy(adapter.db.db, parsePolicyFile(policy, 'concurrency.yaml'), (n) => locator.locate(n));
  await adapter.reload();
  trunk = await startTrunk({ port: TRUNK_PORT });
});
afterAll(async () => {
  await trunk?.stop();
  await adapter?.stop();
  await dropDb?.();
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

  await adapter.flushRecords();
  const rows = await adapter.db.db.select().from(calls);
  assert.equal(rows.length, 10, 'one record per call');
  assert.equal(new Set(rows.map((r) => r.callerId)).size, 10);
});
