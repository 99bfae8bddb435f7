import { startAdapter } from './adapter.js';
import { ConfigError, loadEnv } from './config/env.js';
import { startStallWatchdog } from './health/stall-watchdog.js';
import { createLogger } from './log.js';
import { DataDirLockedError } from './store/data-dir-lock.js';

/** The adapter process: refuses to start on bad configuration, stops cleanly on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  let env;
  try {
    env = loadEnv();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`callpolicy: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(env.logLevel);
  let adapter;
  try {
    adapter = await startAdapter(env, logger);
  } catch (err) {
    if (err instanceof DataDirLockedError) {
      process.stderr.write(`callpolicy: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  // On FreeSWITCH nothing on the PBX side bounds a call held by a stuck process (see
  // stall-watchdog.ts). Started once up: loading the phone data at start may block longer.
  if (env.pbx === 'freeswitch' && env.freeswitch.stallKillMs > 0) startStallWatchdog(env.freeswitch.stallKillMs);
  const source = adapter.policySource();
  logger.info(
    { http: `${env.http.host}:${env.http.port}`, database: adapter.db.kind, databaseStatus: adapter.databaseStatus(), policy: source.kind },
    'adapter started',
  );

  process.on('SIGHUP', () => {
    // A failed reload is logged by the adapter, which keeps the policy it has.
    adapter.reload().catch(() => undefined);
  });
  const shutdown = (signal: string) => {
    logger.info({ signal }, 'stopping');
    adapter.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: Error) => {
  process.stderr.write(`callpolicy: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
