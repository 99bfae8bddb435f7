import { pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Agents an administrator paused (`callpolicy pause`): call memory treats them as unavailable.
 * Kept apart from `agents`, which every policy apply replaces: a pause outlives an apply.
 */
export const agentPauses = pgTable('agent_pauses', {
  agentId: text('agent_id').primaryKey(),
  pausedAt: timestamp('paused_at', { withTimezone: true }).notNull().defaultNow(),
  note: text('note'),
});
