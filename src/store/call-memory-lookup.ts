import { and, desc, eq, gte, isNotNull, sql } from 'drizzle-orm';
import type { RememberedCall } from '../policy/call-memory.js';
import type { Db } from './database.js';
import { calls } from './schema/index.js';

export type CallMemoryLookup = (customerE164: string, since: Date, opts: { answeredOnly: boolean }) => Promise<RememberedCall | null>;

/**
 * Call memory's look-up: the most recent outbound call an agent placed to this customer since
 * `since` (answered ones only, when unanswered calls do not count). Served by
 * calls_memory_idx (outbound rows by customer, decided_at desc, with agent and answer time):
 * one probe of the index alone. Prepared statements, so an inbound call pays for neither query
 * building nor planning.
 */
export function createCallMemoryLookup(db: Db): CallMemoryLookup {
  const prepare = (answeredOnly: boolean) => {
    const conditions = [
      eq(calls.customerE164, sql.placeholder('customer')),
      // A literal, not a parameter: the partial index (direction = 'outbound') must match a
      // prepared statement's generic plan too.
      sql`${calls.direction} = 'outbound'`,
      gte(calls.decidedAt, sql.placeholder('since')),
      isNotNull(calls.agentId),
    ];
    if (answeredOnly) conditions.push(isNotNull(calls.answeredAt));
    return db
      .select({ agentId: calls.agentId, decidedAt: calls.decidedAt, answeredAt: calls.answeredAt })
      .from(calls)
      .where(and(...conditions))
      .orderBy(desc(calls.decidedAt))
      .limit(1)
      .prepare(answeredOnly ? 'call_memory_answered' : 'call_memory_any');
  };
  const any = prepare(false);
  const answered = prepare(true);
  return async (customerE164, since, opts) => {
    const [row] = await (opts.answeredOnly ? answered : any).execute({ customer: customerE164, since: since.toISOString() });
    return row ? { agentId: row.agentId!, at: row.decidedAt.getTime(), answered: row.answeredAt !== null } : null;
  };
}

/** The most recent outbound call to the customer at any time (for explanations, not for calls). */
export async function lastOutboundCallEver(db: Db, customerE164: string): Promise<{ agentId: string; at: number; answered: boolean } | null> {
  const [row] = await db
    .select({ agentId: calls.agentId, decidedAt: calls.decidedAt, answeredAt: calls.answeredAt })
    .from(calls)
    .where(and(eq(calls.customerE164, customerE164), sql`${calls.direction} = 'outbound'`, isNotNull(calls.agentId)))
    .orderBy(desc(calls.decidedAt))
    .limit(1);
  return row ? { agentId: row.agentId!, at: row.decidedAt.getTime(), answered: row.answeredAt !== null } : null;
}
