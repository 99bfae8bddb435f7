import ari from 'ari-client';
import type { Logger } from '../../log.js';
import {
  CallGoneError,
  PbxRequestError,
  PbxTimeoutError,
  assertSafeCallerId,
  assertSafeDestination,
  type CallControlHandlers,
  type CallControlPort,
  type FinalAction,
  type LinkState,
  type OutboundCall,
} from '../call-control.js';
import { backoffDelay, withTimeout } from '../with-timeout.js';
import { AriHttpError, createAriRest, type AriRest } from './ari-rest.js';
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
/**
 * The events we act on. Followed channels would otherwise stream every ChannelVarset, Dial and
 * state change through the websocket while the call is being set up, costing post-dial delay.
 */
const WANTED_EVENTS = ['StasisStart', 'StasisEnd', 'ChannelDestroyed', 'ChannelUserevent', 'RESTResponse'];
/** The shipped dialplan's h extension reports each end with this UserEvent. */
const END_EVENT = 'CallpolicyEnd';
/** A tracked call older than this is dropped even if its end event was missed. */
const TRACK_MAX_AGE_MS = 12 * 3600_000;

/** Asterisk over ARI: the channel waits in Stasis while the adapter decides. */
export function createAriCallControl(opts: AriOptions): CallControlPort {
  const log = opts.logger.child({ pbx: 'asterisk' });
  const t = opts.requestTimeoutMs;
  let client: AriClient | undefined;
  let state: LinkState = 'connecting';
  let stopped = false;
  let handlers: CallControlHandlers | undefined;
  let pingTimer: NodeJS.Timeout | undefined;
  let sweepTimer: NodeJS.Timeout | undefined;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let wakeConnectLoop: (() => void) | undefined;
  let lastPong = Date.now();
  /** Channels handed to the outbound handler and not yet released: never handled twice. */
  const deciding = new Set<string>();
  /** Calls followed to their end: since when, and what the dialplan's h extension reported. */
  const tracked = new Map<string, { since: number; report?: EndReport }>();

  // The decision's requests go over the ARI websocket when it is open, else over HTTP.
  const rest = createWsRest(() => (client ? socketOf(client) : undefined), createAriRest(opts.url, opts.user, opts.password, t), t);

  async function request<T>(operation: string, call: (r: AriRest) => Promise<T>, channelId?: string): Promise<T> {
    try {
      // ari-rest aborts each request after `t` ms (AbortSignal.timeout).
      return await call(rest);
    } catch (err) {
      // 404 "Channel not found" / 409 "Channel not in Stasis application" / 422 "Unable to find
      // event source" (subscribing to a channel that is gone): the call moved on.
      if (channelId && err instanceof AriHttpError && [404, 409, 422].includes(err.status)) throw new CallGoneError(channelId);
      if (err instanceof PbxTimeoutError) throw err;
      if (err instanceof Error && err.name === 'TimeoutError') throw new PbxTimeoutError(operation, t);
      throw new PbxRequestError(`${operation}: ${(err as Error).message}`);
    }
  }

  /**
   * One variable and "continue": two ARI requests per call (see the shipped dialplan). The
   * channel is subscribed at the same time so that its end still reaches us after it leaves
   * Stasis; a call about to be hung up (reject) is subscribed first.
   */
  async function release(channelId: string, decision: string): Promise<void> {
    const decide = async () => {
      await request('setChannelVar', (r) => r.setChannelVar(channelId, 'CALLPOLICY_DECISION', decision), channelId);
      await request('continueInDialplan', (r) => r.continueInDialplan(channelId), channelId);
    };
    try {
      if (decision === 'reject') {
        await follow(channelId);
        await decide();
      } else {
        await Promise.all([follow(channelId), decide()]);
      }
    } finally {
      deciding.delete(channelId);
    }
  }

  /** Keeps the channel's events coming after StasisEnd; a channel already gone has ended. */
  async function follow(channelId: string): Promise<void> {
    if (!handlers?.ended || !tracked.has(channelId)) return;
    try {
      await request('subscribe channel', (r) => r.subscribe(opts.app, `channel:${channelId}`), channelId);
    } catch (err) {
      if (err instanceof CallGoneError) reportEnd(channelId, new Date(), null);
      else log.warn({ channelId, err: (err as Error).message }, 'cannot follow the call to its end');
    }
  }

  function reportEnd(channelId: string, at: Date, cause: number | null): void {
    const entry = tracked.get(channelId);
    if (!entry) return;
    tracked.delete(channelId);
    const report = entry.report;
    const talkMs = report?.answeredMs ?? null;
    const answered = talkMs !== null && (report?.dialStatus === 'ANSWER' || talkMs > 0);
    handlers?.ended?.({
      id: channelId,
      at,
      cause: cause ?? report?.cause ?? null,
      answeredAt: answered ? new Date(at.getTime() - talkMs) : null,
      talkSeconds: answered ? Math.round(talkMs / 1000) : null,
      dialStatus: report?.dialStatus ?? null,
      finalAction: report?.finalAction ?? null,
    });
  }

  function outboundCall(channel: AriChannelJson, trunk: string): OutboundCall {
    return {
      id: channel.id,
      // PJSIP/1001-0000002a: the endpoint is the name without the unique suffix.
      endpoint: channel.name.replace(/-[^-]*$/, ''),
      dialed: channel.dialplan?.exten ?? '',
      trunk,
      async dial(callerId, destination) {
        assertSafeDestination(destination);
        assertSafeCallerId(callerId);
        await release(channel.id, `dial|${callerId.number}|${destination}|${callerId.name}`);
      },
      useDefault: () => release(channel.id, 'default'),
      reject: () => release(channel.id, 'reject'),
    };
  }

  function deliver(channel: AriChannelJson, trunk: string): void {
    if (deciding.has(channel.id) || !handlers) return;
    deciding.add(channel.id);
    // While in Stasis its events reach us anyway: a hang-up during the decision is an end too.
    if (handlers.ended && !tracked.has(channel.id)) tracked.set(channel.id, { since: Date.now() });
    handlers.outbound(outboundCall(channel, trunk)).catch((err: Error) => {
      // The flow handles its own errors; this is the last line of defence for the process.
      log.error({ channelId: channel.id, err: err.message }, 'outbound handler failed');
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
          const channel = await request('channels.get', (r) => r.getChannel(channelId), channelId);
          const trunk = await request('getChannelVar', (r) => r.getChannelVar(channelId, 'CALLPOLICY_TRUNK'), channelId);
          deliver(channel, trunk || 'trunk');
        } catch (err) {
          if (!(err instanceof CallGoneError)) log.warn({ channelId, err: (err as Error).message }, 'cannot re-adopt call');
        }
      }
    } catch (err) {
      log.warn({ err: (err as Error).message }, 're-adoption failed');
    }
  }

  function attach(c: AriClient): void {
    c.on('StasisStart', (event: { args: string[]; channel: AriChannelJson }) => {
      if (event.args[0] !== OUTBOUND_CONTEXT_ARG) {
        log.warn({ channelId: event.channel.id, args: event.args }, 'channel entered Stasis with unknown arguments; sending it back');
        release(event.channel.id, 'default').catch(() => undefined);
        return;
      }
      deliver(event.channel, event.args[1] || 'trunk');
    });
    c.on('StasisEnd', (event: { channel: AriChannelJson }) => {
      // Left Stasis while still undecided: hung up, or the dialplan's wait ran out and it went on
      // with the default caller ID. Follow it either way; the release will find it gone.
      if (deciding.has(event.channel.id)) void follow(event.channel.id);
    });
    c.on('ChannelUserevent', (event: { eventname?: string; channel?: AriChannelJson; userevent?: Record<string, unknown> }) => {
      const entry = event.channel && tracked.get(event.channel.id);
      if (entry && event.eventname === END_EVENT) entry.report = parseEndReport(event.userevent ?? {});
    });
    c.on('ChannelDestroyed', (event: { channel: AriChannelJson; cause?: number; timestamp?: string }) => {
      deciding.delete(event.channel.id);
      reportEnd(event.channel.id, event.timestamp ? new Date(event.timestamp) : new Date(), event.cause ?? null);
    });
    c.on('RESTResponse', (event: RestResponseEvent) => rest.onResponse(event));
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
        log.warn({ err: (err as Error).message, retryInMs: delay }, 'cannot reach ARI');
        await new Promise<void>((resolve) => {
          wakeConnectLoop = resolve;
          reconnectTimer = setTimeout(resolve, delay);
        });
      }
    }
  }

  /**
   * Subscribes each call again (a few at a time), with every call this port already follows:
   * Asterisk drops an app's subscriptions when its websocket goes, so after a reconnect they must
   * be renewed, and a call that ended in the gap is found gone. A gone channel has ended.
   */
  async function followAgain(callIds: string[]): Promise<{ following: string[]; gone: string[] }> {
    const following: string[] = [];
    const gone: string[] = [];
    const queue = [...new Set([...callIds, ...tracked.keys()])];
    const worker = async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        if (!tracked.has(id)) tracked.set(id, { since: Date.now() });
        try {
          await request('subscribe channel', (r) => r.subscribe(opts.app, `channel:${id}`), id);
          // Even if it ended meanwhile, its end went through `ended`: it counts as followed.
          following.push(id);
        } catch (err) {
          if (!(err instanceof CallGoneError)) throw err;
          // Reported already if its ChannelDestroyed came in the meantime; else ended unseen.
          if (tracked.delete(id)) gone.push(id);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(8, queue.length) }, worker));
    return { following, gone };
  }

  return {
    kind: 'asterisk',
    linkState: () => state,
    follow: followAgain,
    async start(h) {
      handlers = h;
      stopped = false;
      const pingEvery = opts.pingIntervalMs ?? 5000;
      pingTimer = setInterval(() => {
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
      sweepTimer = setInterval(() => {
        const cutoff = Date.now() - TRACK_MAX_AGE_MS;
        for (const [id, entry] of tracked) if (entry.since < cutoff) tracked.delete(id);
      }, 60_000);
      pingTimer.unref();
      sweepTimer.unref();
      await connectLoop();
    },
    async stop() {
      stopped = true;
      clearInterval(pingTimer);
      clearInterval(sweepTimer);
      clearTimeout(reconnectTimer);
      wakeConnectLoop?.();
      closeClient();
      state = 'down';
      tracked.clear();
    },
  };
}

/** What the shipped dialplan's h extension says about a call's end (UserEvent CallpolicyEnd). */
interface EndReport {
  finalAction: FinalAction | null;
  dialStatus: string | null;
  answeredMs: number | null;
  cause: number | null;
}

const OUTCOME_ACTIONS: Record<string, FinalAction> = {
  decided: 'dial',
  reject: 'reject',
  'default-undecided': 'default',
  'default-down': 'default',
  'default-timeout': 'default',
};

/** Fields are text as the dialplan wrote them; anything unexpected becomes null. */
export function parseEndReport(fields: Record<string, unknown>): EndReport {
  const text = (key: string) => (typeof fields[key] === 'string' ? (fields[key] as string).trim() : '');
  const int = (key: string) => (/^[0-9]{1,12}$/.test(text(key)) ? Number(text(key)) : null);
  const dialStatus = text('dialstatus');
  return {
    finalAction: OUTCOME_ACTIONS[text('outcome')] ?? null,
    dialStatus: /^[A-Z]{1,20}$/.test(dialStatus) ? dialStatus : null,
    answeredMs: int('answeredms'),
    cause: int('cause'),
  };
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

/**
 * Ends the websocket without telling ari-client it was on purpose, so ari-client reconnects
 * as it does after any network loss. `_ws` is private to ari-client 2.2.0: kept to this one place.
 */
function dropSocket(c: AriClient): void {
  (c as unknown as { _ws?: { terminate(): void } })._ws?.terminate();
}

/** ari-client's websocket (private `_ws` of ari-client 2.2.0), for REST over the websocket. */
function socketOf(c: AriClient): WsSocket | undefined {
  const ws = (c as unknown as { _ws?: { readyState?: number; send(text: string): void } })._ws;
  return ws ? { isOpen: () => ws.readyState === 1, send: (text) => ws.send(text) } : undefined;
}
