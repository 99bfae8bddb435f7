import { z } from 'zod';
import { ROUTES } from './route.js';

/** The OpenAPI document, from the routes' own declarations and schemas. */
export function openApiDocument(): object {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of ROUTES.values()) {
    const properties = (s: z.ZodType | undefined) => Object.entries((s ? z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }).properties : undefined) ?? {});
    const parameters = [
      ...properties(r.params).map(([name, schema]) => ({ name, in: 'path', required: true, schema })),
      ...properties(r.query).map(([name, schema]) => ({ name, in: 'query', required: false, schema })),
    ];
    const requestBody = r.body
      ? { required: true, content: { 'application/json': { schema: z.toJSONSchema(r.body, { io: 'input', unrepresentable: 'any' }) } } }
      : r.textBody
        ? { required: true, content: { [r.textBody]: { schema: { type: 'string' } } } }
        : undefined;
    const responses: Record<string, { description: string }> = { [String(r.status)]: { description: 'OK' }, '400': { description: 'bad input: JSON {error, message, field}' } };
    if (r.access !== 'public') Object.assign(responses, { '401': { description: 'no or unknown token' }, '403': { description: r.access === 'admin' ? 'an agent token' : 'not an agent token' } });
    (paths[r.url] ??= {})[r.method.toLowerCase()] = {
      summary: r.summary,
      ...(r.access !== 'public' ? { security: [{ bearer: [] }], 'x-access': r.access } : {}),
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(requestBody ? { requestBody } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'callpolicy API', version: '1' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    paths,
  };
}
