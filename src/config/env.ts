import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { z } from 'zod';
import { parseAgentTokens } from '../api/auth.js';

const absoluteDir = (what: string) =>
  z
    .string()
    .refine((d) => posix.isAbsolute(d) && !/[\0\r\n]/.test(d), `${what} must be an absolute path like /var/lib/asterisk/sounds/callpolicy`);

/** Connection settings: from the environment only, parsed once at start-up. */
export const envSchema = z
  .object({
    /** Which PBX the adapter attaches to. */
    CALLPOLICY_PBX: z.enum(['asterisk', 'freeswitch']).default('asterisk'),
    ARI_URL: z.url({ message: 'must be a URL like http://127.0.0.1:8088' }).default('http://127.0.0.1:8088'),
    ARI_USER: z.string().min(1).default('callpolicy'),
    ARI_PASSWORD: z.string().min(1).optional(),
    ARI_PASSWORD_FILE: z.string().min(1).optional(),
    ARI_APP: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only').default('callpolicy'),
    ARI_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(50).max(60_000).default(2000),
    /** FreeSWITCH: the event socket the adapter connects to (event_socket.conf.xml). */
    FREESWITCH_ESL_HOST: z.string().min(1).default('127.0.0.1'),
    FREESWITCH_ESL_PORT: z.coerce.number().int().min(1).max(65535).default(8021),
    FREESWITCH_ESL_PASSWORD: z.string().min(1).optional(),
    FREESWITCH_ESL_PASSWORD_FILE: z.string().min(1).optional(),
    FREESWITCH_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(50).max(60_000).default(1000),
    /** FreeSWITCH: where the dialplan's `socket` application reaches the adapter ($${callpolicy_socket}). */
    CALLPOLICY_SOCKET_HOST: z.string().min(1).default('127.0.0.1'),
    CALLPOLICY_SOCKET_PORT: z.coerce.number().int().min(0).max(65535).default(8084),
    /** FreeSWITCH: the longest a call waits for a decision (the adapter enforces it; Asterisk's dialplan does its own). */
    CALLPOLICY_DECISION_TIMEOUT_MS: z.coerce.number().int().min(100).max(10_000).default(2000),
    /** FreeSWITCH: the process kills itself when its event loop is stuck this long (0: never). */
    CALLPOLICY_STALL_KILL_MS: z.coerce.number().int().min(0).max(60_000).default(1500),
    DATABASE_URL: z.string().min(1).optional(),
    DATABASE_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(5000),
    DATABASE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(15_000),
    DATABASE_IDLE_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
    DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(60_000),
    DATABASE_RETRY_MAX_MS: z.coerce.number().int().min(50).max(300_000).default(5000),
    CALLPOLICY_DATA_DIR: z.string().min(1).default('.data'),
    CALLPOLICY_SNAPSHOT_FILE: z.string().min(1).optional(),
    CALLPOLICY_RECORD_QUEUE_MAX: z.coerce.number().int().min(1).max(10_000_000).default(100_000),
    /** Where apply writes rendered survey prompts. */
    CALLPOLICY_PROMPT_DIR: absoluteDir('the prompt folder').default('/var/lib/asterisk/sounds/callpolicy'),
    /** The same folder as the PBX names it (differs when Asterisk runs in a chroot); default CALLPOLICY_PROMPT_DIR. */
    CALLPOLICY_PROMPT_PBX_DIR: absoluteDir("the PBX's name of the prompt folder").optional(),
    /** Number protection: the value of the customer-ID interface's authentication header (policy: protection.customerId.authHeader). */
    CALLPOLICY_CUSTOMER_ID_AUTH: z.string().min(1).optional(),
    CALLPOLICY_CUSTOMER_ID_AUTH_FILE: z.string().min(1).optional(),
    /** The HTTP API: on only with an admin token (a secret: from here or a file). */
    CALLPOLICY_API_TOKEN: z.string().min(16, 'at least 16 characters').optional(),
    CALLPOLICY_API_TOKEN_FILE: z.string().min(1).optional(),
    /** Agent tokens for the API's /api/v1/me routes: `<agent id>:<token>` entries (secrets: from here or a file). */
    CALLPOLICY_AGENT_TOKENS: z.string().min(1).optional(),
    CALLPOLICY_AGENT_TOKENS_FILE: z.string().min(1).optional(),
    /** Where the CLI reaches a running adapter's API (with CALLPOLICY_API_TOKEN). */
    CALLPOLICY_API_URL: z.url({ message: 'must be a URL like http://127.0.0.1:8097' }).default('http://127.0.0.1:8097'),
    API_HOST: z.string().default('127.0.0.1'),
    API_PORT: z.coerce.number().int().min(0).max(65535).default(8097),
    HTTP_HOST: z.string().default('127.0.0.1'),
    HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(8099),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .refine((e) => !(e.ARI_PASSWORD && e.ARI_PASSWORD_FILE), {
    message: 'set ARI_PASSWORD or ARI_PASSWORD_FILE, not both',
    path: ['ARI_PASSWORD_FILE'],
  })
  .refine((e) => !(e.FREESWITCH_ESL_PASSWORD && e.FREESWITCH_ESL_PASSWORD_FILE), {
    message: 'set FREESWITCH_ESL_PASSWORD or FREESWITCH_ESL_PASSWORD_FILE, not both',
    path: ['FREESWITCH_ESL_PASSWORD_FILE'],
  })
  .refine((e) => !(e.CALLPOLICY_API_TOKEN && e.CALLPOLICY_API_TOKEN_FILE), {
    message: 'set CALLPOLICY_API_TOKEN or CALLPOLICY_API_TOKEN_FILE, not both',
    path: ['CALLPOLICY_API_TOKEN_FILE'],
  })
  .refine((e) => !(e.CALLPOLICY_AGENT_TOKENS && e.CALLPOLICY_AGENT_TOKENS_FILE), {
    message: 'set CALLPOLICY_AGENT_TOKENS or CALLPOLICY_AGENT_TOKENS_FILE, not both',
    path: ['CALLPOLICY_AGENT_TOKENS_FILE'],
  })
  .refine((e) => !(e.CALLPOLICY_CUSTOMER_ID_AUTH && e.CALLPOLICY_CUSTOMER_ID_AUTH_FILE), {
    message: 'set CALLPOLICY_CUSTOMER_ID_AUTH or CALLPOLICY_CUSTOMER_ID_AUTH_FILE, not both',
    path: ['CALLPOLICY_CUSTOMER_ID_AUTH_FILE'],
  });

export interface AppEnv {
  pbx: 'asterisk' | 'freeswitch';
  freeswitch: {
    eslHost: string;
    eslPort: number;
    eslPassword: string;
    requestTimeoutMs: number;
    listenHost: string;
    listenPort: number;
    decisionTimeoutMs: number;
    /** The event loop stuck this long kills the process (0: off). */
    stallKillMs: number;
  };
  ari: { url: string; user: string; password: string; app: string; requestTimeoutMs: number };
  databaseUrl: string | undefined;
  /** Time limits of every database connection, and the cap of the reconnect back-off. */
  database: DatabaseLimits;
  dataDir: string;
  /** The last policy loaded from the database, kept for a start while the database is down. */
  snapshotFile: string;
  /** Call records held in memory while the database cannot take them; more are counted and dropped. */
  recordQueueMax: number;
  /** Rendered survey prompts: `dir` is where this process writes them, `pbxDir` how the PBX names that folder. */
  prompts: { dir: string; pbxDir: string };
  http: { host: string; port: number };
  /** The HTTP API; adminToken undefined: the API is off. */
  api: {
    host: string;
    port: number;
    adminToken: string | undefined;
    /** token -> agent id */
    agentTokens: ReadonlyMap<string, string>;
    /** Where the CLI reaches a running adapter's API. */
    url: string;
  };
  /** The customer-ID interface's authentication header value (a secret: never logged). */
  customerIdAuth: string | undefined;
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
}

export interface DatabaseLimits {
  /** Connecting (TCP + start-up + authentication) gives up after this. */
  connectTimeoutMs: number;
  /** PostgreSQL cancels a statement running longer (statement_timeout); the client gives up a little later. */
  statementTimeoutMs: number;
  /** A pooled connection idle this long is closed. */
  idleTimeoutMs: number;
  /** PostgreSQL ends a session left idle inside a transaction this long. */
  idleInTransactionTimeoutMs: number;
  /** Reconnects and record-write retries back off up to this. */
  retryMaxMs: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** A secret given in the environment, or in a file the environment names (trimmed). */
function secret(fileVar: string, value: string | undefined, file: string | undefined): string | undefined {
  if (!file) return value;
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new ConfigError(`${fileVar}: cannot read ${file}: ${(err as Error).message}`);
  }
}

/** Reads and checks the environment; throws a ConfigError naming each bad variable. */
export function loadEnv(source: NodeJS.ProcessEnv = process.env, opts: { requireAri?: boolean } = {}): AppEnv {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(environment)'}: ${i.message}`);
    throw new ConfigError(`bad environment:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const password = secret('ARI_PASSWORD_FILE', e.ARI_PASSWORD, e.ARI_PASSWORD_FILE);
  const customerIdAuth = secret('CALLPOLICY_CUSTOMER_ID_AUTH_FILE', e.CALLPOLICY_CUSTOMER_ID_AUTH, e.CALLPOLICY_CUSTOMER_ID_AUTH_FILE);
  const apiToken = secret('CALLPOLICY_API_TOKEN_FILE', e.CALLPOLICY_API_TOKEN, e.CALLPOLICY_API_TOKEN_FILE);
  if (apiToken !== undefined && apiToken.length < 16) throw new ConfigError('CALLPOLICY_API_TOKEN_FILE: the token must be at least 16 characters');
  const agentTokensText = secret('CALLPOLICY_AGENT_TOKENS_FILE', e.CALLPOLICY_AGENT_TOKENS, e.CALLPOLICY_AGENT_TOKENS_FILE);
  let agentTokens: ReadonlyMap<string, string> = new Map();
  if (agentTokensText) {
    if (!apiToken) throw new ConfigError('CALLPOLICY_AGENT_TOKENS: agent tokens need the API, which is on only with CALLPOLICY_API_TOKEN (or _FILE)');
    try {
      agentTokens = parseAgentTokens(agentTokensText, e.CALLPOLICY_AGENT_TOKENS_FILE ?? 'CALLPOLICY_AGENT_TOKENS', apiToken);
    } catch (err) {
      throw new ConfigError((err as Error).message);
    }
  }
  const eslPassword = secret('FREESWITCH_ESL_PASSWORD_FILE', e.FREESWITCH_ESL_PASSWORD, e.FREESWITCH_ESL_PASSWORD_FILE);
  if (opts.requireAri !== false && e.CALLPOLICY_PBX === 'freeswitch' && !eslPassword) {
    throw new ConfigError('FREESWITCH_ESL_PASSWORD (or FREESWITCH_ESL_PASSWORD_FILE) is required: the password of event_socket.conf.xml');
  }
  // The shipped secrets sample's placeholder, and mod_event_socket's well-known default: an event
  // socket any local process can open with a published password is no secret.
  if (eslPassword && ['REPLACE-WITH-A-LONG-RANDOM-SECRET', 'ClueCon'].includes(eslPassword)) {
    throw new ConfigError(`FREESWITCH_ESL_PASSWORD${e.FREESWITCH_ESL_PASSWORD_FILE ? '_FILE' : ''}: the event-socket password is the published "${eslPassword}"; set a long random secret in conf/callpolicy-secrets.xml and here`);
  }

  if (opts.requireAri !== false && e.CALLPOLICY_PBX === 'asterisk' && !password) {
    throw new ConfigError('ARI_PASSWORD (or ARI_PASSWORD_FILE) is required: the password of the ari.conf user');
  }
  return {
    pbx: e.CALLPOLICY_PBX,
    freeswitch: {
      eslHost: e.FREESWITCH_ESL_HOST,
      eslPort: e.FREESWITCH_ESL_PORT,
      eslPassword: eslPassword ?? '',
      requestTimeoutMs: e.FREESWITCH_REQUEST_TIMEOUT_MS,
      listenHost: e.CALLPOLICY_SOCKET_HOST,
      listenPort: e.CALLPOLICY_SOCKET_PORT,
      decisionTimeoutMs: e.CALLPOLICY_DECISION_TIMEOUT_MS,
      stallKillMs: e.CALLPOLICY_STALL_KILL_MS,
    },
    ari: { url: e.ARI_URL, user: e.ARI_USER, password: password ?? '', app: e.ARI_APP, requestTimeoutMs: e.ARI_REQUEST_TIMEOUT_MS },
    databaseUrl: e.DATABASE_URL,
    database: {
      connectTimeoutMs: e.DATABASE_CONNECT_TIMEOUT_MS,
      statementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
      idleTimeoutMs: e.DATABASE_IDLE_TIMEOUT_MS,
      idleInTransactionTimeoutMs: e.DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS,
      retryMaxMs: e.DATABASE_RETRY_MAX_MS,
    },
    dataDir: e.CALLPOLICY_DATA_DIR,
    snapshotFile: e.CALLPOLICY_SNAPSHOT_FILE ?? join(e.CALLPOLICY_DATA_DIR, 'policy-snapshot.json'),
    recordQueueMax: e.CALLPOLICY_RECORD_QUEUE_MAX,
    prompts: { dir: e.CALLPOLICY_PROMPT_DIR, pbxDir: e.CALLPOLICY_PROMPT_PBX_DIR ?? e.CALLPOLICY_PROMPT_DIR },
    http: { host: e.HTTP_HOST, port: e.HTTP_PORT },
    api: { host: e.API_HOST, port: e.API_PORT, adminToken: apiToken || undefined, agentTokens, url: e.CALLPOLICY_API_URL },
    customerIdAuth: customerIdAuth || undefined,
    logLevel: e.LOG_LEVEL,
  };
}
