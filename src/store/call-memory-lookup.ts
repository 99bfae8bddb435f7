import { and, desc, eq, gte, isNotNull } from 'drizzle-orm';
import type { RememberedCall } from '../policy/call-memory.js';
import type { Db } from './database.js';
import { calls } from './schema/index.js';

/**
 * Call memory's look-up: the most recent outbound call an agent placed to this customer since
 * `since` (answered ones only, when unanswered calls do not count). Served by
 * calls_customer_recent_idx (customer, direction, decided_at desc): one index probe.
 */
export async function lastOutboundCallTo(db: Db, customerE164: string, since: Date, opts: { answeredOnly: boolean }): Promise<RememberedCall | null> {
  const conditions = [eq(calls.customerE164, customerE164), eq(calls.direction, 'outbound'), gte(calls.decidedAt, since), isNotNull(calls.agentId)];
  if (opts.answeredOnly) conditions.push(isNotNull(calls.answeredAt));
  const [row] = await db
    .select({ agentId: calls.agentId, decidedAt: calls.decidedAt, answeredAt: calls.answeredAt })
    .from(calls)
    .where(and(...conditions))
    .orderBy(desc(calls.decidedAt))
    .limit(1);
  return row ? { agentId: row.agentId!, at: row.decidedAt.getTime(), answered: row.answeredAt !== null } : null;
}
