// SIPp harness: the carrier trunk and answering phones (UAS), and the agents' phones placing
// calls (UAC), around the sandboxed Asterisk. Runs the host's /usr/bin/sipp as child processes with the scenarios in
// ./scenarios/. Results come from sipp's <log> actions (-trace_logs) and response-time traces
// (-trace_rtt), never from its screen.
//
// Every sipp runs under `setpriv --pdeathsig KILL`, so it dies with this process even when this
// process is killed; every wait has a deadline; every socket is bound to 127.0.0.1.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, promises as fs } from 'node:fs';
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { exited, hasExited, killOnExit, pollUntil, tailFile, terminate, udpPortBusy, withTimeout } from './process-utils.js';
import { readReceivedMessages } from '../support/sip-leaks.js';

const SCENARIO_DIR = fileURLToPath(new URL('./scenarios/', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SIPP_BIN = process.env['SIPP_BIN'] ?? '/usr/bin/sipp';
const LOCAL_IP = '127.0.0.1';

export class SippError extends Error {
  override readonly name = 'SippError';
}

// ---------------------------------------------------------------------------------------------
// Running one sipp

export interface SippRun {
  child: ChildProcess;
  dir: string;
  logFile: string;
  errFile: string;
  messageFile: string;
  screenFile: string;
  what: string;
}

interface SippRunOptions {
  /** Short name for messages and the run directory, e.g. "trunk:5080". */
  what: string;
  /** The local SIP port sipp binds (checked to be free first). */
  port: number;
  scenario: string;
  vars: Record<string, string>;
  args: string[];
  traceMessages: boolean;
  workDir?: string;
  /** Changes the rendered scenario before sipp reads it (default: none). */
  editScenario?: (xml: string) => string;
}

function defaultWorkDir(): string {
  return process.env['CALLPOLICY_SIPP_WORKDIR'] ?? path.join(REPO_ROOT, '.data', 'sipp');
}

async function renderScenario(name: string, vars: Record<string, string>, dir: string, edit?: (xml: string) => string): Promise<string> {
  let xml = await fs.readFile(path.join(SCENARIO_DIR, name), 'utf8');
  // Placeholder names are upper case, digits allowed after the first letter ({{ID2_NUMBER}}).
  xml = xml.replace(/\{\{([A-Z][A-Z0-9_]*)\}\}/g, (whole, key: string) => {
    const value = vars[key];
    if (value === undefined) throw new SippError(`scenario ${name}: no value for ${whole}`);
    return value;
  });
  // Anything left that looks like a placeholder would go out on the wire as it is.
  const left = /\{\{\w+\}\}/.exec(xml);
  if (left) throw new SippError(`scenario ${name}: ${left[0]} is not a valid placeholder name (A-Z, 0-9, _)`);
  if (edit) xml = edit(xml);
  const file = path.join(dir, name);
  await fs.writeFile(file, xml);
  return file;
}

/** Throws a clear error when 127.0.0.1:<port>/udp is taken (sipp's own message is cryptic). */
async function assertUdpPortFree(port: number, what: string): Promise<void> {
  const busy = await udpPortBusy(port, LOCAL_IP);
  if (busy) throw new SippError(`${what}: UDP port ${LOCAL_IP}:${port} is in use (${busy}); is another sipp still running?`);
}

export async function startSipp(o: SippRunOptions): Promise<SippRun> {
  await assertUdpPortFree(o.port, o.what);
  const base = path.resolve(o.workDir ?? defaultWorkDir());
  await fs.mkdir(base, { recursive: true });
  const dir = await fs.mkdtemp(path.join(base, `${o.what.replace(/[^A-Za-z0-9_-]+/g, '-')}-`));
  const scenarioFile = await renderScenario(o.scenario, o.vars, dir, o.editScenario);
  const run: Omit<SippRun, 'child'> = {
    dir,
    logFile: path.join(dir, 'logs.log'),
    errFile: path.join(dir, 'errors.log'),
    messageFile: path.join(dir, 'messages.log'),
    screenFile: path.join(dir, 'screen.log'),
    what: o.what,
  };
  await fs.writeFile(run.logFile, '');
  const args = [
    '-sf', scenarioFile,
    '-i', LOCAL_IP, '-mi', LOCAL_IP, '-ci', LOCAL_IP, '-bind_local',
    '-nostdin',
    '-f', '10',
    '-aa',
    '-trace_logs', '-log_file', run.logFile,
    '-trace_err', '-error_file', run.errFile,
    ...(o.traceMessages ? ['-trace_msg', '-message_file', run.messageFile] : []),
    ...o.args,
  ];
  await fs.writeFile(path.join(dir, 'command.txt'), `${SIPP_BIN} ${args.map((a) => JSON.stringify(a)).join(' ')}\n`);
  const screenFd = openSync(run.screenFile, 'w');
  const stderrFd = openSync(path.join(dir, 'stderr.log'), 'w');
  let child: ChildProcess;
  try {
    child = spawn('setpriv', ['--pdeathsig', 'KILL', SIPP_BIN, ...args], {
      cwd: dir,
      stdio: ['ignore', screenFd, stderrFd],
    });
  } finally {
    closeSync(screenFd);
    closeSync(stderrFd);
  }
  killOnExit(child);
  child.once('error', () => undefined); // reported through exit/diagnostics
  return { ...run, child };
}

/** What sipp said about a run, for error messages. */
export async function diagnostics(run: Omit<SippRun, 'child'>): Promise<string> {
  return [
    `sipp files in ${run.dir}`,
    `--- stderr ---\n${await tailFile(path.join(run.dir, 'stderr.log'), 15)}`,
    `--- errors.log ---\n${await tailFile(run.errFile, 15)}`,
  ].join('\n');
}

export async function removeRunDir(run: Omit<SippRun, 'child'>): Promise<void> {
  if (process.env['CALLPOLICY_KEEP_SIPP_FILES']) return;
  await fs.rm(run.dir, { recursive: true, force: true });
}

/** A scenario chosen by a caller: a file name in ./scenarios/, nothing else. */
function checkScenarioName(name: string): string {
  if (!/^[A-Za-z0-9_.-]+\.xml$/.test(name)) throw new SippError(`scenario ${JSON.stringify(name)} must be the name of a file in test/sandbox/scenarios/`);
  return name;
}

/** The harness's own placeholder values plus the caller's; a caller may not redefine the harness's. */
function mergeVars(own: Record<string, string>, extra: Record<string, string> | undefined, scenario: string): Record<string, string> {
  for (const key of Object.keys(extra ?? {})) {
    if (key in own) throw new SippError(`scenario ${scenario}: {{${key}}} is set by the harness (from its options), not by vars`);
  }
  return { ...own, ...extra };
}

/** The messages a run's sipp received so far; the run must trace messages and not be removed yet. */
async function receivedMessagesOf(run: Omit<SippRun, 'child'>, traced: boolean, what: string): Promise<string[]> {
  if (!traced) throw new SippError(`${what}: started with traceMessages: false, so no message file to read`);
  try {
    return await readReceivedMessages(run.messageFile);
  } catch (err) {
    throw new SippError(`${what}: cannot read ${run.messageFile} (read the messages before stop(), which removes the run directory): ${(err as Error).message}`);
  }
}

/** Characters allowed unescaped in a SIP URI user part (RFC 3261 unreserved / user-unreserved). */
const USER_CHAR = /[A-Za-z0-9\-_.!~*'()&=+$,;?/]/;

/**
 * Makes any dialled string usable as a SIP URI user part: characters a phone may send as they
 * are (digits, '+', '&', ',', ';' ...) stay; anything else (space, '#', '<', '"', '@' ...) is
 * %-escaped; an existing %HH escape is kept.
 */
export function sipUserPart(value: string): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (USER_CHAR.test(ch)) {
      out += ch;
    } else if (ch === '%' && /^[0-9A-Fa-f]{2}$/.test(value.slice(i + 1, i + 3))) {
      out += ch;
    } else {
      for (const byte of Buffer.from(ch, 'utf8')) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    }
  }
  if (out === '') throw new SippError('empty number');
  return out;
}

function checkDisplayName(name: string): string {
  if (/["\\\r\n]/.test(name)) throw new SippError(`display name ${JSON.stringify(name)} cannot hold quotes, backslashes or newlines`);
  return name;
}

export function checkServer(server: string): { host: string; port: string } {
  const m = /^([0-9.]+|\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(server);
  if (!m) throw new SippError(`server ${JSON.stringify(server)} must be host:port`);
  return { host: m[1]!, port: m[2]! };
}

// ---------------------------------------------------------------------------------------------
// The trunk, or an answering phone (UAS)

export interface ReceivedInvite {
  requestUri: string;
  /** User part of the Request-URI (as sent, not %-decoded). */
  toUser: string;
  fromUser: string;
  /** Display name of From, '' when there is none. */
  fromName: string;
  /** User part of P-Asserted-Identity, null when the header is absent. */
  paiUser: string | null;
  /** Display name of P-Asserted-Identity ('' when none), null when the header is absent. */
  paiName: string | null;
  /** Header values by lower-case name, in order. */
  headers: Record<string, string[]>;
  /** The INVITE as sipp received it. */
  raw: string;
  /** When this process parsed it (ms since epoch). */
  receivedAt: number;
}

export interface TrunkOptions {
  /** Local UDP port (default 5080). */
  port?: number;
  /** answer: 180 then 200 (default); busy: 486 Busy Here; ring: 180 and never an answer. */
  mode?: 'answer' | 'busy' | 'ring';
  /** The UAS hangs up an answered call after this many ms unless Asterisk did (default 60000). */
  holdMs?: number;
  /** Trace every SIP message to messages.log in the run directory (default true). */
  traceMessages?: boolean;
  workDir?: string;
  /** How long to wait for sipp to answer an OPTIONS probe (default 10000 ms). */
  startTimeoutMs?: number;
  /**
   * A scenario file in ./scenarios/ instead of the one `mode` picks (e.g. uas-answer-identity.xml,
   * uas-answer-tolerant.xml). {{HANGUP_AFTER_MS}} is still filled in from holdMs.
   */
  scenario?: string;
  /** Values of the scenario's other {{...}} placeholders (e.g. ID_NUMBER for uas-answer-identity.xml). */
  vars?: Record<string, string>;
}

export interface Trunk {
  port: number;
  /** The next INVITE not yet returned by nextInvite(), waiting up to timeoutMs (default 10000). */
  nextInvite(timeoutMs?: number): Promise<ReceivedInvite>;
  /** Every INVITE received so far, oldest first (the log is read every 50 ms). */
  invites(): ReceivedInvite[];
  /** Reads sipp's log now and returns the INVITEs not yet returned by nextInvite/takeInvites. */
  takeInvites(): Promise<ReceivedInvite[]>;
  /** Resolves if no INVITE arrives within quietMs (to assert that nothing reached the trunk). */
  expectNoInvite(quietMs: number): Promise<void>;
  /** The run directory with sipp's logs. */
  dir: string;
  /** sipp's -trace_msg file (every message sent and received); removed by stop() unless CALLPOLICY_KEEP_SIPP_FILES is set. */
  messageFile: string;
  /**
   * Every SIP message this sipp received so far, each whole (start line, headers, body), oldest
   * first, read from its message file. Call before stop(); needs traceMessages (the default).
   */
  receivedMessages(): Promise<string[]>;
  stop(): Promise<void>;
}

// One log entry per INVITE: '@@INVITE-BEGIN@@ <n> <the message>@@INVITE-END@@ <n>'. The message
// spans lines, and sipp drops the blank before the end marker (it trims the start of each line).
const INVITE_BLOCK = /@@INVITE-BEGIN@@ (\d+) ([\s\S]*?)\s*@@INVITE-END@@ \1\r?\n/g;

/** The carrier trunk: a sipp UAS on 127.0.0.1:<port> (default 5080), the PJSIP endpoint "trunk". */
export function startTrunk(opts: TrunkOptions = {}): Promise<Trunk> {
  return startUas({ ...opts, port: opts.port ?? 5080 }, 'trunk');
}

/**
 * An agent's phone that answers (or is busy): the same UAS on the agent's port, for calls that
 * Asterisk sends to an agent (inbound routing). Its INVITEs show what the agent's phone got.
 */
export function startAgentPhone(opts: TrunkOptions & { port: number }): Promise<Trunk> {
  return startUas(opts, 'phone');
}

async function startUas(opts: TrunkOptions & { port: number }, role: string): Promise<Trunk> {
  const port = opts.port;
  const mode = opts.mode ?? 'answer';
  const holdMs = Math.max(1, Math.round(opts.holdMs ?? 60_000));
  const scenario = opts.scenario !== undefined
    ? checkScenarioName(opts.scenario)
    : mode === 'busy' ? 'uas-busy.xml' : mode === 'ring' ? 'uas-ring.xml' : 'uas-answer.xml';
  const traceMessages = opts.traceMessages ?? true;
  const run = await startSipp({
    what: `${role}-${mode}-${port}`,
    port,
    scenario,
    vars: mergeVars({ HANGUP_AFTER_MS: String(holdMs) }, opts.vars, scenario),
    args: ['-p', String(port), '-max_recv_loops', '10000', '-deadcall_wait', '5000'],
    traceMessages,
    workDir: opts.workDir,
  });

  const received: ReceivedInvite[] = [];
  let consumed = 0;
  let offset = 0;
  let pending = '';
  let stopped = false;

  let reading: Promise<void> | undefined;
  const readNew = (): Promise<void> => (reading ??= readLog().finally(() => (reading = undefined)));
  const readLog = async (): Promise<void> => {
    const fh = await fs.open(run.logFile, 'r');
    try {
      for (;;) {
        const buf = Buffer.alloc(64 * 1024);
        const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
        if (bytesRead === 0) break;
        offset += bytesRead;
        pending += buf.subarray(0, bytesRead).toString('latin1');
      }
    } finally {
      await fh.close();
    }
    let last = 0;
    for (const m of pending.matchAll(INVITE_BLOCK)) {
      last = (m.index ?? 0) + m[0].length;
      try {
        received.push(parseInvite(m[2]!));
      } catch (err) {
        process.emitWarning(`${role} on port ${port}: cannot parse a logged INVITE: ${(err as Error).message}`);
      }
    }
    pending = pending.slice(last);
  };

  const ensureRunning = async (): Promise<void> => {
    if (hasExited(run.child)) {
      const info = await exited(run.child);
      throw new SippError(`${role} sipp on port ${port} exited (code ${info.code}, signal ${info.signal})\n${await diagnostics(run)}`);
    }
  };

  const poller = setInterval(() => void readNew().catch(() => undefined), 50);
  poller.unref();
  try {
    await waitForSipResponder(port, opts.startTimeoutMs ?? 10_000, ensureRunning);
  } catch (err) {
    clearInterval(poller);
    await terminate(run.child, `${role} sipp on port ${port}`).catch(() => undefined);
    throw err instanceof SippError ? err : new SippError(`${role} sipp on port ${port} did not start: ${(err as Error).message}\n${await diagnostics(run)}`);
  }

  return {
    port,
    dir: run.dir,
    messageFile: run.messageFile,
    receivedMessages: () => receivedMessagesOf(run, traceMessages, `${role} sipp on port ${port}`),
    invites: () => [...received],
    async takeInvites() {
      await readNew();
      const fresh = received.slice(consumed);
      consumed = received.length;
      return fresh;
    },
    async nextInvite(timeoutMs = 10_000) {
      const invite = await pollUntil(
        async () => {
          await readNew();
          if (consumed < received.length) return received[consumed++];
          await ensureRunning();
          return undefined;
        },
        { timeoutMs, intervalMs: 25, what: `an INVITE at the ${role} (127.0.0.1:${port}); ${received.length} received so far` },
      );
      return invite;
    },
    async expectNoInvite(quietMs) {
      const before = received.length;
      await new Promise((r) => setTimeout(r, quietMs));
      await readNew();
      if (received.length > before) {
        const got = received[before]!;
        throw new SippError(`the ${role} on port ${port} received an INVITE it should not have: ${got.requestUri} from ${got.fromUser}`);
      }
      consumed = received.length;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(poller);
      await terminate(run.child, `${role} sipp on port ${port}`);
      await removeRunDir(run);
    },
  };
}

/** Sends SIP OPTIONS to 127.0.0.1:<port> until something answers (sipp -aa answers 200). */
export async function waitForSipResponder(port: number, timeoutMs: number, check: () => Promise<void>): Promise<void> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, LOCAL_IP, () => resolve());
  });
  let answered = false;
  socket.on('message', (msg) => {
    if (msg.toString('latin1').startsWith('SIP/2.0 ')) answered = true;
  });
  try {
    const localPort = socket.address().port;
    let n = 0;
    await pollUntil(
      async () => {
        if (answered) return true;
        await check();
        n++;
        const callId = `probe-${randomBytes(6).toString('hex')}`;
        const msg = [
          `OPTIONS sip:probe@${LOCAL_IP}:${port} SIP/2.0`,
          `Via: SIP/2.0/UDP ${LOCAL_IP}:${localPort};branch=z9hG4bK${callId}${n};rport`,
          `From: <sip:probe@${LOCAL_IP}:${localPort}>;tag=${callId}`,
          `To: <sip:probe@${LOCAL_IP}:${port}>`,
          `Call-ID: ${callId}`,
          `CSeq: ${n} OPTIONS`,
          'Max-Forwards: 70',
          'Content-Length: 0',
          '',
          '',
        ].join('\r\n');
        socket.send(msg, port, LOCAL_IP);
        return undefined;
      },
      { timeoutMs, intervalMs: 25, what: `sipp on 127.0.0.1:${port} to answer SIP OPTIONS` },
    );
  } finally {
    socket.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Parsing what the trunk (or phone) received

function unfoldHeaders(raw: string): { startLine: string; headers: Record<string, string[]> } {
  const head = raw.split(/\r?\n\r?\n/)[0] ?? '';
  const lines = head.split(/\r?\n/).map((l) => l.trimStart() === l ? l : ` ${l.trim()}`);
  const startLine = (lines.shift() ?? '').trim();
  const headers: Record<string, string[]> = {};
  const compact: Record<string, string> = { f: 'from', t: 'to', v: 'via', i: 'call-id', m: 'contact', l: 'content-length', c: 'content-type' };
  let current: { name: string; value: string } | undefined;
  const flush = (): void => {
    if (!current) return;
    (headers[current.name] ??= []).push(current.value.trim());
    current = undefined;
  };
  for (const line of lines) {
    if (line.startsWith(' ')) {
      if (current) current.value += line;
      continue;
    }
    flush();
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    current = { name: compact[name] ?? name, value: line.slice(colon + 1) };
  }
  flush();
  return { startLine, headers };
}

/** Display name and URI of a name-addr / addr-spec header value. */
export function parseNameAddr(value: string): { name: string; uri: string } {
  const v = value.trim();
  const angle = /^(?:"((?:[^"\\]|\\.)*)"|([^<]*?))\s*<([^>]*)>/.exec(v);
  if (angle) {
    const name = angle[1] !== undefined ? angle[1].replace(/\\(.)/g, '$1') : (angle[2] ?? '').trim();
    return { name, uri: angle[3]! };
  }
  // addr-spec without <>: parameters after ';' belong to the header.
  return { name: '', uri: v.split(';')[0]!.trim() };
}

/** The user part of a sip: / sips: / tel: URI ('' when there is none). */
export function uriUser(uri: string): string {
  const m = /^(?:sips?|tel):([^@;?>]*)@/i.exec(uri);
  if (m) return m[1]!;
  const tel = /^tel:([^;?>]*)/i.exec(uri);
  return tel ? tel[1]! : '';
}

export function parseInvite(raw: string): ReceivedInvite {
  const { startLine, headers } = unfoldHeaders(raw);
  const start = /^INVITE\s+(\S+)\s+SIP\/2\.0$/.exec(startLine);
  if (!start) throw new SippError(`not an INVITE: ${JSON.stringify(startLine)}`);
  const requestUri = start[1]!;
  const from = parseNameAddr(headers['from']?.[0] ?? '');
  const paiValue = headers['p-asserted-identity']?.[0];
  // P-Asserted-Identity may hold a sip: and a tel: identity separated by a comma; take the first.
  const pai = paiValue === undefined ? undefined : parseNameAddr(paiValue.split(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/)[0] ?? '');
  return {
    requestUri,
    toUser: uriUser(requestUri),
    fromUser: uriUser(from.uri),
    fromName: from.name,
    paiUser: pai ? uriUser(pai.uri) : null,
    paiName: pai ? pai.name : null,
    headers,
    raw,
    receivedAt: Date.now(),
  };
}

// ---------------------------------------------------------------------------------------------
// Agent calls (UAC)

export interface PlaceCallOptions {
  /** The agent phone's local port (its PJSIP identify match). */
  fromPort: number;
  /** From user (the agent's number). */
  fromUser: string;
  /** From display name (default ''). */
  fromName?: string;
  /** The dialled number, any characters (made URI-safe with sipUserPart). */
  to: string;
  /** Asterisk's SIP address (default 127.0.0.1:5060). */
  server?: string;
  /** How long the agent stays on an answered call before sending BYE (default 500 ms). */
  holdMs?: number;
  /** Deadline for the whole call; throws after it (default 15000 ms + holdMs). */
  timeoutMs?: number;
  traceMessages?: boolean;
  workDir?: string;
  /**
   * A scenario file in ./scenarios/ instead of agent-call.xml (e.g. agent-call-tolerant.xml); it
   * must log FINAL/BYE lines as agent-call.xml does. {{HOLD_MS}} is still filled in from holdMs.
   */
  scenario?: string;
  /** Values of the scenario's other {{...}} placeholders. */
  vars?: Record<string, string>;
  /** Return every SIP message the agent's phone received in `received` (needs traceMessages, the default). */
  collectMessages?: boolean;
}

export interface CallResult {
  /** Final response to the INVITE: 200, 484, 486, 503 ... */
  finalStatus: number;
  /** Who sent the BYE of an answered call. */
  hungUpBy: 'agent' | 'remote' | null;
  /** INVITE sent to the first 180/183/200, when there was one. */
  pddMs: number | null;
  durationMs: number;
  /** sipp's -trace_msg file; it is gone once placeCall returns unless CALLPOLICY_KEEP_SIPP_FILES is set. */
  messageFile: string;
  /** With collectMessages: every message the agent's phone received, whole, oldest first (read before the run directory is removed). */
  received?: string[];
}

function callVars(holdMs: number): Record<string, string> {
  return { HOLD_MS: String(Math.max(1, Math.round(holdMs))) };
}

function callArgs(o: { fromPort: number; fromUser: string; fromName?: string; to: string; server?: string }): string[] {
  const { host, port } = checkServer(o.server ?? `${LOCAL_IP}:5060`);
  if (!/^[A-Za-z0-9_.+-]{1,40}$/.test(o.fromUser)) throw new SippError(`fromUser ${JSON.stringify(o.fromUser)} must be a plain user name`);
  return [
    `${host}:${port}`,
    '-p', String(o.fromPort),
    '-s', sipUserPart(o.to),
    '-set', 'from_user', o.fromUser,
    '-set', 'from_name', checkDisplayName(o.fromName ?? ''),
  ];
}

export async function readLogLines(file: string): Promise<string[]> {
  const text = await fs.readFile(file, 'utf8').catch(() => '');
  return text.split('\n').map((l) => l.trim()).filter(Boolean);
}

/**
 * Post-dial delay per call in ms (microsecond precision): INVITE sent to the first 180, 183 or
 * 200, from the scenario's "EARLY <call> <code> <inv_s> <inv_us> <rsp_s> <rsp_us>" log lines.
 * (sipp's own rtd/-trace_rtt counts whole milliseconds, too coarse on a loopback.)
 */
function pddFromLog(lines: string[]): Map<number, number> {
  const pdd = new Map<number, number>();
  for (const line of lines) {
    const m = /^EARLY (\d+) \d{3} ([0-9.]+) ([0-9.]+) ([0-9.]+) ([0-9.]+)$/.exec(line);
    if (!m) continue;
    const call = Number(m[1]);
    if (pdd.has(call)) continue;
    const ms = (Number(m[4]) - Number(m[2])) * 1000 + (Number(m[5]) - Number(m[3])) / 1000;
    pdd.set(call, Math.round(ms * 1000) / 1000);
  }
  return pdd;
}

export async function placeCall(opts: PlaceCallOptions): Promise<CallResult> {
  const holdMs = opts.holdMs ?? 500;
  const timeoutMs = opts.timeoutMs ?? 15_000 + holdMs;
  const started = Date.now();
  const scenario = opts.scenario !== undefined ? checkScenarioName(opts.scenario) : 'agent-call.xml';
  const traceMessages = opts.traceMessages ?? true;
  if (opts.collectMessages && !traceMessages) throw new SippError('placeCall: collectMessages needs traceMessages');
  const run = await startSipp({
    what: `call-${opts.fromPort}`,
    port: opts.fromPort,
    scenario,
    vars: mergeVars(callVars(holdMs), opts.vars, scenario),
    args: [
      ...callArgs(opts),
      '-m', '1',
      '-l', '1',
      '-recv_timeout', String(timeoutMs),
      '-timeout', `${Math.ceil(timeoutMs / 1000) + 2}s`,
      '-timeout_error',
    ],
    traceMessages,
    workDir: opts.workDir,
  });
  let info;
  try {
    info = await withTimeout(exited(run.child), timeoutMs + 3000, `sipp call from port ${opts.fromPort} to ${opts.to}`);
  } catch (err) {
    await terminate(run.child, `sipp call from port ${opts.fromPort}`).catch(() => undefined);
    throw new SippError(`${(err as Error).message}\n${await diagnostics(run)}`);
  }
  const lines = await readLogLines(run.logFile);
  const final = lines.map((l) => /^FINAL (\d{3})$/.exec(l)).find(Boolean);
  if (!final) {
    throw new SippError(
      `call from port ${opts.fromPort} to ${JSON.stringify(opts.to)} got no final answer ` +
        `(sipp exit code ${info.code}, signal ${info.signal})\n${await diagnostics(run)}`,
    );
  }
  const finalStatus = Number(final[1]);
  const hungUpBy = lines.includes('BYE sent') ? 'agent' : lines.includes('BYE received') ? 'remote' : null;
  if (finalStatus === 200 && hungUpBy === null) {
    throw new SippError(`call from port ${opts.fromPort} was answered but did not end cleanly (sipp exit code ${info.code})\n${await diagnostics(run)}`);
  }
  const pdd = [...pddFromLog(lines).values()];
  // Read before the run directory goes.
  const received = opts.collectMessages ? await receivedMessagesOf(run, traceMessages, `call from port ${opts.fromPort}`) : undefined;
  await removeRunDir(run);
  return {
    finalStatus,
    hungUpBy,
    pddMs: pdd[0] ?? null,
    durationMs: Date.now() - started,
    messageFile: run.messageFile,
    ...(received !== undefined ? { received } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// Load (many calls from one agent phone)

export interface LoadOptions {
  fromPort: number;
  fromUser: string;
  fromName?: string;
  to: string;
  /** New calls per second. */
  rate: number;
  /** Total number of calls. */
  calls: number;
  /** How long each answered call lasts before the agent's BYE. */
  holdMs: number;
  server?: string;
  /** How long each call waits for a response before it counts as failed (default 10000 ms). */
  recvTimeoutMs?: number;
  traceMessages?: boolean;
  workDir?: string;
  /** A scenario in ./scenarios/ instead of agent-call.xml that logs as it does (e.g. fs-agent-call.xml). */
  scenario?: string;
  /** Values of that scenario's other {{...}} placeholders (e.g. AUTH_USER, AUTH_PASSWORD). */
  vars?: Record<string, string>;
}

export interface LoadResult {
  /** INVITE sent to the first 180/183/200, per call that got one (answered calls). */
  pddMs: number[];
  succeeded: number;
  failed: number;
  /** Final answers seen, by status code. */
  statuses: Record<number, number>;
  durationMs: number;
}

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  return (await loadRun(opts)).result;
}

/** One call of runLoadPerCall. */
export interface LoadCall {
  /** sipp's call number, 1..calls in the order the calls were placed. */
  call: number;
  /** When the INVITE was first sent (ms since epoch, sipp's clock = this host's). */
  invitedAt: number;
  /** Final response to the INVITE; null when none came (the call failed on a timeout). */
  finalStatus: number | null;
  /** INVITE to the first 180/183/200; null when none came. */
  pddMs: number | null;
}

/**
 * runLoad, plus each call's send time, final answer and post-dial delay: for tests that must tell
 * the calls placed while something was down from the others. The scenario is agent-call.xml with
 * two more log lines per call ("SENT <call> <s> <us>", "OUTCOME <call> <code>").
 */
export async function runLoadPerCall(opts: LoadOptions): Promise<LoadResult & { calls: LoadCall[] }> {
  const edit = (xml: string): string => {
    let sent = 0;
    let finals = 0;
    const out = xml
      .replace(/<gettimeofday assign_to="inv_s,inv_us"\/>/, (m) => {
        sent++;
        return `${m}<log message="SENT [call_number] [$inv_s] [$inv_us]"/>`;
      })
      .replace(/<log message="FINAL (\d{3})"\/>/g, (m, code: string) => {
        finals++;
        return `${m}<log message="OUTCOME [call_number] ${code}"/>`;
      });
    if (sent !== 1 || finals === 0) throw new SippError('agent-call.xml changed: runLoadPerCall cannot add its per-call log lines');
    return out;
  };
  const { result, lines } = await loadRun(opts, edit);
  const calls = new Map<number, LoadCall>();
  for (const line of lines) {
    const m = /^SENT (\d+) ([0-9.]+) ([0-9.]+)$/.exec(line);
    if (m) calls.set(Number(m[1]), { call: Number(m[1]), invitedAt: Number(m[2]) * 1000 + Number(m[3]) / 1000, finalStatus: null, pddMs: null });
  }
  for (const line of lines) {
    const m = /^OUTCOME (\d+) (\d{3})$/.exec(line);
    const c = m && calls.get(Number(m[1]));
    if (c && c.finalStatus === null) c.finalStatus = Number(m[2]);
  }
  for (const [call, ms] of pddFromLog(lines)) {
    const c = calls.get(call);
    if (c) c.pddMs = ms;
  }
  return { ...result, calls: [...calls.values()].sort((a, b) => a.call - b.call) };
}

async function loadRun(opts: LoadOptions, editScenario?: (xml: string) => string): Promise<{ result: LoadResult; lines: string[] }> {
  if (!(opts.rate > 0) || !Number.isInteger(opts.calls) || opts.calls < 1) {
    throw new SippError('runLoad needs rate > 0 and calls >= 1');
  }
  const recvTimeoutMs = opts.recvTimeoutMs ?? 10_000;
  const sendingMs = (opts.calls / opts.rate) * 1000;
  // Open calls at steady state are rate x call length; leave room for slow answers.
  const limit = Math.max(10, Math.ceil(opts.rate * ((opts.holdMs + recvTimeoutMs) / 1000) * 1.5));
  const budgetMs = sendingMs + opts.holdMs + recvTimeoutMs * 2 + 5000;
  const started = Date.now();
  const run = await startSipp({
    what: `load-${opts.fromPort}`,
    port: opts.fromPort,
    scenario: opts.scenario !== undefined ? checkScenarioName(opts.scenario) : 'agent-call.xml',
    vars: mergeVars(callVars(opts.holdMs), opts.vars, opts.scenario ?? 'agent-call.xml'),
    args: [
      ...callArgs(opts),
      '-r', String(opts.rate),
      '-m', String(opts.calls),
      '-l', String(limit),
      '-recv_timeout', String(recvTimeoutMs),
      '-timeout', `${Math.ceil(budgetMs / 1000)}s`,
      '-max_recv_loops', '10000',
      '-max_sched_loops', '10000',
    ],
    traceMessages: opts.traceMessages ?? false,
    workDir: opts.workDir,
    editScenario,
  });
  try {
    await withTimeout(exited(run.child), budgetMs + 5000, `sipp load run of ${opts.calls} calls at ${opts.rate}/s`);
  } catch (err) {
    await terminate(run.child, `sipp load from port ${opts.fromPort}`).catch(() => undefined);
    throw new SippError(`${(err as Error).message}\n${await diagnostics(run)}`);
  }
  const statuses: Record<number, number> = {};
  const lines = await readLogLines(run.logFile);
  for (const line of lines) {
    const m = /^FINAL (\d{3})$/.exec(line);
    if (m) statuses[Number(m[1])] = (statuses[Number(m[1])] ?? 0) + 1;
  }
  const succeeded = statuses[200] ?? 0;
  // PDD of the calls that were answered (a call refused after a 180 does not count).
  const answered = new Set<number>();
  for (const line of lines) {
    const m = /^EARLY (\d+) 200 /.exec(line);
    if (m) answered.add(Number(m[1]));
  }
  const pddMs = [...pddFromLog(lines)].filter(([call]) => answered.has(call)).map(([, ms]) => ms);
  await removeRunDir(run);
  return { result: { pddMs, succeeded, failed: opts.calls - succeeded, statuses, durationMs: Date.now() - started }, lines };
}
