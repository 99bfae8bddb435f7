import { boolean, index, integer, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/** One row per call the adapter decided on, with the reason for its decision. */
export const calls = pgTable(
  'calls',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    direction: text('direction', { enum: ['outbound', 'inbound'] }).notNull(),
    pbx: text('pbx').notNull(),
    channelId: text('channel_id').notNull(),
    agentId: text('agent_id'),
    agentEndpoint: text('agent_endpoint'),
    customerE164: text('customer_e164'),
    callerId: text('caller_id'),
    action: text('action', { enum: ['dial', 'default', 'reject'] }).notNull(),
    strategy: text('strategy'),
    tier: text('tier'),
    fallback: boolean('fallback').notNull().default(false),
    candidates: integer('candidates'),
    reason: text('reason').notNull(),
    decidedAt: timestamp('decided_at', { withTimezone: true }).notNull(),
    decisionMicros: integer('decision_micros'),
    endedAt: timestamp('ended_at', { withTimezone: true }),
    hangupCause: integer('hangup_cause'),
  },
  (t) => [
    // Call memory: "last outbound call to this customer within N days".
    index('calls_customer_recent_idx').on(t.customerE164, t.direction, t.decidedAt.desc()),
    index('calls_channel_idx').on(t.channelId),
  ],
);
