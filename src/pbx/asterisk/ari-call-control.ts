import ari from 'ari-client';
import type { Logger } from '../../log.js';
import {
  CallGoneError,
  PbxRequestError,
  PbxTimeoutError,
  assertSafeCallerId,
  assertSafeDestination,
  assertSafeEndpoint,
  assertSafeNoAnswerRoute,
  assertSafeShown,
  assertSeconds,
  type CallControlHandlers,
  type CallControlPort,
  type EndpointStatus,
  type FinalAction,
  type HungUpBy,
  type InboundCall,
  type LinkState,
  type NoAnswerRoute,
  type OutboundCall,
  type ShownIdentity,
} from '../call-control.js';
import { SURVEY_DONE_MARK, SURVEY_MARK, createSurveyLegs, parseSurveyArgs, type AriSurveyEvent } from './ari-survey-legs.js';
import { backoffDelay, withTimeout } from '../with-timeout.js';
import { AriHttpError, checkAriAccess, createAriRest, endpointStatusOf, type AriRest } from './ari-rest.js';
import { createWsRest, type RestResponseEvent, type WsSocket } from './ari-ws-rest.js';

export interface AriOptions {
  url: string;
  user: string;
  password: string;
  app: string;
  requestTimeoutMs: number;
  logger: Logger;
  /** How often to ping the websocket; a missing pong means a dead link. */
  pingIntervalMs?: number;
  /** Time limit of connecting and of registering the app (default 10 s each). */
  connectTimeoutMs?: number;
}

/** The few parts of ari-client we use, typed here so nothing else depends on its shapes. */
interface AriChannelJson {
  id: string;
  name: string;
  caller?: { number?: string; name?: string };
  dialplan?: { context: string; exten: string; priority: number };
}
/** ari-client carries the websocket (events, reconnects); REST goes through ari-rest.ts. */
interface AriClient {
  on(event: string, listener: (...args: any[]) => void): void;
  removeAllListeners(): void;
  start(app: string): Promise<void>;
  stop(): void;
  ping(): void;
}

const OUTBOUND_CONTEXT_ARG = 'outbound';
/** The shipped dialplan's [callpolicy-inbound] enters the app with this first argument, then the trunk. */
const INBOUND_ARG = 'inbound';
/** Set by [callpolicy-inbound] (the dialled number) before Stasis(), on customers' calls only: re-adoption tells the directions apart by it. */
const INBOUND_MARK = 'CALLPOLICY_DID';
/** The shipped dialplan's context that rings a remembered agent (extension ring*... or wait*...). */
const AGENT_CONTEXT = 'callpolicy-agent';
/**
 * A survey leg's keys, the end of its prompts, and the customer's hang-up. Not StasisEnd: every
 * decided call would send one more event. A leg that leaves the app otherwise (the dialplan's
 * CALLPOLICY_SURVEY_MAX) ends its survey at the next request (the leg is gone) or the sweep.
 */
const SURVEY_EVENTS = ['ChannelDtmfReceived', 'PlaybackFinished', 'ChannelHangupRequest'];
/** The shipped dialplan's [callpolicy-survey] enters the app with this first argument, then direction, call id, agent endpoint. */
const SURVEY_ARG = 'survey';
/** No survey lasts longer: a leg whose end was missed is forgotten after this. */
const SURVEY_MAX_AGE_MS = 30 * 60_000;
/**
 * The events we act on. Followed channels would otherwise stream every ChannelVarset, Dial and
 * state change through the websocket while the call is being set up, costing post-dial delay.
 */
const WANTED_EVENTS = ['StasisStart', 'RESTResponse', ...SURVEY_EVENTS];
/** The shipped dialplan's h extension enters the app with this first argument at every end. */
const END_ARG = 'end';
/** The shipped dialplan's context that dials with the adapter's caller ID (extension <caller ID>*<destination>). */
const DECIDED_CONTEXT = 'callpolicy-decided';
/** The third argument of an outbound call from the shipped dialplan's [callpolicy-customer-id]: prefix + ID was dialled. */
const CUSTOMER_ID_ARG = 'customer-id';
/** That context: a call re-adopted there is a call by customer ID. */
const CUSTOMER_ID_CONTEXT = 'callpolicy-customer-id';
/**
 * Number protection: the identity the agent's phone may receive, read by the dialplan's
 * [callpolicy-protect]. On an inbound call set with "_" on the customer's channel, so that the
 * agent's channel that Dial creates inherits it.
 */
function shownVars(shown: ShownIdentity | undefined, inherit: boolean): [string, string][] {
  if (!shown) return [];
  assertSafeShown(shown);
  const p = inherit ? '_' : '';
  return [
    [`${p}CALLPOLICY_SHOWN_NUM`, shown.number],
    [`${p}CALLPOLICY_SHOWN_NAME`, shown.name],
  ];
}

/** Asterisk over ARI: the channel waits in Stasis while the adapter decides. */
export function createAriCallControl(opts: AriOptions): CallControlPort {
  const log = opts.logger.child({ pbx: 'asterisk' });
  const t = opts.requestTimeoutMs;
  let client: AriClient | undefined;
  let state: LinkState = 'connecting';
  let stopped = false;
  let handlers: CallControlHandlers | undefined;
  let pingTimer: NodeJS.Timeout | undefined;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let wakeConnectLoop: (() => void) | undefined;
  let lastPong = Date.now();
  /** The current refusal of our credentials is logged (once until it changes). */
  let refusedSaid = false;
  /** Channels handed to the outbound handler and not yet released: never handled twice. */
  const deciding = new Set<string>();

  // The decision's requests go over the ARI websocket when it is open, else over HTTP.
  const http = createAriRest(opts.url, opts.user, opts.password, t);
  const rest = createWsRest(() => (client ? socketOf(client) : undefined), http, t);
  const surveys = createSurveyLegs(() => guardedRest);
  /**
   * The REST calls of survey legs go over HTTP, never the websocket: Asterisk runs a websocket's
   * requests one after the other, and one that waits for a channel's own thread (a variable set
   * while a prompt plays on it) would hold every other call's decision behind the prompt. With the
   * same errors as every other request (CallGoneError for a leg that left).
   */
  const guardedRest: AriRest = {
    ...http,
    play: (channelId, playbackId, media) => request('play', () => http.play(channelId, playbackId, media), channelId),
    stopPlayback: (playbackId) => request('stopPlayback', () => http.stopPlayback(playbackId)),
    setChannelVar: (channelId, variable, value) => request('setChannelVar', () => http.setChannelVar(channelId, variable, value), channelId),
    hangup: (channelId) => request('hangup', () => http.hangup(channelId), channelId),
  };

  async function request<T>(operation: string, call: (r: AriRest) => Promise<T>, channelId?: string): Promise<T> {
    try {
      // ari-rest aborts each request after `t` ms (AbortSignal.timeout).
      return await call(rest);
    } catch (err) {
      // 404 "Channel not found" / 409 "Channel not in Stasis application": the call moved on.
      if (channelId && err instanceof AriHttpError && (err.status === 404 || err.status === 409)) throw new CallGoneError(channelId);
      if (err instanceof PbxTimeoutError) throw err;
      if (err instanceof Error && err.name === 'TimeoutError') throw new PbxTimeoutError(operation, t);
      throw new PbxRequestError(`${operation}: ${(err as Error).message}`);
    }
  }

  /** The one request that lets a held channel go on: whatever its answer, the channel is no longer being decided. */
  async function letGo(operation: string, channelId: string, call: (r: AriRest) => Promise<void>): Promise<void> {
    try {
      await request(operation, call, channelId);
    } finally {
      deciding.delete(channelId);
    }
  }

  /**
   * The default caller ID or a refusal: one variable the dialplan reads after Stasis(), and
   * "continue", written together on the ARI websocket (see the shipped dialplan).
   */
  function release(channelId: string, decision: 'default' | 'default-survey' | 'reject' | 'unknown-id' | 'id-unavailable', shown?: ShownIdentity): Promise<void> {
    const vars: [string, string][] = [...shownVars(shown, false), ['CALLPOLICY_DECISION', decision]];
    return letGo('decision', channelId, (r) => r.setVarsAndContinue(channelId, vars));
  }

  /**
   * A caller ID to dial with: one "continue" to the dialplan's decided context, at extension
   * <caller ID>*<destination>; the trunk's caller ID name, when it has one, in a variable written
   * in the same TCP write. Nothing else: the call's end comes to us from the dialplan's h extension.
   */
  function releaseToDial(channelId: string, callerId: { number: string; name: string }, destination: string, survey: boolean, shown?: ShownIdentity): Promise<void> {
    // A third field "s": the customer's leg goes to the survey when the agent hangs up first.
    const to = { context: DECIDED_CONTEXT, extension: `${callerId.number}*${destination}${survey ? '*s' : ''}`, priority: 1 };
    const vars: [string, string][] = [...(callerId.name ? [['CALLPOLICY_NAME', callerId.name] as [string, string]] : []), ...shownVars(shown, false)];
    return letGo('decision', channelId, (r) => (vars.length > 0 ? r.setVarsAndContinue(channelId, vars, to) : r.continueInDialplan(channelId, to)));
  }

  /** An inbound call: to the IVR (the priority after Stasis()), or to [callpolicy-agent] with the agent in CALLPOLICY_AGENT. */
  function routeInbound(channelId: string, agent?: { endpoint: string; extension: string }, shown?: ShownIdentity): Promise<void> {
    const vars = [...shownVars(shown, true), ...(agent ? [['CALLPOLICY_AGENT', agent.endpoint] as [string, string]] : [])];
    const to = agent ? { context: AGENT_CONTEXT, extension: agent.extension, priority: 1 } : undefined;
    return letGo('route', channelId, (r) => (vars.length > 0 ? r.setVarsAndContinue(channelId, vars, to) : r.continueInDialplan(channelId)));
  }

  /** `Stasis(app,end,<outcome>,<DIALSTATUS>,<ANSWEREDTIME_MS>,<HANGUPCAUSE>,<hangupsource>[,<fallback>])` at every end. */
  function onEnd(channel: AriChannelJson, args: string[], timestamp: string | undefined): void {
    const channelId = channel.id;
    deciding.delete(channelId);
    const report = parseEndReport(args.slice(1), channel.name);
    // Calls the adapter never decided (refused by the dialplan, or placed while it was down) have no record.
    if (!report.followed) return;
    const at = timestamp ? new Date(timestamp) : new Date();
    const talkMs = report.answeredMs;
    const answered = talkMs !== null && (report.dialStatus === 'ANSWER' || talkMs > 0);
    handlers?.ended?.({
      id: channelId,
      at,
      cause: report.cause,
      answeredAt: answered ? new Date(at.getTime() - talkMs) : null,
      talkSeconds: answered ? Math.round(talkMs / 1000) : null,
      dialStatus: report.dialStatus,
      finalAction: report.finalAction,
      hungUpBy: report.hungUpBy,
      noAnswerRoute: report.noAnswerRoute,
    });
  }

  function outboundCall(channel: AriChannelJson, trunk: string, byCustomerId: boolean): OutboundCall {
    return {
      id: channel.id,
      // PJSIP/1001-0000002a: the endpoint is the name without the unique suffix.
      endpoint: channel.name.replace(/-[^-]*$/, ''),
      dialed: channel.dialplan?.exten ?? '',
      trunk,
      byCustomerId,
      async dial(callerId, destination, o) {
        assertSafeDestination(destination);
        assertSafeCallerId(callerId);
        await releaseToDial(channel.id, callerId, destination, o?.survey ?? false, o?.protect);
      },
      // The customer-ID context has no default caller ID to dial with: no number is known there.
      useDefault: (o) => (byCustomerId ? release(channel.id, 'id-unavailable') : release(channel.id, o?.survey ? 'default-survey' : 'default', o?.protect)),
      reject: () => release(channel.id, byCustomerId ? 'unknown-id' : 'reject'),
      refuseCustomerId: (why) => release(channel.id, why),
    };
  }

  function inboundCall(channel: AriChannelJson, trunk: string): InboundCall {
    return {
      id: channel.id,
      callerNumber: channel.caller?.number ?? '',
      dialed: channel.dialplan?.exten ?? '',
      trunk,
      ringAgent: async (endpoint, ringSeconds, onNoAnswer, o) =>
        routeInbound(channel.id, { endpoint, extension: agentExtension('ring', endpoint, ringSeconds, null, onNoAnswer, true, o?.survey ?? false) }, o?.protect),
      waitForAgent: async (endpoint, o) =>
        routeInbound(channel.id, { endpoint, extension: agentExtension('wait', endpoint, o.ringSeconds, o.waitSeconds, o.then, o.offerAgent ?? true, o.survey ?? false) }, o.protect),
      toIvr: (o) => routeInbound(channel.id, undefined, o?.protect),
    };
  }

  /** A customer's leg at the survey point: to the survey handler, or hung up when there is none. */
  function deliverSurvey(channelId: string, args: string[], resumed: boolean, outcomeRecorded: boolean): void {
    if (deciding.has(channelId) || surveys.has(channelId)) return;
    const fields = parseSurveyArgs(args);
    if (!fields || !handlers?.survey) {
      if (!fields) log.warn({ channelId, args }, 'survey leg with malformed arguments; hanging it up');
      guardedRest.hangup(channelId).catch(() => undefined);
      return;
    }
    const call = surveys.open(channelId, fields, resumed, outcomeRecorded);
    handlers.survey(call).catch((err: Error) => {
      log.error({ channelId, err: err.message }, 'survey handler failed');
      guardedRest.hangup(channelId).catch(() => undefined);
    });
  }

  function deliver(channel: AriChannelJson, trunk: string, direction: 'outbound' | 'inbound', byCustomerId = false): void {
    if (deciding.has(channel.id) || !handlers) return;
    if (direction === 'inbound' && !handlers.inbound) {
      // No inbound policy here: the IVR, as if the adapter were not there.
      routeInbound(channel.id).catch(() => undefined);
      return;
    }
    deciding.add(channel.id);
    const handled = direction === 'inbound' ? handlers.inbound!(inboundCall(channel, trunk)) : handlers.outbound(outboundCall(channel, trunk, byCustomerId));
    handled.catch((err: Error) => {
      // The flow handles its own errors; this is the last line of defence for the process.
      log.error({ channelId: channel.id, direction, err: err.message }, 'call handler failed');
      deciding.delete(channel.id);
    });
  }

  /** After every (re)connect: narrow the events, then adopt calls that entered Stasis and were not released yet. */
  async function readopt(): Promise<void> {
    await request('eventFilter', (r) => r.allowEvents(opts.app, WANTED_EVENTS)).catch((err: Error) =>
      log.warn({ err: err.message }, 'cannot set the event filter; all events will be received'),
    );
    try {
      const channelIds = await request('applications.get', (r) => r.applicationChannelIds(opts.app));
      const waiting = channelIds.filter((id) => !deciding.has(id));
      if (waiting.length > 0) log.info({ count: waiting.length }, 're-adopting calls still waiting in the Stasis app');
      for (const channelId of waiting) {
        try {
          // A survey leg (the customer's, after the agent hung up): its survey starts again, unless its outcome is recorded.
          const survey = await request('getChannelVar', (r) => r.getChannelVar(channelId, SURVEY_MARK)).catch(() => '');
          if (survey) {
            const done = await request('getChannelVar', (r) => r.getChannelVar(channelId, SURVEY_DONE_MARK)).catch(() => '');
            deliverSurvey(channelId, survey.split('*'), true, done === '1');
            continue;
          }
          const channel = await request('channels.get', (r) => r.getChannel(channelId), channelId);
          // The channel's context is the trunk's own when it includes [callpolicy-inbound]: the
          // variable that context sets before Stasis() tells a customer's call from an agent's.
          // An unset variable answers 404, like a gone channel: either way, not a customer's call.
          const did = await request('getChannelVar', (r) => r.getChannelVar(channelId, INBOUND_MARK)).catch(() => '');
          if (did) {
            const trunk = await request('getChannelVar', (r) => r.getChannelVar(channelId, 'CHANNEL(endpoint)'), channelId);
            deliver(channel, trunk || 'trunk', 'inbound');
          } else {
            const trunk = await request('getChannelVar', (r) => r.getChannelVar(channelId, 'CALLPOLICY_TRUNK'), channelId);
            deliver(channel, trunk || 'trunk', 'outbound', channel.dialplan?.context === CUSTOMER_ID_CONTEXT);
          }
        } catch (err) {
          if (!(err instanceof CallGoneError)) log.warn({ channelId, err: (err as Error).message }, 'cannot re-adopt call');
        }
      }
    } catch (err) {
      log.warn({ err: (err as Error).message }, 're-adoption failed');
    }
  }

  function onStasisStart(event: { args: string[]; channel: AriChannelJson; timestamp?: string }): void {
    const [kind, trunk, variant] = event.args;
    if (kind === END_ARG) {
      onEnd(event.channel, event.args, event.timestamp);
      return;
    }
    if (kind === SURVEY_ARG) {
      deliverSurvey(event.channel.id, event.args.slice(1), false, false);
      return;
    }
    if (kind !== OUTBOUND_CONTEXT_ARG && kind !== INBOUND_ARG) {
      log.warn({ channelId: event.channel.id, args: event.args }, 'channel entered Stasis with unknown arguments; sending it back');
      release(event.channel.id, 'default').catch(() => undefined);
      return;
    }
    deliver(event.channel, trunk || 'trunk', kind, kind === OUTBOUND_CONTEXT_ARG && variant === CUSTOMER_ID_ARG);
  }

  /** One websocket message: the event filter lets only the types of WANTED_EVENTS through. */
  function onMessage(data: unknown): void {
    let event: { type?: string };
    try {
      event = JSON.parse(String(data)) as { type?: string };
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'ARI websocket message is not JSON; ignored');
      return;
    }
    if (event.type === 'StasisStart') onStasisStart(event as Parameters<typeof onStasisStart>[0]);
    else if (event.type === 'RESTResponse') rest.onResponse(event as RestResponseEvent);
    else surveys.onEvent(event as AriSurveyEvent);
  }

  function attach(c: AriClient): void {
    c.on('pong', () => {
      lastPong = Date.now();
    });
    c.on('WebSocketReconnecting', (err?: Error) => {
      state = 'down';
      rest.failAll('the ARI websocket closed before the answer');
      log.warn({ err: err?.message }, 'ARI websocket lost; reconnecting');
    });
    // ari-client owns the reconnection of its websocket (and gives up after 10 tries, below).
    // Its first 'WebSocketConnected' belongs to connectLoop, which re-adopts after start; every
    // later one is a reconnect, after which waiting calls are re-adopted once.
    let first = true;
    c.on('WebSocketConnected', () => {
      readMessagesDirectly(c, onMessage);
      if (first) {
        first = false;
        return;
      }
      state = 'up';
      lastPong = Date.now();
      log.info({ app: opts.app }, 'ARI websocket reconnected; app registered again');
      void readopt().then(() => handlers?.linked?.());
    });
    c.on('WebSocketMaxRetries', () => {
      log.error('ARI reconnect attempts exhausted; building a new client');
      replaceClient();
    });
  }

  /** Drops the current client: no more events from it, its websocket closed. */
  function closeClient(): void {
    const old = client;
    client = undefined;
    rest.failAll('the ARI client was closed before the answer');
    if (old) disposeClient(old);
  }

  function replaceClient(): void {
    state = 'down';
    closeClient();
    if (!stopped) void connectLoop();
  }

  async function connectOnce(): Promise<AriClient> {
    // ari-client's bundled swagger prints a deprecation notice through console.log at connect.
    const original = console.log;
    console.log = (...args: unknown[]) => {
      if (!String(args[0]).includes('deprecated version of Swagger')) original(...args);
    };
    try {
      await checkAriAccess(opts.url, opts.user, opts.password, opts.connectTimeoutMs ?? 10_000);
      const c = (await withTimeout(ari.connect(opts.url, opts.user, opts.password), opts.connectTimeoutMs ?? 10_000, 'ARI connect')) as unknown as AriClient;
      attach(c);
      try {
        await withTimeout(c.start(opts.app), opts.connectTimeoutMs ?? 10_000, 'ARI start');
      } catch (err) {
        // A start that failed or timed out must not leave a websocket (and its retries) behind.
        disposeClient(c);
        throw err;
      }
      return c;
    } finally {
      console.log = original;
    }
  }

  async function connectLoop(): Promise<void> {
    for (let attempt = 0; !stopped; attempt++) {
      state = state === 'up' ? 'down' : state;
      try {
        client = await connectOnce();
        if (stopped) {
          closeClient();
          return;
        }
        state = 'up';
        lastPong = Date.now();
        log.info({ url: opts.url, app: opts.app }, 'ARI connected; app registered');
        await readopt();
        handlers?.linked?.();
        return;
      } catch (err) {
        const delay = backoffDelay(attempt);
        if (err instanceof AriHttpError && (err.status === 401 || err.status === 403 || err.status === 404)) {
          // A setting to fix, not an outage: said once as an error, then retried quietly.
          if (!refusedSaid) log.error({ err: err.message, retryInMs: delay }, 'ARI refused the adapter; calls go on with the dialplan defaults until it is fixed');
          refusedSaid = true;
        } else {
          refusedSaid = false;
          log.warn({ err: (err as Error).message, retryInMs: delay }, 'cannot reach ARI');
        }
        await new Promise<void>((resolve) => {
          wakeConnectLoop = resolve;
          reconnectTimer = setTimeout(resolve, delay);
        });
      }
    }
  }

  /**
   * Calls whose end this process has not seen: a live one will report its end through the h
   * extension like any other (whichever adapter is connected then); a gone one has ended unseen.
   */
  async function checkCalls(callIds: string[]): Promise<{ following: string[]; gone: string[] }> {
    const following: string[] = [];
    const gone: string[] = [];
    const queue = [...callIds];
    const worker = async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        try {
          await request('channels.get', (r) => r.getChannel(id), id);
          following.push(id);
        } catch (err) {
          if (!(err instanceof CallGoneError)) throw err;
          gone.push(id);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(8, queue.length) }, worker));
    return { following, gone };
  }

  const endpointStatus = (endpoint: string): Promise<EndpointStatus> => request('endpoints.get', (r) => endpointStatusOf(r, endpoint));

  return {
    kind: 'asterisk',
    linkState: () => state,
    follow: checkCalls,
    endpointStatus,
    async start(h) {
      handlers = h;
      stopped = false;
      const pingEvery = opts.pingIntervalMs ?? 5000;
      pingTimer = setInterval(() => {
        surveys.sweep(SURVEY_MAX_AGE_MS);
        if (!client || state !== 'up') return;
        if (Date.now() - lastPong > pingEvery * 3) {
          // Drop the socket and let ari-client's own reconnection take over: one owner only.
          log.warn('ARI websocket silent (no pong); dropping it to reconnect');
          state = 'down';
          lastPong = Date.now();
          dropSocket(client);
          return;
        }
        client.ping();
      }, pingEvery);
      pingTimer.unref();
      await connectLoop();
    },
    async stop() {
      stopped = true;
      clearInterval(pingTimer);
      clearTimeout(reconnectTimer);
      wakeConnectLoop?.();
      closeClient();
      state = 'down';
    },
  };
}

/** What the shipped dialplan says about a call's end (h extension, or the inbound hangup handler). */
interface EndReport {
  outcome: string;
  /** False for calls the adapter never saw: refused by the dialplan, or placed while it was down. */
  followed: boolean;
  /** What the PBX did; null for calls the adapter never decided (refused, or placed while it was down). */
  finalAction: FinalAction | null;
  dialStatus: string | null;
  answeredMs: number | null;
  cause: number | null;
  hungUpBy: HungUpBy | null;
  noAnswerRoute: NoAnswerRoute['kind'] | null;
}

/** Each outcome the dialplan reports: the direction of the call and what the PBX did. */
const OUTCOMES: Record<string, { direction: 'outbound' | 'inbound'; action: FinalAction | null }> = {
  decided: { direction: 'outbound', action: 'dial' },
  reject: { direction: 'outbound', action: 'reject' },
  'default-undecided': { direction: 'outbound', action: 'default' },
  'default-timeout': { direction: 'outbound', action: 'default' },
  'default-down': { direction: 'outbound', action: null },
  // A call by customer ID that the adapter's decision did not reach in time: not placed.
  'id-timeout': { direction: 'outbound', action: 'reject' },
  refused: { direction: 'outbound', action: null },
  // Inbound: "dial" = rung to the remembered agent, "default" = the IVR.
  agent: { direction: 'inbound', action: 'dial' },
  'agent-wait': { direction: 'inbound', action: 'dial' },
  ivr: { direction: 'inbound', action: 'default' },
  'ivr-timeout': { direction: 'inbound', action: 'default' },
  'ivr-invalid': { direction: 'inbound', action: 'default' },
  'ivr-down': { direction: 'inbound', action: null },
};

const NO_ANSWER_ROUTES = new Set<string>(['ivr', 'voicemail', 'goodbye']);

/**
 * [outcome, DIALSTATUS, ANSWEREDTIME_MS, HANGUPCAUSE, hangupsource, fallback] as the dialplan
 * wrote them, for the channel named `channelName`; anything unexpected becomes null.
 * CHANNEL(hangupsource) names the channel that hung up first: this one (the agent's phone on an
 * outbound call, the customer on an inbound one), another (the other party), or "dialplan/..."
 * when the dialplan itself ended the call.
 */
export function parseEndReport(fields: readonly string[], channelName: string): EndReport {
  const text = (i: number) => (fields[i] ?? '').trim();
  const int = (i: number) => (/^[0-9]{1,12}$/.test(text(i)) ? Number(text(i)) : null);
  const outcome = OUTCOMES[text(0)];
  const source = text(4);
  let hungUpBy: HungUpBy | null = null;
  if (outcome && source) {
    const self = outcome.direction === 'outbound' ? 'agent' : 'customer';
    const other = outcome.direction === 'outbound' ? 'customer' : 'agent';
    hungUpBy = source === channelName ? self : source.startsWith('dialplan/') ? 'pbx' : other;
  }
  return {
    outcome: text(0),
    followed: !outcome || outcome.action !== null,
    finalAction: outcome?.action ?? null,
    dialStatus: /^[A-Z]{1,20}$/.test(text(1)) ? text(1) : null,
    answeredMs: int(2),
    cause: int(3),
    hungUpBy,
    noAnswerRoute: NO_ANSWER_ROUTES.has(text(5)) ? (text(5) as NoAnswerRoute['kind']) : null,
  };
}

/**
 * An inbound route as the dialplan's [callpolicy-agent] extension: ring*<ring>*<survey>*<then> or
 * wait*<ring>*<wait>*<survey>*<then>; <survey> is 1 when the customer is surveyed after the agent hangs up first.
 */
function agentExtension(kind: 'ring' | 'wait', endpoint: string, ringSeconds: number, waitSeconds: number | null, then: NoAnswerRoute, offerAgent: boolean, survey: boolean): string {
  assertSafeEndpoint(endpoint);
  assertSeconds('ring time', ringSeconds, 999);
  if (waitSeconds !== null) assertSeconds('wait time', waitSeconds, 9999);
  assertSafeNoAnswerRoute(then);
  const thenFields = then.kind === 'voicemail' ? ['voicemail', then.extension] : [then.kind];
  // Ring time 0 in a wait: the agent is never rung (paused).
  return [kind, offerAgent ? ringSeconds : 0, ...(waitSeconds !== null ? [waitSeconds] : []), survey ? 1 : 0, ...thenFields].join('*');
}

/** Stops a client for good: no listeners, no websocket, no scheduled reconnect left running. */
function disposeClient(c: AriClient): void {
  c.removeAllListeners();
  try {
    c.stop();
  } catch {
    // never connected, or already closed
  }
  // ari-client cannot cancel a reconnect it has already scheduled: when that timer fires it
  // assigns a new socket to `_ws`, which would register our app a second time. Every socket it
  // assigns from now on is closed at once, and it gets an inert stand-in to attach to.
  const inert = { on: () => inert, close: () => undefined, ping: () => undefined, terminate: () => undefined };
  Object.defineProperty(c, '_ws', {
    configurable: true,
    get: () => inert,
    set: (ws: { on(event: string, fn: () => void): void; terminate(): void }) => {
      ws.on('error', () => undefined);
      ws.terminate();
    },
  });
}

/** ari-client's websocket: `_ws` is private to ari-client 2.2.0, read only here (and replaced in disposeClient). */
function rawSocket(c: AriClient): { readyState?: number; send(text: string): void; terminate(): void; _socket?: { cork(): void; uncork(): void } } | undefined {
  return (c as unknown as { _ws?: ReturnType<typeof rawSocket> })._ws;
}

/**
 * The websocket's messages come to `onMessage` instead of ari-client's processMessage, which builds
 * a resource object with every swagger operation bound to it for each event (the profile's top
 * work on the call path that nothing here uses). Called on every 'WebSocketConnected':
 * ari-client adds its listener to each new socket before it opens, and no message comes before.
 * ari-client keeps the socket's open/close/pong handling, so its reconnection is unchanged.
 */
function readMessagesDirectly(c: AriClient, onMessage: (data: unknown) => void): void {
  const ws = rawSocket(c) as unknown as { removeAllListeners(event: string): void; on(event: string, fn: (data: unknown) => void): void } | undefined;
  if (typeof ws?.removeAllListeners !== 'function') return; // a disposed client's inert stand-in
  ws.removeAllListeners('message');
  ws.on('message', onMessage);
}

/** Ends the websocket without telling ari-client it was on purpose: it reconnects as after any network loss. */
function dropSocket(c: AriClient): void {
  rawSocket(c)?.terminate();
}

/** The websocket as the REST-over-websocket transport sees it. */
function socketOf(c: AriClient): WsSocket | undefined {
  const ws = rawSocket(c);
  if (!ws) return undefined;
  return {
    isOpen: () => ws.readyState === 1,
    send: (text) => ws.send(text),
    // The TCP socket under ws (`_socket`, ws's own): corked, several frames leave in one write.
    together(fn) {
      const tcp = ws._socket;
      tcp?.cork();
      try {
        return fn();
      } finally {
        tcp?.uncork();
      }
    },
  };
}
