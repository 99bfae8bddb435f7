import { sql } from 'drizzle-orm';
import { boolean, index, integer, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

/**
 * One row per call the adapter decided on (exactly one per PBX channel: a call re-adopted after a
 * crash updates its row), with the reason for its decision and what the PBX then did.
 */
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
    /** When the outside (far) leg answered; null: never answered. */
    answeredAt: timestamp('answered_at', { withTimezone: true }),
    /** Seconds from answer to hang-up as the PBX counted them. */
    talkSeconds: integer('talk_seconds'),
    /** What the PBX really did when it differs from `action` (e.g. 'default' after the wait for the adapter ran out); null: as decided. */
    finalAction: text('final_action', { enum: ['dial', 'default', 'reject'] }),
    /** The PBX's dial result: ANSWER, BUSY, NOANSWER, CHANUNAVAIL, CONGESTION, CANCEL, ... */
    dialStatus: text('dial_status'),
    /** Who hung up first: 'agent', 'customer', or 'pbx' (the dialplan ended the call); null: not known. */
    hungUpBy: text('hung_up_by', { enum: ['agent', 'customer', 'pbx'] }),
    /** Inbound calls rung to a remembered agent who did not take them: where they went then. */
    noAnswerRoute: text('no_answer_route', { enum: ['ivr', 'voicemail', 'goodbye'] }),
    /** The end happened while no adapter followed the call: ended_at is when that was noticed. */
    endEstimated: boolean('end_estimated').notNull().default(false),
  },
  (t) => [
    // Call memory: "last outbound call to this customer within N days". Outbound rows only, and
    // the agent and the answer time in the index too: the look-up reads the index alone (once
    // vacuum has marked the pages visible), never the table (10 M rows: see bench section 6).
    index('calls_memory_idx')
      .on(t.customerE164, t.decidedAt.desc(), t.agentId, t.answeredAt)
      .where(sql`${t.direction} = 'outbound'`),
    uniqueIndex('calls_pbx_channel_uidx').on(t.pbx, t.channelId),
    // Daily caps count today's outbound calls per caller ID at every policy load; the dashboard
    // reads outbound calls by day: both a range of decided_at, never the whole table. BRIN (rows
    // arrive in time order): small, and never a way to read calls in decided_at order, which a
    // B-tree here was: the planner took it for the call-memory look-up's generic plan (ORDER BY
    // decided_at DESC LIMIT 1) instead of calls_memory_idx.
    index('calls_outbound_decided_brin').using('brin', t.decidedAt).where(sql`${t.direction} = 'outbound'`),
    // Calls whose end is not recorded yet, checked against the PBX after every (re)connect.
    index('calls_open_idx').on(t.pbx, t.decidedAt).where(sql`${t.endedAt} IS NULL`),
  ],
);
