import { startAdapter } from './adapter.js';
import { ConfigError, loadEnv } from './config/env.js';
import { createLogger } from './log.js';

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
  const adapter = await startAdapter(env, logger);
  logger.info({ http: `${env.http.host}:${env.http.port}`, database: adapter.db.kind }, 'adapter started');

  process.on('SIGHUP', () => {
    adapter.reload().catch((err: Error) => logger.error({ err: err.message }, 'reload failed'));
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
