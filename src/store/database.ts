import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import * as schema from './schema/index.js';

export type Schema = typeof schema;
/** The one database type the rest of the code sees, whether PostgreSQL or embedded PGlite. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

export interface Database {
  db: Db;
  kind: 'postgres' | 'pglite';
  /** Runs the SQL migrations in migrations/ that have not been applied yet. */
  migrate(): Promise<void>;
  /** Calls `onNotify` on `NOTIFY <channel>` (PostgreSQL only; PGlite is single-process). */
  listen(channel: string, onNotify: () => void): Promise<void>;
  notify(channel: string): Promise<void>;
  close(): Promise<void>;
}

/** migrations/ at the package root, found from here whether running from src/ or dist/src/. */
export const migrationsFolder = findUp(dirname(fileURLToPath(import.meta.url)), join('migrations', 'meta', '_journal.json'));

function findUp(from: string, relative: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, relative))) return join(dir, 'migrations');
    if (dirname(dir) === dir) throw new Error(`cannot find ${relative} above ${from}`);
  }
}

/** PostgreSQL when a URL is given, else an embedded PGlite database stored under dataDir. */
export async function openDatabase(opts: { url?: string; dataDir: string }): Promise<Database> {
  return opts.url ? openPostgres(opts.url) : openPglite(opts.dataDir);
}

async function openPostgres(url: string): Promise<Database> {
  const { default: pg } = await import('pg');
  const { drizzle } = await import('drizzle-orm/node-postgres');
  const { migrate } = await import('drizzle-orm/node-postgres/migrator');
  const pool = new pg.Pool({ connectionString: url, max: 5 });
  // An idle client's socket error must not kill the process; the pool replaces the client.
  pool.on('error', () => undefined);
  const db = drizzle(pool, { schema });
  let listener: import('pg').PoolClient | undefined;
  return {
    db: db as unknown as Db,
    kind: 'postgres',
    migrate: () => migrate(db, { migrationsFolder }),
    async listen(channel, onNotify) {
      listener ??= await pool.connect();
      listener.on('notification', (msg) => {
        if (msg.channel === channel) onNotify();
      });
      await listener.query(`LISTEN ${quoteIdent(channel)}`);
    },
    async notify(channel) {
      await pool.query(`NOTIFY ${quoteIdent(channel)}`);
    },
    async close() {
      listener?.release();
      await pool.end();
    },
  };
}

async function openPglite(dataDir: string): Promise<Database> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  const { migrate } = await import('drizzle-orm/pglite/migrator');
  mkdirSync(dataDir, { recursive: true });
  const client = new PGlite(dataDir);
  const db = drizzle(client, { schema });
  return {
    db: db as unknown as Db,
    kind: 'pglite',
    migrate: () => migrate(db, { migrationsFolder }),
    async listen() {},
    async notify() {},
    close: () => client.close(),
  };
}

function quoteIdent(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`invalid channel name: ${name}`);
  return name;
}
