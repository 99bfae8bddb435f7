// Integration test entry: `npm run test:integration`.
//
// Unless ARI_URL is set (then the tests use that Asterisk with ARI_USER/ARI_PASSWORD, which
// must be set up like test/integration/topology.ts), this provisions the Asterisk root if it is
// missing, starts the sandboxed Asterisk, runs test/integration/*.test.ts one file at a time
// with vitest, stops Asterisk in every case and exits with the tests' exit code.
//
// CALLPOLICY_ASTERISK_VERBOSE (default 3) sets Asterisk's verbosity in its log;
// the log is under test/integration/.work/.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { asteriskRootDir, startAsteriskSandbox, type AsteriskSandbox } from '../sandbox/asterisk-sandbox.js';
import { SANDBOX_TOPOLOGY } from './topology.js';
import { startFreeswitchSandbox, type FsSandbox } from '../sandbox/freeswitch-sandbox.js';
import { FS_SANDBOX_TOPOLOGY } from './fs-topology.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const WORK_DIR = path.join(HERE, '.work');

function log(message: string): void {
  process.stderr.write(`[test:integration] ${message}\n`);
}

function testFiles(argv: string[]): string[] {
  // Optional arguments narrow the run: `npm run test:integration -- adapter-down`.
  const all = readdirSync(HERE)
    .filter((f) => f.endsWith('.test.ts'))
    .sort()
    .map((f) => path.join('test', 'integration', f));
  const wanted = argv.filter((a) => !a.startsWith('-'));
  return wanted.length === 0 ? all : all.filter((f) => wanted.some((w) => f.includes(w)));
}

function provisionIfMissing(): void {
  const root = asteriskRootDir();
  if (existsSync(path.join(root, 'usr', 'sbin', 'asterisk'))) return;
  log(`no Asterisk root at ${root}: running scripts/provision-asterisk-root.sh (1 to 2 minutes)`);
  const result = spawnSync('bash', [path.join(REPO, 'scripts', 'provision-asterisk-root.sh')], { stdio: 'inherit' });
  if (result.status !== 0) {
    throw new Error(`scripts/provision-asterisk-root.sh failed (exit ${result.status ?? result.signal})`);
  }
}

async function main(): Promise<number> {
  const files = testFiles(process.argv.slice(2));
  if (files.length === 0) {
    log('no test files match');
    return 1;
  }

  let sandbox: AsteriskSandbox | undefined;
  let fsSandbox: FsSandbox | undefined;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: process.env['DATABASE_URL'] || 'postgres://postgres@127.0.0.1:5432/test',
    ARI_APP: process.env['ARI_APP'] || 'callpolicy',
  };

  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping`);
    void Promise.allSettled([sandbox?.stop(), fsSandbox?.stop()]).finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    if (process.env['ARI_URL']) {
      log(`using the Asterisk at ${process.env['ARI_URL']} (ARI_URL is set)`);
      if (!process.env['ARI_USER'] || !process.env['ARI_PASSWORD']) {
        log('ARI_URL is set but ARI_USER or ARI_PASSWORD is not');
        return 1;
      }
    } else if (files.some((f) => !path.basename(f).startsWith('fs-'))) {
      provisionIfMissing();
      const started = Date.now();
      sandbox = await startAsteriskSandbox({
        ...SANDBOX_TOPOLOGY,
        workDir: WORK_DIR,
        verbose: Number(process.env['CALLPOLICY_ASTERISK_VERBOSE'] ?? 3),
      });
      log(`Asterisk sandbox up in ${Date.now() - started} ms (ARI ${sandbox.ariUrl}, log ${path.relative(REPO, sandbox.logFile)})`);
      env['ARI_URL'] = sandbox.ariUrl;
      env['ARI_USER'] = sandbox.ariUser;
      env['ARI_PASSWORD'] = sandbox.ariPassword;
      env['ARI_APP'] = sandbox.appName;
      env['SIP_SERVER'] = sandbox.sipServer;
      // Survey prompts rendered by the tests go where the chrooted Asterisk finds them.
      env['CALLPOLICY_PROMPT_DIR'] ??= path.join(asteriskRootDir(), 'var', 'lib', 'asterisk', 'sounds', 'callpolicy');
      env['CALLPOLICY_PROMPT_PBX_DIR'] ??= '/var/lib/asterisk/sounds/callpolicy';
    }
    // The real FreeSWITCH, for the fs-*.test.ts files (scripts/bootstrap.sh installs it).
    if (files.some((f) => path.basename(f).startsWith('fs-'))) {
      const started = Date.now();
      fsSandbox = await startFreeswitchSandbox({ ...FS_SANDBOX_TOPOLOGY, workDir: path.join(WORK_DIR, 'freeswitch') });
      log(`FreeSWITCH sandbox up in ${Date.now() - started} ms (event socket 127.0.0.1:${fsSandbox.eslPort}, log ${path.relative(REPO, fsSandbox.logFile)})`);
      Object.assign(env, {
        FS_AGENT_SIP: fsSandbox.agentSipServer,
        FS_CARRIER_SIP: fsSandbox.carrierSipServer,
        FS_ESL_PORT: String(fsSandbox.eslPort),
        FS_ESL_PASSWORD: fsSandbox.eslPassword,
        FS_DECISION_PORT: String(fsSandbox.decisionPort),
        FS_AGENT_PASSWORD: fsSandbox.agentPassword,
        FS_LOG_FILE: fsSandbox.logFile,
      });
    }
    if (!env['CALLPOLICY_SIPP_WORKDIR']) {
      // sipp keeps the files of failed runs there; start each run empty.
      env['CALLPOLICY_SIPP_WORKDIR'] = path.join(WORK_DIR, 'sipp');
      rmSync(env['CALLPOLICY_SIPP_WORKDIR'], { recursive: true, force: true });
    }

    // One file at a time: they share one Asterisk and the sipp ports.
    const results = path.join(REPO, 'test', '.results', 'integration.json');
    // CALLPOLICY_TEST_NAME narrows further, to the tests whose name matches (vitest -t).
    const only = process.env['CALLPOLICY_TEST_NAME'] ? ['-t', process.env['CALLPOLICY_TEST_NAME']] : [];
    const args = ['run', ...only, '--no-file-parallelism', '--test-timeout=180000', '--hook-timeout=180000', '--reporter=default', '--reporter=json', `--outputFile.json=${results}`, ...files];
    const child = spawn(path.join(REPO, 'node_modules', '.bin', 'vitest'), args, { cwd: REPO, env, stdio: 'inherit' });
    const code = await new Promise<number>((resolve) => {
      child.once('error', (err) => {
        log(`cannot start the test runner: ${err.message}`);
        resolve(1);
      });
      child.once('exit', (c, signal) => resolve(c ?? (signal ? 128 : 1)));
    });
    if (code !== 0 && sandbox) {
      log(`tests failed; Asterisk log: ${path.relative(REPO, sandbox.logFile)}`);
    }
    return code;
  } finally {
    if (!stopping) {
      // Quietly: the test runner's summary stays the last lines CI reads.
      await Promise.allSettled([sandbox?.stop(), fsSandbox?.stop()]);
    }
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    log(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  },
);
