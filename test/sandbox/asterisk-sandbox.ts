// A real Asterisk 22 for tests, the demo and the benchmark, run from a Debian sid root
// (scripts/provision-asterisk-root.sh builds it) in a private mount namespace:
//   unshare --mount --propagation private -- sh -c 'mount /dev, /proc; exec chroot <root> asterisk -f'
// so that its /dev and /proc mounts die with the process and never leak onto the host.
// Everything listens on 127.0.0.1 only.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, promises as fs, readFileSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { renderAsteriskConfig, SHIPPED_ASTERISK_FILES, TRUNK_ENDPOINT, type SandboxAgent, type ShippedAsteriskFiles } from './asterisk-config.js';
import { exited, hasExited, killOnExit, pollUntil, probeTcp, tailFile, udpPortBusy, withTimeout } from './process-utils.js';

export type { SandboxAgent } from './asterisk-config.js';

export const DEFAULT_ASTERISK_ROOT = '/var/cache/callpolicy/asterisk-root';
/** The Stasis application name; the shipped dialplan calls Stasis(callpolicy,...). */
export const SANDBOX_APP_NAME = 'callpolicy';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The shipped Asterisk files (dialplan/asterisk/): the sandbox is configured from them. */
export const SHIPPED_ASTERISK_DIR = path.join(REPO_ROOT, 'dialplan', 'asterisk');

/** Reads the shipped files the sandbox's configuration is made from. */
export async function readShippedAsteriskFiles(dir = SHIPPED_ASTERISK_DIR): Promise<ShippedAsteriskFiles> {
  const entries = await Promise.all(
    Object.entries(SHIPPED_ASTERISK_FILES).map(async ([key, file]) => [key, await fs.readFile(path.join(dir, file), 'utf8')] as const),
  );
  return Object.fromEntries(entries) as unknown as ShippedAsteriskFiles;
}

export interface AsteriskSandboxOptions {
  /** Debian root with asterisk installed; default $CALLPOLICY_ASTERISK_ROOT or /var/cache/callpolicy/asterisk-root. */
  rootDir?: string;
  /** Where the Asterisk console log goes; default <repo>/.data/asterisk-sandbox. */
  workDir?: string;
  agents?: SandboxAgent[];
  /** sipp UAS port of the carrier trunk (default 5080). */
  trunkPort?: number;
  /** More local ports identified as the trunk, for sipp UACs placing inbound calls. */
  trunkExtraPorts?: number[];
  /** Dialplan context of calls from the trunk (default: the one in pjsip.conf.sample's trunk template). */
  trunkContext?: string;
  /** Asterisk's SIP UDP port on 127.0.0.1 (default 5060). */
  sipPort?: number;
  /** Asterisk's HTTP/ARI port on 127.0.0.1 (default 8088). */
  httpPort?: number;
  /** CALLPOLICY_DEFAULT_NUMBER (default: empty, the dialplan then keeps the channel's number). */
  defaultNumber?: string;
  /** CALLPOLICY_EMERGENCY_NUMBER (default: empty, emergency calls then use defaultNumber). */
  emergencyNumber?: string;
  /** CALLPOLICY_DEFAULT_NAME (default: empty, so no agent name reaches the trunk). */
  defaultName?: string;
  /** Appended to extensions.conf. */
  extraExtensions?: string;
  /** OPTIONS ping interval to agent phones in seconds; 0 (default) = no pings. */
  agentQualifyFrequency?: number;
  /** RTP port range (default 20000..21999). */
  rtpPorts?: [number, number];
  /** Asterisk verbosity in the logs (default 0; 3 shows every dialplan step). */
  verbose?: number;
  /** How long to wait for ARI to answer after the start (default 30000 ms). */
  startTimeoutMs?: number;
  /** How long to wait while another live process runs a sandbox on this root (default 120000 ms). */
  lockTimeoutMs?: number;
}

export interface AsteriskSandbox {
  /** e.g. http://127.0.0.1:8088 (ARI is under /ari). */
  ariUrl: string;
  ariUser: string;
  ariPassword: string;
  appName: string;
  /** Asterisk's SIP address for sipp, e.g. 127.0.0.1:5060. */
  sipServer: string;
  /** Asterisk's console output. */
  logFile: string;
  /** Asterisk's messages log (inside the root). */
  messagesLog: string;
  /** Runs one CLI command (`asterisk -rx`) and returns its output. */
  cli(cmd: string, timeoutMs?: number): Promise<string>;
  /** Stops Asterisk and waits until no asterisk process of this root is left. Idempotent. */
  stop(): Promise<void>;
}

export function asteriskRootDir(explicit?: string): string {
  return path.resolve(explicit ?? process.env['CALLPOLICY_ASTERISK_ROOT'] ?? DEFAULT_ASTERISK_ROOT);
}

/** Runs `chroot <root> asterisk -rx <cmd>`. Rejects on a non-zero exit or after timeoutMs. */
export function asteriskCli(rootDir: string, cmd: string, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'chroot',
      [rootDir, 'asterisk', '-rx', cmd],
      { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) {
          const why = err.killed ? `timed out after ${timeoutMs} ms` : err.message;
          reject(new Error(`asterisk -rx ${JSON.stringify(cmd)} failed: ${why}\n${stdout}${stderr}`.trim()));
        } else {
          resolve(stdout);
        }
      },
    );
  });
}

/** Pids of asterisk processes running chrooted in rootDir (e.g. left by a crashed run). */
export async function findAsteriskProcesses(rootDir: string): Promise<number[]> {
  const pids: number[] = [];
  const root = await fs.realpath(rootDir);
  for (const entry of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const comm = (await fs.readFile(`/proc/${entry}/comm`, 'utf8')).trim();
      if (comm !== 'asterisk') continue;
      const procRoot = await fs.readlink(`/proc/${entry}/root`);
      if (procRoot === root) pids.push(Number(entry));
    } catch {
      // the process ended meanwhile, or is not ours to read
    }
  }
  return pids;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Stops asterisk processes of this root that this process did not start (a crashed earlier
 * run): `core stop now` over the control socket, then SIGTERM, then SIGKILL, by pid.
 */
export async function stopLeftoverAsterisk(rootDir: string): Promise<number[]> {
  const pids = await findAsteriskProcesses(rootDir);
  if (pids.length === 0) return [];
  await asteriskCli(rootDir, 'core stop now', 5000).catch(() => undefined);
  for (const [signal, waitMs] of [[null, 5000], ['SIGTERM', 3000], ['SIGKILL', 3000]] as const) {
    if (signal) {
      for (const pid of pids) {
        if (isAlive(pid)) process.kill(pid, signal);
      }
    }
    const deadline = Date.now() + waitMs;
    while (Date.now() < deadline && pids.some(isAlive)) await sleep(100);
    if (!pids.some(isAlive)) return pids;
  }
  throw new Error(`asterisk left by an earlier run (pids ${pids.join(', ')}) does not stop`);
}

async function writeConfig(rootDir: string, files: Record<string, string>): Promise<void> {
  const etc = path.join(rootDir, 'etc', 'asterisk');
  // Start from an empty directory: the package's sample configs (extensions.ael, manager.d,
  // dozens of *.conf) would otherwise load too.
  await fs.rm(etc, { recursive: true, force: true });
  await fs.mkdir(etc, { recursive: true });
  for (const [name, content] of Object.entries(files)) {
    await fs.writeFile(path.join(etc, name), content, { mode: 0o640 });
  }
}

async function assertProvisioned(rootDir: string): Promise<void> {
  try {
    await fs.access(path.join(rootDir, 'usr', 'sbin', 'asterisk'));
  } catch {
    throw new Error(
      `no asterisk in ${rootDir}: run scripts/provision-asterisk-root.sh (or set CALLPOLICY_ASTERISK_ROOT)`,
    );
  }
}

async function prepareRoot(rootDir: string): Promise<string> {
  // Without this host's name in the root's /etc/hosts, Asterisk looks it up over DNS on every
  // call: calls stall under load.
  await fs.copyFile('/etc/hosts', path.join(rootDir, 'etc', 'hosts'));
  for (const dir of ['var/run/asterisk', 'var/log/asterisk', 'var/lib/asterisk/keys', 'var/spool/asterisk', 'var/cache/asterisk']) {
    await fs.mkdir(path.join(rootDir, dir), { recursive: true });
  }
  // A stale control socket or pid file from a crashed run would confuse `asterisk -rx`.
  await fs.rm(path.join(rootDir, 'var/run/asterisk/asterisk.ctl'), { force: true });
  await fs.rm(path.join(rootDir, 'var/run/asterisk/asterisk.pid'), { force: true });
  const messagesLog = path.join(rootDir, 'var/log/asterisk/messages.log');
  await fs.rm(messagesLog, { force: true });
  return messagesLog;
}

/** Whether ARI answers with these credentials (1 s limit). */
export async function ariAnswers(url: string, user: string, password: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/ari/asterisk/info`, {
      headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` },
      signal: AbortSignal.timeout(1000),
    });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// One sandbox per root: <root>/run/callpolicy-sandbox.owner holds the pid of the Node process
// that runs it. A second test run waits for the first instead of killing its Asterisk; an
// owner that is gone (a crashed run) loses the lock, and its Asterisk is stopped.

function ownerFile(rootDir: string): string {
  return path.join(rootDir, 'run', 'callpolicy-sandbox.owner');
}

function ownerAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    // A reused pid is not an owner: owners are node processes.
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim().startsWith('node');
  } catch {
    return false;
  }
}

async function acquireRoot(rootDir: string, timeoutMs: number): Promise<() => void> {
  const file = ownerFile(rootDir);
  await fs.mkdir(path.dirname(file), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  let announced = false;
  for (;;) {
    try {
      const fh = await fs.open(file, 'wx');
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = Number((await fs.readFile(file, 'utf8').catch(() => '')).trim());
    if (owner === process.pid) {
      throw new Error(`this process already runs an Asterisk sandbox in ${rootDir}: stop() it first`);
    }
    if (!ownerAlive(owner)) {
      // A crashed run: take over (its Asterisk is stopped next).
      await fs.rm(file, { force: true });
      continue;
    }
    if (Date.now() >= deadline) {
      throw new Error(
        `the Asterisk sandbox in ${rootDir} is in use by process ${owner} (see ${file}); ` +
          `waited ${timeoutMs} ms. Let that run finish or stop it.`,
      );
    }
    if (!announced) {
      announced = true;
      process.stderr.write(`asterisk sandbox: waiting for process ${owner}, which is using ${rootDir}\n`);
    }
    await sleep(250);
  }
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    try {
      if (readFileSync(file, 'utf8').trim() === String(process.pid)) unlinkSync(file);
    } catch {
      // already gone
    }
  };
  process.once('exit', release);
  return release;
}

/** Throws when something already listens on 127.0.0.1:<port>/tcp (or holds it without answering). */
async function assertTcpPortFree(port: number, what: string): Promise<void> {
  const inUse = (await probeTcp(port)) !== 'closed';
  if (inUse) throw new Error(`asterisk sandbox: ${what} port 127.0.0.1:${port}/tcp is already in use`);
}

/** Throws when 127.0.0.1:<port>/udp is taken. */
async function assertUdpPortFree(port: number, what: string): Promise<void> {
  const busy = await udpPortBusy(port);
  if (busy) throw new Error(`asterisk sandbox: ${what} port 127.0.0.1:${port}/udp is already in use (${busy})`);
}

export async function startAsteriskSandbox(opts: AsteriskSandboxOptions = {}): Promise<AsteriskSandbox> {
  const rootDir = asteriskRootDir(opts.rootDir);
  const workDir = path.resolve(opts.workDir ?? path.join(REPO_ROOT, '.data', 'asterisk-sandbox'));
  const sipPort = opts.sipPort ?? 5060;
  const httpPort = opts.httpPort ?? 8088;
  const ariUser = 'callpolicy';
  const ariPassword = randomBytes(18).toString('base64url');
  const ariUrl = `http://127.0.0.1:${httpPort}`;

  const agents = opts.agents ?? [];
  const files = renderAsteriskConfig({
    ...(await readShippedAsteriskFiles()),
    agents,
    trunkPort: opts.trunkPort ?? 5080,
    trunkExtraPorts: opts.trunkExtraPorts ?? [],
    ...(opts.trunkContext !== undefined ? { trunkContext: opts.trunkContext } : {}),
    sipPort,
    httpPort,
    ariUser,
    ariPassword,
    defaultNumber: opts.defaultNumber ?? '',
    defaultName: opts.defaultName ?? '',
    agentQualifyFrequency: opts.agentQualifyFrequency ?? 0,
    rtpPorts: opts.rtpPorts ?? [20000, 21999],
    verbose: opts.verbose ?? 0,
    extraExtensions: opts.extraExtensions ?? '',
    emergencyNumber: opts.emergencyNumber ?? '',
  });

  await assertProvisioned(rootDir);
  const release = await acquireRoot(rootDir, opts.lockTimeoutMs ?? 120_000);
  let messagesLog: string;
  try {
    // We own the root now: any asterisk still running in it was left by a crashed run.
    await stopLeftoverAsterisk(rootDir);
    // Someone else on our ports would answer in our Asterisk's place.
    await assertTcpPortFree(httpPort, 'HTTP/ARI');
    await assertUdpPortFree(sipPort, 'SIP');
    messagesLog = await prepareRoot(rootDir);
    await writeConfig(rootDir, files);
    await fs.mkdir(workDir, { recursive: true });
  } catch (err) {
    release();
    throw err;
  }

  const logFile = path.join(workDir, 'asterisk.log');
  let child: ChildProcess;
  try {
    const logFd = openSync(logFile, 'w');
    try {
      // $0 is the root directory: no quoting of paths inside the script.
      const script = 'mount --bind /dev "$0/dev" && mount -t proc proc "$0/proc" && exec chroot "$0" asterisk -f -n';
      // setpriv: Asterisk gets SIGTERM if this process dies without stopping it.
      child = spawn(
        'setpriv',
        ['--pdeathsig', 'TERM', 'unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', script, rootDir],
        { stdio: ['ignore', logFd, logFd] },
      );
    } finally {
      closeSync(logFd);
    }
  } catch (err) {
    release();
    throw err;
  }
  killOnExit(child);
  let spawnError: Error | undefined;
  child.once('error', (err) => {
    spawnError = err;
  });

  const failure = async (why: string): Promise<Error> =>
    new Error(
      `asterisk sandbox did not start: ${why}\n--- ${logFile} (tail) ---\n${await tailFile(logFile)}\n` +
        `--- ${messagesLog} (tail) ---\n${await tailFile(messagesLog)}`,
    );

  const stop = createStopper(child, rootDir, release);
  try {
    const startTimeoutMs = opts.startTimeoutMs ?? 30_000;
    const started = Date.now();
    await pollUntil(
      async () => {
        if (spawnError) throw await failure(`cannot run setpriv/unshare: ${spawnError.message}`);
        if (hasExited(child)) {
          const info = await exited(child);
          throw await failure(`asterisk exited (code ${info.code}, signal ${info.signal})`);
        }
        return (await ariAnswers(ariUrl, ariUser, ariPassword)) ? true : undefined;
      },
      { timeoutMs: startTimeoutMs, intervalMs: 100, what: `ARI at ${ariUrl}/ari/asterisk/info` },
    ).catch(async (err: Error) => {
      throw err.message.startsWith('asterisk sandbox') ? err : await failure(err.message);
    });
    // ARI answers once res_ari is loaded; wait for the rest of the modules (dialplan, PJSIP).
    await asteriskCli(rootDir, 'core waitfullybooted', Math.max(1000, startTimeoutMs - (Date.now() - started)));
    // A shipped template Asterisk refuses (a bad option) leaves its endpoints out, and the tests
    // would fail far from the cause: check they all loaded.
    const missing = await missingEndpoints(rootDir, [TRUNK_ENDPOINT, ...agents.map((a) => a.endpoint)]);
    if (missing.length > 0) throw await failure(`PJSIP endpoints not loaded: ${missing.join(', ')} (see pjsip.conf in ${path.join(rootDir, 'etc', 'asterisk')})`);
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }

  return {
    ariUrl,
    ariUser,
    ariPassword,
    appName: SANDBOX_APP_NAME,
    sipServer: `127.0.0.1:${sipPort}`,
    logFile,
    messagesLog,
    cli: (cmd, timeoutMs) => asteriskCli(rootDir, cmd, timeoutMs),
    stop,
  };
}

/** The endpoints (and their AORs) of `expected` that Asterisk did not load. */
async function missingEndpoints(rootDir: string, expected: string[]): Promise<string[]> {
  const names = (output: string, label: string): Set<string> =>
    new Set([...output.matchAll(new RegExp(`^\\s*${label}:\\s+([^\\s/]+)`, 'gm'))].map((m) => m[1] as string));
  const endpoints = names(await asteriskCli(rootDir, 'pjsip list endpoints'), 'Endpoint');
  const aors = names(await asteriskCli(rootDir, 'pjsip list aors'), 'Aor');
  return expected.filter((name) => !endpoints.has(name) || !aors.has(name));
}

function createStopper(child: ChildProcess, rootDir: string, release: () => void): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  const run = async (): Promise<void> => {
    try {
      await stopAsterisk();
    } finally {
      release();
    }
  };
  const stopAsterisk = async (): Promise<void> => {
    if (!hasExited(child)) {
      await asteriskCli(rootDir, 'core stop now', 5000).catch(() => undefined);
      try {
        await withTimeout(exited(child), 5000, 'asterisk to exit after "core stop now"');
      } catch {
        child.kill('SIGTERM');
        try {
          await withTimeout(exited(child), 3000, 'asterisk to exit after SIGTERM');
        } catch {
          child.kill('SIGKILL');
          await withTimeout(exited(child), 3000, `asterisk (pid ${child.pid}) to exit after SIGKILL`);
        }
      }
    }
    // Anything else of this root (it should not exist) goes too.
    await stopLeftoverAsterisk(rootDir);
  };
  return () => (stopping ??= run());
}
