// A fake FreeSWITCH 1.10 for the ESL driver's tests. It speaks the event-socket protocol from the
// frames recorded on a real FreeSWITCH (transcript.ts): its replies, its connect replies and its
// channel events are the recorded ones, with each call's own ids, numbers and variables put in.
// It plays the shipped dialplan's part too (dialplan/freeswitch/callpolicy.xml): `socket` in sync
// mode to the adapter, then the route extension that callpolicy_route names.
//
// The call sockets (decision and survey) are built from this project's own calls recorded on a real
// switch (real-frames.ts, fixtures real-1.10.12/); the control link's ends of calls from the older
// park recordings. Not recorded, so modelled: sync mode sends no events on the call's socket, and a
// customer who hangs up during the survey gets the same hang-up sequence as the adapter's hangup.
import net from 'node:net';
import { randomUUID } from 'node:crypto';
import { unescape } from 'node:querystring';
import { EVENT_LAG_MS, realApi, realDecision, surveyFrames, withoutPolicyVars, type SurveyFrames } from './real-frames.js';
import { header, parseHeaderBlock, plainEvents, serverFrames, type Frame } from './transcript.js';

export interface TrunkView {
  destination: string;
  callerIdNumber: string;
  callerIdName: string;
}

export interface DecisionFaults {
  /** Delay every reply on the call's socket (a slow FreeSWITCH). */
  replyDelayMs?: number;
  /** Reply -ERR to every sendmsg (FreeSWITCH refusing the application). */
  errOnExecute?: boolean;
  /** Send a frame that breaks the protocol (a Content-Length longer than the body) instead of the connect reply. */
  malformedConnect?: boolean;
  /** Close the socket right after the connect reply (FreeSWITCH side dropped). */
  dropAfterConnect?: boolean;
}

/** A customer's steps after the agent hung up, counted from the agent's hang-up. */
export type SurveyStep = { pauseMs: number } | { key: string; via?: 'rfc2833' | 'info' } | { hangup: true };

export interface SurveyView {
  /** The leg reached the adapter's survey (the `socket` application connected and was answered). */
  reached: boolean;
  endedBy: 'pbx' | 'customer';
  /** The prompts FreeSWITCH was asked to play, in order. */
  played: string[];
}

export interface PlacedCall {
  /** Only when the agent hung up first on an answered call offered for a survey. */
  survey?: SurveyView;
  /**
   * What the agent's phone was shown of the far end once it answered: the callee's identity as the
   * trunk's answer carries it, unless protection set a shown identity (the route then also sets
   * ignore_display_updates on the agent's leg, so nothing else reaches the phone).
   */
  agentSaw: { number: string; name: string; displayUpdates: boolean } | null;
  uuid: string;
  trunk: TrunkView | null;
  /** The route extension that ran (callpolicy_outcome), or null when the agent hung up first. */
  outcome: string | null;
  /** The command lines the adapter sent on the call's decision socket, in order. */
  commands: string[];
  /** Milliseconds (high-resolution clock) the channel spent in the `socket` application: connect to release, or the failure. */
  decisionMs: number;
  vars: Map<string, string>;
}

type Pairs = [string, string][];

// ---- recorded material -------------------------------------------------------------------------

const PARK = 'outbound-callerid-park.txt';
const ERRORS = 'errors.txt';
const AUTH = 'inbound-auth.txt';

const decodePairs = (pairs: Pairs): Pairs => pairs.map(([k, v]) => [k, unescape(v)]);
const frameWithReply = (file: string, reply: string): Frame => {
  const f = serverFrames(file).find((x) => header(x.headers, 'Reply-Text') === reply);
  if (!f) throw new Error(`no recorded reply ${JSON.stringify(reply)} in ${file}`);
  return f;
};
const apiBody = (file: string, startsWith: string): string => {
  const f = serverFrames(file).find((x) => header(x.headers, 'Content-Type') === 'api/response' && x.body.startsWith(startsWith));
  if (!f) throw new Error(`no recorded api response ${startsWith} in ${file}`);
  return f.body;
};

const recorded = {
  authRequest: serverFrames(AUTH)[0]!.raw,
  accepted: frameWithReply(AUTH, '+OK accepted').raw,
  invalid: frameWithReply(AUTH, '-ERR invalid').raw,
  goodbye: serverFrames(AUTH).find((f) => header(f.headers, 'Content-Type') === 'text/disconnect-notice')!.raw,
  bye: frameWithReply(AUTH, '+OK bye').raw,
  notFound: frameWithReply(ERRORS, '-ERR command not found').raw,
  status: apiBody(AUTH, 'UP '),
  version: apiBody(AUTH, 'FreeSWITCH Version'),
  answeredEnd: plainEvents(PARK).filter((e) => e.name === 'CHANNEL_HANGUP_COMPLETE'),
  unansweredEnd: plainEvents(ERRORS).find((e) => e.name === 'CHANNEL_HANGUP_COMPLETE')!,
};
const surveyTemplates = { outbound: surveyFrames('outbound'), inbound: surveyFrames('inbound') };
const [recordedEndB, recordedEndA] = recorded.answeredEnd as [(typeof recorded.answeredEnd)[0], (typeof recorded.answeredEnd)[0]];

const commandReply = (text: string) => `Content-Type: command/reply\nReply-Text: ${text}\n\n`;
const apiResponse = (body: string) => `Content-Type: api/response\nContent-Length: ${Buffer.byteLength(body)}\n\n${body}`;
/** A JSON event frame as FreeSWITCH writes it: the body ends without LF (real files 06-11). */
const jsonEventFrame = (pairs: Pairs) => {
  const body = JSON.stringify(Object.fromEntries(pairs));
  return `Content-Length: ${Buffer.byteLength(body)}\nContent-Type: text/event-json\n\n${body}`;
};
const eventFrame = (format: 'plain' | 'json', pairs: Pairs) => {
  if (format === 'json') return jsonEventFrame(pairs);
  const body = `${pairs.map(([k, v]) => `${k}: ${fsEncode(v)}`).join('\n')}\n\n`;
  return `Content-Length: ${Buffer.byteLength(body)}\nContent-Type: text/event-plain\n\n${body}`;
};
/** Q.850 codes of the causes the fake hangs up with. */
const Q850: Record<string, number> = { NORMAL_CLEARING: 16, NORMAL_UNSPECIFIED: 31 };

/** FreeSWITCH's URL encoding of plain-format header values (switch_url_encode's set, as the recordings show: ',' '/' '(' kept). */
export function fsEncode(v: string): string {
  // eslint-disable-next-line no-control-regex
  return v.replace(/[\u0000-\u001f\u007f-\uffff "#%&+:;<=>?@[\\\]^`{|}]/g, (c) =>
    [...Buffer.from(c)].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
  );
}

/** The template's headers with `set` put in (null removes; new names go at the end, as FreeSWITCH appends new variables). */
function render(template: Pairs, set: Record<string, string | null>): Pairs {
  const out: Pairs = [];
  const used = new Set<string>();
  for (const [k, v] of template) {
    if (k in set) {
      used.add(k);
      if (set[k] !== null) out.push([k, set[k]!]);
    } else out.push([k, v]);
  }
  for (const [k, v] of Object.entries(set)) if (!used.has(k) && v !== null) out.push([k, v]);
  return out;
}

// ---- the fake ----------------------------------------------------------------------------------

interface Channel {
  uuid: string;
  user: string;
  dialed: string;
  profileName: string;
  vars: Map<string, string>;
  createdUs: number;
}

interface ControlClient {
  sock: net.Socket;
  authed: boolean;
  format: 'plain' | 'json';
  events: Set<string>;
  /** `filter` commands: with any, only events whose header matches one of them are sent. */
  filters: { header: string; value: string }[];
}

/** As mod_event_socket: a value starting with "/" is a /regex/, anything else an exact (caseless) value. */
function passesFilters(filters: ControlClient['filters'], pairs: Pairs): boolean {
  if (filters.length === 0) return true;
  return filters.some(({ header, value }) => {
    const v = pairs.find(([k]) => k === header)?.[1];
    if (v === undefined) return false;
    const re = /^\/(.*)\/([a-z]*)$/.exec(value);
    return re ? new RegExp(re[1]!, re[2]!.includes('i') ? 'i' : '').test(v) : v.toLowerCase() === value.toLowerCase();
  });
}

/** Where a customer's call ended up, as the phones around the PBX saw it. */
export interface InboundResult {
  survey?: SurveyView;
  uuid: string;
  reached: 'agent' | 'ivr' | 'voicemail' | 'goodbye';
  agentRang: boolean;
  mailbox?: string;
  outcome: string | null;
  /** What the agent's phone was sent as the caller (the INVITE's From/PAI), when it rang. */
  agentSaw: { number: string; name: string; displayUpdates: boolean } | null;
  decisionMs: number;
  vars: Map<string, string>;
}

export interface FakeFreeswitch {
  eslPort: number;
  /**
   * A customer calls a DID from the trunk: the shipped inbound dialplan. The agent's phone answers
   * or only rings; an answered call ends when the customer hangs up after `holdMs`.
   */
  placeInbound(opts: { callerNumber: string; did?: string; agentAnswers: boolean; holdMs?: number; faults?: DecisionFaults; hangsUp?: 'agent' | 'customer'; surveySteps?: SurveyStep[] }): Promise<InboundResult>;
  /** An agent's phone dials: the call goes through the shipped outbound dialplan. */
  placeCall(opts: {
    user: string;
    dialed: string;
    kind?: 'outbound' | 'customer-id';
    cancelAfterMs?: number;
    talkMs?: number;
    faults?: DecisionFaults;
    /** Who ends the answered call (default the agent); the customer's steps if it comes to a survey. */
    hangsUp?: 'agent' | 'customer';
    surveySteps?: SurveyStep[];
  }): Promise<PlacedCall>;
  /** Channels that exist now (uuid_exists says true). */
  liveChannels(): string[];
  /** Closes every control connection abruptly (as a FreeSWITCH restart would). */
  dropControlConnections(): void;
  controlConnections(): number;
  /** Registers or unregisters an agent's phone (user id, e.g. 1001). */
  setRegistered(user: string, registered: boolean): void;
  /** Delay the replies of the control connection. */
  setControlReplyDelay(ms: number): void;
  stop(): Promise<void>;
}

export async function startFakeFreeswitch(opts: {
  password: string;
  /** Where the dialplan's `socket` application connects (the adapter's decision server). */
  decisionPort: () => number;
  defaultCallerId: { number: string; name: string };
  trunk?: string;
}): Promise<FakeFreeswitch> {
  let seq = 9000;
  const clients = new Set<ControlClient>();
  const channels = new Map<string, Channel>();
  let controlDelayMs = 0;
  /** Agents whose phones are not registered (sofia_contact finds nothing). */
  const unregistered = new Set<string>();
  const nowUs = () => Date.now() * 1000;
  const commandLogs = new WeakMap<Channel, string[]>();
  const commandLog = (c: Channel): string[] => {
    if (!commandLogs.has(c)) commandLogs.set(c, []);
    return commandLogs.get(c)!;
  };

  const channelHeaders = (c: Channel): Record<string, string | null> => {
    const name = `sofia/internal/${c.user}@127.0.0.1:5081`;
    const set: Record<string, string | null> = {
      'Event-Date-Timestamp': String(nowUs()),
      'Event-Sequence': String(seq++),
      'Unique-ID': c.uuid,
      'Channel-Unique-ID': c.uuid,
      'Channel-Call-UUID': c.uuid,
      'Caller-Unique-ID': c.uuid,
      variable_uuid: c.uuid,
      variable_call_uuid: c.uuid,
      'Caller-Destination-Number': c.dialed,
      'Channel-Destination-Number': c.dialed,
      'Caller-Username': c.user,
      'Channel-Username': c.user,
      'Caller-Caller-ID-Number': c.user,
      'Channel-Caller-ID-Number': c.user,
      'Caller-Caller-ID-Name': c.profileName,
      'Channel-Caller-ID-Name': c.profileName,
      'Caller-ANI': c.user,
      'Channel-ANI': c.user,
      variable_sip_from_user: c.user,
      variable_sip_from_user_stripped: c.user,
      'Channel-Name': name,
      'Caller-Channel-Name': name,
      'Channel-Channel-Name': name,
      variable_channel_name: name,
      'Caller-Channel-Created-Time': String(c.createdUs),
    };
    for (const [k, v] of c.vars) set[`variable_${k}`] = v;
    return set;
  };

  /** Events that happen together go out in one write: the client reads them in one TCP read, as from a real switch. */
  const emit = (events: [name: string, pairs: Pairs][]) => {
    for (const cl of clients) {
      if (!cl.authed) continue;
      const wanted = events.filter(([name, pairs]) => (cl.events.has(name) || cl.events.has('ALL')) && passesFilters(cl.filters, pairs));
      if (wanted.length > 0) cl.sock.write(wanted.map(([, pairs]) => eventFrame(cl.format, pairs)).join(''));
    }
  };

  const hangupComplete = (c: Channel, answered: { answeredUs: number; bUuid: string } | null, disposition: string, cause: [string, number]) => {
    const end = nowUs();
    const template = answered ? recordedEndA : recorded.unansweredEnd;
    const set = channelHeaders(c);
    const events: [string, Pairs][] = [];
    Object.assign(set, {
      'Hangup-Cause': cause[0],
      variable_hangup_cause: cause[0],
      variable_hangup_cause_q850: String(cause[1]),
      variable_sip_hangup_disposition: disposition,
      variable_end_uepoch: String(end),
      variable_end_epoch: String(Math.floor(end / 1e6)),
    });
    if (answered) {
      if (answered.bUuid) {
        const b: Channel = { uuid: answered.bUuid, user: c.vars.get('callpolicy_dest') ?? c.dialed, dialed: c.dialed, profileName: '', vars: new Map(), createdUs: c.createdUs };
        // The B leg's end came first in the recording although the agent hung up: so here too.
        events.push(['CHANNEL_HANGUP_COMPLETE', render(decodePairs(recordedEndB.headers), { ...channelHeaders(b), variable_sip_hangup_disposition: 'send_bye' })]);
      }
      Object.assign(set, {
        variable_answer_uepoch: String(answered.answeredUs),
        variable_answer_epoch: String(Math.floor(answered.answeredUs / 1e6)),
        variable_billsec: String(Math.round((end - answered.answeredUs) / 1e6)),
        variable_billmsec: String(Math.round((end - answered.answeredUs) / 1e3)),
        variable_bridge_uuid: answered.bUuid || null,
      });
    } else {
      Object.assign(set, { variable_answer_uepoch: '0', variable_answer_epoch: '0', variable_billsec: '0', variable_DIALSTATUS: null, variable_bridge_uuid: null });
    }
    channels.delete(c.uuid);
    events.push(['CHANNEL_HANGUP_COMPLETE', render(decodePairs(template.headers), set)]);
    emit(events);
  };

  // ---- the control connection (inbound ESL, port 8021 on a real FreeSWITCH) ----

  const control = net.createServer((sock) => {
    const cl: ControlClient = { sock, authed: false, format: 'plain', events: new Set(), filters: [] };
    clients.add(cl);
    sock.on('close', () => clients.delete(cl));
    sock.on('error', () => undefined);
    sock.write(recorded.authRequest);
    readCommands(sock, async (cmd) => {
      if (controlDelayMs) await new Promise((r) => setTimeout(r, controlDelayMs));
      if (sock.destroyed) return;
      const line = cmd.line;
      if (!cl.authed) {
        if (line === `auth ${opts.password}`) {
          cl.authed = true;
          sock.write(recorded.accepted);
        } else {
          sock.write(recorded.invalid + recorded.goodbye);
          sock.end();
        }
        return;
      }
      const ev = /^event (plain|json) (.+)$/.exec(line);
      if (ev) {
        cl.format = ev[1] as 'plain' | 'json';
        for (const n of ev[2]!.split(' ')) cl.events.add(n);
        sock.write(commandReply(`+OK event listener enabled ${cl.format}`));
      } else if (line.startsWith('filter ')) {
        // filter <header> <value>: only events whose header matches (a /regex/ or the exact value).
        const [, header, value] = /^filter (\S+) (.+)$/.exec(line) ?? [];
        if (header && value) cl.filters.push({ header, value });
        sock.write(commandReply(`+OK filter added. [${header}]=[${value}]`));
      } else if (line === 'noevents') {
        cl.events.clear();
        sock.write(commandReply('+OK no longer listening for events'));
      } else if (line === 'exit') {
        sock.write(recorded.bye + recorded.goodbye);
        sock.end();
      } else if (line.startsWith('api ')) {
        sock.write(apiResponse(api(line.slice(4))));
      } else sock.write(recorded.notFound);
    });
  });
  const api = (command: string): string => {
    const [name, ...args] = command.split(' ');
    if (name === 'uuid_exists') return channels.has(args[0] ?? '') ? 'true' : 'false';
    if (name === 'status') return recorded.status;
    if (name === 'version') return recorded.version;
    if (command === 'show channels as json') return showChannels();
    if (name === 'global_getvar') return args[0] === 'domain' ? realApi.domain : realApi.unknownGlobal;
    if (name === 'sofia_contact') {
      const user = /^\*\/([^@]+)@/.exec(args[0] ?? '')?.[1] ?? '';
      return unregistered.has(user) ? realApi.notRegistered : `sofia/internal/sip:${user}@127.0.0.1:5081`;
    }
    return `-ERR ${name} Command not found!\n`;
  };
  /** `show channels as json`: idle, the recorded `{"row_count": 0}` + LF; else rows shaped like the real one (file 11), no LF. */
  const showChannels = (): string => {
    if (channels.size === 0) return realApi.noChannels;
    return JSON.stringify({ row_count: channels.size, rows: [...channels.values()].map(channelRow) });
  };
  const channelRow = (c: Channel): Record<string, string> => {
    const agents = ['outbound', 'customer-id'].includes(c.vars.get('callpolicy_kind') ?? '');
    return {
      ...realApi.channelRow,
      uuid: c.uuid,
      created_epoch: String(Math.floor(c.createdUs / 1e6)),
      name: `sofia/internal/${c.user}@127.0.0.1:5081`,
      cid_name: c.profileName,
      cid_num: c.user,
      dest: c.dialed,
      // An agent's phone registers as user@domain, which FreeSWITCH keeps as the presence id; a trunk's call has none.
      presence_id: agents ? `${c.user}@127.0.0.1` : '',
      call_uuid: c.uuid,
      initial_cid_name: c.profileName,
      initial_cid_num: c.user,
      initial_dest: c.dialed,
    };
  };
  await new Promise<void>((r) => control.listen(0, '127.0.0.1', r));

  // ---- a call: the dialplan's outbound extension, `socket` in sync mode, then the route ----

  async function placeCall(o: Parameters<FakeFreeswitch['placeCall']>[0]): Promise<PlacedCall> {
    const c: Channel = { uuid: randomUUID(), user: o.user, dialed: o.dialed, profileName: `Agent ${o.user}`, vars: new Map(), createdUs: nowUs() };
    channels.set(c.uuid, c);
    // The user directory's caller ID is on the agent's channel from the start (real files 01-03:
    // "Extension 1003"); it reaches the trunk unless the decision sets effective_caller_id_name.
    c.vars.set('effective_caller_id_number', o.user);
    c.vars.set('effective_caller_id_name', `Extension ${o.user}`);
    // What the shipped extension sets before `socket`.
    c.vars.set('callpolicy_kind', o.kind ?? 'outbound');
    c.vars.set('callpolicy_trunk', opts.trunk ?? 'trunk');
    c.vars.set('callpolicy_dest', o.dialed);
    c.vars.set('callpolicy_route', 'default-down');
    let hungUp = false;
    let cancelTimer: NodeJS.Timeout | undefined;
    const started = performance.now();
    const decisionMs = await socketApp(c, o.faults ?? {}, (cancel) => {
      if (o.cancelAfterMs !== undefined) cancelTimer = setTimeout(() => ((hungUp = true), cancel()), o.cancelAfterMs);
    }).then(() => performance.now() - started);
    if (hungUp) {
      hangupComplete(c, null, 'recv_cancel', ['ORIGINATOR_CANCEL', 487]);
      return { uuid: c.uuid, trunk: null, outcome: null, decisionMs, vars: c.vars, agentSaw: null, commands: commandLog(c) };
    }
    clearTimeout(cancelTimer);
    // transfer callpolicy-${callpolicy_route} XML callpolicy-route
    const route = c.vars.get('callpolicy_route') ?? '';
    let trunk: TrunkView | null = null;
    let survey: SurveyView | undefined;
    let agentSaw: PlacedCall['agentSaw'] = null;
    if (route === 'dial' || route.startsWith('default')) {
      c.vars.set('callpolicy_outcome', route);
      if (route.startsWith('default')) {
        c.vars.delete('effective_caller_id_number');
        c.vars.delete('effective_caller_id_name');
      }
      trunk =
        route === 'dial'
          ? { destination: c.vars.get('callpolicy_dest') ?? '', callerIdNumber: c.vars.get('effective_caller_id_number') ?? c.user, callerIdName: c.vars.get('effective_caller_id_name') ?? c.profileName }
          : { destination: c.dialed, ...opts.defaultCallerId, callerIdNumber: opts.defaultCallerId.number, callerIdName: opts.defaultCallerId.name };
      c.vars.set('DIALSTATUS', 'SUCCESS');
      const shown = c.vars.get('callpolicy_shown_number');
      agentSaw = shown ? { number: shown, name: c.vars.get('callpolicy_shown_name') ?? '', displayUpdates: false } : { number: trunk.destination, name: '', displayUpdates: true };
      const answeredUs = nowUs();
      await new Promise((r) => setTimeout(r, o.talkMs ?? 200));
      const bUuid = randomUUID();
      if (o.hangsUp === 'customer') {
        hangupComplete(c, { answeredUs, bUuid }, 'send_bye', ['NORMAL_CLEARING', 16]);
      } else {
        hangupComplete(c, { answeredUs, bUuid }, 'recv_bye', ['NORMAL_CLEARING', 16]);
        // The B leg's [transfer_after_bridge=callpolicy-survey-out:...] when the adapter offered a survey.
        if (route === 'dial' && c.vars.get('callpolicy_survey') === '1') {
          const b: Channel = { uuid: bUuid, user: c.vars.get('callpolicy_dest') ?? c.dialed, dialed: c.dialed, profileName: '', vars: new Map(), createdUs: nowUs() };
          survey = await surveyLeg(b, { direction: 'outbound', callId: c.uuid, agentEndpoint: `user/${c.user}` }, o.surveySteps ?? []);
        }
      }
    } else if (route === 'reject' || route.startsWith('refused-')) {
      c.vars.set('callpolicy_outcome', route);
      hangupComplete(c, null, 'send_refuse', ['UNALLOCATED_NUMBER', 1]);
    } else {
      hangupComplete(c, null, 'send_refuse', ['NO_ROUTE_DESTINATION', 3]);
    }
    return { survey, agentSaw, commands: commandLog(c), uuid: c.uuid, trunk: trunk && { destination: trunk.destination, callerIdNumber: trunk.callerIdNumber, callerIdName: trunk.callerIdName }, outcome: c.vars.get('callpolicy_outcome') ?? null, decisionMs, vars: c.vars };
  }

  async function placeInbound(o: Parameters<FakeFreeswitch['placeInbound']>[0]): Promise<InboundResult> {
    const did = o.did ?? '+15550001000';
    const c: Channel = { uuid: randomUUID(), user: o.callerNumber, dialed: did, profileName: '', vars: new Map(), createdUs: nowUs() };
    channels.set(c.uuid, c);
    c.vars.set('callpolicy_kind', 'inbound');
    c.vars.set('callpolicy_trunk', opts.trunk ?? 'trunk');
    c.vars.set('callpolicy_did', did);
    c.vars.set('callpolicy_route', 'ivr-down');
    const started = performance.now();
    await socketApp(c, o.faults ?? {}, () => undefined);
    const decisionMs = performance.now() - started;
    const route = c.vars.get('callpolicy_route') ?? '';
    const result: InboundResult = { uuid: c.uuid, reached: 'ivr', agentRang: false, outcome: null, agentSaw: null, decisionMs, vars: c.vars };
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const answeredUs = nowUs();
    const shown = c.vars.get('callpolicy_shown_number');
    /** The agent leg's bridge: what the phone is sent, and whether it answers. */
    const ringAgent = async (): Promise<boolean> => {
      result.agentRang = true;
      result.agentSaw = {
        number: shown ?? c.user,
        name: shown ? (c.vars.get('callpolicy_shown_name') ?? '') : c.profileName,
        displayUpdates: !shown,
      };
      if (!o.agentAnswers) await sleep(Number(c.vars.get('callpolicy_ring') ?? 1) * 1000);
      return o.agentAnswers;
    };
    const toFinal = (kind: string) => {
      c.vars.set('callpolicy_noanswer_route', kind);
      if (kind === 'voicemail') {
        result.reached = 'voicemail';
        result.mailbox = c.vars.get('callpolicy_voicemail');
      } else result.reached = kind === 'goodbye' ? 'goodbye' : 'ivr';
    };
    const talk = async () => {
      result.reached = 'agent';
      result.outcome = c.vars.get('callpolicy_outcome') ?? null;
      await sleep(o.holdMs ?? 300);
      const bUuid = randomUUID();
      if (o.hangsUp !== 'agent') return hangupComplete(c, { answeredUs, bUuid }, 'recv_bye', ['NORMAL_CLEARING', 16]);
      // hangup_after_bridge=false: the customer's channel goes on to callpolicy-after-ring.
      if (c.vars.get('callpolicy_survey') === '1') {
        result.survey = await surveyLeg(c, { direction: 'inbound', callId: c.uuid, agentEndpoint: c.vars.get('callpolicy_agent_dial') ?? '' }, o.surveySteps ?? []);
      } else hangupComplete(c, { answeredUs, bUuid }, 'send_bye', ['NORMAL_CLEARING', 16]);
    };
    if (route === 'ring') {
      c.vars.set('callpolicy_outcome', 'ring');
      if (await ringAgent()) return await talk().then(() => result);
      toFinal(c.vars.get('callpolicy_noanswer') ?? 'ivr');
    } else if (route === 'wait') {
      c.vars.set('callpolicy_outcome', 'wait');
      const until = Date.now() + Number(c.vars.get('callpolicy_wait') ?? 0) * 1000;
      while (Date.now() < until) {
        if (c.vars.get('callpolicy_offer') === '1') {
          if (await ringAgent()) return await talk().then(() => result);
        } else await sleep(Math.min(1000, until - Date.now()));
      }
      toFinal(c.vars.get('callpolicy_then') ?? 'goodbye');
    } else {
      c.vars.set('callpolicy_outcome', route);
    }
    result.outcome = c.vars.get('callpolicy_outcome') ?? null;
    // The IVR or the voicemail takes the call and the customer hangs up; a goodbye is the PBX hanging up.
    await sleep(50);
    if (result.reached === 'goodbye') hangupComplete(c, { answeredUs, bUuid: '' }, 'send_bye', ['NORMAL_CLEARING', 16]);
    else hangupComplete(c, { answeredUs, bUuid: '' }, 'recv_bye', ['NORMAL_CLEARING', 16]);
    return result;
  }

  /** Milliseconds a prompt plays on the fake: silence/N(.wav) for N s, anything else a short sound. */
  const promptMs = (arg: string) =>
    arg
      .replace(/^file_string:\/\//, '')
      .split('!')
      .reduce((sum, p) => sum + (/^silence\/(\d+)(\.wav)?$/.test(p) ? Number(/^silence\/(\d+)/.exec(p)![1]) * 1000 : 250), 0);

  /**
   * A recorded event with this channel's values put in where the event has them: one that carries
   * the channel's variables (a HANGUP_COMPLETE) gets all of ours; a DTMF or a CHANNEL_STATE none.
   */
  const channelEvent = (c: Channel, template: Pairs, set: Record<string, string> = {}): string => {
    const names = new Set(template.map(([k]) => k));
    const withVars = names.has('variable_uuid');
    const own = Object.entries(channelHeaders(c)).filter(([k]) => names.has(k) || (withVars && k.startsWith('variable_')));
    return jsonEventFrame(render(template, { ...Object.fromEntries(own), ...set }));
  };

  /** What follows a hang-up on the survey socket, in the recorded order (files 07-10), as one write with the disconnect notice. */
  const hangupSequence = (c: Channel, real: SurveyFrames, disposition: string, cause: string): string => {
    const events = real.hangup.map((template) => {
      const set: Record<string, string> = { 'Hangup-Cause': cause };
      const name = header(template, 'Event-Name');
      // The socket application itself completes: the dialplan's `socket` action.
      if (name === 'CHANNEL_EXECUTE_COMPLETE') Object.assign(set, { 'Application-Data': `127.0.0.1:${opts.decisionPort()} async full`, 'Application-UUID': randomUUID() });
      if (name === 'CHANNEL_HANGUP_COMPLETE') Object.assign(set, { variable_hangup_cause: cause, variable_hangup_cause_q850: String(Q850[cause] ?? 16), variable_sip_hangup_disposition: disposition });
      return channelEvent(c, template, set);
    });
    return events.join('') + goodbye(c, real.goodbye);
  };

  /** [callpolicy-survey]: `socket ... async full` with socket_resume, then hangup. Its frames are the real ones of files 07-10. */
  function surveyLeg(c: Channel, info: { direction: string; callId: string; agentEndpoint: string }, steps: SurveyStep[]): Promise<SurveyView> {
    channels.set(c.uuid, c);
    for (const [k, v] of Object.entries({ callpolicy_kind: 'survey', callpolicy_survey: '1', callpolicy_direction: info.direction, callpolicy_call: info.callId, callpolicy_agent_endpoint: info.agentEndpoint, socket_resume: 'true' })) c.vars.set(k, v);
    const real = surveyTemplates[info.direction === 'inbound' ? 'inbound' : 'outbound'];
    const view: SurveyView = { reached: false, endedBy: 'pbx', played: [] };
    return new Promise((resolve) => {
      const sock = net.connect(opts.decisionPort(), '127.0.0.1');
      const timers: NodeJS.Timeout[] = [];
      const later = (ms: number, fn: () => void) => void timers.push(setTimeout(fn, ms));
      let subscribed = false;
      let down = false;
      const toSocket = (frames: string) => {
        if (subscribed && !sock.destroyed) sock.write(frames);
      };
      const playback = (p: Prompt) => ({ Application: 'playback', 'Application-Data': p.arg, 'Application-UUID': p.id });
      const prompts = playbackQueue(promptMs, {
        started: (p) => toSocket(channelEvent(c, real.execute, playback(p))),
        // A prompt cut by uuid_break says FILE PLAYED too (files 07-10).
        ended: (p) => toSocket(channelEvent(c, real.executeComplete, { ...playback(p), 'Application-Response': 'FILE PLAYED' })),
      });
      /** The channel goes down: the recorded hang-up events and the disconnect notice, then the end on the control link. */
      const hangUp = (by: 'pbx' | 'customer', cause = 'NORMAL_CLEARING') => {
        if (down) return;
        down = true;
        view.endedBy = by;
        prompts.stop();
        for (const t of timers) clearTimeout(t);
        const disposition = by === 'customer' ? 'recv_bye' : 'send_bye';
        if (!sock.destroyed) sock.end(subscribed ? hangupSequence(c, real, disposition, cause) : goodbye(c, real.goodbye));
        hangupComplete(c, { answeredUs: c.createdUs, bUuid: '' }, disposition, [cause, Q850[cause] ?? 16]);
        // The customer's phone is done once the adapter has had the last frames (as a SIP far end would be, later still).
        if (sock.destroyed) resolve(view);
        else {
          sock.once('close', () => resolve(view));
          setTimeout(() => resolve(view), 500);
        }
      };
      // Nothing listening, or the socket ended without a hang-up: socket_resume, then the dialplan's hangup.
      sock.on('error', () => hangUp('pbx'));
      sock.on('close', () => hangUp('pbx'));
      later(15_000, () => hangUp('pbx')); // sched_hangup +callpolicy_survey_max_seconds
      let at = 0;
      for (const step of steps) {
        if ('pauseMs' in step) at += step.pauseMs;
        else if ('hangup' in step) later(at, () => hangUp('customer'));
        else later(at, () => toSocket(channelEvent(c, step.via === 'info' ? real.dtmf.info : real.dtmf.rtp, { 'DTMF-Digit': step.key })));
      }
      const onSendmsg = (headers: Pairs) => {
        sock.write(commandReply('+OK'));
        if (header(headers, 'call-command') === 'hangup') return later(EVENT_LAG_MS, () => hangUp('pbx', header(headers, 'hangup-cause') ?? 'NORMAL_CLEARING'));
        const app = header(headers, 'execute-app-name') ?? '';
        const arg = header(headers, 'execute-app-arg') ?? '';
        if (app !== 'playback') return execute(c, app, arg);
        view.played.push(arg);
        prompts.add({ id: header(headers, 'Event-UUID') ?? randomUUID(), arg });
      };
      const surveyApi = (command: string): string => {
        const [name, uuid, ...rest] = command.split(' ');
        if (uuid !== c.uuid) return realApi.noSuchChannel;
        if (name === 'uuid_break') {
          prompts.cut();
          return realApi.ok;
        }
        if (name === 'uuid_setvar') {
          c.vars.set(rest[0] ?? '', rest.slice(1).join(' '));
          return realApi.ok;
        }
        return api(command);
      };
      readCommands(sock, async (cmd) => {
        if (down) return;
        if (cmd.line === 'connect') {
          view.reached = true;
          sock.write(connectReply(c, real.connect));
        } else if (/^myevents( json| plain)?$/.test(cmd.line)) {
          subscribed = true;
          sock.write(commandReply('+OK Events Enabled'));
        } else if (/^event (plain|json) /.test(cmd.line)) {
          sock.write(commandReply(`+OK event listener enabled ${cmd.line.split(' ')[1]}`));
        } else if (cmd.line === 'sendmsg' || cmd.line.startsWith('sendmsg ')) {
          onSendmsg(cmd.headers);
        } else if (cmd.line.startsWith('api ')) {
          sock.write(apiResponse(surveyApi(cmd.line.slice(4))));
        } else if (cmd.line === 'exit') {
          sock.write(commandReply('+OK bye') + goodbye(c, real.goodbye));
          sock.end();
        } else sock.write(recorded.notFound);
      });
    });
  }

  /** mod_event_socket's `socket` application, sync mode: resolves when the dialplan may go on. */
  function socketApp(c: Channel, faults: DecisionFaults, armCancel: (cancel: () => void) => void): Promise<void> {
    return new Promise((resolve) => {
      const sock = net.connect(opts.decisionPort(), '127.0.0.1');
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        clearTimeout(connectWait);
        sock.destroy();
        resolve();
      };
      // FreeSWITCH waits 25 s for `connect`, then gives up ("Socket Error!") and the dialplan goes on.
      const connectWait = setTimeout(finish, 25_000);
      sock.on('error', finish); // nothing listening: the application fails at once
      sock.on('close', finish);
      armCancel(() => {
        // The agent hung up: FreeSWITCH ends the socket with its disconnect notice.
        if (!sock.destroyed) sock.end(goodbye(c));
        finish();
      });
      const delay = () => (faults.replyDelayMs ? new Promise((r) => setTimeout(r, faults.replyDelayMs)) : Promise.resolve());
      readCommands(sock, async (cmd) => {
        commandLog(c).push(cmd.line);
        await delay();
        if (finished || sock.destroyed) return;
        if (cmd.line === 'connect') {
          clearTimeout(connectWait);
          if (faults.malformedConnect) {
            sock.write('Content-Type: command/reply\nContent-Length: 900\n\nReply-Text: +OK\n\n');
            return;
          }
          sock.write(connectReply(c, realDecision.connect[decisionKind(c)]));
          if (faults.dropAfterConnect) finish();
        } else if (/^event (plain|json) /.test(cmd.line)) {
          sock.write(commandReply(`+OK event listener enabled ${cmd.line.split(' ')[1]}`));
        } else if (cmd.line === 'myevents') {
          sock.write(commandReply('+OK Events Enabled'));
        } else if (cmd.line === 'linger') {
          sock.write(commandReply('+OK will linger'));
        } else if (cmd.line === 'sendmsg' || cmd.line.startsWith('sendmsg ')) {
          const uuid = cmd.line.split(' ')[1];
          if (uuid && uuid !== c.uuid) return void sock.write(commandReply(`-ERR invalid session id [${uuid}]`));
          if (faults.errOnExecute) return void sock.write(commandReply('-ERR no reply'));
          execute(c, header(cmd.headers, 'execute-app-name') ?? '', header(cmd.headers, 'execute-app-arg') ?? '');
          sock.write(commandReply('+OK'));
        } else if (cmd.line === 'exit') {
          sock.write(commandReply('+OK bye') + goodbye(c));
          sock.end();
          finish();
        } else sock.write(recorded.notFound);
      });
    });
  }

  /** A connect reply made from a recorded one: the channel's data (the recorded call's dialplan variables out, ours in), then the recorded reply headers (Socket-Mode as recorded). */
  const connectReply = (c: Channel, template: Frame): string => {
    const at = template.headers.findIndex(([k]) => k === 'Content-Type');
    const data = render(withoutPolicyVars(decodePairs(template.headers.slice(0, at))), channelHeaders(c));
    const reply = template.headers.slice(at);
    return `${[...data.map(([k, v]): [string, string] => [k, fsEncode(v)]), ...reply].map(([k, v]) => `${k}: ${v}`).join('\n')}\n\n`;
  };
  const goodbye = (c: Channel, template: Frame = realDecision.goodbye): string => {
    const pairs = render(template.headers, { 'Controlled-Session-UUID': c.uuid });
    return `${pairs.map(([k, v]) => `${k}: ${v}`).join('\n')}\n\n${template.body}`;
  };
  /** The applications a decision runs on the channel: set, multiset, unset, set_profile_var. */
  const execute = (c: Channel, app: string, arg: string) => {
    if (app === 'set') setVar(c.vars, arg);
    else if (app === 'multiset') for (const item of multisetItems(arg)) setVar(c.vars, item);
    else if (app === 'unset') c.vars.delete(arg);
    else if (app === 'set_profile_var' && arg.startsWith('caller_id_name=')) c.profileName = arg.slice('caller_id_name='.length);
  };

  return {
    eslPort: (control.address() as net.AddressInfo).port,
    placeCall,
    placeInbound,
    liveChannels: () => [...channels.keys()],
    dropControlConnections: () => {
      for (const cl of clients) cl.sock.destroy();
    },
    controlConnections: () => [...clients].filter((c) => c.authed).length,
    setControlReplyDelay: (ms) => (controlDelayMs = ms),
    setRegistered: (user, registered) => void (registered ? unregistered.delete(user) : unregistered.add(user)),
    stop: () =>
      new Promise((r) => {
        for (const cl of clients) cl.sock.destroy();
        control.close(() => r());
      }),
  };
}

/** The client's commands as FreeSWITCH reads them: a command line, headers, an empty line (and a Content-Length body). */
function readCommands(sock: net.Socket, onCommand: (cmd: { line: string; headers: Pairs; body: string }) => Promise<void>): void {
  let buf = '';
  let chain = Promise.resolve();
  sock.setEncoding('utf8');
  sock.on('data', (data: string) => {
    buf += data;
    for (;;) {
      const end = buf.indexOf('\n\n');
      if (end < 0) return;
      const [line = '', ...rest] = buf.slice(0, end).split('\n');
      const headers = parseHeaderBlock(rest.join('\n'));
      const length = Number(header(headers, 'Content-Length') ?? 0);
      if (buf.length < end + 2 + length) return;
      const body = buf.slice(end + 2, end + 2 + length);
      buf = buf.slice(end + 2 + length);
      const cmd = { line: line.trim(), headers, body };
      chain = chain.then(() => onCommand(cmd)).catch(() => undefined);
    }
  });
}

/** Which recorded connect reply a decision socket starts with: the kind the shipped extension set. */
function decisionKind(c: { vars: Map<string, string> }): 'outbound' | 'customer-id' | 'inbound' {
  const kind = c.vars.get('callpolicy_kind');
  return kind === 'inbound' || kind === 'customer-id' ? kind : 'outbound';
}

/** mod_dptools `set name=value`: an empty value, or no `=`, unsets the variable. */
function setVar(vars: Map<string, string>, arg: string): void {
  const eq = arg.indexOf('=');
  const [name, value] = eq < 0 ? [arg, ''] : [arg.slice(0, eq), arg.slice(eq + 1)];
  if (value === '') vars.delete(name);
  else vars.set(name, value);
}

/**
 * The `name=value` items of a `multiset` argument: `^^<d>` at the start names <d> as the delimiter
 * between them (`^^:a=1:b=2`), so values may hold spaces; otherwise they are separated by spaces.
 */
export function multisetItems(arg: string): string[] {
  const custom = arg.startsWith('^^') && arg.length > 2;
  const items = custom ? arg.slice(3).split(arg[2]!) : arg.split(' ');
  return items.filter((item) => item.length > 0);
}

interface Prompt {
  id: string;
  arg: string;
}

/**
 * A channel's playbacks in async mode: one at a time, each queued one starting once the one before
 * has completed. A prompt starts (CHANNEL_EXECUTE) EVENT_LAG_MS after it may, plays, and completes.
 * uuid_break cuts the one playing: it completes EVENT_LAG_MS later (files 07-10: after the adapter's
 * next playback was already accepted), and the queued ones are dropped (`all`).
 */
function playbackQueue(lengthMs: (arg: string) => number, on: { started(p: Prompt): void; ended(p: Prompt): void }) {
  const waiting: Prompt[] = [];
  let current: { p: Prompt; timer: NodeJS.Timeout } | null = null;
  const end = () => {
    const p = current!.p;
    current = null;
    on.ended(p);
    next();
  };
  const next = () => {
    const p = current ? undefined : waiting.shift();
    if (!p) return;
    const begin = () => {
      on.started(p);
      current = { p, timer: setTimeout(end, lengthMs(p.arg)) };
    };
    current = { p, timer: setTimeout(begin, EVENT_LAG_MS) };
  };
  return {
    add(p: Prompt) {
      waiting.push(p);
      next();
    },
    cut() {
      waiting.length = 0;
      if (!current) return;
      clearTimeout(current.timer);
      current.timer = setTimeout(end, EVENT_LAG_MS);
    },
    stop() {
      waiting.length = 0;
      if (current) clearTimeout(current.timer);
      current = null;
    },
  };
}
