import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type { Client, ClientConfig, Notification } from 'pg';
import type { DatabaseLimits } from '../config/env.js';
import type { Logger } from '../log.js';
import { acquireDataDirLock, type LockRole } from './data-dir-lock.js';
import { describeDbError } from './db-errors.js';
import * as schema from './schema/index.js';

export type Schema = typeof schema;
/** The one database type the rest of the code sees, whether PostgreSQL or embedded PGlite. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

export type ConnectionState = 'up' | 'down';

export interface Database {
  db: Db;
  kind: 'postgres' | 'pglite';
  /** Where the data is, for logs: host:port/name (never credentials) or the PGlite folder. */
  where: string;
  /** Runs the SQL migrations in migrations/ that have not been applied yet (one process at a time). */
  migrate(): Promise<void>;
  /**
   * Calls `onNotify` on `NOTIFY <channel>` (PostgreSQL only; PGlite is single-process). The
   * connection is supervised: when it is lost (a restart ends it with 57P01) it reconnects with
   * capped back-off, issues LISTEN again and then calls `onNotify` once, since changes may have
   * been made while nobody listened. Resolves after the first attempt: true when listening.
   */
  listen(channel: string, onNotify: (payload: string) => void): Promise<boolean>;
  /** NOTIFY with an optional payload (a sender names itself so that it can ignore its own). */
  notify(channel: string, payload?: string): Promise<void>;
  /** Reports the supervised (LISTEN) connection going down and coming back; PostgreSQL only. */
  onConnectionChange(listener: (state: ConnectionState, err?: Error) => void): void;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** PostgreSQL connection string; without it, embedded PGlite under dataDir. */
  url?: string;
  dataDir: string;
  limits?: Partial<DatabaseLimits>;
  /** Who opens a PGlite folder (its lock names the holder). Default 'cli'. */
  role?: LockRole;
  logger?: Logger;
  /** How often the LISTEN connection is checked with a query. Default 10 s. */
  heartbeatMs?: number;
}

export const DEFAULT_DATABASE_LIMITS: DatabaseLimits = {
  connectTimeoutMs: 5000,
  statementTimeoutMs: 15_000,
  idleTimeoutMs: 30_000,
  idleInTransactionTimeoutMs: 60_000,
  retryMaxMs: 5000,
};

/** The client gives up on a statement this long after PostgreSQL should have cancelled it. */
const QUERY_TIMEOUT_MARGIN_MS = 5000;
/** pg_advisory_lock key held while migrating: 'cpmg'. */
const MIGRATION_LOCK_KEY = 0x63706d67;

/** migrations/ at the package root, found from here whether running from src/ or dist/src/. */
export const migrationsFolder = findUp(dirname(fileURLToPath(import.meta.url)), join('migrations', 'meta', '_journal.json'));

function findUp(from: string, relative: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, relative))) return join(dir, 'migrations');
    if (dirname(dir) === dir) throw new Error(`cannot find ${relative} above ${from}`);
  }
}

/** PostgreSQL when a URL is given, else an embedded PGlite database stored under dataDir. */
export async function openDatabase(opts: OpenOptions): Promise<Database> {
  const limits = { ...DEFAULT_DATABASE_LIMITS, ...opts.limits };
  return opts.url ? openPostgres(opts.url, limits, opts) : openPglite(opts.dataDir, opts.role ?? 'cli');
}

/** host:port/database of a connection string, without user or password. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname || 'localhost'}:${u.port || 5432}${u.pathname}`;
  } catch {
    return '(unparsable DATABASE_URL)';
  }
}

async function openPostgres(url: string, limits: DatabaseLimits, opts: OpenOptions): Promise<Database> {
  const { default: pg } = await import('pg');
  const { drizzle } = await import('drizzle-orm/node-postgres');
  const { migrate } = await import('drizzle-orm/node-postgres/migrator');
  const connection: ClientConfig = {
    connectionString: url,
    application_name: 'callpolicy',
    connectionTimeoutMillis: limits.connectTimeoutMs,
    statement_timeout: limits.statementTimeoutMs,
    query_timeout: limits.statementTimeoutMs + QUERY_TIMEOUT_MARGIN_MS,
    idle_in_transaction_session_timeout: limits.idleInTransactionTimeoutMs,
    // A peer that vanished without closing (power, network) is noticed instead of waited on.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  };
  const pool = new pg.Pool({ ...connection, max: 5, idleTimeoutMillis: limits.idleTimeoutMs });
  // An idle client's socket error (a restart ends every session with 57P01) must not kill the
  // process: the pool drops that client and connects a new one when next asked.
  pool.on('error', () => undefined);
  // Nor may a checked-out one's: pg-pool listens only while a client is idle, and a session ended
  // by the server between two statements of a transaction (idle_in_transaction_session_timeout,
  // a restart) emits 'error' on it. The statement that follows fails and the client is destroyed.
  pool.on('connect', (client) => client.on('error', () => undefined));
  const db = drizzle(pool, { schema }) as unknown as Db;

  // drizzle 0.45 sends BEGIN before its try block and releases the client without the error:
  // a connection lost at BEGIN stays checked out for ever, one lost mid-transaction goes back
  // to the pool. Run each transaction on a client of our own and destroy it on any failure.
  const transaction = async (work: unknown, config?: unknown) => {
    const client = await pool.connect();
    let failure: Error | undefined;
    try {
      const txDb = drizzle(client, { schema }) as unknown as Db;
      return await txDb.transaction(work as Parameters<Db['transaction']>[0], config as Parameters<Db['transaction']>[1]);
    } catch (err) {
      failure = err instanceof Error ? err : new Error(String(err));
      throw err;
    } finally {
      client.release(failure);
    }
  };
  (db as unknown as { transaction: typeof transaction }).transaction = transaction;

  const listener = createListener(pg.Client, connection, limits, opts.heartbeatMs ?? 10_000, opts.logger);
  return {
    db,
    kind: 'postgres',
    where: describeUrl(url),
    async migrate() {
      const client = await pool.connect();
      try {
        // Migrations may rewrite big tables: no statement limit here. Another process migrating
        // at the same time waits for this one instead of failing half-way.
        await client.query('SET statement_timeout = 0');
        await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
        try {
          await migrate(drizzle(client, { schema }), { migrationsFolder });
        } finally {
          await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
        }
      } finally {
        // Its session settings changed: never hand it to anyone else.
        client.release(true);
      }
    },
    listen: listener.listen,
    async notify(channel, payload = '') {
      await pool.query('SELECT pg_notify($1, $2)', [channel, payload]);
    },
    onConnectionChange: listener.onChange,
    async close() {
      await listener.close();
      await pool.end();
    },
  };
}

/**
 * The LISTEN connection, supervised: on 'error' or 'end' it reconnects with back-off (100 ms
 * doubling to `retryMaxMs`), issues every LISTEN again, then calls each channel's handler once.
 * A heartbeat query finds a connection that died without a word (half-open TCP).
 */
function createListener(
  ClientClass: new (config: ClientConfig) => Client,
  connection: ClientConfig,
  limits: DatabaseLimits,
  heartbeatMs: number,
  logger: Logger | undefined,
) {
  const channels = new Map<string, Set<(payload: string) => void>>();
  const changeListeners: ((state: ConnectionState, err?: Error) => void)[] = [];
  let client: Client | undefined;
  let connecting: Promise<boolean> | undefined;
  let state: ConnectionState | undefined;
  let lostSinceUp = false;
  let attempt = 0;
  let retryTimer: NodeJS.Timeout | undefined;
  let heartbeatTimer: NodeJS.Timeout | undefined;
  let closed = false;

  const setState = (next: ConnectionState, err?: Error) => {
    if (state === next) return;
    state = next;
    for (const l of changeListeners) l(next, err);
  };

  const onNotification = (msg: Notification) => {
    for (const handler of channels.get(msg.channel) ?? []) handler(msg.payload ?? '');
  };

  function lose(c: Client, err: Error): void {
    if (c !== client) return;
    client = undefined;
    clearInterval(heartbeatTimer);
    beating = false;
    c.removeListener('notification', onNotification);
    destroy(c);
    lostSinceUp = true;
    logger?.debug({ err: describeDbError(err) }, 'LISTEN connection lost');
    setState('down', err);
    scheduleReconnect();
  }

  function scheduleReconnect(): void {
    if (closed || retryTimer || channels.size === 0) return;
    const base = Math.min(limits.retryMaxMs, 100 * 2 ** Math.min(attempt, 20));
    attempt++;
    retryTimer = setTimeout(
      () => {
        retryTimer = undefined;
        void connect();
      },
      Math.round(base * (0.8 + Math.random() * 0.4)),
    );
    retryTimer.unref?.();
  }

  function connect(): Promise<boolean> {
    connecting ??= connectOnce().finally(() => {
      connecting = undefined;
    });
    return connecting;
  }

  async function connectOnce(): Promise<boolean> {
    if (closed || client) return !!client;
    const c = new ClientClass(connection);
    // Both stay attached for the client's whole life: an 'error' without a listener kills the process.
    c.on('error', (err: Error) => lose(c, err));
    c.on('end', () => lose(c, new Error('LISTEN connection ended')));
    try {
      await c.connect();
      for (const channel of channels.keys()) await c.query(`LISTEN ${quoteIdent(channel)}`);
    } catch (err) {
      destroy(c);
      lostSinceUp = true;
      logger?.debug({ err: describeDbError(err), attempt }, 'cannot connect the LISTEN connection');
      setState('down', err as Error);
      scheduleReconnect();
      return false;
    }
    if (closed) {
      destroy(c);
      return false;
    }
    client = c;
    attempt = 0;
    c.on('notification', onNotification);
    heartbeatTimer = setInterval(() => heartbeat(c), heartbeatMs);
    heartbeatTimer.unref?.();
    const missedSome = lostSinceUp;
    lostSinceUp = false;
    setState('up');
    if (missedSome) for (const handlers of channels.values()) for (const h of handlers) h('');
    return true;
  }

  let beating = false;
  function heartbeat(c: Client): void {
    if (beating) return; // the last one is still out: its own timer decides
    beating = true;
    const timer = setTimeout(() => lose(c, new Error('LISTEN connection did not answer the heartbeat')), limits.connectTimeoutMs);
    c.query('SELECT 1').then(
      () => {
        beating = false;
        clearTimeout(timer);
      },
      (err: Error) => {
        beating = false;
        clearTimeout(timer);
        lose(c, err);
      },
    );
  }

  return {
    async listen(channel: string, onNotify: (payload: string) => void): Promise<boolean> {
      const name = quoteIdent(channel);
      let handlers = channels.get(channel);
      const fresh = !handlers;
      if (!handlers) channels.set(channel, (handlers = new Set()));
      handlers.add(onNotify);
      if (client && fresh) {
        try {
          await client.query(`LISTEN ${name}`);
        } catch (err) {
          lose(client, err as Error);
          return false;
        }
        return true;
      }
      if (client) return true;
      if (retryTimer) return false;
      return connect();
    },
    onChange(listener: (state: ConnectionState, err?: Error) => void) {
      changeListeners.push(listener);
    },
    async close() {
      closed = true;
      clearTimeout(retryTimer);
      clearInterval(heartbeatTimer);
      await connecting?.catch(() => undefined);
      const c = client;
      client = undefined;
      if (c) await c.end().catch(() => undefined);
    },
  };
}

/** Closes a pg client at once, even on a connection that no longer answers. */
function destroy(c: Client): void {
  const stream = (c as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream;
  c.end().catch(() => undefined);
  stream?.destroy();
}

async function openPglite(dataDir: string, role: LockRole): Promise<Database> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  const { migrate } = await import('drizzle-orm/pglite/migrator');
  // Single-process: refuse (DataDirLockedError) while another process holds the folder.
  const lock = acquireDataDirLock(dataDir, role);
  try {
    const client = new PGlite(dataDir);
    await client.waitReady;
    const db = drizzle(client, { schema });
    return {
      db: db as unknown as Db,
      kind: 'pglite',
      where: resolve(dataDir),
      migrate: () => migrate(db, { migrationsFolder }),
      listen: async () => true,
      async notify() {},
      onConnectionChange() {},
      async close() {
        try {
          await client.close();
        } finally {
          lock.release();
        }
      },
    };
  } catch (err) {
    lock.release();
    throw err;
  }
}

function quoteIdent(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`invalid channel name: ${name}`);
  return name;
}
