// Our typed view of the `esl` package: the per-call sockets FreeSWITCH's `socket` application opens
// to us (outbound ESL), and the one control connection we open to FreeSWITCH (inbound ESL) for
// events and api commands. Nothing else in the adapter touches `esl`.
import net from 'node:net';
import { FreeSwitchResponse } from 'esl';
import type { Logger } from '../../log.js';
import { CallGoneError, PbxRequestError, PbxTimeoutError } from '../call-control.js';
import { connectCall } from './esl-connect-reply.js';
import { backoffDelay, withTimeout } from '../with-timeout.js';

/** `esl` logs every frame at debug; ours stays quiet unless asked (trace), and its errors are link events we log ourselves. */
function eslLogger(logger: Logger) {
  return {
    debug: (msg: string) => logger.trace({ esl: msg }, 'esl'),
    info: (msg: string) => logger.trace({ esl: msg }, 'esl'),
    error: (msg: string, data?: unknown) => logger.debug({ esl: msg, detail: String((data as { error?: unknown })?.error ?? '') }, 'esl error'),
  };
}

/** What FreeSWITCH sent in reply to `connect`: the channel's data, values decoded. */
export type ChannelData = Readonly<Record<string, string>>;

/** One call's outbound-ESL socket, held while the adapter decides. */
export interface DecisionSocket {
  readonly uuid: string;
  readonly data: ChannelData;
  /**
   * Runs a dialplan application on the channel (sync mode: FreeSWITCH replies once it has run;
   * async mode: once queued, and CHANNEL_EXECUTE_COMPLETE names `eventUuid` when it has run).
   */
  execute(app: string, arg: string, eventUuid?: string): Promise<void>;
  /** An api command on this socket (async full mode): its text. */
  api(command: string): Promise<string>;
  hangup(): Promise<void>;
  /** This channel's events from now on (`myevents json`), the named ones to `onEvent`. */
  subscribe(names: string[], onEvent: (event: EslEvent) => void): Promise<void>;
  /** Hands the channel back to the dialplan: the `socket` application returns and the next action runs. */
  release(): Promise<void>;
  /**
   * Runs one application, then releases, in one write: FreeSWITCH reads the commands in order, so
   * the release needs no round trip of its own. Rejects with the application's refusal (the
   * channel is let go all the same: its dialplan goes on with what it had).
   */
  executeAndRelease(app: string, arg: string): Promise<void>;
  /** Closes the socket at once, whatever is in flight: the dialplan goes on with what was set by then. */
  abort(): void;
  readonly closed: boolean;
  /** Resolves when the socket is gone (released, dropped, or the channel hung up). */
  readonly done: Promise<void>;
}

export interface DecisionServer {
  close(): Promise<void>;
  readonly port: number;
}

/** Listens for the `socket` application's connections; each one is a call waiting for a decision. */
export async function startDecisionServer(opts: {
  host: string;
  port: number;
  requestTimeoutMs: number;
  /** From FreeSWITCH's connect to our decision: a socket still undecided then is dropped (the dialplan goes on with the default). */
  deadlineMs: number;
  logger: Logger;
  onCall(socket: DecisionSocket, acceptedAt: number): void;
}): Promise<DecisionServer> {
  // Our own listener around `esl`'s protocol object, not its FreeSwitchServer: that one subscribes
  // every call's socket to events of all channels before handing it over (one more round trip, and
  // a stream of other calls' events), waits 10 s for the connect reply and never closes a socket
  // whose reply went wrong.
  const open = new Set<net.Socket>();
  const server = net.createServer({ noDelay: true, keepAlive: true }, (sock) => {
    const acceptedAt = Date.now();
    open.add(sock);
    sock.once('close', () => open.delete(sock));
    void connectCall(sock, opts.deadlineMs)
      .then(({ data, rest }) => {
        // The rest of the conversation (small replies, a survey leg's events) goes through esl.
        const call = new FreeSwitchResponse(sock, eslLogger(opts.logger));
        if (rest.length > 0) sock.unshift(rest);
        sock.resume();
        const uuid = data['Unique-ID'] ?? '';
        call.auto_cleanup();
        opts.onCall(decisionSocket(call, sock, uuid, data, opts.requestTimeoutMs), acceptedAt);
      })
      .catch((err: unknown) => {
        opts.logger.warn({ err: (err as Error).message }, 'FreeSWITCH call socket: no usable connect reply; the call goes on with its default route');
        sock.destroy();
      });
  });
  server.on('error', (err) => opts.logger.warn({ err: err.message }, 'FreeSWITCH decision socket error'));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : opts.port,
    // Calls still held are let go: each one's `socket` application returns and its dialplan goes on at once.
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const sock of open) sock.destroy();
      }),
  };
}

function decisionSocket(call: FreeSwitchResponse, sock: net.Socket, uuid: string, data: Record<string, string>, timeoutMs: number): DecisionSocket {
  let closed = false;
  let markDone!: () => void;
  const done = new Promise<void>((resolve) => (markDone = resolve));
  const onGone = () => {
    closed = true;
    markDone();
  };
  call.once('socket.close', onGone);
  call.once('socket.error', onGone);
  call.once('socket.end', onGone);
  // FreeSWITCH's disconnect notice: the channel hung up (or the socket app is ending).
  call.once('freeswitch_disconnect_notice', onGone);
  // A request on a socket that goes away never gets its reply: fail it at once, not after the time limit.
  const gone = done.then(() => Promise.reject(new CallGoneError(uuid)));
  gone.catch(() => undefined);
  const request = async <T>(what: string, send: () => Promise<T>): Promise<T> => {
    if (closed) throw new CallGoneError(uuid);
    try {
      return await withTimeout(Promise.race([send(), gone]), timeoutMs, what);
    } catch (err) {
      if (err instanceof CallGoneError || err instanceof PbxTimeoutError) throw err;
      if (closed) throw new CallGoneError(uuid);
      const res = (err as { res?: { headers?: Record<string, string>; body?: unknown } }).res;
      const reply = res?.headers?.['Reply-Text'] ?? (typeof res?.body === 'string' ? res.body.trim() : undefined);
      if (reply?.startsWith('-ERR invalid session id') || reply?.startsWith('-ERR No such channel')) throw new CallGoneError(uuid);
      throw new PbxRequestError(`${what}: ${reply ?? (err as Error).message}`);
    }
  };
  return {
    uuid,
    data,
    get closed() {
      return closed;
    },
    done,
    execute: async (app, arg, eventUuid) => {
      await request(`execute ${app}`, () => call.execute(app, arg, undefined, eventUuid));
    },
    api: async (command) => {
      const res = await request(`api ${command.split(' ')[0]}`, () => call.api(command));
      return String((res as { body?: unknown }).body ?? '');
    },
    hangup: async () => {
      // esl's default cause is NORMAL_UNSPECIFIED (31): a survey that ends is a normal clearing (16).
      await request('hangup', () => call.hangup('NORMAL_CLEARING'));
    },
    subscribe: async (names, onEvent) => {
      for (const name of names) call.on(name as never, (res: { body: Record<string, string | undefined> }) => onEvent(res.body as EslEvent));
      await request('myevents', () => call.send('myevents json'));
    },
    executeAndRelease: async (app, arg) => {
      if (closed) throw new CallGoneError(uuid);
      // Our own reply listener: esl's send() waits for one reply per command, and these two are
      // written together. Replies come strictly in order: the application's, then exit's.
      const replies: { headers: Record<string, string> }[] = [];
      let wake = () => undefined as void;
      const onReply = (res: { headers: Record<string, string> }) => {
        replies.push(res);
        wake();
      };
      call.on('freeswitch_command_reply' as never, onReply as never);
      const nextReply = (n: number) =>
        request(n === 1 ? `execute ${app}` : 'exit', async () => {
          while (replies.length < n) await new Promise<void>((resolve) => (wake = resolve));
          return replies[n - 1]!;
        });
      try {
        sock.write(`sendmsg\ncall-command: execute\nexecute-app-name: ${app}\nexecute-app-arg: ${arg}\n\nexit\n\n`);
        const first = await nextReply(1);
        const text = first.headers['Reply-Text'] ?? '';
        if (!text.startsWith('+OK')) throw new PbxRequestError(`execute ${app}: ${text || 'no reply'}`);
        await nextReply(2).catch((err: unknown) => {
          // exit's +OK and the disconnect notice come back to back: the socket may end first.
          if (!(err instanceof CallGoneError)) throw err;
        });
      } finally {
        call.removeListener('freeswitch_command_reply' as never, onReply as never);
        call.end();
      }
    },
    async release() {
      if (closed) return;
      try {
        await request('exit', () => call.exit());
      } catch (err) {
        // FreeSWITCH answers `exit` with +OK and its disconnect notice back to back: the socket
        // may be seen ending before the reply. Either way the call has been let go.
        if (!(err instanceof CallGoneError)) throw err;
      } finally {
        call.end();
      }
    },
    abort() {
      closed = true;
      markDone();
      call.end();
      sock.destroy();
    },
  };
}

/** A channel event from the control connection, values decoded (JSON format). */
export type EslEvent = Readonly<Record<string, string>>;

export interface ControlLink {
  /** Connects, authenticates and subscribes, reconnecting for ever until stop(). */
  start(): void;
  stop(): void;
  readonly up: boolean;
  /** An api command's text (a body starting -ERR is FreeSWITCH's error, returned as is). */
  api(command: string): Promise<string>;
}

/**
 * The adapter's own connection to FreeSWITCH's event socket: channel events (ends of calls),
 * and api commands (uuid_exists, sofia_contact ...). Our own reconnect loop around `esl`'s
 * protocol object, not its FreeSwitchClient: that one retries a refused password every 200 ms
 * and then reports the dead connection as connected, and its back-off never comes down again.
 */
export function createControlLink(opts: {
  host: string;
  port: number;
  password: string;
  events: string[];
  /**
   * Only events whose header matches (a /regex/ or an exact value) are sent: FreeSWITCH then does
   * not copy and encode the others (each CHANNEL_HANGUP_COMPLETE is about 12 KB of JSON).
   */
  filter?: { header: string; value: string };
  requestTimeoutMs: number;
  logger: Logger;
  onEvent(event: EslEvent): void;
  onUp(): void;
  onDown(why: string): void;
}): ControlLink {
  let running = false;
  let sock: net.Socket | undefined;
  let current: FreeSwitchResponse | undefined;
  let retry: NodeJS.Timeout | undefined;
  let attempt = 0;
  let up = false;
  let authRefusedLogged = false;
  let unreachableLogged = false;

  const goDown = (why: string) => {
    current = undefined;
    if (!up) return;
    up = false;
    opts.onDown(why);
  };
  const scheduleRetry = (minMs = 0) => {
    if (!running || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      connect();
    }, Math.max(minMs, backoffDelay(attempt++, 5000)));
  };

  function connect(): void {
    const s = net.connect({ host: opts.host, port: opts.port });
    sock = s;
    const call = new FreeSwitchResponse(s, eslLogger(opts.logger));
    let refused = false;
    s.once('close', () => {
      if (sock === s) sock = undefined;
      goDown('connection closed');
      // A refused password is retried slowly: it will not fix itself in 100 ms.
      scheduleRetry(refused ? 2000 : 0);
    });
    // Not reaching the switch is said once per outage (at warn), not at every retry.
    s.on('error', (err: NodeJS.ErrnoException) => {
      if (up || unreachableLogged || s.readyState === 'open') return;
      unreachableLogged = true;
      opts.logger.warn({ esl: `${opts.host}:${opts.port}`, err: err.code ?? err.message }, 'cannot reach the FreeSWITCH event socket (FREESWITCH_ESL_HOST/PORT, event_socket.conf.xml listen-ip/listen-port); retrying');
    });
    s.once('connect', () => {
      void (async () => {
        try {
          await call.onceAsync('freeswitch_auth_request', opts.requestTimeoutMs, 'auth request');
          try {
            await withTimeout(call.auth(opts.password), opts.requestTimeoutMs, 'auth');
          } catch (err) {
            // Never log the error itself: `esl` keeps the command (`auth <password>`) in it.
            const reply = (err as { res?: { headers?: Record<string, string> } }).res?.headers?.['Reply-Text'];
            if (reply?.startsWith('-ERR')) {
              refused = true;
              if (!authRefusedLogged) opts.logger.error({ esl: `${opts.host}:${opts.port}` }, 'FreeSWITCH refused the event-socket password: check FREESWITCH_ESL_PASSWORD(_FILE) against event_socket.conf.xml; retrying');
              authRefusedLogged = true;
            }
            throw err;
          }
          for (const name of opts.events) call.on(name as never, (res: { body: Record<string, string | undefined> }) => opts.onEvent(res.body as EslEvent));
          await withTimeout(call.event_json(...(opts.events as never[])), opts.requestTimeoutMs, 'event subscription');
          if (opts.filter) await withTimeout(call.filter(opts.filter.header, opts.filter.value), opts.requestTimeoutMs, 'event filter');
          if (!running || s.destroyed) return;
          current = call;
          up = true;
          attempt = 0;
          authRefusedLogged = false;
          unreachableLogged = false;
          opts.onUp();
        } catch (err) {
          if (!refused) opts.logger.debug({ err: err instanceof Error ? err.message.slice(0, 120) : 'error' }, 'FreeSWITCH event socket: connection not usable; reconnecting');
          s.destroy();
        }
      })();
    });
  }

  return {
    start() {
      running = true;
      connect();
    },
    stop() {
      running = false;
      clearTimeout(retry);
      retry = undefined;
      sock?.destroy();
      goDown('stopped');
    },
    get up() {
      return up;
    },
    async api(command) {
      const call = current;
      if (!call) throw new PbxRequestError(`api ${command.split(' ')[0]}: not connected to FreeSWITCH`);
      const res = await withTimeout(call.api(command), opts.requestTimeoutMs, `api ${command.split(' ')[0]}`).catch((err: unknown) => {
        // `esl` rejects api replies that start with -ERR; the text is what we want.
        const body = (err as { res?: { body?: unknown } }).res?.body;
        if (typeof body === 'string') return { body };
        throw err;
      });
      const body = (res as { body?: unknown }).body;
      return typeof body === 'string' ? body : String((body as { text?: string })?.text ?? '');
    },
  };
}
