// Changing the policy through the HTTP API, against the real PostgreSQL: the whole policy, numbers,
// CSV imports, groups, agents and settings; every bad input refused with an error naming it and
// the database unchanged (its policy fingerprint equal); agent tokens confined to /api/v1/me; and
// the API and a YAML apply leading to the very same state.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { startAdapter, type Adapter } from '../../src/adapter.js';
import { createPolicyEditor } from '../../src/admin/policy-editor.js';
import { loadEnv } from '../../src/config/env.js';
import { parsePolicyFile } from '../../src/config/policy-file.js';
import { createLogger } from '../../src/log.js';
import { createFakeCallControl } from '../../src/pbx/fake/fake-call-control.js';
import { createLocator } from '../../src/phone/index.js';
import { applyPolicy, policyFingerprint } from '../../src/store/apply-policy.js';
import { openDatabase } from '../../src/store/database.js';
import { resolveSurveySettings } from '../../src/survey/render-prompts.js';
import { createTempDatabase } from '../support/temp-database.js';

const ADMIN = 'admin-token-0123456789abcdef';
const ALICE = 'alice-token-0123456789abcdef';
const CAROL = 'carol-token-0123456789abcdef';

const START = `
defaultCountry: US
callerId: { strategy: group, selection: lru }
privacy: { maskNumbersInLogs: false }
groups: [sales]
numbers:
  - { number: "+14155550100", groups: [sales] }
agents:
  - { id: alice, endpoint: PJSIP/1001, groups: [sales] }
`;

/** What the API edits below build, written as one file: a YAML apply of it must give the same state. */
const TARGET = `
defaultCountry: US
callerId: { strategy: agent, selection: lru }
privacy: { maskNumbersInLogs: false }
memory: { mode: agent-first, ringSeconds: 15 }
survey: { outbound: true, defaultTemplate: en }
groups: [sales, support]
numbers:
  - { number: "+14155550100", groups: [sales] }
  - { number: "+14155550101", groups: [support], enabled: false }
  - { number: "+12125550150", groups: [sales, support], location: { area: "Manhattan" } }
agents:
  - { id: alice, endpoint: PJSIP/1001, groups: [sales], numbers: ["+14155550100", "+12125550150"] }
  - { id: bob, endpoint: PJSIP/1002, groups: [support] }
`;

type Json = Record<string, unknown>;

describe('HTTP API: changing the policy (real PostgreSQL)', () => {
  let adapter: Adapter;
  let dir: string;
  const drops: (() => Promise<void>)[] = [];
  const fake = createFakeCallControl();
  const locator = createLocator();

  async function call(method: string, url: string, opts: { token?: string | null; json?: unknown; text?: string; type?: string } = {}) {
    const token = opts.token === undefined ? ADMIN : opts.token;
    const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    let body: string | undefined;
    if (opts.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.json);
    } else if (opts.text !== undefined) {
      headers['content-type'] = opts.type ?? 'text/csv';
      body = opts.text;
    }
    const res = await fetch(`http://127.0.0.1:${adapter.apiPort}${url}`, { method, headers, body });
    const text = await res.text();
    return { status: res.status, body: (text.startsWith('{') ? JSON.parse(text) : text) as Json };
  }
  const fingerprint = () => policyFingerprint(adapter.db.db);
  /** A refused change: the status and code, the field named, and nothing changed. */
  async function refused(method: string, url: string, opts: Parameters<typeof call>[2], status: number, code: string, field?: string | RegExp) {
    const before = await fingerprint();
    const res = await call(method, url, opts);
    assert.equal(res.status, status, `${method} ${url}: ${JSON.stringify(res.body)}`);
    assert.equal(res.body.error, code, JSON.stringify(res.body));
    if (typeof field === 'string') assert.equal(res.body.field, field, JSON.stringify(res.body));
    if (field instanceof RegExp) assert.match(JSON.stringify(res.body), field);
    assert.equal(await fingerprint(), before, `${method} ${url} changed the policy`);
    return res.body;
  }

  beforeAll(async () => {
    const db = await createTempDatabase();
    drops.push(() => db.drop());
    dir = mkdtempSync(path.join(tmpdir(), 'callpolicy-api-admin-'));
    const env = loadEnv(
      {
        DATABASE_URL: db.url,
        CALLPOLICY_DATA_DIR: dir,
        CALLPOLICY_PROMPT_DIR: dir,
        HTTP_PORT: '0',
        API_PORT: '0',
        CALLPOLICY_API_TOKEN: ADMIN,
        CALLPOLICY_AGENT_TOKENS: `alice:${ALICE}\ncarol:${CAROL} # carol is in no policy`,
      },
      { requireAri: false },
    );
    adapter = await startAdapter(env, createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'), { port: fake.port });
    await adapter.connected;
  });
  afterAll(async () => {
    await adapter?.stop();
    for (const drop of drops) await drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('before any policy: edits are refused as not-configured; PUT /api/v1/policy applies a whole file', async () => {
    await refused('POST', '/api/v1/groups', { json: { name: 'x' } }, 409, 'not-configured');
    await refused('PUT', '/api/v1/policy', { text: 'callerId: { strategy: nope }', type: 'application/yaml' }, 400, 'invalid-policy', /callerId\.strategy/);
    await refused('PUT', '/api/v1/policy', { text: 'callerId: [unclosed', type: 'application/yaml' }, 400, 'invalid-policy', /line 1/);
    const res = await call('PUT', '/api/v1/policy', { text: START, type: 'application/yaml' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual([res.body.numbers, res.body.agents], [1, 1]);
    // The adapter decides by it as soon as the reply is back.
    assert.equal(adapter.policy().inventory.agentById('alice')?.groups[0], 'sales');
    const again = await call('PUT', '/api/v1/policy', { text: START, type: 'application/yaml' });
    assert.equal(again.body.changes, 0);
  });

  test('numbers: add, change, remove; bad input names the field and changes nothing', async () => {
    const added = await call('POST', '/api/v1/numbers', { json: { number: '+14155550101', groups: ['sales'] } });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    assert.equal(adapter.policy().inventory.get('+14155550101')?.enabled, true);

    await refused('POST', '/api/v1/numbers', { json: { number: '+14155550101' } }, 409, 'exists', 'number');
    await refused('POST', '/api/v1/numbers', { json: { number: '4155550102' } }, 400, 'bad-request', 'number');
    await refused('POST', '/api/v1/numbers', { json: { number: '+14155550102', groups: ['nope'] } }, 400, 'invalid-policy', /unknown group 'nope'/);
    await refused('POST', '/api/v1/numbers', { json: { number: '+14155550102', colour: 'red' } }, 400, 'bad-request', 'colour');
    await refused('POST', '/api/v1/numbers', { json: { number: '+19999999999' } }, 400, 'invalid-policy', /not a valid phone number/);
    await refused('POST', '/api/v1/numbers', { text: 'number\n+14155550102' }, 415, 'unsupported-media-type');

    const off = await call('PATCH', `/api/v1/numbers/${encodeURIComponent('+14155550101')}`, { json: { enabled: false, groups: [] } });
    assert.equal(off.status, 200, JSON.stringify(off.body));
    assert.equal(adapter.policy().inventory.get('+14155550101')?.enabled, false);
    await refused('PATCH', `/api/v1/numbers/${encodeURIComponent('+14155550199')}`, { json: { enabled: true } }, 404, 'not-found', 'number');
    await refused('PATCH', '/api/v1/numbers/14155550101', { json: { enabled: true } }, 400, 'bad-request', 'number');
    await refused('PATCH', `/api/v1/numbers/${encodeURIComponent('+14155550101')}`, { json: { enabled: 'no' } }, 400, 'bad-request', 'enabled');

    const list = await call('GET', '/api/v1/numbers?enabled=false');
    assert.deepEqual((list.body.numbers as Json[]).map((n) => n.number), ['+14155550101']);
    const del = await call('DELETE', `/api/v1/numbers/${encodeURIComponent('+14155550101')}`);
    assert.equal(del.status, 200);
    assert.equal(adapter.policy().inventory.get('+14155550101'), undefined);
  });

  test('CSV import: a per-row report; one bad row and nothing is imported; a dry run applies nothing', async () => {
    const bad = await refused(
      'POST',
      '/api/v1/numbers/import',
      { text: 'number,enabled,groups\n(415) 555-0110,yes,sales\n+1415555011,,\n+14155550111,maybe,\n+14155550112,,ghosts\n415.555.0110,,\n' },
      422,
      'import-refused',
    );
    const rows = (bad.details as { rows: { line: number; result: string; message?: string }[] }).rows;
    assert.deepEqual(
      rows.map((r) => [r.line, r.result]),
      [
        [2, 'added'],
        [3, 'error'],
        [4, 'error'],
        [5, 'error'],
        [6, 'error'],
      ],
    );
    assert.match(rows[1]!.message!, /not a valid phone number/);
    assert.match(rows[2]!.message!, /enabled: 'maybe'/);
    assert.match(rows[3]!.message!, /unknown group 'ghosts'/);
    assert.match(rows[4]!.message!, /already on line 2/);
    await refused('POST', '/api/v1/numbers/import', { text: 'phone,enabled\n+14155550110,yes\n' }, 422, 'import-refused', /unknown column 'phone'/);

    const csv = 'number,enabled,groups,area\n(415) 555-0110,yes,sales,\n+14155550100,no,sales;support,\n+14155550111,,,Oakland\n';
    await refused('POST', '/api/v1/numbers/import', { text: csv }, 422, 'import-refused', /unknown group 'support'/);
    assert.equal((await call('POST', '/api/v1/groups', { json: { name: 'support' } })).status, 201);

    const before = await fingerprint();
    const dry = await call('POST', '/api/v1/numbers/import?dryRun=true', { text: csv });
    assert.equal(dry.status, 200, JSON.stringify(dry.body));
    assert.deepEqual(dry.body.counts, { added: 2, updated: 1, unchanged: 0, error: 0 });
    assert.equal(await fingerprint(), before);

    const done = await call('POST', '/api/v1/numbers/import', { text: csv });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.equal(done.body.applied, true);
    const inv = adapter.policy().inventory;
    assert.equal(inv.get('+14155550110')?.enabled, true);
    assert.equal(inv.get('+14155550100')?.enabled, false);
    assert.deepEqual([...inv.get('+14155550100')!.groups].sort(), ['sales', 'support']);
    assert.equal(inv.get('+14155550111')?.location.area, 'US:Oakland');
    const twice = await call('POST', '/api/v1/numbers/import', { text: csv });
    assert.deepEqual(twice.body.counts, { added: 0, updated: 0, unchanged: 3, error: 0 });
    assert.equal(twice.body.changes, 0);
  });

  test('groups and agents: in-use refusals name the users; chosen numbers and pauses', async () => {
    await refused('DELETE', '/api/v1/groups/sales', {}, 409, 'in-use', /number \+14155550100/);
    await refused('DELETE', '/api/v1/groups/nope', {}, 404, 'not-found', 'name');
    await refused('POST', '/api/v1/groups', { json: { name: 'bad name' } }, 400, 'bad-request', 'name');

    const put = await call('PUT', '/api/v1/agents/bob', { json: { endpoint: 'PJSIP/1002', groups: ['support'], numbers: ['+14155550110'] } });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.equal(put.body.result, 'created');
    await refused('PUT', '/api/v1/agents/carl', { json: { endpoint: 'PJSIP/1002' } }, 400, 'invalid-policy', /duplicate endpoint 'PJSIP\/1002'/);
    await refused('PUT', '/api/v1/agents/carl', { json: { endpoint: 'SIP 1003' } }, 400, 'bad-request', 'endpoint');
    await refused('PUT', '/api/v1/agents/carl', { json: { endpoint: 'PJSIP/1003', numbers: ['+14155550199'] } }, 400, 'invalid-policy', /number \+14155550199 is not in numbers/);
    await refused('DELETE', `/api/v1/numbers/${encodeURIComponent('+14155550110')}`, {}, 409, 'in-use', /bob/);

    assert.equal((await call('PUT', '/api/v1/agents/bob/chosen-number', { json: { number: '+14155550110' } })).status, 200);
    assert.equal(adapter.policy().inventory.agentById('bob')?.chosenNumber, '+14155550110');
    const notAllowed = await call('PUT', '/api/v1/agents/bob/chosen-number', { json: { number: '+14155550100' } });
    assert.deepEqual([notAllowed.status, notAllowed.body.error, notAllowed.body.field], [400, 'not-allowed', 'number']);
    assert.equal((await call('PUT', '/api/v1/agents/nobody/pause', { json: { paused: true } })).status, 404);
    assert.equal((await call('PUT', '/api/v1/agents/bob/pause', { json: { paused: true, note: 'training' } })).status, 200);
    assert.ok(adapter.policy().pausedAgents.has('bob'));
    const bob = await call('GET', '/api/v1/agents/bob');
    assert.deepEqual([bob.body.paused, bob.body.pauseNote, bob.body.chosenNumber], [true, 'training', '+14155550110']);
    // Replacing the agent keeps the chosen number while it is still allowed.
    await call('PUT', '/api/v1/agents/bob', { json: { endpoint: 'PJSIP/1002', groups: [], numbers: ['+14155550110', '+14155550111'] } });
    assert.equal(adapter.policy().inventory.agentById('bob')?.chosenNumber, '+14155550110');
    assert.equal((await call('PUT', '/api/v1/agents/bob/pause', { json: { paused: false } })).status, 200);
    assert.equal(adapter.policy().pausedAgents.has('bob'), false);
    assert.equal((await call('DELETE', '/api/v1/agents/bob')).status, 200);
    assert.equal(adapter.policy().inventory.agentById('bob'), undefined);
  });

  test('settings: one section at a time, checked as in a file', async () => {
    await refused('PUT', '/api/v1/settings/memory', { json: { mode: 'agent-first', ringSeconds: 1 } }, 400, 'invalid-policy', /memory\.ringSeconds/);
    await refused('PUT', '/api/v1/settings/colour', { json: {} }, 400, 'bad-request', 'section');
    await refused('PUT', '/api/v1/settings/survey', { json: { defaultTemplate: 'nope' } }, 400, 'invalid-policy', /unknown template 'nope'/);
    const ok = await call('PUT', '/api/v1/settings/memory', { json: { mode: 'only-agent', windowHours: 24 } });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.deepEqual([adapter.policy().memory.mode, adapter.policy().memory.windowHours, adapter.policy().memory.ringSeconds], ['only-agent', 24, 20]);
    const survey = await call('PUT', '/api/v1/settings/survey', { json: { outbound: true } });
    assert.equal(survey.status, 200, JSON.stringify(survey.body));
    assert.equal(adapter.policy().survey.enabled, true);
    // An edit of something else keeps the survey as it was applied.
    await call('PUT', '/api/v1/settings/memory', { json: { mode: 'off' } });
    assert.equal(adapter.policy().survey.enabled, true);
    const settings = await call('GET', '/api/v1/settings');
    assert.deepEqual((settings.body.memory as Json).mode, 'off');
  });

  test('agent tokens: only /api/v1/me, never a real number; no token is 401 everywhere', async () => {
    const doc = (await call('GET', '/api/v1/openapi.json', { token: null })).body as { paths: Record<string, Record<string, { 'x-access'?: string }>> };
    let adminRoutes = 0;
    for (const [url, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        if (!op['x-access']) continue;
        const concrete = url.replace('{number}', encodeURIComponent('+14155550100')).replace('{name}', 'sales').replace('{id}', 'alice').replace('{section}', 'memory');
        const anon = await call(method.toUpperCase(), concrete, { token: null });
        assert.equal(anon.status, 401, `${method} ${url} without a token`);
        if (op['x-access'] === 'admin') {
          adminRoutes++;
          const before = await fingerprint();
          const res = await call(method.toUpperCase(), concrete, { token: ALICE, json: method === 'get' || method === 'delete' ? undefined : {} });
          assert.equal(res.status, 403, `${method} ${url} with an agent token: ${JSON.stringify(res.body)}`);
          assert.equal(res.body.error, 'forbidden');
          assert.equal(await fingerprint(), before);
        }
      }
    }
    assert.ok(adminRoutes >= 20, `${adminRoutes} admin routes checked`);

    const me = await call('GET', '/api/v1/me', { token: ALICE });
    assert.equal(me.status, 200);
    assert.equal(me.body.id, 'alice');
    assert.equal((await call('GET', '/api/v1/me', { token: CAROL })).status, 403);
    assert.equal((await call('GET', '/api/v1/me', { token: ADMIN })).status, 403);
    // Alice may choose only her own numbers.
    await call('PUT', '/api/v1/agents/alice', { json: { endpoint: 'PJSIP/1001', groups: ['sales'], numbers: ['+14155550110'] } });
    assert.equal((await call('PUT', '/api/v1/me/chosen-number', { token: ALICE, json: { number: '+14155550111' } })).status, 400);
    assert.equal((await call('PUT', '/api/v1/me/chosen-number', { token: ALICE, json: { number: '+14155550110' } })).status, 200);
    assert.equal(adapter.policy().inventory.agentById('alice')?.chosenNumber, '+14155550110');
    assert.equal((await call('PUT', '/api/v1/me/pause', { token: ALICE, json: { paused: true } })).status, 200);
    assert.ok(adapter.policy().pausedAgents.has('alice'));
    await call('PUT', '/api/v1/me/pause', { token: ALICE, json: { paused: false } });

    // Her calls: the customer masked although protection and log masking are off for the admin.
    await fake.placeCall({ endpoint: 'PJSIP/1001', dialed: '+12125550177', defaultCallerId: { number: '+15550000000', name: '' } });
    // The flow records the decision just after the PBX has it.
    let own = await call('GET', '/api/v1/me/calls', { token: ALICE });
    for (let i = 0; i < 50 && (own.body.calls as Json[]).length === 0; i++) {
      await adapter.flushRecords();
      await new Promise((r) => setTimeout(r, 20));
      own = await call('GET', '/api/v1/me/calls', { token: ALICE });
    }
    const text = JSON.stringify(own.body);
    assert.ok((own.body.calls as Json[]).length >= 1, text);
    assert.ok(!text.includes('2125550177'), text);
    const adminView = JSON.stringify((await call('GET', '/api/v1/calls?agent=alice')).body);
    assert.ok(adminView.includes('+12125550177'));
    assert.equal((await call('GET', '/api/v1/me/calls?agent=bob', { token: ALICE })).body.field, 'agent');
  });

  test("the adapter's API server carries the dashboard: the admin opens it, an agent token cannot", async () => {
    const page = await call('GET', '/dashboard');
    assert.equal(page.status, 200);
    assert.match(String(page.body), /<html/i);
    assert.equal((await call('GET', '/dashboard', { token: ALICE })).status, 403);
    assert.equal((await call('GET', '/dashboard', { token: null })).status, 401);
    const data = await call('GET', '/api/v1/dashboard?days=7');
    assert.equal(data.status, 200, JSON.stringify(data.body));
    assert.equal((await call('GET', '/api/v1/dashboard', { token: ALICE })).status, 403);
    // The dashboard's cookie opens the dashboard's figures, never a change (a form another page posts).
    const viaCookie = (method: string, url: string, body?: string) =>
      fetch(`http://127.0.0.1:${adapter.apiPort}${url}`, { method, headers: { cookie: `callpolicy_token=${ADMIN}`, 'content-type': 'text/plain' }, body });
    assert.equal((await viaCookie('GET', '/api/v1/dashboard')).status, 200);
    const before = await fingerprint();
    assert.equal((await viaCookie('POST', '/api/v1/numbers/import', 'number\n+14155550155\n')).status, 401);
    assert.equal((await viaCookie('GET', '/api/v1/calls')).status, 401);
    assert.equal(await fingerprint(), before);
  });

  test('calls decided in the same millisecond: paging returns each exactly once', async () => {
    const at = new Date('2026-01-01T00:00:00.000Z');
    await adapter.db.db.execute(sql`INSERT INTO calls (direction, pbx, channel_id, agent_id, action, reason, decided_at)
      SELECT 'outbound', 'test', 'same-ms-' || i, 'zed', 'default', 'test', ${at.toISOString()}::timestamptz FROM generate_series(1, 7) AS i`);
    const seen: string[] = [];
    let url = '/api/v1/calls?agent=zed&limit=2';
    for (let page = 0; page < 10; page++) {
      const res = (await call('GET', url)).body as { calls: { channelId: string }[]; next: { cursor: string } | null };
      seen.push(...res.calls.map((c) => c.channelId));
      if (!res.next) break;
      url = `/api/v1/calls?agent=zed&limit=2&cursor=${encodeURIComponent(res.next.cursor)}`;
    }
    assert.deepEqual([...seen].sort(), Array.from({ length: 7 }, (_, i) => `same-ms-${i + 1}`).sort());
    assert.equal((await call('GET', '/api/v1/calls?cursor=yesterday')).body.field, 'cursor');
  });

  test('the API and a YAML apply of the same policy give the same state', async () => {
    // The API builds TARGET step by step from START ...
    const steps: [string, string, unknown][] = [
      ['PUT', '/api/v1/policy', START],
      ['POST', '/api/v1/groups', { name: 'support' }],
      ['POST', '/api/v1/numbers', { number: '+14155550101', groups: ['support'], enabled: false }],
      ['POST', '/api/v1/numbers', { number: '+12125550150', groups: ['sales', 'support'], location: { area: 'Manhattan' } }],
      ['PUT', '/api/v1/agents/alice', { endpoint: 'PJSIP/1001', groups: ['sales'], numbers: ['+14155550100', '+12125550150'] }],
      ['PUT', '/api/v1/agents/bob', { endpoint: 'PJSIP/1002', groups: ['support'] }],
      ['PUT', '/api/v1/settings/callerId', { strategy: 'agent', selection: 'lru' }],
      ['PUT', '/api/v1/settings/memory', { mode: 'agent-first', ringSeconds: 15 }],
      ['PUT', '/api/v1/settings/survey', { outbound: true, defaultTemplate: 'en' }],
    ];
    for (const [method, url, body] of steps) {
      const res = typeof body === 'string' ? await call(method, url, { text: body, type: 'application/yaml' }) : await call(method, url, { json: body });
      assert.ok(res.status < 300, `${method} ${url}: ${JSON.stringify(res.body)}`);
    }
    // ... and `callpolicy apply` (the same applyPolicy) writes TARGET into another database.
    const other = await createTempDatabase();
    drops.push(() => other.drop());
    const db = await openDatabase({ url: other.url, dataDir: dir, role: "cli" });
    try {
      await db.migrate();
      const file = parsePolicyFile(TARGET, 'target.yaml');
      await applyPolicy(db.db, file, (n) => locator.locate(n), { survey: await resolveSurveySettings(file, { dir, pbxDir: dir, source: 'target.yaml' }) });
      assert.equal(await policyFingerprint(adapter.db.db), await policyFingerprint(db.db));
      // And the API's export of it, applied again, changes nothing.
      const exported = await call('GET', '/api/v1/policy?format=yaml');
      const again = await call('PUT', '/api/v1/policy', { text: exported.body as unknown as string, type: 'application/yaml' });
      assert.equal(again.body.changes, 0, JSON.stringify(again.body));
    } finally {
      await db.close();
    }
  });

  test('two changes racing: the later one re-reads and both land', async () => {
    const editor = createPolicyEditor({ db: adapter.db.db, locate: (n) => locator.locate(n), prompts: { dir, pbxDir: dir }, changed: () => adapter.reload() });
    let raced = false;
    const { summary } = await editor.edit('race', (p) => {
      p.groups.push('late');
      if (!raced) {
        raced = true;
        // Another process's apply lands between this edit's read and its write.
        return applyPolicy(adapter.db.db, parsePolicyFile(TARGET.replace('groups: [sales, support]', 'groups: [sales, support, early]'), 'other.yaml'), (n) => locator.locate(n), {
          survey: adapter.policy().survey,
        }).then(() => undefined);
      }
    });
    assert.ok(summary.changes > 0);
    const groups = ((await call('GET', '/api/v1/groups')).body.groups as Json[]).map((g) => g.name);
    assert.deepEqual([...groups].sort(), ['early', 'late', 'sales', 'support']);
  });
});
