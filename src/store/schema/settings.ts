import { jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/** Policy settings as validated documents, one row per section (callerId, trunks, ...). */
export const settings = pgTable('settings', {
  key: text('key').primaryKey(),
  value: jsonb('value').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});
