// Database faults never stop calls. A PRIVATE PostgreSQL (initdb into a temporary folder, its own
// port; the shared server on 5432 is never touched) is stopped, started and restarted under the
// adapter core (the in-memory fake PBX, real HTTP /healthz):
// - down while running: calls keep being decided from memory, the outage is logged once (and
//   once when it ends), every call is recorded once it is back;
// - restarted: LISTEN comes back and a policy change applied afterwards is loaded;
// - a reload that fails keeps the policy in use;
// - down at start: decisions from the policy snapshot, /healthz says database-down, then the
//   adapter migrates, loads and listens when the database comes back;
// - down at start with no snapshot: every call gets the default caller ID.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { sql } from 'drizzle-orm';
import { startAdapter, type Adapter } from '../../src/adapter.js';
import { loadEnv, type AppEnv } from '../../src/config/env.js';
import { parsePolicyFile } from '../../src/config/policy-file.js';
import { createLogger } from '../../src/log.js';
import { createFakeCallControl } from '../../src/pbx/fake/fake-call-control.js';
import { createLocator } from '../../src/phone/index.js';
import { POLICY_CHANGED_CHANNEL, applyPolicy } from '../../src/store/apply-policy.js';
import { rowsOf } from '../../src/store/call-records.js';
import { openDatabase, type Database } from '../../src/store/database.js';
import { startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres.js';

/**
 * How long PostgreSQL stays down in the first test: long enough for many failed retries of every
 * kind (records, LISTEN, heartbeat). DB_FAULTS_OUTAGE_MS=60000 runs the minute-long outage.
 */
const OUTAGE_MS = Number(process.env.DB_FAULTS_OUTAGE_MS ?? 8000);

type LogLine = { level: number; msg: string; [k: string]: unknown };
function captureLogs() {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as LogLine);
      cb();
    },
  });
  return { logger: createLogger('debug', stream), lines, count: (re: RegExp) => lines.filter((l) => re.test(l.msg)).length };
}

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await sleep(50);
  }
}

const policyText = (number: string) => `
callerId: { strategy: group }
groups: [sales]
numbers:
  - { number: "${number}", groups: [sales] }
agents:
  - { id: alice, endpoint: PJSIP/1001, groups: [sales] }
`;

describe('database faults never stop calls (private PostgreSQL)', () => {
  let server: PrivatePostgres;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'callpolicy-faults-'));
  let admin: Database;
  let env: AppEnv;
  const locator = createLocator();
  const running: Adapter[] = [];
  /** The first test's adapter, its fake PBX and its logs: the next two tests go on with it. */
  let current: Awaited<ReturnType<typeof start>> | undefined;

  /** Applies a policy through a connection of its own (the CLI's way) and notifies. */
  const apply = async (number: string) => {
    await applyPolicy(admin.db, parsePolicyFile(policyText(number), 'p.yaml'), (n) => locator.locate(n));
    await admin.notify(POLICY_CHANGED_CHANNEL);
  };
  const callCount = async () => Number(rowsOf<{ n: string }>(await admin.db.execute(sql`SELECT count(*) AS n FROM calls`))[0]!.n);
  const health = async (adapter: Adapter, what = 'healthz') => {
    const r = await fetch(`http://127.0.0.1:${adapter.httpPort}/${what}`);
    return { code: r.status, body: (await r.json()) as Record<string, unknown> };
  };
  const start = async (over: Record<string, string> = {}) => {
    const logs = captureLogs();
    const fake = createFakeCallControl();
    const adapter = await startAdapter(loadEnv({ ...envVars(), ...over }), logs.logger, { port: fake.port, heartbeatMs: 250 });
    running.push(adapter);
    await adapter.connected;
    return { adapter, fake, logs };
  };
  const stop = async (adapter: Adapter) => {
    running.splice(running.indexOf(adapter), 1);
    await adapter.stop();
  };
  const envVars = () => ({
    ARI_PASSWORD: 'unused',
    DATABASE_URL: server.url('callpolicy'),
    CALLPOLICY_DATA_DIR: dataDir,
    HTTP_PORT: '0',
    DATABASE_RETRY_MAX_MS: '500',
    DATABASE_CONNECT_TIMEOUT_MS: '2000',
    DATABASE_STATEMENT_TIMEOUT_MS: '5000',
  });

  beforeAll(async () => {
    server = await startPrivatePostgres();
    await server.createDatabase('callpolicy');
    env = loadEnv(envVars());
    admin = await openDatabase({ url: server.url('callpolicy'), dataDir: '' });
    await admin.migrate();
    await apply('+14155550100');
  }, 120_000);

  afterAll(async () => {
    if (server && !(await server.accepting())) await server.start();
    for (const a of running.splice(0)) await a.stop().catch(() => undefined);
    await admin?.close();
    await server?.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  }, 120_000);

  test(
    'down while running: calls keep their caller ID, the outage is logged once, every call is recorded after',
    async () => {
      current = await start();
      const { adapter, fake, logs } = current;
      const call = async () => {
        const t0 = performance.now();
        const r = await fake.placeCall({ endpoint: 'PJSIP/1001', dialed: '+14155550123' });
        return { ...r, ms: performance.now() - t0 };
      };
      let placed = 0;
      for (let i = 0; i < 5; i++, placed++) assert.equal((await call()).trunk?.callerIdNumber, '+14155550100');
      await adapter.flushRecords();
      assert.equal(await callCount(), 5);
      assert.deepEqual((await health(adapter)).body.database, 'up');

      await server.stop();
      const downAt = Date.now();
      let slowest = 0;
      let sawDegraded = false;
      while (Date.now() - downAt < OUTAGE_MS) {
        const r = await call();
        placed++;
        assert.equal(r.outcome, 'dialed');
        assert.equal(r.trunk?.callerIdNumber, '+14155550100');
        slowest = Math.max(slowest, r.ms);
        if (!sawDegraded && Date.now() - downAt > 2000) {
          const h = await health(adapter);
          assert.equal(h.code, 200, 'a supervisor must not restart the adapter for the database');
          assert.deepEqual([h.body.status, h.body.error, h.body.database, h.body.pbx], ['degraded', 'database-down', 'down', 'up']);
          const s = await health(adapter, 'status');
          const records = s.body.records as { queued: number; dropped: number; retrying: boolean };
          assert.ok(records.queued > 0, 'records wait in memory');
          assert.equal(records.dropped, 0);
          assert.equal(records.retrying, true);
          sawDegraded = true;
        }
        await sleep(100);
      }
      assert.ok(sawDegraded);
      assert.ok(slowest < 250, `every decision answered from memory (slowest ${slowest.toFixed(1)} ms)`);
      const queuedAtRestart = adapter.recordStats().queued;
      assert.ok(queuedAtRestart > 20, `queued ${queuedAtRestart}`);

      await server.start();
      await until('records written', async () => adapter.databaseStatus() === 'up' && adapter.recordStats().queued === 0 && (await callCount()) === placed);
      await adapter.flushRecords();
      const rows = rowsOf<{ n: string; ended: string; caller: string }>(
        await admin.db.execute(sql`SELECT count(*) AS n, count(ended_at) AS ended, string_agg(DISTINCT caller_id, ',') AS caller FROM calls`),
      );
      assert.deepEqual(rows[0], { n: String(placed), ended: String(placed), caller: '+14155550100' });

      const outage = logs.lines.filter((l) => /^database unreachable/.test(l.msg));
      const back = logs.lines.filter((l) => l.msg === 'database is back');
      assert.equal(outage.length, 1, 'the outage is logged once');
      assert.equal(back.length, 1, 'and once when it ends');
      assert.ok((back[0]!.downForMs as number) >= OUTAGE_MS - 1000, `downForMs ${back[0]!.downForMs}`);
      assert.ok((back[0]!.recordsQueued as number) > 0);
      assert.equal(back[0]!.recordsDropped, 0);
      const errors = logs.lines.filter((l) => l.level >= 50);
      assert.deepEqual(errors.map((l) => l.msg), [outage[0]!.msg], 'no other error lines during the outage');
      const h = await health(adapter);
      assert.deepEqual([h.code, h.body.status, h.body.database], [200, 'ready', 'up']);
    },
    OUTAGE_MS + 120_000,
  );

  test(
    'restarted: LISTEN comes back, reloads once, and a change applied afterwards is loaded',
    async () => {
      const { adapter, logs } = current!;
      const loads = () => logs.count(/^policy loaded/);
      const before = loads();
      await server.restart();
      await until('a reload after re-LISTEN', () => loads() > before);
      await apply('+14155550111');
      await until('the new number is loaded', () => adapter.policy().inventory.get('+14155550111') !== undefined);
      assert.equal(adapter.policy().inventory.get('+14155550100'), undefined);
    },
    60_000,
  );

  test(
    'a reload that fails keeps the policy in use',
    async () => {
      const { adapter, fake, logs } = current!;
      await admin.db.execute(sql`UPDATE settings SET value = '{"strategy": "bogus"}' WHERE key = 'callerId'`);
      await admin.notify(POLICY_CHANGED_CHANNEL);
      await until('the failed reload is logged', () => logs.count(/cannot reload the policy; keeping the previous one/) === 1);
      assert.equal(adapter.policy().callerId.strategy, 'group');
      const r = await fake.placeCall({ endpoint: 'PJSIP/1001', dialed: '+14155550123' });
      assert.equal(r.trunk?.callerIdNumber, '+14155550111');
      await apply('+14155550111'); // puts the settings right again
    },
    60_000,
  );

  test(
    'down at start: decides from the snapshot, /healthz says database-down, then migrates, loads and listens',
    async () => {
      await stop(current!.adapter);
      const snapshot = JSON.parse(readFileSync(path.join(dataDir, 'policy-snapshot.json'), 'utf8')) as { rows: { numbers: { e164: string }[] } };
      assert.deepEqual(snapshot.rows.numbers.map((n) => n.e164), ['+14155550111']);
      const recorded = await callCount();
      await server.stop();

      const startedAt = Date.now();
      const { adapter, fake, logs } = await start();
      assert.ok(Date.now() - startedAt < 15_000, 'starts without waiting for the database');
      assert.equal(adapter.policySource().kind, 'snapshot');
      const line = logs.lines.find((l) => /deciding from the policy snapshot/.test(l.msg));
      assert.equal(typeof line?.ageSeconds, 'number');
      assert.equal(line?.snapshot, path.join(dataDir, 'policy-snapshot.json'));
      const h = await health(adapter);
      assert.deepEqual([h.code, h.body.status, h.body.error, h.body.database], [200, 'degraded', 'database-down', 'down']);
      const r = await fake.placeCall({ endpoint: 'PJSIP/1001', dialed: '+14155550123' });
      assert.equal(r.trunk?.callerIdNumber, '+14155550111');

      await server.start();
      await until('loaded from the database', () => adapter.policySource().kind === 'database' && adapter.databaseStatus() === 'up');
      // The new fake PBX numbers its channels from fake-1 again: that call updates the row of the
      // earlier fake-1 (one row per channel), so look at when rows were decided.
      const decidedSince = async () =>
        Number(rowsOf<{ n: string }>(await admin.db.execute(sql`SELECT count(*) AS n FROM calls WHERE decided_at >= ${new Date(startedAt)}`))[0]!.n);
      await until('the call made while down is recorded', async () => (await decidedSince()) === 1 && (await callCount()) === recorded).catch((err: Error) => {
        // What the adapter said, to see why.
        process.stderr.write(logs.lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
        throw err;
      });
      assert.equal((await health(adapter)).body.status, 'ready');
      // Listening: a change now reaches it.
      await apply('+14155550122');
      await until('the change is loaded', () => adapter.policy().inventory.get('+14155550122') !== undefined);
      assert.equal(logs.count(/^database unreachable/), 1);
      await stop(adapter);
    },
    120_000,
  );

  test(
    'down at start with no snapshot: every call gets the default caller ID, and the log says so',
    async () => {
      await server.stop();
      const emptyDir = mkdtempSync(path.join(tmpdir(), 'callpolicy-faults-empty-'));
      try {
        const { adapter, fake, logs } = await start({ CALLPOLICY_DATA_DIR: emptyDir });
        assert.equal(adapter.policySource().kind, 'empty');
        assert.equal(logs.count(/no policy snapshot: every call gets the default caller ID/), 1);
        const r = await fake.placeCall({ endpoint: 'PJSIP/1001', dialed: '+14155550123' });
        assert.equal(r.outcome, 'default');
        await stop(adapter);
        assert.equal(logs.count(/call records not written before stop/), 1, 'what could not be written is said at stop');
      } finally {
        rmSync(emptyDir, { recursive: true, force: true });
        await server.start();
      }
    },
    120_000,
  );

});
