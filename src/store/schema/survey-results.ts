import { index, integer, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

/**
 * One row per survey the adapter ran (exactly one per survey leg: a survey re-adopted after a
 * crash never writes a second row), linked to its call's record by (pbx, call_channel_id).
 * The agent, groups and customer are copied from the call when the survey starts, so reports
 * need no join and a survey whose call record is not written yet still says whose it was.
 */
export const surveyResults = pgTable(
  'survey_results',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    pbx: text('pbx').notNull(),
    /** The customer's channel that heard the survey. */
    channelId: text('channel_id').notNull(),
    /** The call's record (calls.channel_id): the agent's channel on outbound calls, the customer's on inbound ones. */
    callChannelId: text('call_channel_id').notNull(),
    direction: text('direction', { enum: ['outbound', 'inbound'] }).notNull(),
    agentId: text('agent_id'),
    /** The agent's groups when the survey ran (reports sum per group). */
    agentGroups: text('agent_groups').array().notNull().default([]),
    customerE164: text('customer_e164'),
    /** The template's name in the policy. */
    template: text('template').notNull(),
    outcome: text('outcome', { enum: ['rated', 'no_input', 'invalid', 'hung_up'] }).notNull(),
    /** The key pressed: the rating (rated) or the last wrong key (invalid). */
    dtmfKey: text('dtmf_key'),
    label: text('label'),
    score: integer('score'),
    /** How many times the customer was asked. */
    attempts: integer('attempts').notNull(),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull(),
    /** When the outcome was known. */
    endedAt: timestamp('ended_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    uniqueIndex('survey_results_pbx_channel_uidx').on(t.pbx, t.channelId),
    index('survey_results_started_idx').on(t.startedAt),
    index('survey_results_agent_idx').on(t.agentId, t.startedAt),
  ],
);
