// Drives the real FreeSWITCH sandbox (test/integration/run.ts starts it and sets FS_* in the
// environment): an agent's sipp phone dials through the shipped dialplan, the sipp trunk
// answers, and we report what the trunk received; the adapter runs in this process.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startAdapter, type Adapter } from '../../src/adapter.js';
import { loadEnv } from '../../src/config/env.js';
import { parsePolicyFile } from '../../src/config/policy-file.js';
import { createLogger } from '../../src/log.js';
import { createLocator } from '../../src/phone/index.js';
import { applyPolicy } from '../../src/store/apply-policy.js';
import { resolveSurveySettings } from '../../src/survey/render-prompts.js';
import { fsCli, type FsSandboxAgent } from '../sandbox/freeswitch-sandbox.js';
import { placeCall, type CallResult, type ReceivedInvite, type Trunk } from '../sandbox/sipp.js';
import { createTempDatabase } from '../support/temp-database.js';
import { FS_OUTSIDE_LINE } from './fs-topology.js';

export interface FsEnv {
  agentSipServer: string;
  carrierSipServer: string;
  eslPort: number;
  eslPassword: string;
  decisionPort: number;
  agentPassword: string;
  logFile: string;
  databaseUrl: string;
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the FreeSWITCH tests with "npm run test:integration" (test/integration/run.ts starts the FreeSWITCH sandbox)`);
  return value;
}

export function fsEnv(): FsEnv {
  return {
    agentSipServer: required('FS_AGENT_SIP'),
    carrierSipServer: required('FS_CARRIER_SIP'),
    eslPort: Number(required('FS_ESL_PORT')),
    eslPassword: required('FS_ESL_PASSWORD'),
    decisionPort: Number(required('FS_DECISION_PORT')),
    agentPassword: required('FS_AGENT_PASSWORD'),
    logFile: required('FS_LOG_FILE'),
    databaseUrl: process.env['DATABASE_URL'] || 'postgres://postgres@127.0.0.1:5432/test',
  };
}

/** An api command on the sandbox's event socket, through fs_cli. */
export function fsApi(command: string): Promise<string> {
  const env = fsEnv();
  return fsCli(env.eslPort, env.eslPassword, command);
}

/** No call left in FreeSWITCH (each test's calls must end with it), waiting up to timeoutMs. */
export async function assertNoFsChannelsLeft(timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    last = await fsApi('show channels count');
    if (/^0 total/m.test(last)) return;
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const list = await fsApi('show channels');
  // Hang them up so that one failure does not fail the tests after it.
  await fsApi('hupall NORMAL_CLEARING');
  assert.fail(`FreeSWITCH channels left after the test: ${last.trim()}\n${list}`);
}

export interface FsTrunkView {
  destination: string;
  callerIdNumber: string;
  callerIdName: string;
}

/** The caller ID the carrier sees: From and P-Asserted-Identity must agree. */
export function fsTrunkView(invite: ReceivedInvite): FsTrunkView {
  assert.equal(invite.paiUser, invite.fromUser, 'P-Asserted-Identity and From carry the same number');
  assert.equal(invite.paiName, invite.fromName, 'P-Asserted-Identity and From carry the same name');
  return { destination: decodeURIComponent(invite.toUser), callerIdNumber: decodeURIComponent(invite.fromUser), callerIdName: invite.fromName };
}

/** The agent's phone dials (digest auth as a desk phone), from its port, through the agents' profile. */
export function fsPlaceCall(agent: FsSandboxAgent, to: string, opts: { holdMs?: number; collectMessages?: boolean; timeoutMs?: number } = {}): Promise<CallResult> {
  const env = fsEnv();
  return placeCall({
    fromPort: agent.port,
    fromUser: agent.user,
    fromName: `Agent ${agent.user}`,
    to,
    server: env.agentSipServer,
    holdMs: opts.holdMs ?? 150,
    scenario: 'fs-agent-call.xml',
    vars: { AUTH_USER: agent.user, AUTH_PASSWORD: env.agentPassword },
    ...(opts.collectMessages ? { collectMessages: true } : {}),
    ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
  });
}

/** One agent call to an outside number ("9" + number); what the trunk got, or null. */
export async function fsCallThrough(trunk: Trunk, agent: FsSandboxAgent, dialed: string, opts: { holdMs?: number; prefix?: string } = {}): Promise<{ view: FsTrunkView | null; finalStatus: number; invite: ReceivedInvite | null }> {
  await trunk.takeInvites();
  const result = await fsPlaceCall(agent, `${opts.prefix ?? FS_OUTSIDE_LINE}${dialed}`, opts);
  const invites = result.finalStatus === 200 ? [await trunk.nextInvite(5000)] : await trunk.takeInvites();
  assert.ok(invites.length <= 1, `one call, at most one INVITE to the trunk (got ${invites.length})`);
  const invite = invites[0] ?? null;
  return { view: invite ? fsTrunkView(invite) : null, finalStatus: result.finalStatus, invite };
}

export interface FsInProcessAdapter {
  adapter: Adapter;
  databaseUrl: string;
  dataDir: string;
  apply(yaml: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The environment of an adapter in this process on a FreeSWITCH (its event socket, where the
 * dialplan's socket application connects), its database and data folder. The in-process adapter
 * shares its process's event loop with the tests: no self-kill watchdog (the fault tests run the
 * adapter as its own process with it on).
 */
export function fsAdapterEnv(fs: { eslPort: number; eslPassword: string; decisionPort: number }, databaseUrl: string, dataDir: string, extra: Record<string, string> = {}) {
  return loadEnv({
    CALLPOLICY_PBX: 'freeswitch',
    FREESWITCH_ESL_PORT: String(fs.eslPort),
    FREESWITCH_ESL_PASSWORD: fs.eslPassword,
    CALLPOLICY_SOCKET_PORT: String(fs.decisionPort),
    DATABASE_URL: databaseUrl,
    CALLPOLICY_DATA_DIR: dataDir,
    CALLPOLICY_PROMPT_DIR: dataDir,
    CALLPOLICY_STALL_KILL_MS: '0',
    ...extra,
  });
}

/** Numbers' locations for applied policies: made once (it loads the geocoding data). */
let locator: ReturnType<typeof createLocator> | undefined;

/** Applies a policy file's text as `callpolicy apply` does (prompts rendered into dataDir) and reloads the adapter. */
export async function applyPolicyText(adapter: Adapter, yaml: string, dataDir: string, source = 'fs-test.yaml'): Promise<void> {
  const file = parsePolicyFile(yaml, source);
  const survey = await resolveSurveySettings(file, { dir: dataDir, pbxDir: dataDir, source });
  const numbers = (locator ??= createLocator());
  await applyPolicy(adapter.db.db, file, (n) => numbers.locate(n), { survey });
  await adapter.reload();
}

/** The adapter in this process on the FreeSWITCH sandbox, on a fresh PostgreSQL database and data folder. */
export async function startFsAdapter(opts: { env?: Record<string, string>; logger?: ReturnType<typeof createLogger> } = {}): Promise<FsInProcessAdapter> {
  const fenv = fsEnv();
  const db = await createTempDatabase(fenv.databaseUrl);
  const dataDir = mkdtempSync(path.join(tmpdir(), 'callpolicy-fs-it-'));
  const logger = opts.logger ?? createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
  const adapter = await startAdapter(fsAdapterEnv(fenv, db.url, dataDir, opts.env), logger, { http: false });
  await adapter.connected;
  return {
    adapter,
    databaseUrl: db.url,
    dataDir,
    apply: (yaml) => applyPolicyText(adapter, yaml, dataDir),
    async stop() {
      await adapter.stop();
      await db.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
