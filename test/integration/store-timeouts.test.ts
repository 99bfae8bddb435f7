// Every database connection has time limits: connect, statement (server and client side), idle
// in transaction; and the LISTEN connection notices a peer that went silent. A TCP proxy in this
// process stands between the client and the shared PostgreSQL and can black-hole traffic (as a
// dead host or a cut network does); the server itself is never touched.
import assert from 'node:assert/strict';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { openDatabase, type ConnectionState, type Database } from '../../src/store/database.js';
import { errorCode, isConnectionError } from '../../src/store/db-errors.js';
import { createTempDatabase } from '../support/temp-database.js';

/** Forwards to PostgreSQL until `blackhole()`: from then on nothing passes, on old or new connections. */
async function startProxy(target: URL) {
  let holing = false;
  const live = new Set<{ client: Socket; upstream: Socket | undefined; dead: boolean }>();
  const server: Server = createServer((client) => {
    const pair = { client, upstream: undefined as Socket | undefined, dead: holing };
    live.add(pair);
    client.on('error', () => undefined);
    client.on('close', () => {
      live.delete(pair);
      pair.upstream?.destroy();
    });
    if (pair.dead) return; // accepted, never answered
    const upstream = createConnection({ host: target.hostname, port: Number(target.port || 5432) });
    pair.upstream = upstream;
    upstream.on('error', () => client.destroy());
    upstream.on('close', () => client.destroy());
    client.on('data', (d) => {
      if (!pair.dead) upstream.write(d);
    });
    upstream.on('data', (d) => {
      if (!pair.dead) client.write(d);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    url(database: string) {
      const u = new URL(target.toString());
      u.hostname = '127.0.0.1';
      u.port = String(port);
      u.pathname = `/${database}`;
      return u.toString();
    },
    blackhole() {
      holing = true;
      for (const p of live) p.dead = true;
    },
    /** New connections pass again; the black-holed ones stay dead, as half-open connections do. */
    heal() {
      holing = false;
    },
    async close() {
      for (const p of live) {
        p.client.destroy();
        p.upstream?.destroy();
      }
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe('database time limits', () => {
  let tmp: Awaited<ReturnType<typeof createTempDatabase>>;
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  const opened: Database[] = [];
  const open = async (limits: Parameters<typeof openDatabase>[0]['limits'], heartbeatMs = 200) => {
    const db = await openDatabase({ url: proxy.url(new URL(tmp.url).pathname.slice(1)), dataDir: '', limits, heartbeatMs });
    opened.push(db);
    return db;
  };
  const elapsed = async (p: Promise<unknown>) => {
    const t0 = Date.now();
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    return { ms: Date.now() - t0, err };
  };

  beforeAll(async () => {
    tmp = await createTempDatabase();
    proxy = await startProxy(new URL(tmp.url));
  });
  afterAll(async () => {
    for (const db of opened) await db.close().catch(() => undefined);
    await proxy.close();
    await tmp.drop();
  });

  test('a statement running past DATABASE_STATEMENT_TIMEOUT_MS is cancelled by the server', async () => {
    const db = await open({ statementTimeoutMs: 300 });
    const r = await elapsed(db.db.execute(sql`SELECT pg_sleep(5)`));
    assert.equal(errorCode(r.err), '57014');
    assert.ok(r.ms < 2000, `${r.ms} ms`);
    // The pool is fine afterwards.
    await db.db.execute(sql`SELECT 1`);
  });

  test('a transaction left idle past DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS is ended, and the pool recovers', async () => {
    const db = await open({ idleInTransactionTimeoutMs: 300 });
    const r = await elapsed(
      db.db.transaction(async (tx) => {
        await tx.execute(sql`SELECT 1`);
        await sleep(1000);
        await tx.execute(sql`SELECT 1`);
      }),
    );
    assert.ok(r.err, 'the transaction failed');
    for (let i = 0; i < 6; i++) await db.db.execute(sql`SELECT 1`); // every pooled client works
  });

  test('a host that accepts but never answers: connect gives up after DATABASE_CONNECT_TIMEOUT_MS; a query in flight after the statement limit plus 5 s', async () => {
    const db = await open({ connectTimeoutMs: 500, statementTimeoutMs: 300 });
    await db.db.execute(sql`SELECT 1`); // one pooled connection, open
    proxy.blackhole();
    try {
      // On the open connection: the server can no longer cancel it, the client's own limit ends it.
      const inFlight = await elapsed(db.db.execute(sql`SELECT 1`));
      assert.ok(isConnectionError(inFlight.err), String(inFlight.err));
      assert.ok(inFlight.ms >= 4000 && inFlight.ms < 8000, `${inFlight.ms} ms`);
      // A new connection: the connect limit.
      const connecting = await elapsed(db.db.execute(sql`SELECT 1`));
      assert.ok(isConnectionError(connecting.err), String(connecting.err));
      assert.ok(connecting.ms < 2500, `${connecting.ms} ms`);
    } finally {
      proxy.heal();
    }
    // The broken client was not put back: the next query gets a new connection and works.
    for (let i = 0; i < 6; i++) await db.db.execute(sql`SELECT 1`);
  }, 30_000);

  test('the LISTEN connection notices a silent peer (heartbeat), reconnects, listens again and says so once', async () => {
    const db = await open({ connectTimeoutMs: 500, retryMaxMs: 300 }, 200);
    const states: ConnectionState[] = [];
    db.onConnectionChange((s) => states.push(s));
    let notified = 0;
    assert.equal(await db.listen('callpolicy_changed', () => notified++), true);
    const direct = new pg.Client({ connectionString: tmp.url });
    await direct.connect();
    try {
      await direct.query('NOTIFY callpolicy_changed');
      await waitFor(() => notified === 1);

      proxy.blackhole();
      await waitFor(() => states.includes('down'), 5000);
      await sleep(1500); // several failed reconnects: still one 'down'
      proxy.heal();
      await waitFor(() => states.at(-1) === 'up', 10_000);
      assert.deepEqual(states, ['up', 'down', 'up']);
      // Changes may have been missed while it was away: one call after listening again.
      await waitFor(() => notified === 2);
      await direct.query('NOTIFY callpolicy_changed');
      await waitFor(() => notified === 3);
    } finally {
      await direct.end();
    }
  }, 30_000);
});

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(20);
  }
}
