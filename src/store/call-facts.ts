import { and, eq, sql } from 'drizzle-orm';
import type { SurveyedCall } from '../flows/survey-flow.js';
import type { Db } from './database.js';
import { calls } from './schema/index.js';

/** A call's agent and customer from its record (a survey whose call this process did not decide). */
export function createCallFactsLookup(db: Db, pbx: string): (channelId: string) => Promise<SurveyedCall | null> {
  const query = db
    .select({ agentId: calls.agentId, customerE164: calls.customerE164 })
    .from(calls)
    .where(and(eq(calls.pbx, pbx), eq(calls.channelId, sql.placeholder('channelId'))))
    .limit(1)
    .prepare('survey_call_facts');
  return async (channelId) => {
    const [row] = await query.execute({ channelId });
    return row ?? null;
  };
}
