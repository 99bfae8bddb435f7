// Faults under load (issue 5). Each fault runs on the sandboxed Asterisk, a PRIVATE PostgreSQL
// (test/support/private-postgres.ts: stopped and restarted at will, never the shared server) and
// sipp: AGENT_ONE places calls at 10/s (1 s talk) to 9+14155550123, a sipp trunk answers, AGENT_TWO
// dials 911 every 2 s. The adapter runs as its own process (`node --import tsx src/main.ts`),
// the way an administrator runs it, after `callpolicy apply`. For every fault:
// - failed calls: none, except calls placed while Asterisk itself was down (counted apart);
// - post-dial delay (INVITE to first 180/200 at the agent's phone): under 2.5 s for every call
//   (the dialplan bounds the wait for the adapter to 2 s);
// - emergency calls reach the trunk at once (answered, PDD under 1 s) whatever the adapter does;
// - records: once the database is back, one row per call that reached the adapter (its
//   "outbound caller ID" log lines), each with its end (ended_at) once the calls are over.
// - inbound calls: a customer whom carol (1003) called an hour ago calls the DID at 2/s (call memory,
//   agent-first): none fails (outside Asterisk's own restart), each reaches carol's phone or the
//   IVR's within 2.5 s, and every inbound call the adapter routed is recorded.
// One line of figures per fault (console.log, "[fault] ...") for the closing notes.
//
// Faults: adapter SIGKILL (left dead; restarted 3 s later), Asterisk `core restart now`,
// PostgreSQL `pg_ctl restart -m fast`, PostgreSQL down for 15 s (the issue says 60 s; 15 s keeps
// the suite under 4 minutes and crosses the same code paths: failed writes, back-off, retry),
// PostgreSQL down when the adapter starts, ARI's answers and events delayed by 300 ms, 1.7 s, then
// 2.5 s (a TCP proxy in front of Asterisk's HTTP port; requests reach Asterisk at once).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, test } from 'vitest';
import { asteriskCli, asteriskRootDir, findAsteriskProcesses } from '../sandbox/asterisk-sandbox.js';
import { runLoadPerCall, startAgentPhone, startTrunk, type LoadCall, type ReceivedInvite, type Trunk } from '../sandbox/sipp.js';
import {
  Checks,
  adapterEnvironment,
  ariAnswers,
  decisionsInLog,
  effectiveAction,
  freePort,
  ms,
  pddSummary,
  problemsInLog,
  readAdapterLog,
  readCallRows,
  runCli,
  startAdapterProcess,
  startDelayProxy,
  startEmergencyCalls,
  truncateCalls,
  waitForRows,
  type AdapterProcess,
  type CallRow,
  type DelayProxy,
  type EmergencyCall,
  type LogLine,
} from '../support/fault-rig.js';
import { startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres.js';
import { ariGet, assertNoChannelsLeft } from './ari-checks.js';
import { integrationEnv } from './env.js';
import { AGENT_ONE, AGENT_THREE, AGENT_TWO, CUSTOMER_PORT, DEFAULT_NUMBER, EMERGENCY_NUMBER, IVR_PHONE, OUTSIDE_LINE, TRUNK_PORT } from './topology.js';

const ienv = integrationEnv();
const HERE = path.dirname(fileURLToPath(import.meta.url));
const WORK = path.join(HERE, '.work', 'faults');

const CALLEE = '+14155550123';
const RATE = 10;
const HOLD_MS = 1000;
/** The dialplan's 2 s bound on the wait for the adapter, plus a margin for the PBX and sipp. */
const PDD_LIMIT_MS = 2500;
const EMERGENCY_PDD_LIMIT_MS = 1000;
const EMERGENCY_EVERY_MS = 2000;
/** The adapter writes every 100 ms; SIGKILL may take the last unwritten batch with it. */
const UNFLUSHED_AT_KILL_MS = 300;
/** Inbound: a customer carol called an hour ago calls the DID back, at 2 calls/s. */
const REMEMBERED = '+14155550177';
const INBOUND_RATE = 2;
const POOL = ['+14155550100', '+14155550101', '+14155550102', '+14155550103', '+14155550104', '+14155550105', '+14155550106', '+14155550107'];

const POLICY = `
defaultCountry: US
callerId:
  strategy: group
  selection: lru
trunks:
  trunk: { callerIdFormat: e164, displayName: "ACME Support" }
groups: [sales]
numbers:
${POOL.map((n) => `  - { number: "${n}", groups: [sales] }`).join('\n')}
memory: { mode: agent-first, ringSeconds: 5 }
agents:
  - { id: alice, endpoint: PJSIP/${AGENT_ONE.endpoint}, groups: [sales] }
  - { id: bob, endpoint: PJSIP/${AGENT_TWO.endpoint}, groups: [sales] }
  - { id: carol, endpoint: PJSIP/${AGENT_THREE.endpoint}, groups: [sales] }
`;

/** Empties the records, keeping the call carol made to the customer who calls back. */
const resetCalls = () => truncateCalls(dbUrl, { agentId: 'carol', endpoint: `PJSIP/${AGENT_THREE.endpoint}`, customer: REMEMBERED });

let pgi: PrivatePostgres;
let dbUrl: string;
let trunk: Trunk;
let carolPhone: Trunk;
let ivrPhone: Trunk;
let adapterEnv: NodeJS.ProcessEnv;
let adapters: AdapterProcess[] = [];
let proxy: DelayProxy | undefined;

function startAdapter(logFile: string, overrides: NodeJS.ProcessEnv = {}): AdapterProcess {
  const a = startAdapterProcess({ ...adapterEnv, ...overrides }, logFile);
  adapters.push(a);
  return a;
}

beforeAll(async () => {
  const apps = await ariGet<{ name: string }[]>('/applications');
  assert.ok(!apps.some((a) => a.name === ienv.ariApp), `the Stasis app "${ienv.ariApp}" is registered: these tests run their own adapter`);
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  pgi = await startPrivatePostgres();
  dbUrl = await pgi.createDatabase('callpolicy_faults');
  adapterEnv = adapterEnvironment({
    ariUrl: ienv.ariUrl,
    ariUser: ienv.ariUser,
    ariPassword: ienv.ariPassword,
    ariApp: ienv.ariApp,
    databaseUrl: dbUrl,
    dataDir: path.join(WORK, 'data'),
    httpPort: await freePort(),
  });
  const policyFile = path.join(WORK, 'policy.yaml');
  writeFileSync(policyFile, POLICY);
  runCli(adapterEnv, 'apply', policyFile);
  trunk = await startTrunk({ port: TRUNK_PORT, traceMessages: false });
  // The customer hangs up after HOLD_MS; the phones end a call 4 s after answering if no BYE came
  // (once, under ARI +2.5 s, an IVR call stayed up 23 s: the customer's BYE never took effect).
  carolPhone = await startAgentPhone({ port: AGENT_THREE.port, traceMessages: false, holdMs: 4000 });
  ivrPhone = await startAgentPhone({ port: IVR_PHONE.port, traceMessages: false, holdMs: 4000 });
});

afterAll(async () => {
  for (const a of adapters) await a.stop();
  await proxy?.close();
  await trunk?.stop();
  await carolPhone?.stop();
  await ivrPhone?.stop();
  await pgi?.destroy();
});

afterEach(async () => {
  for (const a of adapters) await a.stop();
  adapters = [];
  await proxy?.close();
  proxy = undefined;
  // A fault that failed half-way may have left the database stopped.
  if (pgi && !(await pgi.accepting())) await pgi.start();
  await assertNoChannelsLeft(8000);
});

// ---------------------------------------------------------------------------------------------
// One load with a fault in the middle, and what it left behind

interface Window {
  from: number;
  to: number;
}

interface FaultRun {
  t0: number;
  calls: LoadCall[];
  statuses: Record<number, number>;
  emergency: EmergencyCall[];
  loadInvites: ReceivedInvite[];
  emergencyInvites: ReceivedInvite[];
  logFile: string;
  log: LogLine[];
  decided: Map<string, LogLine>;
  rows: CallRow[];
  rowsError?: string;
  inbound: {
    calls: LoadCall[];
    /** INVITEs at carol's phone (memory) and at the IVR's, during the run. */
    toAgent: number;
    toIvr: number;
    /** "inbound route" log lines by channel: the calls the adapter routed. */
    routed: Map<string, LogLine>;
    rows: CallRow[];
  };
}

/** Reads the log until its decisions stop growing (a late decision is logged seconds after its call). */
async function settledLog(logFile: string, since: number, quietMs = 1500, maxMs = 15_000): Promise<LogLine[]> {
  const started = Date.now();
  const decisions = (log: LogLine[]) => decisionsInLog(log.filter((l) => (l.time ?? 0) >= since)).size;
  let log = await readAdapterLog(logFile);
  let count = decisions(log);
  let stableSince = Date.now();
  for (let i = 0; i < 200 && Date.now() - started < maxMs; i++) {
    await sleep(250);
    log = await readAdapterLog(logFile);
    const n = decisions(log);
    if (n !== count) {
      count = n;
      stableSince = Date.now();
    } else if (Date.now() - stableSince >= quietMs) {
      break;
    }
  }
  return log;
}

async function runWithFault(opts: {
  logFile: string;
  calls: number;
  fault: (t0: number) => Promise<void>;
  /** How long the records may take to arrive after the calls are over. */
  recordsWithinMs: number;
  /** Rows the records check waits for (default: every decided call, each ended). */
  recordsDone?: (rows: CallRow[], decided: Map<string, LogLine>) => boolean;
}): Promise<FaultRun> {
  await trunk.takeInvites();
  await carolPhone.takeInvites();
  await ivrPhone.takeInvites();
  const emergency = startEmergencyCalls({ fromPort: AGENT_TWO.port, fromUser: AGENT_TWO.endpoint, server: ienv.sipServer, dialled: '911', everyMs: EMERGENCY_EVERY_MS });
  const t0 = Date.now();
  const [load, inbound, fault] = await Promise.allSettled([
    runLoadPerCall({ fromPort: AGENT_ONE.port, fromUser: AGENT_ONE.endpoint, to: `${OUTSIDE_LINE}${CALLEE}`, rate: RATE, calls: opts.calls, holdMs: HOLD_MS, recvTimeoutMs: 6000, server: ienv.sipServer }),
    runLoadPerCall({ fromPort: CUSTOMER_PORT, fromUser: REMEMBERED, to: '+15550001000', rate: INBOUND_RATE, calls: Math.ceil((opts.calls / RATE) * INBOUND_RATE), holdMs: HOLD_MS, recvTimeoutMs: 12_000, server: ienv.sipServer }),
    opts.fault(t0),
  ]);
  const emergencyCalls = await emergency.stop();
  if (load.status === 'rejected') throw load.reason;
  if (inbound.status === 'rejected') throw inbound.reason;
  if (fault.status === 'rejected') throw fault.reason;
  await sleep(300);
  const invites = await trunk.takeInvites();
  // The log file may hold earlier runs (one file per fault, several loads in fault 6).
  const log = (await settledLog(opts.logFile, t0)).filter((l) => (l.time ?? 0) >= t0);
  const decided = decisionsInLog(log);
  const done = opts.recordsDone ?? ((rows: CallRow[], d: Map<string, LogLine>) => {
    const byId = new Map(rows.map((r) => [r.channelId, r]));
    return [...d.keys()].every((id) => byId.get(id)?.endedAt);
  });
  const { rows, error } = await waitForRows(dbUrl, (rows) => done(rows, decided), opts.recordsWithinMs);
  const routed = new Map(log.filter((l) => l.msg === 'inbound route' && typeof l.channel === 'string').map((l) => [l.channel as string, l]));
  // Inbound rows are written in the same batches as outbound ones: those are in by now, or late for the same reason.
  const inboundRows = await readCallRows(dbUrl, 'inbound').catch(() => []);
  return {
    inbound: {
      calls: inbound.value.calls,
      toAgent: (await carolPhone.takeInvites()).filter((i) => i.fromUser === REMEMBERED).length,
      toIvr: (await ivrPhone.takeInvites()).filter((i) => i.fromUser === REMEMBERED).length,
      routed,
      rows: inboundRows,
    },
    t0,
    calls: load.value.calls,
    statuses: load.value.statuses,
    emergency: emergencyCalls,
    loadInvites: invites.filter((i) => i.toUser === CALLEE),
    emergencyInvites: invites.filter((i) => i.toUser === '911'),
    logFile: opts.logFile,
    log,
    decided,
    rows,
    ...(error ? { rowsError: error } : {}),
  };
}

const inWindow = (t: number, windows: Window[]) => windows.some((w) => t >= w.from && t <= w.to);

interface Verdict {
  /** Calls placed while the PBX was down: may fail, and their PDD is not the adapter's. */
  pbxDown?: Window[];
  /** Decided calls allowed to have no row (lost with a killed process). */
  mayBeUnrecorded?: (decision: LogLine) => boolean;
  /** Rows allowed to have no end (their call ended while no adapter was running at all). */
  mayLackEnd?: (row: CallRow) => boolean;
  /** Every load call must leave with a pool number (decided), none with the default. */
  allDecided?: boolean;
  outage: string;
  extra?: string;
}

/** Prints the fault's figure line and checks what every fault must satisfy. */
function judge(name: string, run: FaultRun, v: Verdict, checks = new Checks(name)): Checks {
  const down = v.pbxDown ?? [];
  const placed = run.calls.length;
  const counted = run.calls.filter((c) => !inWindow(c.invitedAt, down));
  const duringDown = run.calls.filter((c) => inWindow(c.invitedAt, down));
  const answered = run.calls.filter((c) => c.finalStatus === 200).length;
  const failed = counted.filter((c) => c.finalStatus !== 200);
  const failedDown = duringDown.filter((c) => c.finalStatus !== 200).length;
  const pdd = pddSummary(counted.filter((c) => c.finalStatus === 200 && c.pddMs !== null).map((c) => c.pddMs!));
  const slowest = counted.filter((c) => (c.pddMs ?? 0) >= PDD_LIMIT_MS);

  const pool = run.loadInvites.filter((i) => POOL.includes(i.fromUser)).length;
  const dflt = run.loadInvites.filter((i) => i.fromUser === DEFAULT_NUMBER).length;
  const other = run.loadInvites.length - pool - dflt;

  const emCounted = run.emergency.filter((e) => !inWindow(e.startedAt, down));
  const emBad = emCounted.filter((e) => e.finalStatus !== 200 || e.pddMs === null || e.pddMs >= EMERGENCY_PDD_LIMIT_MS);
  const emOk = run.emergency.filter((e) => e.finalStatus === 200).length;
  const emMax = Math.max(...emCounted.map((e) => e.pddMs ?? Infinity));

  const byId = new Map(run.rows.map((r) => [r.channelId, r]));
  const unrecorded = [...run.decided.values()].filter((d) => !byId.has(d.channel!));
  const unrecordedAllowed = unrecorded.filter((d) => v.mayBeUnrecorded?.(d) ?? false);
  const noEnd = run.rows.filter((r) => !r.endedAt);
  const noEndAllowed = noEnd.filter((r) => v.mayLackEnd?.(r) ?? false);
  const notFromLog = run.rows.filter((r) => !run.decided.has(r.channelId)).length;

  console.log(
    `[fault] ${name}: placed ${placed}, answered ${answered}, failed ${failed.length + failedDown}` +
      (down.length
        ? ` (${failedDown} of ${duringDown.length} placed while Asterisk was down, answers ${JSON.stringify(countBy(duringDown.map((c) => String(c.finalStatus ?? 'none'))))}; ${failed.length} otherwise)`
        : '') +
      `; PDD p50 ${ms(pdd.p50)} p99 ${ms(pdd.p99)} max ${ms(pdd.max)} (n=${pdd.n}${down.length ? ', Asterisk-down calls excluded' : ''})` +
      `; trunk caller IDs: ${pool} pool, ${dflt} default${other ? `, ${other} other` : ''}` +
      `; records ${run.rows.length} written vs ${run.decided.size} decided vs ${placed} placed, ${noEnd.length} without end${run.rowsError ? ` (last read failed: ${run.rowsError})` : ''}` +
      `; emergency ${emOk}/${run.emergency.length} answered, max PDD ${ms(emMax)}, ${run.emergencyInvites.length} at the trunk` +
      `; outage ${v.outage}${v.extra ? `; ${v.extra}` : ''}`,
  );
  const problems = problemsInLog(run.log, run.t0);
  if (Object.keys(problems).length) console.log(`[fault] ${name}: adapter warnings/errors: ${JSON.stringify(problems)}`);

  checks.check(failed.length === 0, `failed calls: ${failed.length} (${failed.slice(0, 5).map((c) => `#${c.call} at +${c.invitedAt - run.t0} ms: ${c.finalStatus ?? 'no answer'}`).join(', ')}); statuses ${JSON.stringify(run.statuses)}`);
  checks.check(slowest.length === 0 && pdd.n > 0, `post-dial delay: ${slowest.length} calls at or over ${PDD_LIMIT_MS} ms (max ${ms(pdd.max)}; e.g. ${slowest.slice(0, 5).map((c) => `#${c.call} +${c.invitedAt - run.t0} ms: ${ms(c.pddMs!)}`).join(', ')})`);
  checks.check(emBad.length === 0 && emCounted.length > 0, `emergency calls: ${emBad.length} of ${emCounted.length} not answered within ${EMERGENCY_PDD_LIMIT_MS} ms (${emBad.map((e) => `+${e.startedAt - run.t0} ms: ${e.finalStatus ?? e.error ?? 'no answer'} pdd ${ms(e.pddMs ?? NaN)}`).join('; ')})`);
  checks.check(run.emergencyInvites.length >= emOk && run.emergencyInvites.every((i) => i.fromUser === EMERGENCY_NUMBER), `emergency INVITEs at the trunk: ${run.emergencyInvites.length} for ${emOk} answered, From ${[...new Set(run.emergencyInvites.map((i) => i.fromUser))].join(',')}`);
  checks.check(run.decided.size > 0, 'some calls reached the adapter and were decided');
  checks.check(
    unrecorded.length === unrecordedAllowed.length,
    `records: ${unrecorded.length - unrecordedAllowed.length} decided calls have no row after the database was back (${run.rows.length} rows for ${run.decided.size} decided; e.g. ${unrecorded.filter((d) => !(v.mayBeUnrecorded?.(d) ?? false)).slice(0, 3).map((d) => `${d.channel} decided at +${(d.time ?? 0) - run.t0} ms (${d.reason})`).join(', ')})`,
  );
  checks.check(notFromLog === 0, `records: ${notFromLog} rows for calls that no "outbound caller ID" line mentions`);
  checks.check(run.rows.length <= placed, `records: ${run.rows.length} rows for ${placed} calls placed`);
  checks.check(
    noEnd.length === noEndAllowed.length,
    `records: ${noEnd.length - noEndAllowed.length} rows have no end once the calls are over (e.g. ${noEnd.filter((r) => !(v.mayLackEnd?.(r) ?? false)).slice(0, 3).map((r) => `${r.channelId} decided at +${r.decidedAt.getTime() - run.t0} ms, ${r.action}/${r.reason}`).join(', ')})`,
  );
  // Inbound calls (call memory): every one reaches carol or the IVR, none waits past the bound.
  const inCounted = run.inbound.calls.filter((c) => !inWindow(c.invitedAt, down));
  const inFailed = inCounted.filter((c) => c.finalStatus !== 200);
  const inSlow = inCounted.filter((c) => (c.pddMs ?? 0) >= PDD_LIMIT_MS);
  const inAnswered = run.inbound.calls.filter((c) => c.finalStatus === 200).length;
  const inPdd = pddSummary(inCounted.filter((c) => c.finalStatus === 200 && c.pddMs !== null).map((c) => c.pddMs!));
  const inRows = new Map(run.inbound.rows.map((r) => [r.channelId, r]));
  const inUnrecorded = [...run.inbound.routed.values()].filter((d) => !inRows.has(d.channel!) && !(v.mayBeUnrecorded?.(d) ?? false));
  console.log(
    `[fault] ${name}: inbound placed ${run.inbound.calls.length}, answered ${inAnswered}, failed ${inFailed.length}${down.length ? ' (Asterisk-down calls excluded)' : ''}; ` +
      `to carol ${run.inbound.toAgent}, to the IVR ${run.inbound.toIvr}; PDD p50 ${ms(inPdd.p50)} p99 ${ms(inPdd.p99)} max ${ms(inPdd.max)}; ` +
      `routed by the adapter ${run.inbound.routed.size}, recorded ${run.inbound.rows.length}; reasons ${JSON.stringify(countBy(run.inbound.rows.map((r) => r.reason)))}`,
  );
  checks.check(inFailed.length === 0, `inbound calls: ${inFailed.length} failed (${inFailed.slice(0, 5).map((c) => `#${c.call} at +${c.invitedAt - run.t0} ms: ${c.finalStatus ?? 'no answer'}`).join(', ')})`);
  checks.check(inSlow.length === 0 && inPdd.n > 0, `inbound calls: ${inSlow.length} waited ${PDD_LIMIT_MS} ms or more for the first ring (max ${ms(inPdd.max)})`);
  checks.check(run.inbound.toAgent + run.inbound.toIvr >= inAnswered, `inbound calls: ${inAnswered} answered but only ${run.inbound.toAgent} reached carol and ${run.inbound.toIvr} the IVR`);
  checks.check(inUnrecorded.length === 0, `inbound records: ${inUnrecorded.length} routed calls have no row (e.g. ${inUnrecorded.slice(0, 3).map((d) => `${d.channel} at +${(d.time ?? 0) - run.t0} ms`).join(', ')})`);
  checks.check(run.inbound.rows.length <= run.inbound.calls.length, `inbound records: ${run.inbound.rows.length} rows for ${run.inbound.calls.length} calls`);
  if (v.allDecided) {
    checks.check(dflt === 0 && other === 0 && pool === run.loadInvites.length, `decisions: ${dflt} calls left with the default caller ID, ${other} with another number, ${pool} with a pool number (all should be pool numbers)`);
  }
  return checks;
}

// ---------------------------------------------------------------------------------------------

describe('faults under 10 calls/s', () => {
  test('1a. the adapter is killed (SIGKILL) mid-run and stays down', async () => {
    const logFile = path.join(WORK, 'adapter-1a.log');
    const adapter = startAdapter(logFile);
    await adapter.waitHealthy(20_000);
    await resetCalls();
    let killAt = 0;
    const run = await runWithFault({
      logFile,
      calls: 120,
      recordsWithinMs: 5000,
      fault: async (t0) => {
        await sleep(t0 + 5000 - Date.now());
        killAt = Date.now();
        await adapter.kill();
      },
      // Calls talking when the adapter died end with nobody to record it.
      recordsDone: (rows, decided) => [...decided.values()].every((d) => rows.some((r) => r.channelId === d.channel) || (d.time ?? 0) >= killAt - UNFLUSHED_AT_KILL_MS),
    });
    const afterKill = run.calls.filter((c) => c.invitedAt > killAt + 100);
    const checks = judge('adapter SIGKILL, not restarted', run, {
      outage: `adapter killed at +${killAt - run.t0} ms, not restarted (${afterKill.length} calls placed after it)`,
      // Decided but not yet written when it died: they wait in its journal for the next start.
      mayBeUnrecorded: (d) => (d.time ?? 0) >= killAt - UNFLUSHED_AT_KILL_MS,
      // No adapter is running when these calls end: nobody can record their end (until the next start).
      mayLackEnd: (r) => r.decidedAt.getTime() >= killAt - HOLD_MS - 1000,
    });
    // Once an adapter runs again on the same data folder, every decided call has its row (from
    // the killed one's journal) and every row an end (checked against Asterisk, estimated).
    const again = startAdapter(logFile);
    await again.waitHealthy(20_000);
    const after = await waitForRows(dbUrl, (rows) => rows.length >= run.decided.size && rows.every((r) => r.endedAt), 10_000);
    await again.stop();
    const missing = [...run.decided.keys()].filter((id) => !after.rows.some((r) => r.channelId === id));
    const open = after.rows.filter((r) => !r.endedAt);
    console.log(`[fault] adapter SIGKILL, next start: ${after.rows.length} rows for ${run.decided.size} decided, ${missing.length} missing, ${open.length} without end, ${after.rows.filter((r) => r.endEstimated).length} ends estimated`);
    checks.check(missing.length === 0, `after the next start: ${missing.length} decided calls still have no row (${missing.slice(0, 3).join(', ')})`);
    checks.check(open.length === 0, `after the next start: ${open.length} rows still without an end`);
    checks.assertAll();
  });

  test('1b. the adapter is killed (SIGKILL) mid-run and restarted 3 s later', async () => {
    const logFile = path.join(WORK, 'adapter-1b.log');
    const first = startAdapter(logFile);
    await first.waitHealthy(20_000);
    await resetCalls();
    let killAt = 0;
    let restartAt = 0;
    let readyAt = 0;
    const run = await runWithFault({
      logFile,
      calls: 140,
      recordsWithinMs: 8000,
      fault: async (t0) => {
        await sleep(t0 + 4000 - Date.now());
        killAt = Date.now();
        await first.kill();
        await sleep(killAt + 3000 - Date.now());
        restartAt = Date.now();
        const second = startAdapter(logFile);
        readyAt = (await second.waitHealthy(20_000)).at;
      },
    });
    const resumed = run.loadInvites.filter((i) => i.receivedAt > readyAt + 1000);
    const checks = judge('adapter SIGKILL, restarted 3 s later', run, {
      outage: `adapter killed at +${killAt - run.t0} ms, started again at +${restartAt - run.t0} ms, healthy at +${readyAt - run.t0} ms (${((readyAt - killAt) / 1000).toFixed(1)} s without adapter)`,
      extra: `after the restart ${resumed.filter((i) => POOL.includes(i.fromUser)).length}/${resumed.length} calls left with a pool number`,
    });
    checks.check(resumed.length > 0 && resumed.every((i) => POOL.includes(i.fromUser)), `decisions resume after the restart: ${resumed.filter((i) => !POOL.includes(i.fromUser)).length} of ${resumed.length} later calls without a pool number`);
    checks.assertAll();
  });

  test('3. PostgreSQL is restarted (pg_ctl restart -m fast) mid-run', async () => {
    const logFile = path.join(WORK, 'adapter-3.log');
    const adapter = startAdapter(logFile);
    await adapter.waitHealthy(20_000);
    await resetCalls();
    let restartAt = 0;
    let restartedAt = 0;
    const run = await runWithFault({
      logFile,
      calls: 120,
      recordsWithinMs: 15_000,
      fault: async (t0) => {
        await sleep(t0 + 4000 - Date.now());
        restartAt = Date.now();
        await pgi.restart('fast');
        restartedAt = Date.now();
      },
    });
    judge('PostgreSQL restart -m fast', run, {
      allDecided: true,
      outage: `PostgreSQL restarted at +${restartAt - run.t0} ms, accepting again after ${restartedAt - restartAt} ms`,
      extra: `adapter ${adapter.exited() ? 'EXITED' : 'alive'}`,
    }).assertAll();
  });

  // 15 s in CI to keep the suite short; FAULTS_PG_OUTAGE_S=60 runs the issue's minute-long outage.
  const outageS = Number(process.env.FAULTS_PG_OUTAGE_S ?? 15);
  test(`4. PostgreSQL is down for ${outageS} s mid-run, then back`, async () => {
    const logFile = path.join(WORK, 'adapter-4.log');
    const adapter = startAdapter(logFile);
    await adapter.waitHealthy(20_000);
    await resetCalls();
    let stopAt = 0;
    let startAt = 0;
    let healthDuring = '';
    const run = await runWithFault({
      logFile,
      calls: (outageS + 8) * 10,
      recordsWithinMs: 25_000,
      fault: async (t0) => {
        await sleep(t0 + 4000 - Date.now());
        stopAt = Date.now();
        await pgi.stop('fast');
        await sleep(stopAt + 8000 - Date.now());
        const h = await adapter.healthz();
        healthDuring = h ? `${h.status} ${h.body}` : 'no answer';
        await sleep(stopAt + outageS * 1000 - Date.now());
        startAt = Date.now();
        await pgi.start();
      },
    });
    judge(`PostgreSQL down ${outageS} s`, run, {
      allDecided: true,
      outage: `PostgreSQL stopped at +${stopAt - run.t0} ms for ${((startAt - stopAt) / 1000).toFixed(1)} s`,
      extra: `adapter ${adapter.exited() ? 'EXITED' : 'alive'}; /healthz during the outage: ${healthDuring}`,
    }).assertAll();
  });

  test('5. PostgreSQL is down when the adapter starts: it decides from its snapshot, then records once the database is up', async () => {
    const logFile = path.join(WORK, 'adapter-5.log');
    // A first run with the database up leaves the policy snapshot in CALLPOLICY_DATA_DIR.
    const first = startAdapter(logFile);
    await first.waitHealthy(20_000);
    await first.stop();
    await resetCalls();
    await pgi.stop('fast');
    const stoppedAt = Date.now();
    const adapter = startAdapter(logFile);
    const checks = new Checks('PostgreSQL down at adapter start');
    let health: { status: number; body: string; at: number };
    try {
      health = await adapter.waitHealthy(20_000);
    } catch (err) {
      console.log(`[fault] PostgreSQL down at adapter start: the adapter did not become healthy: ${(err as Error).message.split('\n')[0]}`);
      throw err;
    }
    checks.check(health.body.includes('database-down'), `/healthz while the database is down says database-down: got ${health.status} ${health.body}`);
    let upAt = 0;
    const run = await runWithFault({
      logFile,
      calls: 120,
      recordsWithinMs: 20_000,
      fault: async (t0) => {
        await sleep(t0 + 6000 - Date.now());
        await pgi.start();
        upAt = Date.now();
      },
    });
    const after = await adapter.healthz();
    judge(
      'PostgreSQL down at adapter start',
      run,
      {
        allDecided: true,
        outage: `PostgreSQL down from ${((run.t0 - stoppedAt) / 1000).toFixed(1)} s before the load to +${upAt - run.t0} ms (${((upAt - stoppedAt) / 1000).toFixed(1)} s)`,
        extra: `/healthz at start ${health.status} ${health.body}; after the database came back ${after ? `${after.status} ${after.body}` : 'no answer'}`,
      },
      checks,
    ).assertAll();
  });

  test('6. ARI answers slowly (300 ms, 1.7 s, then 2.5 s per exchange): calls still leave within the bound, late decisions recorded as what the PBX did', async () => {
    const logFile = path.join(WORK, 'adapter-6.log');
    proxy = await startDelayProxy(await freePort(), new URL(ienv.ariUrl));
    const adapter = startAdapter(logFile, { ARI_URL: proxy.url });
    await adapter.waitHealthy(20_000);
    const failures: string[] = [];
    // 300 ms: decided in time. 1.7 s: StasisStart arrives at 1.7 s, the first request is answered
    // within the adapter's own 2 s limit but "continue" comes after the dialplan gave up: decided,
    // overtaken by the PBX. 2.5 s: StasisStart arrives after the dialplan gave up.
    for (const delay of [300, 1700, 2500]) {
      await resetCalls();
      proxy.setDelay(delay);
      const run = await runWithFault({ logFile, calls: 70, recordsWithinMs: 15_000, fault: async () => undefined });
      // What the PBX did (the trunk's From) against what was recorded (the end's final action, else the decision).
      const eff = (a: string) => run.rows.filter((r) => effectiveAction(r) === a).length;
      const pool = run.loadInvites.filter((i) => POOL.includes(i.fromUser)).length;
      const dflt = run.loadInvites.filter((i) => i.fromUser === DEFAULT_NUMBER).length;
      const late = run.rows.filter((r) => r.action === 'dial' && r.finalAction === 'default').length;
      const name = `ARI +${delay} ms per exchange`;
      const checks = judge(name, run, {
        outage: `every ARI response and event ${delay} ms late`,
        extra: `records say ${eff('dial')} dialled with a pool number / ${eff('default')} default (${late} decided but overtaken by the PBX's timeout); reasons ${JSON.stringify(countBy(run.rows.map((r) => r.reason)))}; ${run.rows.length} rows`,
      });
      checks.check(eff('dial') === pool && eff('default') === dflt, `records match what the PBX did: trunk ${pool} pool / ${dflt} default, records ${eff('dial')} dial / ${eff('default')} default`);
      checks.check(run.rows.length === run.calls.length, `every call reached the adapter and was recorded: ${run.rows.length} rows, ${run.decided.size} decided, ${run.calls.length} placed`);
      try {
        checks.assertAll();
      } catch (err) {
        failures.push((err as Error).message);
      }
    }
    proxy.setDelay(0);
    const h = await adapter.healthz();
    if (h?.status !== 200) failures.push(`the adapter is not healthy once ARI is fast again: ${h ? `${h.status} ${h.body}` : 'no answer'}`);
    assert.deepEqual(failures, []);
  });

  test('2. Asterisk is restarted (core restart now) mid-run', async (ctx) => {
    const root = asteriskRootDir();
    if (!existsSync(path.join(root, 'usr', 'sbin', 'asterisk')) || (await findAsteriskProcesses(root)).length === 0) {
      ctx.skip('not the sandboxed Asterisk (ARI_URL set to another one): cannot restart it');
      return;
    }
    const logFile = path.join(WORK, 'adapter-2.log');
    const adapter = startAdapter(logFile);
    await adapter.waitHealthy(20_000);
    await resetCalls();
    let restartAt = 0;
    let ariDownAt = 0;
    let ariBackAt = 0;
    let bootedAt = 0;
    let relinkedAt = 0;
    const run = await runWithFault({
      logFile,
      calls: 200,
      recordsWithinMs: 10_000,
      fault: async (t0) => {
        await sleep(t0 + 5000 - Date.now());
        restartAt = Date.now();
        await asteriskCli(root, 'core restart now', 5000).catch(() => undefined);
        for (let i = 0; i < 600 && Date.now() - restartAt < 30_000; i++) {
          const up = await ariAnswers(ienv.ariUrl, ienv.ariUser, ienv.ariPassword);
          if (!up && !ariDownAt) ariDownAt = Date.now();
          if (up && ariDownAt) {
            ariBackAt = Date.now();
            break;
          }
          await sleep(50);
        }
        for (let i = 0; i < 100 && !bootedAt && Date.now() - restartAt < 40_000; i++) {
          await asteriskCli(root, 'core waitfullybooted', 5000).then(
            () => (bootedAt = Date.now()),
            () => sleep(200),
          );
        }
        relinkedAt = (await adapter.waitHealthy(20_000)).at;
      },
    });
    const resumed = run.loadInvites.filter((i) => i.receivedAt > relinkedAt + 1000);
    const checks = judge('Asterisk restart', run, {
      pbxDown: [{ from: restartAt - 500, to: (bootedAt || ariBackAt || restartAt) + 200 }],
      outage: `restart at +${restartAt - run.t0} ms; ARI gone at +${ariDownAt - run.t0} ms, back at +${ariBackAt - run.t0} ms, fully booted at +${bootedAt - run.t0} ms (${((bootedAt - restartAt) / 1000).toFixed(1)} s down); adapter healthy again at +${relinkedAt - run.t0} ms (${((relinkedAt - (bootedAt || ariBackAt)) / 1000).toFixed(1)} s after Asterisk)`,
      extra: `after the re-link ${resumed.filter((i) => POOL.includes(i.fromUser)).length}/${resumed.length} calls left with a pool number`,
    });
    checks.check(ariDownAt > 0 && ariBackAt > 0 && bootedAt > 0, `Asterisk went down and came back (gone ${ariDownAt}, back ${ariBackAt}, booted ${bootedAt})`);
    checks.check(resumed.length > 0 && resumed.every((i) => POOL.includes(i.fromUser)), `decisions resume after the re-link: ${resumed.filter((i) => !POOL.includes(i.fromUser)).length} of ${resumed.length} later calls without a pool number`);
    checks.assertAll();
  });
});

function countBy(xs: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[x] = (out[x] ?? 0) + 1;
  return out;
}
