// A migrated database for one test suite: a temporary database on the real PostgreSQL
// (DATABASE_URL, see temp-database.ts) or an embedded PGlite one in a temporary folder.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Database, type OpenOptions } from '../../src/store/database.js';
import { createTempDatabase } from './temp-database.js';

export interface TestDatabase {
  database: Database;
  /** Closes the database, then drops it (PostgreSQL) or removes its folder (PGlite). */
  cleanup(): Promise<void>;
}

/** Where the database is, and how to get rid of it. */
async function makePlace(kind: 'postgres' | 'pglite'): Promise<{ opts: OpenOptions; remove: () => Promise<void> }> {
  if (kind === 'postgres') {
    const tmp = await createTempDatabase();
    return { opts: { url: tmp.url, dataDir: '' }, remove: tmp.drop };
  }
  const dir = mkdtempSync(join(tmpdir(), 'callpolicy-test-db-'));
  return { opts: { dataDir: dir }, remove: async () => rmSync(dir, { recursive: true, force: true }) };
}

export async function openTestDatabase(kind: 'postgres' | 'pglite'): Promise<TestDatabase> {
  const { opts, remove } = await makePlace(kind);
  let database: Database;
  try {
    database = await openDatabase(opts);
  } catch (err) {
    await remove();
    throw err;
  }
  const cleanup = async () => {
    try {
      await database.close();
    } finally {
      await remove();
    }
  };
  try {
    await database.migrate();
  } catch (err) {
    await cleanup();
    throw err;
  }
  return { database, cleanup };
}
