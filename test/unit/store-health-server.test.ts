// /healthz and /status answers for each combination of PBX link and database state.
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { startHealthServer } from '../../src/health/health-server.js';
import type { LinkState } from '../../src/pbx/call-control.js';

describe('health server', () => {
  const state = { link: 'up' as LinkState, database: 'up' as 'up' | 'down' };
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = await startHealthServer('127.0.0.1', 0, {
      pbxLink: () => state.link,
      policyConfigured: () => true,
      database: () => state.database,
      records: () => ({ queued: state.database === 'down' ? 42 : 0, dropped: 3, retrying: state.database === 'down' }),
      policySource: () => ({ kind: 'snapshot', at: new Date('2026-01-01T00:00:00Z') }),
      protection: () => ({ mode: 'customer-id', customerIdInterface: { hits: 5, misses: 2, timeouts: 1 } }),
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  const get = async (p: string) => {
    const r = await fetch(base + p);
    return { code: r.status, body: (await r.json()) as Record<string, unknown> };
  };

  test('all up: 200 ready', async () => {
    Object.assign(state, { link: 'up', database: 'up' });
    const h = await get('/healthz');
    assert.deepEqual([h.code, h.body.status, h.body.database, h.body.error], [200, 'ready', 'up', undefined]);
  });

  test('database down, PBX link up: 200 degraded (calls are still decided)', async () => {
    Object.assign(state, { link: 'up', database: 'down' });
    const h = await get('/healthz');
    assert.deepEqual([h.code, h.body.status, h.body.error, h.body.database, h.body.pbx], [200, 'degraded', 'database-down', 'down', 'up']);
    const s = await get('/status');
    assert.deepEqual(s.body.records, { queued: 42, dropped: 3, retrying: true });
    assert.deepEqual(s.body.protection, { mode: 'customer-id', customerIdInterface: { hits: 5, misses: 2, timeouts: 1 } });
    assert.deepEqual(s.body.policy, { source: 'snapshot', at: '2026-01-01T00:00:00.000Z', configured: true });
    assert.equal(typeof (s.body.memory as { rss: number }).rss, 'number');
  });

  test('PBX link down: 503 pbx-link-down, whatever the database', async () => {
    for (const database of ['up', 'down'] as const) {
      Object.assign(state, { link: 'connecting', database });
      const h = await get('/healthz');
      assert.deepEqual([h.code, h.body.status, h.body.error, h.body.database], [503, 'not-ready', 'pbx-link-down', database]);
    }
  });
});
