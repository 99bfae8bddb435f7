// Drives the real Asterisk for the port contract and the policy tests: an agent's sipp phone
// dials, the sipp trunk answers, and we report what the trunk received.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startAdapter, type Adapter } from '../../src/adapter.js';
import { loadEnv } from '../../src/config/env.js';
import { parsePolicyFile } from '../../src/config/policy-file.js';
import { createLogger } from '../../src/log.js';
import { createLocator } from '../../src/phone/index.js';
import { applyPolicy } from '../../src/store/apply-policy.js';
import { resolveSurveySettings } from '../../src/survey/render-prompts.js';
import { createTempDatabase } from '../support/temp-database.js';
import { createAriCallControl } from '../../src/pbx/asterisk/ari-call-control.js';
import type { SandboxAgent } from '../sandbox/asterisk-sandbox.js';
import { placeCall, type ReceivedInvite, type Trunk } from '../sandbox/sipp.js';
import type { TrunkView } from '../contract/outbound-port-contract.js';
import { ariGet, type AriChannel } from './ari-checks.js';
import { integrationEnv } from './env.js';
import { OUTSIDE_LINE } from './topology.js';

export function ariPort(opts: { url?: string; connectTimeoutMs?: number; logger?: ReturnType<typeof createLogger> } = {}) {
  const env = integrationEnv();
  return createAriCallControl({
    url: opts.url ?? env.ariUrl,
    user: env.ariUser,
    password: env.ariPassword,
    app: env.ariApp,
    requestTimeoutMs: 2000,
    logger: opts.logger ?? createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
    pingIntervalMs: 500,
    connectTimeoutMs: opts.connectTimeoutMs,
  });
}

/** The caller ID a carrier would see: From and P-Asserted-Identity must agree. */
export function trunkView(invite: ReceivedInvite): TrunkView {
  assert.equal(invite.paiUser, invite.fromUser, 'P-Asserted-Identity and From carry the same number');
  assert.equal(invite.paiName, invite.fromName, 'P-Asserted-Identity and From carry the same name');
  return { destination: invite.toUser, callerIdNumber: invite.fromUser, callerIdName: invite.fromName };
}

/** Hangs up the agent's channel from the PBX side, as if the agent gave up while undecided. */
async function hangUpAgentChannel(agent: SandboxAgent): Promise<void> {
  const env = integrationEnv();
  const channels = await ariGet<AriChannel[]>('/channels');
  const mine = channels.find((c) => c.name.startsWith(`PJSIP/${agent.endpoint}-`));
  if (!mine) return;
  await fetch(`${env.ariUrl}/ari/channels/${mine.id}`, {
    method: 'DELETE',
    headers: { authorization: `Basic ${Buffer.from(`${env.ariUser}:${env.ariPassword}`).toString('base64')}` },
  });
}

/** One agent call; resolves with what the trunk got, or null when nothing reached it. */
export async function callThrough(
  trunk: Trunk,
  agent: SandboxAgent,
  dialed: string,
  opts: { cancelAfterMs?: number; holdMs?: number } = {},
): Promise<{ view: TrunkView | null; finalStatus: number }> {
  const env = integrationEnv();
  await trunk.takeInvites();
  const call = placeCall({ fromPort: agent.port, fromUser: agent.endpoint, fromName: agent.name, to: `${OUTSIDE_LINE}${dialed}`, server: env.sipServer, holdMs: opts.holdMs ?? 150 });
  if (opts.cancelAfterMs !== undefined) {
    await sleep(opts.cancelAfterMs);
    await hangUpAgentChannel(agent);
  }
  const result = await call;
  const invites = result.finalStatus === 200 ? [await trunk.nextInvite(5000)] : await trunk.takeInvites();
  assert.ok(invites.length <= 1, `one call, at most one INVITE to the trunk (got ${invites.length})`);
  return { view: invites[0] ? trunkView(invites[0]) : null, finalStatus: result.finalStatus };
}

export interface InProcessAdapter {
  adapter: Adapter;
  /** The adapter's database (for the CLI). */
  databaseUrl: string;
  /** Applies a policy file's text (as `callpolicy apply` does) and reloads the adapter. */
  apply(yaml: string): Promise<void>;
  /** Stops the adapter, drops its database and removes its data folder. */
  stop(): Promise<void>;
}

/** The adapter in this process, over ARI, on a fresh PostgreSQL database and data folder. */
export async function startInProcessAdapter(opts: { env?: Record<string, string>; logger?: ReturnType<typeof createLogger>; /** Serve /healthz, /status and /metrics on a free port (adapter.httpPort). */ http?: boolean } = {}): Promise<InProcessAdapter> {
  const ienv = integrationEnv();
  const db = await createTempDatabase(ienv.databaseUrl);
  const dataDir = mkdtempSync(path.join(tmpdir(), 'callpolicy-it-'));
  const env = loadEnv({ ARI_URL: ienv.ariUrl, ARI_USER: ienv.ariUser, ARI_PASSWORD: ienv.ariPassword, ARI_APP: ienv.ariApp, DATABASE_URL: db.url, CALLPOLICY_DATA_DIR: dataDir, ...(opts.http ? { HTTP_PORT: '0' } : {}), ...opts.env });
  const logger = opts.logger ?? createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
  const adapter = await startAdapter(env, logger, { http: opts.http ?? false, port: ariPort({ logger }) });
  await adapter.connected;
  const locator = createLocator();
  return {
    adapter,
    databaseUrl: db.url,
    async apply(yaml) {
      const file = parsePolicyFile(yaml, 'test.yaml');
      const survey = await resolveSurveySettings(file, { ...ienv.prompts, source: 'test.yaml' });
      await applyPolicy(adapter.db.db, file, (n) => locator.locate(n), { survey });
      await adapter.reload();
    },
    async stop() {
      await adapter.stop();
      await db.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
