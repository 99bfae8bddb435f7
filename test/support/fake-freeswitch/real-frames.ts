// The frames of this project's own calls on a real FreeSWITCH 1.10.12 (test/fixtures/freeswitch-esl/
// real-1.10.12/), picked by what they are, for the fake FreeSWITCH to send with a call's own ids and
// variables put in. Each export names the recorded file it comes from.
import { header, jsonEvents, readWire, serverFrames, splitFrames, type Frame } from './transcript.js';

export type Pairs = [string, string][];

const DIR = 'real-1.10.12';
export const REAL_FILES = {
  /** 01: sync `socket` decision of an agent's call; connect reply says Socket-Mode: static. */
  outbound: `${DIR}/01-outbound-decision-sync-socket.txt`,
  customerId: `${DIR}/03-customer-id-refused.txt`,
  inbound: `${DIR}/04-inbound-ring-masked.txt`,
  surveyOutRtp: `${DIR}/07-survey-outbound-rfc2833-key1.txt`,
  surveyOutInfo: `${DIR}/08-survey-outbound-sipinfo-key2.txt`,
  surveyInRtp: `${DIR}/09-survey-inbound-rfc2833-key3.txt`,
  surveyInInfo: `${DIR}/10-survey-inbound-sipinfo-key1.txt`,
  control: `${DIR}/11-control-link.txt`,
  probe: `${DIR}/12-api-replies-probe.txt`,
} as const;

/** Events follow the command that caused them by about 20 ms (files 07-10: +OK, then CHANNEL_EXECUTE or CHANNEL_HANGUP). */
export const EVENT_LAG_MS = 20;

/** FreeSWITCH's first frame after the client's command `line`: its reply. */
export function replyTo(file: string, line: string): Frame {
  const wire = readWire(file);
  const i = wire.findIndex((c) => c.from === 'client' && c.bytes.split('\n')[0] === line);
  const next = wire[i + 1];
  if (i < 0 || next?.from !== 'server') throw new Error(`no reply to ${JSON.stringify(line)} in ${file}`);
  return splitFrames(next.bytes)[0]!;
}

/** A template without the recorded call's own dialplan variables: the fake puts in its channel's. */
export const withoutPolicyVars = (pairs: Pairs): Pairs => pairs.filter(([k]) => !k.startsWith('variable_callpolicy_'));

const lastDisconnectNotice = (file: string): Frame => {
  const f = serverFrames(file).filter((x) => header(x.headers, 'Content-Type') === 'text/disconnect-notice').at(-1);
  if (!f) throw new Error(`no disconnect notice in ${file}`);
  return f;
};

/** The sync-mode decision socket: the connect reply by kind of call, and the notice after `exit`. */
export const realDecision = {
  connect: {
    outbound: serverFrames(REAL_FILES.outbound)[0]!,
    'customer-id': serverFrames(REAL_FILES.customerId)[0]!,
    inbound: serverFrames(REAL_FILES.inbound)[0]!,
  },
  goodbye: lastDisconnectNotice(REAL_FILES.outbound),
};

function jsonEvent(file: string, pick: (e: Record<string, string>) => boolean, what: string): Pairs {
  const e = jsonEvents(file).find(pick);
  if (!e) throw new Error(`no recorded ${what} in ${file}`);
  return withoutPolicyVars(Object.entries(e));
}

const named = (name: string, app?: string) => (e: Record<string, string>) => e['Event-Name'] === name && (app === undefined || e['Application'] === app);

export interface SurveyFrames {
  connect: Frame;
  /** CHANNEL_EXECUTE / CHANNEL_EXECUTE_COMPLETE of a `playback` (the complete says FILE PLAYED, even when cut). */
  execute: Pairs;
  executeComplete: Pairs;
  /** DTMF as RFC 2833 (DTMF-Source: RTP) and as SIP INFO (DTMF-Source: ENDPOINT). */
  dtmf: { rtp: Pairs; info: Pairs };
  /** After a hang-up, in the recorded order: HANGUP, UNPARK, the socket app's completion, 2x CHANNEL_STATE, HANGUP_COMPLETE. */
  hangup: Pairs[];
  goodbye: Frame;
}

/** The survey leg's frames (async socket) from the real survey of that direction: 07/08 outbound, 09/10 inbound. */
export function surveyFrames(direction: 'outbound' | 'inbound'): SurveyFrames {
  const [rtp, info] = direction === 'outbound' ? [REAL_FILES.surveyOutRtp, REAL_FILES.surveyOutInfo] : [REAL_FILES.surveyInRtp, REAL_FILES.surveyInInfo];
  const events = jsonEvents(rtp);
  const from = events.findIndex(named('CHANNEL_HANGUP'));
  const to = events.findIndex(named('CHANNEL_HANGUP_COMPLETE'));
  if (from < 0 || to < from) throw new Error(`no hang-up sequence in ${rtp}`);
  return {
    connect: serverFrames(rtp)[0]!,
    execute: jsonEvent(rtp, named('CHANNEL_EXECUTE', 'playback'), 'CHANNEL_EXECUTE playback'),
    executeComplete: jsonEvent(rtp, named('CHANNEL_EXECUTE_COMPLETE', 'playback'), 'CHANNEL_EXECUTE_COMPLETE playback'),
    dtmf: { rtp: jsonEvent(rtp, named('DTMF'), 'DTMF'), info: jsonEvent(info, named('DTMF'), 'DTMF') },
    hangup: events.slice(from, to + 1).map((e) => withoutPolicyVars(Object.entries(e))),
    goodbye: lastDisconnectNotice(rtp),
  };
}

const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

/** api replies as FreeSWITCH wrote them (file 12, the probe; file 11 for a busy `show channels`). */
export const realApi = {
  domain: replyTo(REAL_FILES.probe, 'api global_getvar domain').body,
  /** global_getvar of a variable that is not set: `-ERR no reply`, not an empty body. */
  unknownGlobal: replyTo(REAL_FILES.probe, 'api global_getvar no_such_var').body,
  noSuchChannel: replyTo(REAL_FILES.probe, `api uuid_break ${ZERO_UUID} all`).body,
  notRegistered: replyTo(REAL_FILES.probe, 'api sofia_contact */1009@127.0.0.1').body,
  noChannels: replyTo(REAL_FILES.probe, 'api show channels as json').body,
  ok: replyTo(REAL_FILES.surveyOutRtp, 'api uuid_break dec2d3bb-0041-4e4c-a4a2-5bf29d0494cb all').body,
  /** One row of a real `show channels as json` (an agent's channel in a call): its ~40 fields in order. */
  channelRow: busyChannelRow(),
};

function busyChannelRow(): Record<string, string> {
  const f = serverFrames(REAL_FILES.control).find((x) => x.body.startsWith('{"row_count":2'));
  if (!f) throw new Error(`no busy show channels in ${REAL_FILES.control}`);
  return (JSON.parse(f.body) as { rows: Record<string, string>[] }).rows[0]!;
}
