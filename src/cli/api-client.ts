// The CLI sends every command to the API: to the running adapter's when one answers (with the
// admin token), else to the same API built in this process over a direct database connection
// (no port opened). Both run the same routes, so a command does the same thing either way; and
// the adapter's embedded database (PGlite), which one process at a time may open, is reachable
// through the adapter.
import type { FastifyInstance } from 'fastify';
import { createPolicyEditor } from '../admin/policy-editor.js';
import { createPolicyService } from '../admin/policy-service.js';
import { buildApi } from '../api/api-server.js';
import type { AppEnv } from '../config/env.js';
import { createLogger } from '../log.js';
import { createAriRest, endpointStatusOf } from '../pbx/asterisk/ari-rest.js';
import type { EndpointStatus } from '../pbx/call-control.js';
import { createLocator } from '../phone/index.js';
import { POLICY_CHANGED_CHANNEL } from '../store/apply-policy.js';
import { openDatabase, type Database } from '../store/database.js';
import { loadPolicy, numbersMasked, type RuntimePolicy } from '../store/load-policy.js';

export interface ApiReply {
  status: number;
  body: unknown;
}

export interface ApiClient {
  /** 'remote': the running adapter at env.api.url; 'local': this process, on the database. */
  readonly mode: 'remote' | 'local';
  request(method: string, url: string, opts?: { json?: unknown; text?: string; type?: string; headers?: Record<string, string> }): Promise<ApiReply>;
  close(): Promise<void>;
}

/** A refusal from the API, printed as its code and message (and the problems it lists). */
export class ApiRequestError extends Error {
  override name = 'ApiRequestError';
  constructor(
    readonly status: number,
    readonly body: { error?: string; message?: string; details?: unknown },
  ) {
    super(body.message ?? `HTTP ${status}`);
  }
}

/** How long the CLI waits to learn whether an adapter's API is up. */
const PROBE_MS = 1500;
/** A command may apply 250,000 numbers. */
const REQUEST_MS = 300_000;

export async function connectApi(env: AppEnv, opts: { local?: boolean } = {}): Promise<ApiClient> {
  const token = env.api.adminToken;
  if (token && !opts.local && (await answers(env.api.url))) return remoteClient(env.api.url, token);
  return localClient(env);
}

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(new URL('/api/v1/openapi.json', url), { signal: AbortSignal.timeout(PROBE_MS) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

function remoteClient(base: string, token: string): ApiClient {
  return {
    mode: 'remote',
    async request(method, url, o = {}) {
      const { headers, body } = encode(o, { authorization: `Bearer ${token}` });
      let res: Response;
      try {
        res = await fetch(new URL(url, base), { method, headers, body, signal: AbortSignal.timeout(REQUEST_MS) });
      } catch (err) {
        throw new Error(`the adapter's API at ${base} did not answer: ${(err as Error).message}`);
      }
      return { status: res.status, body: parse(await res.text()) };
    },
    close: async () => undefined,
  };
}

async function localClient(env: AppEnv): Promise<ApiClient> {
  const db: Database = await openDatabase({ url: env.databaseUrl, dataDir: env.dataDir, limits: env.database, role: 'cli' });
  let app: FastifyInstance | undefined;
  try {
    await db.migrate();
    let policy: RuntimePolicy = await loadPolicy(db.db);
    const locator = createLocator();
    const editor = createPolicyEditor({
      db: db.db,
      locate: (n) => locator.locate(n),
      prompts: env.prompts,
      changed: async () => {
        await db.notify(POLICY_CHANGED_CHANNEL);
        policy = await loadPolicy(db.db);
      },
    });
    app = await buildApi({
      db: db.db,
      authenticate: () => ({ kind: 'admin' }),
      masked: () => numbersMasked(policy),
      policy: () => policy,
      policies: createPolicyService(editor),
      locate: (n) => locator.locate(n),
      endpointStatus: endpointStatusFor(env),
      logger: createLogger(env.logLevel),
    });
  } catch (err) {
    await db.close();
    throw err;
  }
  const local = app;
  return {
    mode: 'local',
    async request(method, url, o = {}) {
      const { headers, body } = encode(o, {});
      const res = await local.inject({ method: method as 'GET', url, headers, payload: body });
      return { status: res.statusCode, body: parse(res.body) };
    },
    async close() {
      await local.close();
      await db.close();
    },
  };
}

/** Without a running adapter, the CLI asks Asterisk itself (ARI) about an agent's phone. */
function endpointStatusFor(env: AppEnv): (endpoint: string) => Promise<EndpointStatus> {
  if (env.pbx === 'freeswitch') {
    return async () => {
      throw new Error('the CLI asks FreeSWITCH through a running adapter only (set CALLPOLICY_API_TOKEN)');
    };
  }
  if (!env.ari.password) {
    return async () => {
      throw new Error('ARI_PASSWORD is not set');
    };
  }
  const rest = createAriRest(env.ari.url, env.ari.user, env.ari.password, env.ari.requestTimeoutMs);
  return async (endpoint) => {
    try {
      return await endpointStatusOf(rest, endpoint);
    } catch (err) {
      throw new Error(`ARI at ${env.ari.url}: ${(err as Error).message}`);
    }
  };
}

type RequestOptions = NonNullable<Parameters<ApiClient['request']>[2]>;

/** Headers and body of a request: JSON, or text of a given type. */
function encode(o: RequestOptions, base: Record<string, string>): { headers: Record<string, string>; body: string | undefined } {
  const headers = { ...base, ...o.headers };
  if (o.json !== undefined) return { headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(o.json) };
  if (o.text !== undefined) return { headers: { ...headers, 'content-type': o.type ?? 'text/plain' }, body: o.text };
  return { headers, body: undefined };
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
