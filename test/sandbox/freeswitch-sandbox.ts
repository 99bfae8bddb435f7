// A real FreeSWITCH 1.10.12 for tests and the benchmark: the build scripts/bootstrap.sh installs
// in /opt/fs1012 (CALLPOLICY_FREESWITCH_PREFIX), configured from the shipped dialplan/freeswitch/
// files (freeswitch-config.ts), with its own ports on 127.0.0.1 and its own folders under the
// work directory. The stock prompts the dialplan plays are spoken by espeak-ng (no sound
// packages); the wait music is a sox tone. Agents' sipp phones register with digest auth, as
// desk phones do, so that sofia_contact finds them.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderFreeswitchConfig, SHIPPED_FREESWITCH_FILES, type FsConfigOptions, type FsSandboxAgent, type ShippedFreeswitchFiles } from './freeswitch-config.js';
import { exited, hasExited, killOnExit, pollUntil, probeTcp, tailFile, terminate, withTimeout } from './process-utils.js';
import { diagnostics, readLogLines, removeRunDir, startSipp } from './sipp.js';

export type { FsSandboxAgent } from './freeswitch-config.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const SHIPPED_FREESWITCH_DIR = path.join(REPO_ROOT, 'dialplan', 'freeswitch');

export function freeswitchPrefix(): string {
  return process.env['CALLPOLICY_FREESWITCH_PREFIX'] || '/opt/fs1012';
}

export function freeswitchInstalled(prefix = freeswitchPrefix()): boolean {
  return existsSync(path.join(prefix, 'bin', 'freeswitch'));
}

export async function readShippedFreeswitchFiles(dir = SHIPPED_FREESWITCH_DIR): Promise<ShippedFreeswitchFiles> {
  const entries = await Promise.all(Object.entries(SHIPPED_FREESWITCH_FILES).map(async ([key, file]) => [key, await fs.readFile(path.join(dir, file), 'utf8')] as const));
  return Object.fromEntries(entries) as unknown as ShippedFreeswitchFiles;
}

export interface FsSandboxOptions {
  workDir: string;
  agents: FsSandboxAgent[];
  agentSipPort?: number;
  carrierSipPort?: number;
  trunkPort?: number;
  eslPort?: number;
  /** Where the adapter will listen for the socket application (callpolicy_socket). */
  decisionPort?: number;
  rtpPorts?: [number, number];
  defaultCallerIdNumber?: string;
  defaultCallerIdName?: string;
  emergencyCallerId?: string;
  extraDialplan?: string;
  logLevel?: string;
  startTimeoutMs?: number;
}

export interface FsSandbox {
  /** The agents' SIP address, for sipp phones: 127.0.0.1:<agentSipPort>. */
  agentSipServer: string;
  /** The carrier side's SIP address, for customers' calls: 127.0.0.1:<carrierSipPort>. */
  carrierSipServer: string;
  eslPort: number;
  eslPassword: string;
  decisionPort: number;
  agentPassword: string;
  logFile: string;
  /** An api command through fs_cli; its output. */
  api(command: string): Promise<string>;
  /** Registers (again) an agent's phone from its port. */
  register(agent: FsSandboxAgent): Promise<void>;
  /** Calls still up (`show channels count`). */
  channelCount(): Promise<number>;
  stop(): Promise<void>;
}

/** The stock prompts of callpolicy-vars.xml.sample, as the sandbox speaks them. */
function promptsOf(vars: string): string[] {
  return [...vars.matchAll(/data="callpolicy_[a-z_]*prompt=([A-Za-z0-9_/.-]+\.wav)"/g)].map((m) => m[1]!);
}

function run(cmd: string, args: string[], timeoutMs = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** An api command on a FreeSWITCH event socket on 127.0.0.1, through its fs_cli; the command's output. */
export function fsCli(eslPort: number, eslPassword: string, command: string, timeoutMs = 10_000): Promise<string> {
  return run(path.join(freeswitchPrefix(), 'bin', 'fs_cli'), ['-H', '127.0.0.1', '-P', String(eslPort), '-p', eslPassword, '-t', String(timeoutMs), '-x', command], timeoutMs + 2000);
}

/** A prompt as FreeSWITCH plays it: 8 kHz mono 16-bit WAV, the file's name spoken. */
async function speak(file: string, words: string): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const raw = `${file}.22k.wav`;
  await run('espeak-ng', ['-w', raw, words]);
  await run('sox', [raw, '-r', '8000', '-c', '1', '-b', '16', file]);
  await fs.rm(raw, { force: true });
}

export async function startFreeswitchSandbox(o: FsSandboxOptions): Promise<FsSandbox> {
  const prefix = freeswitchPrefix();
  if (!freeswitchInstalled(prefix)) {
    throw new Error(`no FreeSWITCH at ${prefix}: run scripts/bootstrap.sh (it installs the build from ../shared/freeswitch/, or says how to build one)`);
  }
  const dirs = Object.fromEntries(['conf', 'log', 'db', 'run', 'sounds', 'storage', 'cache', 'tmp', 'moh', 'recordings'].map((d) => [d, path.join(o.workDir, d)])) as Record<string, string>;
  await fs.rm(o.workDir, { recursive: true, force: true });
  for (const d of Object.values(dirs)) await fs.mkdir(d, { recursive: true });

  const shipped = await readShippedFreeswitchFiles();
  const eslPassword = randomBytes(12).toString('hex');
  const agentPassword = randomBytes(6).toString('hex');
  const opts: FsConfigOptions = {
    ...shipped,
    agents: o.agents,
    agentPassword,
    agentSipPort: o.agentSipPort ?? 5160,
    carrierSipPort: o.carrierSipPort ?? 5162,
    trunkPort: o.trunkPort ?? 5180,
    eslPort: o.eslPort ?? 8031,
    eslPassword,
    decisionPort: o.decisionPort ?? 8094,
    rtpPorts: o.rtpPorts ?? [23000, 23999],
    soundsDir: dirs['sounds']!,
    logDir: dirs['log']!,
    mohDir: dirs['moh']!,
    defaultCallerIdNumber: o.defaultCallerIdNumber ?? '',
    defaultCallerIdName: o.defaultCallerIdName ?? '',
    emergencyCallerId: o.emergencyCallerId ?? '',
    extraDialplan: o.extraDialplan ?? '',
    logLevel: o.logLevel ?? process.env['CALLPOLICY_FREESWITCH_LOGLEVEL'] ?? 'info',
  };
  for (const [file, text] of Object.entries(renderFreeswitchConfig(opts))) {
    const full = path.join(dirs['conf']!, file);
    await fs.mkdir(path.dirname(full), { recursive: true });
    await fs.writeFile(full, text, { mode: 0o600 });
  }
  for (const prompt of promptsOf(shipped.vars)) {
    await speak(path.join(dirs['sounds']!, prompt), path.basename(prompt, '.wav').replace(/[-_]/g, ' '));
  }
  await run('sox', ['-n', '-r', '8000', '-c', '1', '-b', '16', path.join(dirs['moh']!, 'tone.wav'), 'synth', '10', 'sine', '440', 'vol', '0.3']);
  // The two sounds the survey contract plays by name (Asterisk has them): a beep and 10 s of silence.
  await run('sox', ['-n', '-r', '8000', '-c', '1', '-b', '16', path.join(dirs['sounds']!, 'beep.wav'), 'synth', '0.3', 'sine', '1000', 'vol', '0.5']);
  await fs.mkdir(path.join(dirs['sounds']!, 'silence'), { recursive: true });
  await run('sox', ['-n', '-r', '8000', '-c', '1', '-b', '16', path.join(dirs['sounds']!, 'silence', '10.wav'), 'trim', '0', '10']);

  if ((await probeTcp(opts.eslPort, 300)) === 'open') throw new Error(`FreeSWITCH sandbox: TCP 127.0.0.1:${opts.eslPort} is already in use (a FreeSWITCH left running?)`);
  const logFile = path.join(dirs['log']!, 'console.log');
  const out = openSync(logFile, 'w');
  let child: ChildProcess;
  try {
    child = spawn('setpriv', ['--pdeathsig', 'KILL', path.join(prefix, 'bin', 'freeswitch'), '-nc', '-nf', '-nonat', '-nonatmap', '-conf', dirs['conf']!, '-log', dirs['log']!, '-db', dirs['db']!, '-run', dirs['run']!, '-sounds', dirs['sounds']!, '-storage', dirs['storage']!, '-cache', dirs['cache']!, '-temp', dirs['tmp']!, '-recordings', dirs['recordings']!], {
      stdio: ['ignore', out, out],
    });
  } finally {
    closeSync(out);
  }
  killOnExit(child);
  child.once('error', () => undefined);

  const api = (command: string, timeoutMs?: number) => fsCli(opts.eslPort, eslPassword, command, timeoutMs);
  const failStart = async (why: string): Promise<never> => {
    if (!hasExited(child)) await terminate(child, 'freeswitch');
    throw new Error(`FreeSWITCH sandbox did not start: ${why}\n--- ${logFile} ---\n${await tailFile(logFile, 30)}\n--- freeswitch.log ---\n${await tailFile(path.join(dirs['log']!, 'freeswitch.log'), 30)}`);
  };
  try {
    await pollUntil(
      async () => {
        if (hasExited(child)) throw new Error('the freeswitch process exited');
        const status = await api('status', 2000).catch(() => '');
        return /is ready/.test(status) ? true : undefined;
      },
      { timeoutMs: o.startTimeoutMs ?? 30_000, intervalMs: 200, what: 'FreeSWITCH event socket answers "status"' },
    );
    // Both profiles must be running before a phone registers or a call arrives.
    await pollUntil(
      async () => {
        const s = await api('sofia status');
        return /agents\s+profile\s+\S+\s+RUNNING/.test(s) && /carrier\s+profile\s+\S+\s+RUNNING/.test(s) ? true : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 200, what: 'sofia profiles agents and carrier RUNNING' },
    );
  } catch (err) {
    return failStart((err as Error).message);
  }

  const agentSipServer = `127.0.0.1:${opts.agentSipPort}`;
  const register = async (agent: FsSandboxAgent): Promise<void> => {
    const sipp = await startSipp({
      what: `register-${agent.user}`,
      port: agent.port,
      scenario: 'fs-register.xml',
      vars: { AUTH_USER: agent.user, AUTH_PASSWORD: agentPassword, EXPIRES: '3600' },
      args: [agentSipServer, '-p', String(agent.port), '-set', 'from_user', agent.user, '-m', '1', '-l', '1', '-recv_timeout', '5000', '-timeout', '8s', '-timeout_error'],
      traceMessages: false,
    });
    await withTimeout(exited(sipp.child), 10_000, `sipp register of ${agent.user}`);
    if (!(await readLogLines(sipp.logFile)).includes('REGISTERED')) throw new Error(`agent ${agent.user} did not register with FreeSWITCH\n${await diagnostics(sipp)}`);
    await removeRunDir(sipp);
  };
  try {
    for (const agent of o.agents) if (agent.registered !== false) await register(agent);
  } catch (err) {
    return failStart((err as Error).message);
  }

  return {
    agentSipServer,
    carrierSipServer: `127.0.0.1:${opts.carrierSipPort}`,
    eslPort: opts.eslPort,
    eslPassword,
    decisionPort: opts.decisionPort,
    agentPassword,
    logFile: path.join(dirs['log']!, 'freeswitch.log'),
    api: (command) => api(command),
    register,
    async channelCount() {
      const text = await api('show channels count');
      const m = /(\d+) total/.exec(text);
      if (!m) throw new Error(`show channels count: ${text.trim()}`);
      return Number(m[1]);
    },
    async stop() {
      if (hasExited(child)) return;
      await api('shutdown', 3000).catch(() => undefined);
      await withTimeout(exited(child), 10_000, 'freeswitch shutdown').catch(() => terminate(child, 'freeswitch'));
    },
  };
}
