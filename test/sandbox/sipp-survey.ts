// The customer's side of a surveyed call, in real SIP: a sipp that answers as the trunk (outbound
// calls) or calls in through it (inbound calls), then presses keys as RFC 2833 events (the pcap
// recordings Debian's sip-tester ships) or as SIP INFO, or hangs up, as scripted; and a UDP
// listener on the audio port its SDP announces, which counts the RTP that Asterisk sends the
// customer and tells speech (the prompts) from silence.
import { createSocket, type Socket } from 'node:dgram';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { exited, hasExited, pollUntil, terminate, withTimeout } from './process-utils.js';
import { SippError, checkServer, diagnostics, readLogLines, removeRunDir, sipUserPart, startSipp, waitForSipResponder, type SippRun } from './sipp.js';

const PCAP_DIR = process.env['SIPP_PCAP_DIR'] ?? '/usr/share/sip-tester';
const LOCAL_IP = '127.0.0.1';

/** What the customer does, in order, once the call is answered. */
export type CustomerStep = { pauseMs: number } | { key: string; via?: 'rfc2833' | 'info' } | { hangup: true };

export interface RtpStats {
  packets: number;
  /** Packets whose audio is not silence (some sample louder than about -30 dBFS): speech. */
  loudPackets: number;
  /** When the first and the last loud packet came (ms since epoch); null: none. */
  firstLoudAt: number | null;
  lastLoudAt: number | null;
}

export interface SurveyCustomerResult {
  /** Final response to the INVITE (inbound), 200 for an answered outbound call; null: never got one. */
  finalStatus: number | null;
  /** Who ended the call: Asterisk (its BYE: the survey is over) or the customer (scripted, or after the wait). */
  byeBy: 'asterisk' | 'customer' | null;
  /** When this process saw the call's end (ms since epoch). */
  endedAt: number;
  /** The keys sent, with how. */
  keys: string[];
  audio: RtpStats;
}

/** G.711 mu-law byte to a 16-bit sample. */
function ulaw(byte: number): number {
  const u = ~byte & 0xff;
  const t = (((u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4);
  return u & 0x80 ? 0x84 - t : t - 0x84;
}

/** A UDP socket on 127.0.0.1:<port> that counts RTP and its loud (spoken) packets. */
export async function startRtpListener(port: number): Promise<{ port: number; stats(): RtpStats; close(): Promise<void> }> {
  const socket: Socket = createSocket('udp4');
  const stats: RtpStats = { packets: 0, loudPackets: 0, firstLoudAt: null, lastLoudAt: null };
  socket.on('message', (msg) => {
    if (msg.length < 12 || msg[0]! >> 6 !== 2) return;
    stats.packets++;
    const cc = msg[0]! & 0x0f;
    const pt = msg[1]! & 0x7f;
    if (pt !== 0) return;
    let peak = 0;
    for (let i = 12 + cc * 4; i < msg.length; i++) peak = Math.max(peak, Math.abs(ulaw(msg[i]!)));
    if (peak > 1000) {
      stats.loudPackets++;
      const at = Date.now();
      stats.firstLoudAt ??= at;
      stats.lastLoudAt = at;
    }
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, LOCAL_IP, () => resolve());
  });
  return {
    port,
    stats: () => ({ ...stats }),
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

const PCAP_NAME: Record<string, string> = { '*': 'star', '#': 'pound' };

/**
 * sip-tester's recording of `key`, for the n-th key press of a call (n from 0). sipp replays a pcap
 * as it is, so every recording carries the same RTP timestamps: Asterisk takes a second event with
 * the timestamp of the one before for a repeat of it and drops it. Each later press is a copy with
 * its RTP sequence numbers and timestamps moved on (and the UDP checksum cleared: 0 means none).
 */
export function dtmfPcap(key: string, n: number): string {
  const file = `${PCAP_DIR}/dtmf_2833_${PCAP_NAME[key] ?? key}.pcap`;
  if (!existsSync(file)) throw new SippError(`no RFC 2833 recording for key ${key}: ${file} (Debian's sip-tester package ships them)`);
  if (n === 0) return file;
  const data = Buffer.from(readFileSync(file));
  if (data.readUInt32LE(0) !== 0xa1b2c3d4 || data.readUInt32LE(20) !== 1) throw new SippError(`${file}: not a little-endian Ethernet pcap`);
  for (let off = 24; off + 16 <= data.length; ) {
    const len = data.readUInt32LE(off + 8);
    const ip = off + 16 + 14;
    const udp = ip + (data[ip]! & 0x0f) * 4;
    const rtp = udp + 8;
    data.writeUInt16BE(0, udp + 6);
    data.writeUInt16BE((data.readUInt16BE(rtp + 2) + n * 1000) & 0xffff, rtp + 2);
    data.writeUInt32BE((data.readUInt32BE(rtp + 4) + n * 800_000) >>> 0, rtp + 4);
    off += 16 + len;
  }
  const dir = path.join(tmpdir(), 'callpolicy-dtmf');
  mkdirSync(dir, { recursive: true });
  const out = path.join(dir, `dtmf_2833_${PCAP_NAME[key] ?? key}-${n}.pcap`);
  writeFileSync(out, data);
  return out;
}

/** The 200 OK to Asterisk's BYE, for the UAS (trunk side) or the UAC (calling in). */
function okToBye(side: 'uas' | 'uac'): string {
  const contact = side === 'uas' ? '<sip:[local_ip]:[local_port];transport=[transport]>' : '<sip:[$from_user]@[local_ip]:[local_port];transport=[transport]>';
  return `  <send next="done">
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: ${contact}
      Content-Length: 0

    ]]>
  </send>`;
}

/**
 * The scripted steps as sipp XML, for the UAS (trunk side) or the UAC (calling in). A pause is a
 * wait for Asterisk's BYE that times out into the next step: the survey may end (Asterisk hangs
 * up) at any moment, and sipp must answer that BYE rather than abort on an unexpected message.
 */
export function renderSteps(steps: readonly CustomerStep[], side: 'uas' | 'uac'): string {
  let cseq = 10;
  let label = 0;
  let presses = 0;
  const waitOrBye = (ms: number) => {
    const next = `step${++label}`;
    return `  <recv request="BYE" timeout="${Math.max(1, Math.round(ms))}" ontimeout="${next}"><action><log message="BYE received"/></action></recv>
${okToBye(side)}
  <label id="${next}"/>`;
  };
  return steps
    .map((s) => {
      if ('pauseMs' in s) return waitOrBye(s.pauseMs);
      if ('hangup' in s) return '  <nop next="we_hang_up"/>';
      if (!/^[0-9*#]$/.test(s.key)) throw new SippError(`not a DTMF key: ${JSON.stringify(s.key)}`);
      if ((s.via ?? 'rfc2833') === 'rfc2833') {
        const file = dtmfPcap(s.key, presses++);
        // The recording lasts 140 ms; the wait lets it go out before the next step.
        return `  <nop><action><exec play_pcap_audio="${file}"/><log message="KEY ${s.key} rfc2833"/></action></nop>\n${waitOrBye(300)}`;
      }
      const n = cseq++;
      const head =
        side === 'uas'
          ? `INFO [$remote_contact] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:customer@[local_ip]:[local_port]>;tag=[pid]SIPpTag01[call_number]
      To: [$remote_from]`
          : `INFO sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:[$from_user]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]`;
      return `  <send retrans="500">
    <![CDATA[

      ${head}
      Call-ID: [call_id]
      CSeq: ${n} INFO
      Max-Forwards: 70
      Content-Type: application/dtmf-relay
      Content-Length: [len]

      Signal=${s.key}
      Duration=160

    ]]>
  </send>
  <recv response="200"><action><log message="KEY ${s.key} info"/></action></recv>`;
    })
    .join('\n');
}

async function resultOf(run: SippRun, rtp: { stats(): RtpStats }): Promise<SurveyCustomerResult> {
  const lines = await readLogLines(run.logFile);
  const final = lines.map((l) => /^FINAL (\d{3})$/.exec(l)).find(Boolean);
  const answered = lines.some((l) => l.startsWith('ANSWERED'));
  return {
    finalStatus: final ? Number(final[1]) : answered ? 200 : null,
    byeBy: lines.includes('BYE received') ? 'asterisk' : lines.includes('BYE sent') ? 'customer' : null,
    endedAt: Date.now(),
    keys: lines.filter((l) => l.startsWith('KEY ')).map((l) => l.slice(4)),
    audio: rtp.stats(),
  };
}

export interface SurveyTrunk {
  /** Resolves when the customer's call (the first the trunk answers) has ended. */
  done(timeoutMs: number): Promise<SurveyCustomerResult>;
  stop(): Promise<void>;
}

/**
 * The trunk as one surveyed customer: answers the next call, then runs `steps` and waits up to
 * `endTimeoutMs` for Asterisk's BYE (default 30 s).
 */
export async function startSurveyTrunk(opts: { port: number; rtpPort: number; steps: CustomerStep[]; endTimeoutMs?: number; workDir?: string }): Promise<SurveyTrunk> {
  const rtp = await startRtpListener(opts.rtpPort);
  let run: SippRun;
  try {
    run = await startSipp({
      what: `survey-trunk-${opts.port}`,
      port: opts.port,
      scenario: 'survey-customer-uas.xml',
      vars: { RTP_PORT: String(opts.rtpPort), END_TIMEOUT_MS: String(opts.endTimeoutMs ?? 30_000), STEPS: renderSteps(opts.steps, 'uas') },
      // No -m: the readiness probe (OPTIONS) would count as the one call. stop() ends it.
      args: ['-p', String(opts.port), '-max_recv_loops', '10000'],
      traceMessages: true,
      workDir: opts.workDir,
    });
    await waitForSipResponder(opts.port, 10_000, async () => {
      if (hasExited(run.child)) throw new SippError(`survey trunk sipp exited\n${await diagnostics(run)}`);
    });
  } catch (err) {
    await rtp.close();
    throw err;
  }
  let stopped = false;
  return {
    async done(timeoutMs) {
      await pollUntil(
        async () => ((await readLogLines(run.logFile)).some((l) => l.startsWith('SURVEY-END')) || hasExited(run.child) ? true : undefined),
        { timeoutMs, intervalMs: 50, what: `the surveyed customer's call at the trunk (127.0.0.1:${opts.port}) to end` },
      ).catch(async (err: Error) => {
        throw new SippError(`${err.message}\n${await diagnostics(run)}`);
      });
      return resultOf(run, rtp);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await terminate(run.child, `survey trunk sipp on port ${opts.port}`).catch(() => undefined);
      await rtp.close();
      await removeRunDir(run);
    },
  };
}

/** A customer calls `to` from `fromUser` through the trunk, then runs `steps` and waits for Asterisk's BYE. */
export async function placeSurveyCall(opts: {
  fromPort: number;
  fromUser: string;
  to: string;
  server?: string;
  rtpPort: number;
  steps: CustomerStep[];
  endTimeoutMs?: number;
  workDir?: string;
}): Promise<SurveyCustomerResult> {
  const { host, port } = checkServer(opts.server ?? `${LOCAL_IP}:5060`);
  if (!/^[A-Za-z0-9_.+-]{1,40}$/.test(opts.fromUser)) throw new SippError(`fromUser ${JSON.stringify(opts.fromUser)} must be a plain user name`);
  const endTimeoutMs = opts.endTimeoutMs ?? 30_000;
  const rtp = await startRtpListener(opts.rtpPort);
  try {
    const run = await startSipp({
      what: `survey-call-${opts.fromPort}`,
      port: opts.fromPort,
      scenario: 'survey-customer-uac.xml',
      vars: { RTP_PORT: String(opts.rtpPort), END_TIMEOUT_MS: String(endTimeoutMs), STEPS: renderSteps(opts.steps, 'uac') },
      args: [`${host}:${port}`, '-p', String(opts.fromPort), '-s', sipUserPart(opts.to), '-set', 'from_user', opts.fromUser, '-m', '1', '-l', '1', '-recv_timeout', String(endTimeoutMs + 20_000)],
      traceMessages: true,
      workDir: opts.workDir,
    });
    const budget = endTimeoutMs + 60_000;
    try {
      await withTimeout(exited(run.child), budget, `surveyed customer call from port ${opts.fromPort}`);
    } catch (err) {
      await terminate(run.child, `survey call sipp on port ${opts.fromPort}`).catch(() => undefined);
      throw new SippError(`${(err as Error).message}\n${await diagnostics(run)}`);
    }
    const result = await resultOf(run, rtp);
    if (result.finalStatus === null) throw new SippError(`surveyed customer call got no final answer\n${await diagnostics(run)}`);
    await removeRunDir(run);
    return result;
  } finally {
    await rtp.close();
  }
}
