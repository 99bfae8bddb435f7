import { boolean, index, integer, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/** Caller-ID pool: every number the trunk lets us present. */
export const numbers = pgTable('numbers', {
  e164: text('e164').primaryKey(),
  enabled: boolean('enabled').notNull().default(true),
  // Location keys, computed once when the number is applied (or set by hand).
  locationCountry: text('location_country').notNull(),
  locationRegion: text('location_region'),
  locationArea: text('location_area'),
  locationSource: text('location_source', { enum: ['auto', 'manual'] }).notNull().default('auto'),
  lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
  /** At most this many calls present the number per day (callerId.capTimeZone); null: callerId.dailyCap, if any. */
  dailyCap: integer('daily_cap'),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

export const groups = pgTable('groups', {
  name: text('name').primaryKey(),
});

export const numberGroups = pgTable(
  'number_groups',
  {
    numberE164: text('number_e164').notNull().references(() => numbers.e164, { onDelete: 'cascade' }),
    groupName: text('group_name').notNull().references(() => groups.name, { onDelete: 'cascade' }),
  },
  (t) => [primaryKey({ columns: [t.numberE164, t.groupName] }), index('number_groups_group_idx').on(t.groupName)],
);

export const agents = pgTable(
  'agents',
  {
    id: text('id').primaryKey(),
    // PBX endpoint as the PBX names it, e.g. PJSIP/1001.
    endpoint: text('endpoint').notNull().unique(),
    chosenNumber: text('chosen_number').references(() => numbers.e164, { onDelete: 'set null' }),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  // Deleting a number looks its referrers up by these columns (ON DELETE SET NULL / CASCADE): without
  // an index, each of 200,000 deleted numbers scanned the table.
  (t) => [index('agents_chosen_number_idx').on(t.chosenNumber)],
);

export const agentGroups = pgTable(
  'agent_groups',
  {
    agentId: text('agent_id').notNull().references(() => agents.id, { onDelete: 'cascade' }),
    groupName: text('group_name').notNull().references(() => groups.name, { onDelete: 'cascade' }),
  },
  (t) => [primaryKey({ columns: [t.agentId, t.groupName] })],
);

/** Numbers an agent may choose for the `agent` strategy. */
export const agentNumbers = pgTable(
  'agent_numbers',
  {
    agentId: text('agent_id').notNull().references(() => agents.id, { onDelete: 'cascade' }),
    numberE164: text('number_e164').notNull().references(() => numbers.e164, { onDelete: 'cascade' }),
  },
  (t) => [primaryKey({ columns: [t.agentId, t.numberE164] }), index('agent_numbers_number_idx').on(t.numberE164)],
);
