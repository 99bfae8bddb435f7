// One way to declare a route: its access, its zod schemas for query, path parameters and body,
// and a summary. The same declaration checks the request and writes the route into the OpenAPI
// document (openapi.ts), so the document cannot drift from what the API accepts.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AdminError } from '../admin/admin-error.js';
import type { Access } from './api-server.js';

export interface RouteSpec<Q extends z.ZodType, P extends z.ZodType, B extends z.ZodType> {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  access: Access;
  summary: string;
  query?: Q;
  params?: P;
  /** A JSON body's schema. */
  body?: B;
  /** The route takes a text body of this media type instead (a policy file, a CSV). */
  textBody?: string;
  bodyLimit?: number;
  /** Status of a success (200 by default). */
  status?: number;
}

export interface DocEntry {
  method: string;
  url: string;
  access: Access;
  summary: string;
  query?: z.ZodType;
  params?: z.ZodType;
  body?: z.ZodType;
  textBody?: string;
  status: number;
}

/** Every declared route, for the OpenAPI document (the same for every server built). */
export const ROUTES = new Map<string, DocEntry>();

/** Parses one part of a request; a failure is a 400 naming the field. */
export function parseInput<T extends z.ZodType>(schema: T, input: unknown, part: 'query' | 'params' | 'body'): z.infer<T> {
  const r = schema.safeParse(input ?? (part === 'body' ? undefined : {}));
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const path = issue.path.join('.');
  const field = issue.code === 'unrecognized_keys' ? [path, issue.keys.join(',')].filter(Boolean).join('.') : path;
  const what = part === 'query' ? 'unknown parameter' : 'unknown field';
  const message = issue.code === 'unrecognized_keys' ? what : issue.message;
  throw new AdminError(400, 'bad-request', `${field || part}: ${message}`, field || part);
}

export function defineRoute<Q extends z.ZodType = z.ZodUnknown, P extends z.ZodType = z.ZodUnknown, B extends z.ZodType = z.ZodUnknown>(
  app: FastifyInstance,
  spec: RouteSpec<Q, P, B>,
  handler: (input: { query: z.infer<Q>; params: z.infer<P>; body: z.infer<B>; req: FastifyRequest; reply: FastifyReply }) => Promise<unknown>,
): void {
  ROUTES.set(`${spec.method} ${spec.url}`, { ...spec, status: spec.status ?? 200 });
  app.route({
    method: spec.method,
    url: spec.url.replace(/\{(\w+)\}/g, ':$1'),
    config: { access: spec.access },
    bodyLimit: spec.bodyLimit,
    handler: async (req, reply) => {
      const query = spec.query ? parseInput(spec.query, req.query, 'query') : req.query;
      const params = spec.params ? parseInput(spec.params, req.params, 'params') : req.params;
      let body: unknown = req.body;
      if (spec.textBody !== undefined) {
        if (typeof body !== 'string') throw new AdminError(415, 'unsupported-media-type', `send the body as ${spec.textBody}`, 'body');
      } else if (spec.body) {
        if (typeof body === 'string') throw new AdminError(415, 'unsupported-media-type', 'send the body as application/json', 'body');
        body = parseInput(spec.body, body, 'body');
      }
      const result = await handler({ query: query as z.infer<Q>, params: params as z.infer<P>, body: body as z.infer<B>, req, reply });
      reply.status(spec.status ?? 200);
      return result;
    },
  });
}
