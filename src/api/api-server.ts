// The HTTP API, on fastify: the same capabilities as the CLI (which sends it the same requests),
// requests checked by zod schemas, the OpenAPI document built from those schemas. Every route
// under /api/v1 but the document needs a token: the admin token, or an agent's token for the
// /api/v1/me routes. Errors are JSON with a stable code and a message naming the field.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { AdminError } from '../admin/admin-error.js';
import type { PolicyService } from '../admin/policy-service.js';
import { PolicyFileError } from '../config/policy-file.js';
import type { Logger } from '../log.js';
import type { EndpointStatus } from '../pbx/call-control.js';
import type { Location } from '../policy/caller-id-types.js';
import { PolicyConflictError } from '../store/apply-policy.js';
import type { Db } from '../store/database.js';
import type { RuntimePolicy } from '../store/load-policy.js';
import { tokenOf, type Principal } from './auth.js';
import { registerCallRoutes } from './call-routes.js';
import { registerExplainRoutes } from './explain-routes.js';
import { openApiDocument } from './openapi.js';
import { registerPolicyRoutes } from './policy-routes.js';
import { registerSelfRoutes } from './self-routes.js';

export interface ApiDeps {
  db: Db;
  /** Who a token belongs to; null: not accepted. The CLI's in-process API takes every request as the admin's. */
  authenticate(token: string | undefined): Principal | null;
  /** Whether customer numbers are shown masked now to the admin (number protection or privacy on). */
  masked(): boolean;
  /** The policy calls are decided by now (the adapter's, with its numbers' last uses). */
  policy(): RuntimePolicy;
  /** Reads and changes the policy (in a worker thread in the adapter on PostgreSQL). */
  policies: PolicyService;
  locate(e164: string): Promise<Location>;
  /** The agent's phone as the PBX sees it now; throws when the PBX cannot be asked. */
  endpointStatus(endpoint: string): Promise<EndpointStatus>;
  databaseUp?(): boolean;
  logger: Logger;
  /** More routes on the same server (the dashboard). */
  extend?(app: FastifyInstance): Promise<void>;
}

export type Access = 'admin' | 'agent' | 'public';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

/** The agent of an agent-token request (the /me routes only run for agents). */
export function agentOf(req: FastifyRequest): string {
  const p = req.principal;
  if (p?.kind !== 'agent') throw new AdminError(403, 'forbidden', 'this route is for agent tokens');
  return p.agentId;
}

/** Bodies of these types arrive as text: policy files (YAML) and number imports (CSV). */
const TEXT_TYPES = ['text/csv', 'text/plain', 'application/yaml', 'text/yaml', 'application/x-yaml'];
/** A whole policy or an import of 250,000 numbers fits. */
export const LARGE_BODY = 64 * 1024 * 1024;

export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
  app.decorateRequest('principal', null);
  app.addContentTypeParser(TEXT_TYPES, { parseAs: 'string' }, (_req, body, done) => done(null, body));

  app.addHook('onRequest', async (req) => {
    const access = req.routeOptions.config.access ?? (req.url.startsWith('/api/') ? 'admin' : 'public');
    if (access === 'public') return;
    // The dashboard's cookie counts for reading the dashboard's figures only (no CSRF on changes).
    const token = tokenOf(req.headers, { cookie: req.method === 'GET' && req.url.startsWith('/api/v1/dashboard') });
    const principal = deps.authenticate(token);
    if (!principal) throw new AdminError(401, 'unauthorized', token ? 'token not accepted' : 'missing Authorization: Bearer <token>');
    if (access === 'admin' && principal.kind !== 'admin') throw new AdminError(403, 'forbidden', 'an agent token can use /api/v1/me only');
    if (access === 'agent' && principal.kind !== 'agent') throw new AdminError(403, 'forbidden', 'this route is for agent tokens; the admin uses /api/v1/agents/{id}');
    req.principal = principal;
  });

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, _req, reply: FastifyReply) => {
    if (err instanceof AdminError) {
      return reply.status(err.status).send({ error: err.code, message: err.message, ...(err.field ? { field: err.field } : {}), ...(err.details !== undefined ? { details: err.details } : {}) });
    }
    if (err instanceof PolicyFileError) return reply.status(400).send({ error: 'invalid-policy', message: err.message, details: err.problems });
    if (err instanceof PolicyConflictError) return reply.status(409).send({ error: 'conflict', message: err.message });
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return reply.status(415).send({ error: 'unsupported-media-type', message: `send application/json, or ${TEXT_TYPES.join(', ')} where a route takes text` });
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return reply.status(413).send({ error: 'too-large', message: err.message });
    if (err.statusCode && err.statusCode < 500) return reply.status(err.statusCode).send({ error: 'bad-request', message: `body: ${err.message}`, field: 'body' });
    deps.logger.error({ err: err.message }, 'API request failed');
    return reply.status(500).send({ error: 'internal', message: 'the request failed; see the adapter log' });
  });
  app.setNotFoundHandler((req, reply) => reply.status(404).send({ error: 'not-found', message: `no such route: ${req.method} ${req.url.split('?')[0]}` }));

  app.get('/api/v1/openapi.json', { config: { access: 'public' } }, async () => openApiDocument());
  registerCallRoutes(app, deps);
  registerPolicyRoutes(app, deps);
  registerExplainRoutes(app, deps);
  registerSelfRoutes(app, deps);
  await deps.extend?.(app);
  return app;
}

export async function startApiServer(host: string, port: number, deps: ApiDeps): Promise<FastifyInstance> {
  const app = await buildApi(deps);
  await app.listen({ host, port });
  return app;
}
