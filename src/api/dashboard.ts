// The operator dashboard (issue 11): an HTML page, its assets and its JSON, for the admin token
// only. The browser holds the token in an HttpOnly cookie its login form sets; everything the page
// loads comes from this server (the chart library from node_modules), under a CSP with no inline
// script, so the page works offline and leaks nothing to a third party.
import formbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { isTimeZone } from '../config/time-zone.js';
import type { Db } from '../store/database.js';
import { dashboardReport, lastDays } from '../store/dashboard-report.js';
import { TOKEN_COOKIE, tokenOf, type Principal } from './auth.js';

export interface LiveState {
  pbxLink: string;
  database: string;
  recordQueue: number;
  policyConfigured: boolean;
}

export interface DashboardDeps {
  db: Db;
  authenticate(token: string): Principal | null;
  live(): LiveState;
}

/** The package root (the folder holding package.json): src/api/ under tsx, dist/src/api/ when built. */
function packageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

/** The page's files, read at run time from the source tree (the image ships that folder too). */
export const dashboardPageDir = join(packageRoot(dirname(fileURLToPath(import.meta.url))), 'src', 'api', 'dashboard-page');

// Days may be 1..366; a zone is an IANA name. Offsets such as "+01:00" are refused: PostgreSQL
// reads them as POSIX zones (sign inverted), so the days would not match the browser's.
export const dashboardQuery = z
  .object({
    days: z.coerce.number().int().min(1).max(366).default(14),
    tz: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/, 'must be an IANA time zone name, e.g. Europe/Berlin')
      .default('UTC'),
  })
  .strict();

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "object-src 'none'",
].join('; ');

const TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

/** The only files /dashboard/assets/ serves: the page's own, and uPlot's from its npm package. */
async function loadAssets(): Promise<Map<string, Asset>> {
  const require = createRequire(import.meta.url);
  const files: Record<string, string> = {
    'dashboard.js': join(dashboardPageDir, 'dashboard.js'),
    'dashboard.css': join(dashboardPageDir, 'dashboard.css'),
    'uPlot.iife.min.js': require.resolve('uplot/dist/uPlot.iife.min.js'),
    'uPlot.min.css': require.resolve('uplot/dist/uPlot.min.css'),
  };
  const assets = new Map<string, Asset>();
  for (const [name, file] of Object.entries(files)) {
    const body = await readFile(file);
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    assets.set(name, { body, type: TYPES[name.slice(name.lastIndexOf('.'))]!, etag });
  }
  return assets;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** A small page of its own (login, refusal): the dashboard's stylesheet, no script at all. */
function gatePage(title: string, message: string | null, withForm: boolean): string {
  const form = withForm
    ? `<form method="post" action="/dashboard/login">
  <label for="token">Admin token</label>
  <input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
  <button type="submit">Open the dashboard</button>
</form>`
    : '';
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} - callpolicy</title><link rel="icon" href="data:,"><link rel="stylesheet" href="/dashboard/assets/dashboard.css"></head>
<body class="gate"><main>
<h1>callpolicy dashboard</h1>
${message ? `<p class="notice" role="alert">${escapeHtml(message)}</p>` : ''}
${form}
</main></body>
</html>
`;
}

const AGENT_REFUSED = 'Agent tokens cannot open the dashboard: it shows every agent\u2019s figures. Sign in with the admin token.';

function sendHtml(reply: FastifyReply, status: number, html: string): FastifyReply {
  return reply
    .status(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('content-security-policy', CSP)
    .header('cache-control', 'no-store')
    .header('x-content-type-options', 'nosniff')
    .header('x-frame-options', 'DENY')
    .header('referrer-policy', 'no-referrer')
    .send(html);
}

function cookie(req: FastifyRequest, value: string, clear = false): string {
  // Secure only over HTTPS: on plain HTTP (a LAN, 127.0.0.1) a Secure cookie would never come back.
  const secure = req.protocol === 'https' ? '; Secure' : '';
  return `${TOKEN_COOKIE}=${encodeURIComponent(value)}; HttpOnly; SameSite=Strict; Path=/${secure}${clear ? '; Max-Age=0' : ''}`;
}

type JsonError = { status: number; body: { error: string; message: string; field?: string } };

function parseQuery(input: unknown): { ok: true; value: z.infer<typeof dashboardQuery> } | { ok: false; error: JsonError } {
  const r = dashboardQuery.safeParse(input);
  const bad = (field: string, message: string): JsonError => ({ status: 400, body: { error: 'bad-request', message: `${field}: ${message}`, field } });
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const field = issue.code === 'unrecognized_keys' ? issue.keys.join(',') : issue.path.join('.') || 'query';
    return { ok: false, error: bad(field, issue.code === 'unrecognized_keys' ? 'unknown parameter' : issue.message) };
  }
  if (!isTimeZone(r.data.tz)) return { ok: false, error: bad('tz', `not an IANA time zone: ${r.data.tz}`) };
  return { ok: true, value: r.data };
}

export async function registerDashboard(app: FastifyInstance, deps: DashboardDeps): Promise<void> {
  const [assets, indexHtml] = await Promise.all([loadAssets(), readFile(join(dashboardPageDir, 'index.html'), 'utf8')]);
  const principalOf = (req: FastifyRequest) => {
    const token = tokenOf(req.headers);
    return token ? deps.authenticate(token) : null;
  };
  /** The admin, or the JSON error to answer with. */
  const adminOnly = (req: FastifyRequest): JsonError | null => {
    const who = principalOf(req);
    if (!who) return { status: 401, body: { error: 'unauthorized', message: 'sign in with the admin token (Authorization: Bearer <token> or the dashboard login)' } };
    if (who.kind !== 'admin') return { status: 403, body: { error: 'forbidden', message: 'agent tokens cannot read the dashboard' } };
    return null;
  };

  // A scope of its own: the form parser applies to these routes only. Errors (a failed query, a
  // form too large) go to the server's error handler. `access` tells the API server's token hook
  // what each route needs; the handlers check again, so the routes hold on a bare server too.
  await app.register(async (scope) => {
    await scope.register(formbody, { bodyLimit: 4096 });
    const page = { config: { access: 'public' as const } };
    const data = { config: { access: 'admin' as const } };

    scope.get('/dashboard', page, async (req, reply) => {
      const who = principalOf(req);
      if (!who) return sendHtml(reply, 401, gatePage('Sign in', null, true));
      if (who.kind !== 'admin') return sendHtml(reply, 403, gatePage('Not for agents', AGENT_REFUSED, true));
      return sendHtml(reply, 200, indexHtml);
    });

    scope.post('/dashboard/login', page, async (req, reply) => {
      const body = req.body as Record<string, unknown> | undefined;
      const token = typeof body?.['token'] === 'string' ? body['token'].trim() : '';
      const who = token ? deps.authenticate(token) : null;
      if (!who) return sendHtml(reply, 401, gatePage('Sign in', token ? 'That token is not accepted.' : 'Type the admin token.', true));
      if (who.kind !== 'admin') return sendHtml(reply, 403, gatePage('Not for agents', AGENT_REFUSED, true));
      return reply.status(303).header('set-cookie', cookie(req, token)).header('cache-control', 'no-store').header('location', '/dashboard').send();
    });

    scope.post('/dashboard/logout', page, async (req, reply) =>
      reply.status(303).header('set-cookie', cookie(req, '', true)).header('cache-control', 'no-store').header('location', '/dashboard').send(),
    );

    scope.get<{ Params: { file: string } }>('/dashboard/assets/:file', page, async (req, reply) => {
      const asset = assets.get(req.params.file);
      if (!asset) return reply.status(404).send({ error: 'not-found', message: 'no such dashboard asset' });
      reply.header('content-type', asset.type).header('cache-control', 'public, max-age=3600').header('etag', asset.etag).header('x-content-type-options', 'nosniff');
      if (req.headers['if-none-match'] === asset.etag) return reply.status(304).send();
      return reply.send(asset.body);
    });

    scope.get('/api/v1/dashboard', data, async (req, reply) => {
      const refused = adminOnly(req);
      if (refused) return reply.status(refused.status).send(refused.body);
      const q = parseQuery(req.query);
      if (!q.ok) return reply.status(q.error.status).send(q.error.body);
      const report = await dashboardReport(deps.db, lastDays(q.value.days, q.value.tz));
      return reply.header('cache-control', 'no-store').send({ ...report, live: deps.live() });
    });

    scope.get('/api/v1/dashboard/live', data, async (req, reply) => {
      const refused = adminOnly(req);
      if (refused) return reply.status(refused.status).send(refused.body);
      return reply.header('cache-control', 'no-store').send(deps.live());
    });
  });
}
