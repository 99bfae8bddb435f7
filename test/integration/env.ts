// Settings of the integration tests, from the environment that test/integration/run.ts sets
// (or that you set yourself to run the tests against another Asterisk).
export interface IntegrationEnv {
  /** Asterisk's HTTP base, e.g. http://127.0.0.1:8088 (ARI is under /ari). */
  ariUrl: string;
  ariUser: string;
  ariPassword: string;
  /** Stasis application name (the shipped dialplan uses "callpolicy"). */
  ariApp: string;
  databaseUrl: string;
  /** Asterisk's SIP address for sipp phones, e.g. 127.0.0.1:5060. */
  sipServer: string;
  /** Where the tests write rendered survey prompts, and how that Asterisk names the folder. */
  prompts: { dir: string; pbxDir: string };
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: run the integration tests with "npm run test:integration" (test/integration/run.ts sets it)`);
  }
  return value;
}

let cached: IntegrationEnv | undefined;

export function integrationEnv(): IntegrationEnv {
  cached ??= {
    ariUrl: required('ARI_URL').replace(/\/+$/, ''),
    ariUser: required('ARI_USER'),
    ariPassword: required('ARI_PASSWORD'),
    ariApp: process.env['ARI_APP'] || 'callpolicy',
    databaseUrl: process.env['DATABASE_URL'] || 'postgres://postgres@127.0.0.1:5432/test',
    sipServer: process.env['SIP_SERVER'] || '127.0.0.1:5060',
    prompts: {
      dir: process.env['CALLPOLICY_PROMPT_DIR'] || '/var/lib/asterisk/sounds/callpolicy',
      pbxDir: process.env['CALLPOLICY_PROMPT_PBX_DIR'] || process.env['CALLPOLICY_PROMPT_DIR'] || '/var/lib/asterisk/sounds/callpolicy',
    },
  };
  return cached;
}
