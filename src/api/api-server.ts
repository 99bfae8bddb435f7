// The HTTP API (issue 11, first slice: reading calls and survey figures), on fastify. Query
// parameters are checked by zod schemas; the OpenAPI document is built from the same schemas.
// Every request needs `Authorization: Bearer <admin token>`; errors are JSON with a stable code
// and a message naming the field. Customer numbers are masked while number protection is on.
import { and, desc, eq, gte, lt, type SQL } from 'drizzle-orm';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { Logger } from '../log.js';
import { numberForLog } from '../log.js';
import type { Db } from '../store/database.js';
import { calls } from '../store/schema/index.js';
import { summarizeSurveys } from '../store/survey-report.js';

const isoTime = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 time with a zone, e.g. 2026-12-01T00:00:00Z' });

export const callsQuery = z
  .object({
    direction: z.enum(['outbound', 'inbound']).optional(),
    agent: z.string().min(1).max(64).optional().describe('agent id'),
    since: isoTime.optional().describe('decided at or after'),
    until: isoTime.optional().describe('decided before'),
    before: isoTime.optional().describe('paging: the decidedAt of the last call of the previous page'),
    limit: z.coerce.number().int().min(1).max(500).default(50),
  })
  .strict();

export const surveySummaryQuery = z
  .object({
    by: z.enum(['agent', 'group', 'day']).default('agent'),
    since: isoTime.optional(),
    until: isoTime.optional(),
    agent: z.string().min(1).max(64).optional(),
    group: z.string().min(1).max(64).optional(),
    direction: z.enum(['outbound', 'inbound']).optional(),
    tz: z.string().min(1).max(64).default('UTC').describe('IANA time zone of days'),
  })
  .strict();

export interface ApiDeps {
  db: Db;
  adminToken: string;
  /** Whether customer numbers are shown masked now (number protection or privacy on). */
  masked(): boolean;
  logger: Logger;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

function parse<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = issue.path.join('.') || (issue.code === 'unrecognized_keys' ? issue.keys.join(',') : '');
  throw new ApiError(400, 'bad-request', `${field || 'query'}: ${issue.code === 'unrecognized_keys' ? 'unknown parameter' : issue.message}`, field || undefined);
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The OpenAPI document, from the same schemas that check the requests. */
export function openApiDocument(): object {
  const params = (schema: z.ZodObject) =>
    Object.entries(z.toJSONSchema(schema, { io: 'input' }).properties ?? {}).map(([name, s]) => ({ name, in: 'query', required: false, schema: s }));
  const secured = { security: [{ bearer: [] }], responses: { '200': { description: 'OK' }, '400': { description: 'bad parameter (JSON error naming it)' }, '401': { description: 'no or wrong token' } } };
  return {
    openapi: '3.1.0',
    info: { title: 'callpolicy API', version: '1' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    paths: {
      '/api/v1/calls': { get: { summary: 'Call decisions and their ends, newest first', parameters: params(callsQuery), ...secured } },
      '/api/v1/surveys/summary': { get: { summary: 'Survey figures per agent, group or day', parameters: params(surveySummaryQuery), ...secured } },
    },
  };
}

export async function startApiServer(host: string, port: number, deps: ApiDeps): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  const auth = async (req: FastifyRequest) => {
    const header = req.headers.authorization ?? '';
    const token = /^Bearer (.+)$/.exec(header)?.[1];
    if (!token) throw new ApiError(401, 'unauthorized', 'missing Authorization: Bearer <token>');
    if (!sameSecret(token, deps.adminToken)) throw new ApiError(401, 'unauthorized', 'token not accepted');
  };
  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply: FastifyReply) => {
    if (err instanceof ApiError) return reply.status(err.status).send({ error: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) });
    if (err.statusCode && err.statusCode < 500) return reply.status(err.statusCode).send({ error: 'bad-request', message: err.message });
    deps.logger.error({ err: err.message }, 'API request failed');
    return reply.status(500).send({ error: 'internal', message: 'the request failed; see the adapter log' });
  });
  app.setNotFoundHandler((req, reply) => reply.status(404).send({ error: 'not-found', message: `no such route: ${req.method} ${req.url.split('?')[0]}` }));

  app.get('/api/v1/openapi.json', async () => openApiDocument());

  app.get('/api/v1/calls', { onRequest: auth }, async (req) => {
    const q = parse(callsQuery, req.query);
    const where: (SQL | undefined)[] = [
      q.direction ? eq(calls.direction, q.direction) : undefined,
      q.agent ? eq(calls.agentId, q.agent) : undefined,
      q.since ? gte(calls.decidedAt, new Date(q.since)) : undefined,
      q.until ? lt(calls.decidedAt, new Date(q.until)) : undefined,
      q.before ? lt(calls.decidedAt, new Date(q.before)) : undefined,
    ];
    const rows = await deps.db.select().from(calls).where(and(...where)).orderBy(desc(calls.decidedAt)).limit(q.limit);
    const mask = deps.masked();
    return {
      calls: rows.map((r) => ({
        id: r.id,
        direction: r.direction,
        pbx: r.pbx,
        channelId: r.channelId,
        agentId: r.agentId,
        customer: mask ? numberForLog(r.customerE164, true) : r.customerE164,
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
        finalAction: r.finalAction,
        hungUpBy: r.hungUpBy,
      })),
      next: rows.length === q.limit ? { before: rows.at(-1)!.decidedAt.toISOString() } : null,
    };
  });

  app.get('/api/v1/surveys/summary', { onRequest: auth }, async (req) => {
    const q = parse(surveySummaryQuery, req.query);
    try {
      new Intl.DateTimeFormat('en', { timeZone: q.tz });
    } catch {
      throw new ApiError(400, 'bad-request', `tz: not an IANA time zone: ${q.tz}`, 'tz');
    }
    const rows = await summarizeSurveys(
      deps.db,
      { since: q.since ? new Date(q.since) : undefined, until: q.until ? new Date(q.until) : undefined, agentId: q.agent, group: q.group, direction: q.direction },
      q.by,
      { timeZone: q.tz },
    );
    return { by: q.by, rows };
  });

  await app.listen({ host, port });
  return app;
}
