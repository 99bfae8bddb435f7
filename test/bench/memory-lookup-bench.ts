// Call memory's look-up at scale: N outbound call rows (10 million by default) in a PostgreSQL
// database over 3 months, 1 million customers, 500 agents; then random look-ups through the
// adapter's own function (createCallMemoryLookup), half for customers called in the 72 h window, half
// for numbers never called. Timed per look-up with a high-resolution clock.
// Standalone: `npx tsx test/bench/memory-lookup-bench.ts [rows]`; also section (0) of `npm run bench`.
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { createCallMemoryLookup } from '../../src/store/call-memory-lookup.js';
import { openDatabase } from '../../src/store/database.js';
import { createTempDatabase } from '../support/temp-database.js';
import { percentile } from './decision-bench.js';

const CUSTOMERS = 1_000_000;
const DAY_MS = 86_400_000;
const CHUNK = 1_000_000;

export interface LookupFigures {
  rows: number;
  loadMs: number;
  hit: number;
  p50us: number;
  p99us: number;
  maxUs: number;
  /** The same connection pool's round trip with no work (a prepared SELECT 1), interleaved with the look-ups: this machine's floor. */
  floor: { p50us: number; p99us: number; maxUs: number };
}

export async function benchMemoryLookup(rows = 10_000_000, lookups = 10_000): Promise<LookupFigures> {
  const tmp = await createTempDatabase();
  const database = await openDatabase({ url: tmp.url, dataDir: '' });
  try {
    await database.migrate();
    const now = Math.floor(Date.now() / 1000) * 1000;
    const started = performance.now();
    // Customers are +8613000000000 + k; calls spread over the last 90 days. Loaded over a
    // connection of its own, without the adapter's statement timeout, a million rows a statement.
    const loader = new pg.Client({ connectionString: tmp.url });
    await loader.connect();
    const loaderDb = drizzle(loader);
    for (let from = 1; from <= rows; from += CHUNK) {
      const to = Math.min(rows, from + CHUNK - 1);
      await loaderDb.execute(sql`
      INSERT INTO calls (direction, pbx, channel_id, agent_id, agent_endpoint, customer_e164, caller_id, action, reason, decided_at, answered_at)
      SELECT 'outbound', 'asterisk', 'bench-' || g, 'agent' || (g % 500), 'PJSIP/' || (1000 + g % 500),
             '+86' || (13000000000 + (hashint4(g::int) & 2147483647) % ${CUSTOMERS})::text, '+14155550100', 'dial', 'decided',
             to_timestamp(${now / 1000}::bigint - (hashint4(g::int + 7) & 2147483647) % ${90 * 86400}),
             CASE WHEN g % 3 = 0 THEN NULL ELSE to_timestamp(${now / 1000}::bigint) END
      FROM generate_series(${from}::int, ${to}::int) AS g`);
    }
    // What autovacuum does on a live system: statistics, and the visibility map that lets the
    // look-up read the index alone.
    await loaderDb.execute(sql`VACUUM ANALYZE calls`);
    // The bulk load leaves gigabytes of dirty pages that the server writes back for minutes: a
    // live system's look-ups do not run behind such a burst. Written out now, before timing.
    await loaderDb.execute(sql`CHECKPOINT`);
    await loader.end();
    const loadMs = performance.now() - started;

    const since = new Date(now - 3 * DAY_MS);
    const lookUp = createCallMemoryLookup(database.db);
    const floorQuery = database.db.select({ one: sql<number>`1` }).from(sql`(SELECT 1) AS t`).prepare('bench_floor');
    const times: number[] = [];
    const floorTimes: number[] = [];
    let hit = 0;
    for (let i = 0; i < lookups; i++) {
      const k = Math.floor(Math.random() * CUSTOMERS);
      // Odd look-ups: a number never called (a different prefix).
      const customer = i % 2 === 0 ? `+86${13000000000 + k}` : `+86${15000000000 + k}`;
      const t = process.hrtime.bigint();
      const r = await lookUp(customer, since, { answeredOnly: false });
      times.push(Number(process.hrtime.bigint() - t) / 1000);
      if (r) hit++;
      const f = process.hrtime.bigint();
      await floorQuery.execute();
      floorTimes.push(Number(process.hrtime.bigint() - f) / 1000);
    }
    times.sort((a, b) => a - b);
    floorTimes.sort((a, b) => a - b);
    return {
      rows,
      loadMs,
      hit,
      p50us: percentile(times, 50),
      p99us: percentile(times, 99),
      maxUs: times[times.length - 1]!,
      floor: { p50us: percentile(floorTimes, 50), p99us: percentile(floorTimes, 99), maxUs: floorTimes[floorTimes.length - 1]! },
    };
  } finally {
    await database.close();
    await tmp.drop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = Number(process.argv[2] ?? 10_000_000);
  const r = await benchMemoryLookup(rows);
  console.log(JSON.stringify(r));
}
