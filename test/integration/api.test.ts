// The HTTP API against the real PostgreSQL: the adapter in this process (calls placed through the
// in-memory PBX, their records written as usual), read back through /api/v1 with and without its token.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { startAdapter, type Adapter } from '../../src/adapter.js';
import { loadEnv } from '../../src/config/env.js';
import { parsePolicyFile } from '../../src/config/policy-file.js';
import { createLogger } from '../../src/log.js';
import { createFakeCallControl } from '../../src/pbx/fake/fake-call-control.js';
import { createLocator } from '../../src/phone/index.js';
import { applyPolicy } from '../../src/store/apply-policy.js';
import { surveyResults } from '../../src/store/schema/index.js';
import { resolveSurveySettings } from '../../src/survey/render-prompts.js';
import { surveyRow } from '../support/survey-rows.js';
import { createTempDatabase } from '../support/temp-database.js';

const TOKEN = 'api-test-token-0123456789';
const policy = (protection: string) => `
defaultCountry: US
callerId: { strategy: group }
protection: ${protection}
privacy: { maskNumbersInLogs: false }
groups: [sales]
numbers:
  - { number: "+14155550100", groups: [sales] }
agents:
  - { id: alice, endpoint: PJSIP/1001, groups: [sales] }
  - { id: bob, endpoint: PJSIP/1002, groups: [sales] }
`;

describe('HTTP API /api/v1 (real PostgreSQL)', () => {
  let adapter: Adapter;
  let dropDb: () => Promise<void>;
  let dir: string;
  const fake = createFakeCallControl();
  const get = (url: string, token: string | null = TOKEN) => fetch(`http://127.0.0.1:${adapter.apiPort}${url}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const apply = async (yaml: string) => {
    const file = parsePolicyFile(yaml, 'api.yaml');
    await applyPolicy(adapter.db.db, file, (n) => createLocator().locate(n), { survey: await resolveSurveySettings(file, { dir, pbxDir: dir, source: 'api.yaml' }) });
    await adapter.reload();
  };

  beforeAll(async () => {
    const db = await createTempDatabase();
    dropDb = () => db.drop();
    dir = mkdtempSync(path.join(tmpdir(), 'callpolicy-api-'));
    const env = loadEnv({ DATABASE_URL: db.url, CALLPOLICY_DATA_DIR: dir, CALLPOLICY_PROMPT_DIR: dir, HTTP_PORT: '0', API_PORT: '0', CALLPOLICY_API_TOKEN: TOKEN }, { requireAri: false });
    adapter = await startAdapter(env, createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'), { port: fake.port });
    await adapter.connected;
    await apply(policy('{ mode: off }'));
    for (const [endpoint, dialed] of [
      ['PJSIP/1001', '+12125550101'],
      ['PJSIP/1002', '+12125550102'],
      ['PJSIP/1001', '+12125550103'],
    ] as const) {
      await fake.placeCall({ endpoint, dialed, defaultCallerId: { number: '+15550000000', name: '' } });
    }
    await adapter.flushRecords();
  });
  afterAll(async () => {
    await adapter?.stop();
    await dropDb?.();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('without a token, or with a wrong one: 401 with a JSON error', async () => {
    for (const token of [null, 'wrong-token-0123456789', `${TOKEN}x`]) {
      const res = await get('/api/v1/calls', token);
      assert.equal(res.status, 401);
      assert.equal(((await res.json()) as { error: string }).error, 'unauthorized');
    }
  });

  test('calls: newest first, filtered, paged', async () => {
    const all = (await (await get('/api/v1/calls')).json()) as { calls: { agentId: string; customer: string; callerId: string; decidedAt: string }[]; next: unknown };
    assert.deepEqual(all.calls.map((c) => c.customer), ['+12125550103', '+12125550102', '+12125550101']);
    assert.ok(all.calls.every((c) => c.callerId === '+14155550100'));
    assert.equal(all.next, null);
    const bob = (await (await get('/api/v1/calls?agent=bob')).json()) as { calls: { agentId: string }[] };
    assert.deepEqual(bob.calls.map((c) => c.agentId), ['bob']);
    const page1 = (await (await get('/api/v1/calls?limit=2')).json()) as { calls: { customer: string }[]; next: { cursor: string } };
    assert.deepEqual(page1.calls.map((c) => c.customer), ['+12125550103', '+12125550102']);
    const page2 = (await (await get(`/api/v1/calls?limit=2&cursor=${encodeURIComponent(page1.next.cursor)}`)).json()) as { calls: { customer: string }[]; next: unknown };
    assert.deepEqual(page2.calls.map((c) => c.customer), ['+12125550101']);
    assert.equal(page2.next, null);
  });

  test('bad parameters: 400 naming the field, and nothing else happens', async () => {
    for (const [query, field] of [
      ['limit=0', 'limit'],
      ['limit=abc', 'limit'],
      ['since=yesterday', 'since'],
      ['direction=sideways', 'direction'],
      ['colour=red', 'colour'],
    ] as const) {
      const res = await get(`/api/v1/calls?${query}`);
      assert.equal(res.status, 400, query);
      const body = (await res.json()) as { error: string; message: string; field: string };
      assert.equal(body.error, 'bad-request');
      assert.equal(body.field, field, `${query}: ${body.message}`);
      assert.match(body.message, new RegExp(`^${field}: `));
    }
    const tz = (await (await get('/api/v1/surveys/summary?tz=Mars/Olympus')).json()) as { field: string };
    assert.equal(tz.field, 'tz');
  });

  test('number protection on: the API shows customers masked (as `callpolicy calls` does)', async () => {
    await apply(policy('{ mode: mask }'));
    try {
      const body = (await (await get('/api/v1/calls?limit=1')).json()) as { calls: { customer: string }[] };
      assert.equal(body.calls[0]!.customer, '+1 212****103');
    } finally {
      await apply(policy('{ mode: off }'));
    }
  });

  test('survey figures per agent', async () => {
    await adapter.db.db.insert(surveyResults).values([
      surveyRow('s1', { agentId: 'alice', outcome: 'rated', dtmfKey: '1', label: 'satisfied', score: 3 }),
      surveyRow('s2', { agentId: 'alice', outcome: 'no_input', dtmfKey: null, label: null, score: null }),
      surveyRow('s3', { agentId: 'bob', outcome: 'rated', dtmfKey: '2', label: 'neutral', score: 2 }),
    ]);
    const body = (await (await get('/api/v1/surveys/summary?by=agent&since=2026-10-01T00:00:00Z')).json()) as { rows: { key: string; offered: number; rated: number; averageScore: number | null }[] };
    assert.deepEqual(
      body.rows.map((r) => [r.key, r.offered, r.rated, r.averageScore]),
      [
        ['alice', 2, 1, 3],
        ['bob', 1, 1, 2],
      ],
    );
  });

  test('the OpenAPI document lists the routes and their parameters; unknown routes are JSON 404s', async () => {
    const doc = (await (await get('/api/v1/openapi.json', null)).json()) as { openapi: string; paths: Record<string, { get: { parameters: { name: string }[] } }> };
    assert.equal(doc.openapi, '3.1.0');
    assert.deepEqual(doc.paths['/api/v1/calls']!.get.parameters.map((p) => p.name).sort(), ['agent', 'before', 'cursor', 'direction', 'limit', 'since', 'until']);
    assert.ok(doc.paths['/api/v1/surveys/summary']!.get.parameters.some((p) => p.name === 'tz'));
    const res = await get('/api/v1/nothing');
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { error: string }).error, 'not-found');
  });
});
