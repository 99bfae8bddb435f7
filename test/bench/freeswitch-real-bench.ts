// (8b) FreeSWITCH, the real one: post-dial delay of an agent's call on a real FreeSWITCH 1.10.12
// (the sandbox of test/sandbox/freeswitch-sandbox.ts, configured from the shipped
// dialplan/freeswitch/ files), three paths on the same switch, interleaved A B C A B C ...:
//  A. plain `bridge`: agent 1009 in the sandbox's plain-outbound context, straight to the
//     gateway with a fixed caller ID; no socket;
//  B. the bare socket floor: the shipped callpolicy-outbound path (agent 1001 dials 9 + number),
//     and on the decision port a tiny server that does the least a decision can: connect, one
//     multiset with the same variables the adapter writes, exit;
//  C. the adapter, in this process, with a group-strategy policy (alice = user/1001).
// PDD is what the agent's sipp logs: the authenticated INVITE sent to the first 180/183/200, with
// microsecond timestamps (fs-agent-call.xml). The sipp trunk answers at once with 180 + 200, so
// this is INVITE-to-answer through FreeSWITCH. Also: FreeSWITCH's own CPU (utime + stime of its
// process) per call, per path, and whether each call reached the trunk with the expected caller ID.
//
// One decision port for B and C. The dialplan reads `$${callpolicy_socket}`, which FreeSWITCH
// substitutes when the XML is loaded: switching ports would need a `reloadxml` per batch (and no
// call in flight at that moment). Simpler and just as correct: the listener on the one port is
// swapped between batches. The adapter's decision server is bound by startAdapter and released
// only by adapter.stop(), so each C batch builds an adapter (same database, the policy applied
// once, by the first) and stops it afterwards; each B batch starts and stops the bare server.
// Every batch, of every path, starts with a few uncounted warm-up calls, so that an adapter's
// first calls (new pool, new links) count no more than anything else's.
//
// Ports are this bench's own, away from the integration tests' (SIP 5160/5162, ESL 8031,
// decisions 8094, sipp 5171-5191, RTP 23000-23999), which may run on this machine meanwhile:
// figures are noisy then, as they are.
// Runs alone: `npx tsx test/bench/freeswitch-real-bench.ts`. Options (environment):
// BENCH_FS_REAL_ROUNDS (3), BENCH_FS_REAL_CALLS (200 per path and round).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startAdapter } from '../../src/adapter.js';
import { createLogger } from '../../src/log.js';
import { applyPolicyText, fsAdapterEnv } from '../integration/fs-harness.js';
import { FS_DEFAULT_NUMBER, FS_EMERGENCY_NUMBER, FS_OUTSIDE_LINE, FS_TEST_DIALPLAN } from '../integration/fs-topology.js';
import { startFreeswitchSandbox, type FsSandbox, type FsSandboxAgent } from '../sandbox/freeswitch-sandbox.js';
import { runLoad, startTrunk, type Trunk } from '../sandbox/sipp.js';
import { FS_GROUP_POLICY } from '../support/fake-freeswitch/driver-on-fake.js';
import { createTempDatabase } from '../support/temp-database.js';
import { percentile } from './decision-bench.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const WORK_DIR = path.join(REPO, 'test', 'bench', '.work', 'freeswitch-real');

const RATE = 20;
const ROUNDS = Number(process.env.BENCH_FS_REAL_ROUNDS ?? 3);
const CALLS = Number(process.env.BENCH_FS_REAL_CALLS ?? 200);
const WARMUP_CALLS = 20;
const HOLD_MS = 1000;

const PORTS = { agentSip: 6160, carrierSip: 6162, esl: 8041, decision: 8104, trunk: 6180, rtp: [25000, 25999] as [number, number] };
const AGENT: FsSandboxAgent = { user: '1001', port: 6171, name: 'Extension 1001' };
const PLAIN_AGENT: FsSandboxAgent = { user: '1009', port: 6179, name: 'Extension 1009', context: 'plain-outbound' };

const DIALLED = '+12125550123';
/** The caller ID the group policy gives alice (FS_GROUP_POLICY's one sales number); B sends the same. */
const SALES_NUMBER = '+14155550100';

// ---------------------------------------------------------------------------------------------
// B: the bare socket server

interface Frame {
  headers: Map<string, string>;
  body: string;
}

/** Reads event-socket frames from a socket: headers up to the blank line, then Content-Length bytes of body. */
function frameReader(sock: net.Socket): () => Promise<Frame> {
  let buf = Buffer.alloc(0);
  let closed = false;
  let wake: (() => void) | undefined;
  const poke = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  sock.on('data', (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    poke();
  });
  sock.on('close', () => {
    closed = true;
    poke();
  });
  return async () => {
    for (;;) {
      const end = buf.indexOf('\n\n');
      if (end >= 0) {
        const headers = new Map<string, string>();
        for (const line of buf.subarray(0, end).toString('utf8').split('\n')) {
          const colon = line.indexOf(':');
          if (colon > 0) headers.set(line.slice(0, colon), line.slice(colon + 1).trim());
        }
        const length = Number(headers.get('Content-Length') ?? 0);
        if (buf.length >= end + 2 + length) {
          const body = buf.subarray(end + 2, end + 2 + length).toString('utf8');
          buf = buf.subarray(end + 2 + length);
          return { headers, body };
        }
      }
      if (closed) throw new Error('FreeSWITCH closed the socket before a whole reply');
      await new Promise<void>((resolve) => (wake = resolve));
    }
  };
}

/** The least a decision can be: connect, one multiset (what the adapter writes for a dial), exit. */
async function bareDecision(sock: net.Socket): Promise<void> {
  const next = frameReader(sock);
  sock.write('connect\n\n');
  const channel = await next();
  // The connect reply carries the channel's variables as headers, values URL-encoded.
  const dest = channel.headers.get('variable_callpolicy_dest');
  if (!dest) throw new Error('no variable_callpolicy_dest in the connect reply');
  const vars = [`effective_caller_id_number=${SALES_NUMBER}`, `effective_caller_id_name=${SALES_NUMBER}`, `callpolicy_dest=${decodeURIComponent(dest)}`, 'callpolicy_survey=0', 'callpolicy_route=dial'];
  sock.write(`sendmsg\ncall-command: execute\nexecute-app-name: multiset\nexecute-app-arg: ^^|${vars.join('|')}\n\n`);
  const reply = await next();
  const text = reply.headers.get('Reply-Text') ?? '';
  if (!text.startsWith('+OK')) throw new Error(`multiset: ${text || 'no Reply-Text'}`);
  // FreeSWITCH answers +OK bye, sends its disconnect notice and closes; our end follows it
  // (allowHalfOpen is off), and the socket application returns to the dialplan.
  sock.write('exit\n\n');
}

interface Listener {
  stop(): Promise<void>;
}

async function startBareServer(port: number, onError: (err: Error) => void): Promise<Listener> {
  const open = new Set<net.Socket>();
  const server = net.createServer({ noDelay: true }, (sock) => {
    open.add(sock);
    sock.once('close', () => open.delete(sock));
    sock.on('error', () => undefined); // a reset after exit is FreeSWITCH closing; nothing to do
    bareDecision(sock).catch((err: Error) => {
      onError(err);
      sock.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const sock of open) sock.destroy();
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// C: the adapter, built as test/integration/fs-harness.ts's startFsAdapter does, on our ports

interface AdapterStore {
  databaseUrl: string;
  dataDir: string;
  policyApplied: boolean;
}

async function startBenchAdapter(sandbox: FsSandbox, store: AdapterStore): Promise<Listener> {
  const adapter = await startAdapter(fsAdapterEnv(sandbox, store.databaseUrl, store.dataDir), createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'), { http: false });
  try {
    await adapter.connected;
    // The policy lives in the database: applied once, read back by every later adapter at start.
    if (!store.policyApplied) {
      await applyPolicyText(adapter, FS_GROUP_POLICY, store.dataDir, 'bench.yaml');
      store.policyApplied = true;
    }
  } catch (err) {
    await adapter.stop().catch(() => undefined);
    throw err;
  }
  return { stop: () => adapter.stop() };
}

// ---------------------------------------------------------------------------------------------
// FreeSWITCH's CPU

/** FreeSWITCH's pid: its -run folder's freeswitch.pid, else the process started with our -conf. */
function freeswitchPid(workDir: string): number {
  const pidFile = path.join(workDir, 'run', 'freeswitch.pid');
  if (existsSync(pidFile)) return Number(readFileSync(pidFile, 'utf8').trim());
  const conf = path.join(workDir, 'conf');
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (args.some((a) => a.endsWith('/freeswitch')) && args[args.indexOf('-conf') + 1] === conf) return Number(entry);
    } catch {
      // the process went away meanwhile
    }
  }
  throw new Error(`cannot find the FreeSWITCH process of ${workDir}`);
}

const CLOCK_TICKS_PER_S = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** utime + stime of a process (all its threads), in ms. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces: state is field 3.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_S;
}

// ---------------------------------------------------------------------------------------------
// The batches

type PathName = 'plain' | 'bare' | 'adapter';

interface PathFigures {
  pdd: number[];
  calls: number;
  notAnswered: number;
  /** INVITEs the trunk got in the measured calls, and those among them with another caller ID. */
  trunkInvites: number;
  wrongCallerId: number;
  leftUp: number;
  cpuMs: number;
}

interface Bench {
  sandbox: FsSandbox;
  trunk: Trunk;
  pid: number;
  sippDir: string;
}

/** No call left in FreeSWITCH; after 15 s the rest are hung up and counted. */
async function drain(sandbox: FsSandbox): Promise<number> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const count = await sandbox.channelCount();
    if (count === 0) return 0;
    if (Date.now() > deadline) {
      await sandbox.api('hupall NORMAL_CLEARING');
      return count;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

function load(b: Bench, pathName: PathName, calls: number) {
  const agent = pathName === 'plain' ? PLAIN_AGENT : AGENT;
  return runLoad({
    fromPort: agent.port,
    fromUser: agent.user,
    fromName: `Agent ${agent.user}`,
    to: `${FS_OUTSIDE_LINE}${DIALLED}`,
    server: b.sandbox.agentSipServer,
    rate: RATE,
    calls,
    holdMs: HOLD_MS,
    scenario: 'fs-agent-call.xml',
    vars: { AUTH_USER: agent.user, AUTH_PASSWORD: b.sandbox.agentPassword },
    workDir: b.sippDir,
  });
}

/** One batch of a path: its listener up, warm-up, CALLS measured calls (PDD, CPU, caller IDs at the trunk), listener down. */
async function batch(b: Bench, pathName: PathName, startListener: () => Promise<Listener | null>, into: PathFigures): Promise<void> {
  const listener = await startListener();
  try {
    await load(b, pathName, WARMUP_CALLS);
    into.leftUp += await drain(b.sandbox);
    await b.trunk.takeInvites();
    const cpuBefore = cpuMs(b.pid);
    const r = await load(b, pathName, CALLS);
    into.leftUp += await drain(b.sandbox);
    into.cpuMs += cpuMs(b.pid) - cpuBefore;
    into.pdd.push(...r.pddMs);
    into.calls += CALLS;
    into.notAnswered += r.failed;
    const expected = pathName === 'plain' ? FS_DEFAULT_NUMBER : SALES_NUMBER;
    const invites = await b.trunk.takeInvites();
    into.trunkInvites += invites.length;
    // A call that reached the trunk with another number took another route (the adapter-down default, say).
    into.wrongCallerId += invites.filter((i) => decodeURIComponent(i.fromUser) !== expected).length;
  } finally {
    await listener?.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// Figures

const f = (n: number) => n.toFixed(2);
const signed = (n: number) => `${n >= 0 ? '+' : ''}${n.toFixed(2)}`;

function row(name: string, p: PathFigures): string {
  const xs = p.pdd;
  return `  ${name.padEnd(38)} n=${xs.length}  p50 ${f(percentile(xs, 50))} ms  p90 ${f(percentile(xs, 90))} ms  p99 ${f(percentile(xs, 99))} ms  max ${f(xs.at(-1) ?? NaN)} ms`;
}

function over(a: PathFigures, b: PathFigures): { p50: number; p99: number } {
  return { p50: percentile(a.pdd, 50) - percentile(b.pdd, 50), p99: percentile(a.pdd, 99) - percentile(b.pdd, 99) };
}

function failures(p: PathFigures): string {
  return `${p.notAnswered + p.wrongCallerId + p.leftUp} (${p.notAnswered} not answered, ${p.wrongCallerId} of ${p.trunkInvites} trunk INVITEs with another caller ID, ${p.leftUp} left up)`;
}

function report(version: string, figures: Record<PathName, PathFigures>, bareErrors: string[], idleCpuMsPerS: number): string[] {
  const { plain, bare, adapter } = figures;
  for (const p of Object.values(figures)) p.pdd.sort((x, y) => x - y);
  const bareOverPlain = over(bare, plain);
  const adapterOverPlain = over(adapter, plain);
  const adapterOverBare = over(adapter, bare);
  const met = adapterOverBare.p50 <= 0.5 ? 'met' : 'missed';
  const cpu = (p: PathFigures) => `${f(p.cpuMs / p.calls)} ms`;
  return [
    `  FreeSWITCH (real ${version}), post-dial delay at ${RATE} calls/s, ${ROUNDS} x ${CALLS} calls per path, interleaved: ` +
      `plain bridge p50 ${f(percentile(plain.pdd, 50))} p90 ${f(percentile(plain.pdd, 90))} p99 ${f(percentile(plain.pdd, 99))} ms; ` +
      `bare socket (connect, one multiset, exit) ${signed(bareOverPlain.p50)} ms p50 / ${signed(bareOverPlain.p99)} p99 over plain; ` +
      `adapter ${signed(adapterOverPlain.p50)} ms p50 / ${signed(adapterOverPlain.p99)} p99 over plain, ${signed(adapterOverBare.p50)} / ${signed(adapterOverBare.p99)} over the bare socket ` +
      `(target: within +0.5 ms p50 of the bare socket: ${met})`,
    row('A plain bridge (plain-outbound)', plain),
    row('B bare socket (connect, multiset, exit)', bare),
    row('C adapter (group caller ID)', adapter),
    `  failures: plain ${failures(plain)}; bare socket ${failures(bare)}; adapter ${failures(adapter)}` +
      (bareErrors.length ? `; bare server errors ${bareErrors.length} (first: ${bareErrors[0]})` : ''),
    `  FreeSWITCH CPU (utime+stime) per call, warm-up excluded: plain ${cpu(plain)}, bare socket ${cpu(bare)}, adapter ${cpu(adapter)} ` +
      `(${1000 / CLOCK_TICKS_PER_S} ms ticks; includes its idle load, ${f(idleCpuMsPerS)} ms per s measured at rest, about ${f((idleCpuMsPerS * (CALLS / RATE + HOLD_MS / 1000)) / CALLS)} ms per call)`,
  ];
}

/** FreeSWITCH's CPU at rest, ms per s: the share of each batch's figure that is not the calls. */
async function idleCpu(pid: number, ms = 3000): Promise<number> {
  const before = cpuMs(pid);
  await new Promise((r) => setTimeout(r, ms));
  return ((cpuMs(pid) - before) * 1000) / ms;
}

export async function benchFreeswitchReal(): Promise<string[]> {
  const sandbox = await startFreeswitchSandbox({
    workDir: WORK_DIR,
    agents: [AGENT, PLAIN_AGENT],
    agentSipPort: PORTS.agentSip,
    carrierSipPort: PORTS.carrierSip,
    trunkPort: PORTS.trunk,
    eslPort: PORTS.esl,
    decisionPort: PORTS.decision,
    rtpPorts: PORTS.rtp,
    defaultCallerIdNumber: FS_DEFAULT_NUMBER,
    emergencyCallerId: FS_EMERGENCY_NUMBER,
    extraDialplan: FS_TEST_DIALPLAN,
  });
  const sippDir = path.join(WORK_DIR, 'sipp');
  let trunk: Trunk | undefined;
  let db: Awaited<ReturnType<typeof createTempDatabase>> | undefined;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'callpolicy-fs-real-bench-'));
  let done = false;
  try {
    trunk = await startTrunk({ port: PORTS.trunk, traceMessages: false, holdMs: 60_000, workDir: sippDir });
    db = await createTempDatabase();
    const version = /FreeSWITCH Version (\S+)/.exec(await sandbox.api('version'))?.[1] ?? 'version unknown';
    const b: Bench = { sandbox, trunk, pid: freeswitchPid(WORK_DIR), sippDir };
    const idle = await idleCpu(b.pid);
    const store: AdapterStore = { databaseUrl: db.url, dataDir, policyApplied: false };
    const bareErrors: string[] = [];
    const listeners: Record<PathName, () => Promise<Listener | null>> = {
      plain: async () => null,
      bare: () => startBareServer(sandbox.decisionPort, (err) => bareErrors.push(err.message)),
      adapter: () => startBenchAdapter(sandbox, store),
    };
    const empty = (): PathFigures => ({ pdd: [], calls: 0, notAnswered: 0, trunkInvites: 0, wrongCallerId: 0, leftUp: 0, cpuMs: 0 });
    const figures: Record<PathName, PathFigures> = { plain: empty(), bare: empty(), adapter: empty() };
    for (let round = 0; round < ROUNDS; round++) {
      for (const name of ['plain', 'bare', 'adapter'] as const) await batch(b, name, listeners[name], figures[name]);
    }
    const lines = report(version, figures, bareErrors, idle);
    done = true;
    return lines;
  } finally {
    await trunk?.stop().catch(() => undefined);
    await sandbox.stop();
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
    // Kept when something failed (FreeSWITCH's log, sipp's files); nothing worth keeping otherwise.
    if (done) rmSync(WORK_DIR, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(`== (8b) FreeSWITCH (real, sandbox): post-dial delay, plain bridge / bare socket / adapter, ${RATE} calls/s, ${ROUNDS} x ${CALLS} calls per path`);
  benchFreeswitchReal()
    .then((lines) => {
      for (const l of lines) console.log(l);
      process.exit(0);
    })
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
