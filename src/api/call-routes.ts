// Reading calls and survey results. Customers' numbers are masked while number protection (or the
// privacy setting) is on, and always for agent tokens.
import { and, desc, eq, gte, lt, or, sql, type SQL } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AdminError } from '../admin/admin-error.js';
import { nameSchema } from '../config/policy-file.js';
import { isTimeZone } from '../config/time-zone.js';
import { numberForLog } from '../log.js';
import { calls } from '../store/schema/index.js';
import { listSurveyResults, summarizeSurveys, type SurveyFilter } from '../store/survey-report.js';
import { agentOf, type ApiDeps } from './api-server.js';
import { defineRoute } from './route.js';

export const isoTime = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 time with a zone, e.g. 2026-12-01T00:00:00Z' });
const agentId = nameSchema;
/** Paging: the decidedAt and id of the last call of the previous page, as `next.cursor` gives them. */
const cursor = z.string().regex(/^\d{4}-\d\d-\d\dT[\d:.]+Z~[0-9a-f-]{36}$/, 'must be a next.cursor value from the previous page');

const callsFilter = {
  direction: z.enum(['outbound', 'inbound']).optional(),
  since: isoTime.optional().describe('decided at or after'),
  until: isoTime.optional().describe('decided before'),
  before: isoTime.optional().describe('decided before (same as until)'),
  cursor: cursor.optional().describe('paging: next.cursor of the previous page'),
  limit: z.coerce.number().int().min(1).max(500).default(50),
};
export const callsQuery = z.strictObject({ ...callsFilter, agent: agentId.optional().describe('agent id') });
const ownCallsQuery = z.strictObject(callsFilter);

const surveyFilter = {
  since: isoTime.optional(),
  until: isoTime.optional(),
  agent: agentId.optional(),
  group: z.string().min(1).max(64).optional(),
  direction: z.enum(['outbound', 'inbound']).optional(),
};
export const surveySummaryQuery = z.strictObject({
  ...surveyFilter,
  by: z.enum(['agent', 'group', 'day']).default('agent'),
  tz: z.string().min(1).max(64).default('UTC').describe('IANA time zone of days'),
});
const surveyListQuery = z.strictObject({ ...surveyFilter, limit: z.coerce.number().int().min(1).max(500).default(20) });

type CallsQuery = z.infer<typeof callsQuery>;

async function listCalls(deps: ApiDeps, q: CallsQuery, mask: boolean) {
  const [at, id] = q.cursor ? q.cursor.split('~') : [];
  const where: (SQL | undefined)[] = [
    q.direction ? eq(calls.direction, q.direction) : undefined,
    q.agent ? eq(calls.agentId, q.agent) : undefined,
    q.since ? gte(calls.decidedAt, new Date(q.since)) : undefined,
    q.until ? lt(calls.decidedAt, new Date(q.until)) : undefined,
    q.before ? lt(calls.decidedAt, new Date(q.before)) : undefined,
    // Calls decided in the same millisecond are told apart by id: none is skipped or repeated.
    at ? or(lt(calls.decidedAt, new Date(at)), and(eq(calls.decidedAt, new Date(at)), sql`${calls.id} < ${id}::uuid`)) : undefined,
  ];
  const rows = await deps.db.select().from(calls).where(and(...where)).orderBy(desc(calls.decidedAt), desc(calls.id)).limit(q.limit);
  const last = rows.at(-1);
  return {
    calls: rows.map((r) => ({
      id: r.id,
      direction: r.direction,
      pbx: r.pbx,
      channelId: r.channelId,
      agentId: r.agentId,
      agentEndpoint: r.agentEndpoint,
      customer: numberForLog(r.customerE164, mask),
      callerId: r.callerId,
      action: r.action,
      strategy: r.strategy,
      tier: r.tier,
      fallback: r.fallback,
      reason: r.reason,
      decidedAt: r.decidedAt.toISOString(),
      answeredAt: r.answeredAt?.toISOString() ?? null,
      endedAt: r.endedAt?.toISOString() ?? null,
      talkSeconds: r.talkSeconds,
      dialStatus: r.dialStatus,
      finalAction: r.finalAction,
      noAnswerRoute: r.noAnswerRoute,
      hungUpBy: r.hungUpBy,
    })),
    next: rows.length === q.limit && last ? { cursor: `${last.decidedAt.toISOString()}~${last.id}` } : null,
  };
}

function checkTimeZone(tz: string): void {
  if (!isTimeZone(tz)) throw new AdminError(400, 'bad-request', `tz: not an IANA time zone: ${tz}`, 'tz');
}

const filterOf = (q: z.infer<typeof surveyListQuery> | z.infer<typeof surveySummaryQuery>): SurveyFilter => ({
  since: q.since ? new Date(q.since) : undefined,
  until: q.until ? new Date(q.until) : undefined,
  agentId: q.agent,
  group: q.group,
  direction: q.direction,
});

export function registerCallRoutes(app: FastifyInstance, deps: ApiDeps): void {
  defineRoute(app, { method: 'GET', url: '/api/v1/calls', access: 'admin', summary: 'Call decisions and their ends, newest first', query: callsQuery }, async ({ query }) =>
    listCalls(deps, query, deps.masked()),
  );

  defineRoute(app, { method: 'GET', url: '/api/v1/me/calls', access: 'agent', summary: "The agent's own calls; customers' numbers always masked", query: ownCallsQuery }, async ({ query, req }) =>
    listCalls(deps, { ...query, agent: agentOf(req) }, true),
  );

  defineRoute(app, { method: 'GET', url: '/api/v1/surveys/summary', access: 'admin', summary: 'Survey figures per agent, group or day', query: surveySummaryQuery }, async ({ query }) => {
    checkTimeZone(query.tz);
    const rows = await summarizeSurveys(deps.db, filterOf(query), query.by, { timeZone: query.tz });
    return { by: query.by, rows };
  });

  defineRoute(app, { method: 'GET', url: '/api/v1/surveys', access: 'admin', summary: 'The latest survey results, newest first', query: surveyListQuery }, async ({ query }) => {
    const mask = deps.masked();
    const rows = await listSurveyResults(deps.db, filterOf(query), query.limit);
    return { surveys: rows.map((r) => ({ ...r, customerE164: numberForLog(r.customerE164, mask) })) };
  });
}
