import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** A fresh database on the real PostgreSQL server for one test file, dropped afterwards. */
export async function createTempDatabase(baseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test') {
  const name = `callpolicy_t_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: baseUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
