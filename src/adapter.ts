import type { Server } from 'node:http';
import type { AppEnv } from './config/env.js';
import { createOutboundFlow } from './flows/outbound-flow.js';
import { startHealthServer } from './health/health-server.js';
import type { Logger } from './log.js';
import { getCountryCallingCode, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import { createLocator, preloadGeocodeData } from './phone/index.js';
import { createAriCallControl } from './pbx/asterisk/ari-call-control.js';
import type { CallControlPort } from './pbx/call-control.js';
import { POLICY_CHANGED_CHANNEL } from './store/apply-policy.js';
import { createCallRecorder } from './store/call-records.js';
import { openDatabase, type Database } from './store/database.js';
import { loadPolicy, type RuntimePolicy } from './store/load-policy.js';

export interface Adapter {
  db: Database;
  port: CallControlPort;
  /** Writes queued call records now (tests, shutdown). */
  flushRecords(): Promise<void>;
  policy(): RuntimePolicy;
  /** Re-reads settings and inventory from the database (after an apply). */
  reload(): Promise<void>;
  /** Resolves once the PBX link is up for the first time. */
  connected: Promise<void>;
  stop(): Promise<void>;
}

/** Wires store, policy, flows and the PBX port together; the PBX link comes up in the background. */
export async function startAdapter(env: AppEnv, logger: Logger, opts: { port?: CallControlPort; http?: boolean } = {}): Promise<Adapter> {
  const db = await openDatabase({ url: env.databaseUrl, dataDir: env.dataDir });
  await db.migrate();
  let policy = await loadPolicy(db.db);
  if (!policy.configured) logger.warn('no policy applied yet: every call gets the default caller ID (run: callpolicy apply <file>)');

  const reload = async () => {
    policy = await loadPolicy(db.db);
    logger.info({ numbers: policy.inventory.size, strategy: policy.callerId.strategy }, 'policy loaded');
  };
  await db.listen(POLICY_CHANGED_CHANNEL, () => {
    reload().catch((err: Error) => logger.error({ err: err.message }, 'cannot reload policy; keeping the previous one'));
  });

  // Location data is decoded once per country; do it now so no call waits for it.
  const callingCodes = [getCountryCallingCode(policy.defaultCountry as CountryCode) as string];
  for (const n of policy.inventory.all()) callingCodes.push(parsePhoneNumberFromString(n.e164)?.countryCallingCode ?? '');
  await preloadGeocodeData(callingCodes.filter(Boolean));
  const locator = createLocator();
  const recorder = createCallRecorder(db.db, { onError: (err) => logger.error({ err: err.message }, 'cannot write call records') });
  const flow = createOutboundFlow({
    policy: () => policy,
    locate: (e164) => locator.locate(e164),
    recorder,
    logger,
    pbx: 'asterisk',
  });
  const port =
    opts.port ??
    createAriCallControl({ ...env.ari, logger });
  const connected = port.start({ outbound: flow.handle, ended: flow.ended });
  connected.catch((err: Error) => logger.error({ err: err.message }, 'PBX link failed'));

  let server: Server | undefined;
  if (opts.http !== false) {
    server = await startHealthServer(env.http.host, env.http.port, {
      pbxLink: () => port.linkState(),
      policyConfigured: () => policy.configured,
    });
  }

  return {
    db,
    port,
    policy: () => policy,
    flushRecords: () => recorder.flush(),
    reload,
    connected,
    async stop() {
      await port.stop();
      await recorder.flush().catch((err: Error) => logger.error({ err: err.message }, 'cannot write call records'));
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      await db.close();
    },
  };
}
