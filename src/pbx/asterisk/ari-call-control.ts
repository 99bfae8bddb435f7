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
  type LinkState,
  type OutboundCall,
} from '../call-control.js';
import { backoffDelay, withTimeout } from '../with-timeout.js';
import { AriHttpError, createAriRest, type AriRest } from './ari-rest.js';

export interface AriOptions {
  url: string;
  user: string;
  password: string;
  app: string;
  requestTimeoutMs: number;
  logger: Logger;
  /** How often to ping the websocket; a missing pong means a dead link. */
  pingIntervalMs?: number;
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
const WANTED_EVENTS = ['StasisStart', 'StasisEnd', 'ChannelDestroyed'];
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
  /** Calls whose end we still want to report, with when we started tracking them. */
  const tracked = new Map<string, number>();

  const rest = createAriRest(opts.url, opts.user, opts.password, t);

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

  /** One variable and "continue": two ARI requests per call (see the shipped dialplan). */
  async function release(channelId: string, decision: string): Promise<void> {
    try {
      await request('setChannelVar', (r) => r.setChannelVar(channelId, 'CALLPOLICY_DECISION', decision), channelId);
      await request('continueInDialplan', (r) => r.continueInDialplan(channelId), channelId);
    } finally {
      deciding.delete(channelId);
    }
    trackEnd(channelId);
  }

  /** After the call leaves Stasis, follow it to its end so the record gets its end time. */
  function trackEnd(channelId: string): void {
    if (!handlers?.ended) return;
    tracked.set(channelId, Date.now());
    request('subscribe channel', (r) => r.subscribe(opts.app, `channel:${channelId}`), channelId).catch(
      (err: Error) => {
        tracked.delete(channelId);
        if (!(err instanceof CallGoneError)) log.debug({ channelId, err: err.message }, 'cannot follow call to its end');
      },
    );
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
    c.on('ChannelDestroyed', (event: { channel: AriChannelJson; cause?: number; timestamp?: string }) => {
      deciding.delete(event.channel.id);
      if (!tracked.delete(event.channel.id)) return;
      handlers?.ended?.({ id: event.channel.id, at: event.timestamp ? new Date(event.timestamp) : new Date(), cause: event.cause ?? null });
    });
    c.on('pong', () => {
      lastPong = Date.now();
    });
    c.on('WebSocketReconnecting', (err?: Error) => {
      state = 'down';
      log.warn({ err: err?.message }, 'ARI websocket lost; reconnecting');
    });
    c.on('WebSocketConnected', () => {
      if (state === 'up') return;
      state = 'up';
      lastPong = Date.now();
      log.info({ app: opts.app }, 'ARI websocket reconnected; app registered again');
      void readopt();
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
    if (!old) return;
    old.removeAllListeners();
    try {
      old.stop();
    } catch {
      // already closed
    }
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
      const c = (await withTimeout(ari.connect(opts.url, opts.user, opts.password), 10_000, 'ARI connect')) as unknown as AriClient;
      attach(c);
      await withTimeout(c.start(opts.app), 10_000, 'ARI start');
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

  return {
    kind: 'asterisk',
    linkState: () => state,
    async start(h) {
      handlers = h;
      stopped = false;
      const pingEvery = opts.pingIntervalMs ?? 5000;
      pingTimer = setInterval(() => {
        if (!client || state !== 'up') return;
        if (Date.now() - lastPong > pingEvery * 3) {
          log.warn('ARI websocket silent (no pong); reconnecting');
          replaceClient();
          return;
        }
        client.ping();
      }, pingEvery);
      sweepTimer = setInterval(() => {
        const cutoff = Date.now() - TRACK_MAX_AGE_MS;
        for (const [id, since] of tracked) if (since < cutoff) tracked.delete(id);
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
    },
  };
}
