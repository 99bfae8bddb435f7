import { eq, inArray, sql } from 'drizzle-orm';
import type { Db } from './database.js';
import { calls, numbers } from './schema/index.js';

export type NewCallRecord = typeof calls.$inferInsert;

export interface CallEnd {
  channelId: string;
  endedAt: Date;
  hangupCause: number | null;
}

/** Writes call records and number use off the call's path; the caller does not wait per call. */
export function createCallRecorder(db: Db) {
  return {
    async recordDecision(row: NewCallRecord): Promise<void> {
      await db.insert(calls).values(row);
      if (row.action === 'dial' && row.callerId) {
        await db.update(numbers).set({ lastUsedAt: row.decidedAt }).where(eq(numbers.e164, row.callerId));
      }
    },
    async recordEnds(ends: CallEnd[]): Promise<void> {
      for (const end of ends) {
        await db
          .update(calls)
          .set({ endedAt: end.endedAt, hangupCause: end.hangupCause })
          .where(eq(calls.channelId, end.channelId));
      }
    },
    async byChannel(channelIds: string[]) {
      if (channelIds.length === 0) return [];
      return db.select().from(calls).where(inArray(calls.channelId, channelIds)).orderBy(sql`${calls.decidedAt}`);
    },
  };
}

export type CallRecorder = ReturnType<typeof createCallRecorder>;
