import { sql } from 'drizzle-orm';
import { rowsOf } from './call-records.js';
import type { Db } from './database.js';

/**
 * Today's calls per caller ID, the day being that of `timeZone` by the database's clock: what
 * the daily caps count against (policy load) and the dashboard shows. One statement; the range of
 * decided_at is served by calls_outbound_decided_brin.
 */
export async function callerIdUsesToday(db: Pick<Db, 'execute'>, timeZone: string): Promise<{ day: string; perNumber: [string, number][] }> {
  const rows = rowsOf<{ day: string; caller_id: string | null; n: number | null }>(
    await db.execute(sql`WITH today AS (
        SELECT to_char(now() AT TIME ZONE ${timeZone}, 'YYYY-MM-DD') AS day, date_trunc('day', now() AT TIME ZONE ${timeZone}) AT TIME ZONE ${timeZone} AS since)
      SELECT today.day, c.caller_id, c.n FROM today LEFT JOIN LATERAL (
        SELECT caller_id, count(*)::int AS n FROM calls
        WHERE direction = 'outbound' AND action = 'dial' AND caller_id IS NOT NULL AND decided_at >= today.since
        GROUP BY caller_id) c ON true`),
  );
  return { day: rows[0]!.day, perNumber: rows.flatMap((r) => (r.caller_id === null ? [] : [[r.caller_id, r.n!] as [string, number]])) };
}
