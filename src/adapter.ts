import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AppEnv } from './config/env.js';
import { createInboundFlow } from './flows/inbound-flow.js';
import { createOutboundFlow } from './flows/outbound-flow.js';
import { createRecentCalls } from './flows/recent-calls.js';
import { createSurveyFlow } from './flows/survey-flow.js';
import { protectionForPolicy } from './protection/number-protection.js';
import { createCallFactsLookup } from './store/call-facts.js';
import { startHealthServer } from './health/health-server.js';
import { createMetrics } from './health/metrics.js';
import { startApiServer } from './api/api-server.js';
import { createAuthenticator } from './api/auth.js';
import { registerDashboard } from './api/dashboard.js';
import { createPolicyEditor } from './admin/policy-editor.js';
import { createPolicyService, type PolicyService } from './admin/policy-service.js';
import { startPolicyWorker } from './admin/policy-worker-client.js';
import type { FastifyInstance } from 'fastify';
import type { Logger } from './log.js';
import { getCountryCallingCode, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import { createLocator, preloadGeocodeData } from './phone/index.js';
import { createAriCallControl } from './pbx/asterisk/ari-call-control.js';
import { createFreeswitchCallControl } from './pbx/freeswitch/fs-call-control.js';
import type { CallControlPort } from './pbx/call-control.js';
import { POLICY_CHANGED_CHANNEL } from './store/apply-policy.js';
import { createCallMemoryLookup } from './store/call-memory-lookup.js';
import { createCallRecorder, openCallIds, type CallRecorder } from './store/call-records.js';
import { createOpenCallsCheck } from './flows/open-calls.js';
import { coalesce } from './store/coalesce.js';
import { openDatabase, type Database } from './store/database.js';
import { createDatabaseHealth, type DatabaseStatus } from './store/database-health.js';
import { describeDbError, isConnectionError } from './store/db-errors.js';
import { EMPTY_POLICY_ROWS, buildRuntimePolicy, numbersMasked, readPolicyRows, type RuntimePolicy } from './store/load-policy.js';
import { readPolicySnapshot, writePolicySnapshot } from './store/policy-snapshot.js';
import type { RecordQueueStats } from './store/record-queue.js';

/** Where the policy in use came from: the database, the snapshot file, or nowhere (empty). */
export interface PolicySource {
  kind: 'database' | 'snapshot' | 'empty';
  /** When it was read from the database (for a snapshot: when the snapshot was taken). */
  at: Date | null;
}

export interface Adapter {
  db: Database;
  port: CallControlPort;
  /** Writes queued call records now (tests, shutdown); rejects while the database is away. */
  flushRecords(): Promise<void>;
  policy(): RuntimePolicy;
  policySource(): PolicySource;
  /**
   * Re-reads the policy from the database (after an apply). Reloads run one at a time; one
   * requested meanwhile runs once more after. A failed reload keeps the policy in use (logged)
   * and rejects.
   */
  reload(): Promise<void>;
  databaseStatus(): DatabaseStatus;
  recordStats(): RecordQueueStats;
  /** Resolves once the PBX link is up for the first time. */
  connected: Promise<void>;
  /** The port /healthz listens on (HTTP_PORT=0 picks a free one); undefined without HTTP. */
  httpPort: number | undefined;
  /** The API's port (API_PORT=0 picks a free one); undefined when the API is off (no admin token, or no HTTP). */
  apiPort: number | undefined;
  stop(): Promise<void>;
}

export interface AdapterOptions {
  /** The PBX; default: Asterisk over ARI from env. */
  port?: CallControlPort;
  /** false: no /healthz server. */
  http?: boolean;
  /** How often the LISTEN connection is checked (tests shorten it). */
  heartbeatMs?: number;
}

/**
 * Wires store, policy, flows and the PBX port together; the PBX link comes up in the background.
 * The database never stops calls: decisions use the policy in memory; when the database is down
 * at start, the last snapshot of it (or an empty policy: default caller ID for every call), and
 * the adapter keeps trying to reach it, then migrates, loads and listens.
 */
export async function startAdapter(env: AppEnv, logger: Logger, opts: AdapterOptions = {}): Promise<Adapter> {
  const db = await openDatabase({ url: env.databaseUrl, dataDir: env.dataDir, limits: env.database, role: 'adapter', logger, heartbeatMs: opts.heartbeatMs });
  /** Records are written only once this version's migrations ran (the database may be down at start). */
  let migrated = false;
  /** Names this adapter's own NOTIFYs (a policy change made through its API). */
  const selfToken = `adapter-${process.pid}-${randomUUID()}`;
  let recorder: CallRecorder | undefined;
  const health = createDatabaseHealth({ logger, where: db.where, records: () => recorder?.stats() ?? { queued: 0, dropped: 0, retrying: false } });
  db.onConnectionChange((state, err) => (state === 'up' ? health.up('listen') : health.down(err, 'listen')));
  try {
    recorder = createCallRecorder(db.db, {
      journalDir: path.join(env.dataDir, 'record-journal'),
      writable: () => migrated,
      queueMax: env.recordQueueMax,
      retryMaxMs: env.database.retryMaxMs,
      logger,
      onWriteFailed: (err) => {
        if (isConnectionError(err)) health.down(err, 'call records');
      },
      onWriteSucceeded: ({ backlog }) => health.up('call records', { recordsQueued: backlog }),
    });
  } catch (err) {
    // Another adapter holds the record journal of this data folder.
    await db.close().catch(() => undefined);
    throw err;
  }
  const records = recorder;
  let stopped = false;
  let recovery: NodeJS.Timeout | undefined;
  let startedPort: CallControlPort | undefined;
  let stopRecent: (() => void) | undefined;
  try {
    return await wire();
  } catch (err) {
    // A start that fails half-way (port in use, ...) leaves nothing running: no timer, no lock.
    stopped = true;
    clearTimeout(recovery);
    stopRecent?.();
    await startedPort?.stop().catch(() => undefined);
    records.close();
    await db.close().catch(() => undefined);
    throw err;
  }

  async function wire(): Promise<Adapter> {
    let policy: RuntimePolicy | undefined;
    let source: PolicySource = { kind: 'empty', at: null };

    const reload = coalesce(async () => {
      try {
        if (!migrated) {
          await db.migrate();
          migrated = true;
        }
        const rows = await readPolicyRows(db.db);
        const next = buildRuntimePolicy(rows, policy);
        const replaced = policy && source.kind !== 'database' ? source.kind : undefined;
        policy = next;
        source = { kind: 'database', at: new Date() };
        health.up('policy load');
        logger.info(
          { numbers: next.inventory.size, strategy: next.callerId.strategy, configured: next.configured, ...(replaced ? { replaced } : {}) },
          replaced ? `policy loaded from the database; the ${replaced} policy is no longer used` : 'policy loaded',
        );
        await writePolicySnapshot(env.snapshotFile, rows, db.where, source.at!).catch((err: Error) =>
          logger.warn({ err: err.message, snapshot: env.snapshotFile }, 'cannot write the policy snapshot'),
        );
      } catch (err) {
        if (isConnectionError(err)) {
          // The outage itself is logged once, by the health tracker.
          health.down(err, 'policy load');
          logger.debug({ err: describeDbError(err) }, 'cannot load the policy: database unreachable');
        } else {
          logger.error({ err: describeDbError(err) }, policy ? 'cannot reload the policy; keeping the previous one' : 'cannot load the policy');
        }
        throw err;
      }
    });

    const recover = (attempt: number) => {
      if (stopped || source.kind === 'database') return;
      const delay = Math.min(env.database.retryMaxMs, 500 * 2 ** Math.min(attempt, 20));
      recovery = setTimeout(() => {
        reload().catch(() => recover(attempt + 1));
      }, delay);
    };

    // This adapter's own changes come back as a NOTIFY too: it reloaded before it answered, so
    // they are skipped (named by selfToken); everyone else's are reloaded.
    const onNotify = (payload: string) => {
      if (payload !== selfToken) void reload().catch(() => undefined);
    };
    let loaded = true;
    try {
      await reload();
    } catch {
      loaded = false;
    }
    if (loaded) {
      await db.listen(POLICY_CHANGED_CHANNEL, onNotify);
    } else {
      policy = await fallbackPolicy(env.snapshotFile, logger, (s) => (source = s));
      // The LISTEN connection retries on its own and reloads when it gets through; so does this.
      void db.listen(POLICY_CHANGED_CHANNEL, onNotify);
      recover(0);
    }
    if (!policy!.configured) logger.warn('no policy applied yet: every call gets the default caller ID (run: callpolicy apply <file>)');

    // Location data is decoded once per country; do it now so no call waits for it.
    const start = policy!;
    const callingCodes = [getCountryCallingCode(start.defaultCountry as CountryCode) as string];
    for (const n of start.inventory.all()) callingCodes.push(parsePhoneNumberFromString(n.e164)?.countryCallingCode ?? '');
    await preloadGeocodeData(callingCodes.filter(Boolean));
    const locator = createLocator();
    // Calls in progress (and just ended by their agent), so a survey knows whose call it follows.
    const recent = createRecentCalls();
    stopRecent = () => recent.close();
    // One protection for both directions: one cache of the customer-ID interface.
    const protection = protectionForPolicy({ customerIdAuth: env.customerIdAuth });
    // The records name the PBX the calls' ids belong to.
    const pbxName = env.pbx;
    const port = opts.port ?? (env.pbx === 'freeswitch' ? createFreeswitchCallControl({ ...env.freeswitch, logger }) : createAriCallControl({ ...env.ari, logger }));
    startedPort = port;
    const metrics = createMetrics({
      pbx: pbxName,
      pbxLink: () => port.linkState(),
      database: () => health.status(),
      records: () => records.stats(),
      customerIdInterface: () => protection(policy!.protection).stats(),
      memoryMode: () => policy!.memory.mode,
    });
    const recording: CallRecorder = {
      ...records,
      recordDecision(row) {
        recent.decided(row.channelId, { agentId: row.agentId ?? null, customerE164: row.customerE164 ?? null });
        metrics.decided(row);
        records.recordDecision(row);
      },
      recordEnd(end) {
        recent.ended(end.channelId, { answered: end.answeredAt !== null, hungUpBy: end.hungUpBy });
        metrics.ended(end);
        records.recordEnd(end);
      },
      recordSurvey(row) {
        metrics.surveyed(row);
        records.recordSurvey(row);
      },
    };
    const flow = createOutboundFlow({
      policy: () => policy!,
      protection,
      locate: (e164) => locator.locate(e164),
      recorder: recording,
      logger,
      pbx: pbxName,
      added: (micros) => metrics.added('outbound', micros),
    });
    const inbound = createInboundFlow({
      policy: () => policy!,
      protection,
      lookUp: createCallMemoryLookup(db.db),
      // While the database is known to be down, no look-up is tried: the call goes to the IVR at once.
      databaseUp: () => health.status() === 'up',
      endpointStatus: (endpoint) => port.endpointStatus(endpoint),
      recorder: recording,
      logger,
      pbx: pbxName,
      added: (micros) => metrics.added('inbound', micros),
    });
    const factsFromRecord = createCallFactsLookup(db.db, pbxName);
    const survey = createSurveyFlow({
      policy: () => policy!,
      // A call this process decided is in memory; one decided before a restart is in its record.
      callFacts: async (callId) => recent.get(callId) ?? (health.status() === 'up' ? factsFromRecord(callId) : null),
      recorder: recording,
      logger,
      pbx: pbxName,
    });
    const checkOpenCalls = createOpenCallsCheck({
      port,
      // Queued records first (at start: the journal of a killed predecessor), so that a call whose
      // decision is still on its way to the database is checked too, not left open for ever.
      openCalls: async () => {
        await records.flush();
        return openCallIds(db.db, pbxName, new Date(Date.now() - OPEN_CALL_MAX_AGE_MS));
      },
      ended: flow.ended,
      logger,
    });
    const check = () =>
      void checkOpenCalls().catch((err: unknown) => logger.debug({ err: describeDbError(err) }, 'open call records not checked; will try again'));
    db.onConnectionChange((state) => state === 'up' && port.linkState() === 'up' && check());
    // Ends of both directions go through the outbound flow, which holds back an end that overtakes its decision.
    const linked = () => {
      metrics.linked();
      check();
    };
    const connected = port.start({ outbound: flow.handle, inbound: inbound.handle, survey: survey.handle, ended: flow.ended, linked });
    connected.catch((err: Error) => logger.error({ err: err.message }, 'PBX link failed'));

    let server: Server | undefined;
    if (opts.http !== false) {
      server = await startHealthServer(env.http.host, env.http.port, {
        pbxLink: () => port.linkState(),
        policyConfigured: () => policy!.configured,
        database: () => health.status(),
        records: () => records.stats(),
        policySource: () => source,
        protection: () => {
          const p = protection(policy!.protection);
          return { mode: p.mode, customerIdInterface: p.stats() };
        },
        metrics,
      });
    }

    let api: FastifyInstance | undefined;
    let policies: PolicyService | undefined;
    if (opts.http !== false && env.api.adminToken) {
      const authenticate = createAuthenticator({ adminToken: env.api.adminToken, agentTokens: env.api.agentTokens });
      // Other adapters on this database hear the NOTIFY; this one has the new policy before it answers.
      const notifyAndReload = async () => {
        await db.notify(POLICY_CHANGED_CHANNEL, selfToken);
        await reload();
      };
      // On PostgreSQL the policy's heavy work runs in a worker thread, off the calls' event loop;
      // an embedded database (one connection, this process) is worked on here.
      policies = env.databaseUrl
        ? startPolicyWorker({ databaseUrl: env.databaseUrl, limits: env.database, prompts: env.prompts, notifyPayload: selfToken, logger, afterChange: () => reload(), changedElsewhere: notifyAndReload })
        : createPolicyService(createPolicyEditor({ db: db.db, locate: (n) => locator.locate(n), prompts: env.prompts, changed: notifyAndReload }));
      api = await startApiServer(env.api.host, env.api.port, {
        db: db.db,
        authenticate: (token) => (token ? authenticate(token) : null),
        masked: () => numbersMasked(policy!),
        policy: () => policy!,
        policies,
        locate: (n) => locator.locate(n),
        endpointStatus: (endpoint) => port.endpointStatus(endpoint),
        databaseUp: () => health.status() === 'up',
        logger,
        extend: (app) =>
          registerDashboard(app, {
            db: db.db,
            authenticate,
            live: () => ({ pbxLink: port.linkState(), database: health.status(), recordQueue: records.stats().queued, policyConfigured: policy!.configured }),
          }),
      });
    }

    return {
      db,
      port,
      policy: () => policy!,
      policySource: () => source,
      flushRecords: () => records.flush(),
      reload,
      databaseStatus: () => health.status(),
      recordStats: () => records.stats(),
      connected,
      httpPort: (server?.address() as AddressInfo | null)?.port,
      apiPort: (api?.server.address() as AddressInfo | null)?.port,
      async stop() {
        stopped = true;
        clearTimeout(recovery);
        recent.close();
        await port.stop();
        await records.flush().catch((err: unknown) =>
          logger.error({ err: describeDbError(err), queued: records.stats().queued }, 'call records not written before stop'),
        );
        records.close();
        await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
        await api?.close();
        await policies?.close();
        await db.close();
      },
    };
  }
}

/** Open records older than this are not checked against the PBX any more (no call lasts that long). */
const OPEN_CALL_MAX_AGE_MS = 12 * 3600_000;

/** The policy to decide from while the database cannot be read at start: the snapshot, or none. */
async function fallbackPolicy(file: string, logger: Logger, setSource: (s: PolicySource) => void): Promise<RuntimePolicy> {
  try {
    const snapshot = await readPolicySnapshot(file);
    if (snapshot) {
      const policy = buildRuntimePolicy(snapshot.rows);
      const at = new Date(snapshot.savedAt);
      setSource({ kind: 'snapshot', at });
      logger.warn(
        { snapshot: file, savedAt: snapshot.savedAt, ageSeconds: Math.round((Date.now() - at.getTime()) / 1000), from: snapshot.source, numbers: policy.inventory.size },
        'database unavailable at start: deciding from the policy snapshot until it is back',
      );
      return policy;
    }
  } catch (err) {
    logger.error({ err: (err as Error).message, snapshot: file }, 'cannot use the policy snapshot');
  }
  setSource({ kind: 'empty', at: null });
  logger.error({ snapshot: file }, 'database unavailable at start and no policy snapshot: every call gets the default caller ID until the database is back');
  return buildRuntimePolicy(EMPTY_POLICY_ROWS);
}
