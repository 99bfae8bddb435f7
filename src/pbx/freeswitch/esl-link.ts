// Our typed view of the `esl` package: the per-call sockets FreeSWITCH's `socket` application opens
// to us (outbound ESL), and the one control connection we open to FreeSWITCH (inbound ESL) for
// events and api commands. Nothing else in the adapter touches `esl`.
import type { Server, Socket } from 'node:net';
import { FreeSwitchClient, FreeSwitchServer, type FreeSwitchResponse } from 'esl';
import type { Logger } from '../../log.js';
import { CallGoneError, PbxRequestError, PbxTimeoutError } from '../call-control.js';
import { withTimeout } from '../with-timeout.js';

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
  /** Runs a dialplan application on the channel (sync mode: FreeSWITCH replies once it has run). */
  execute(app: string, arg: string): Promise<void>;
  /** Hands the channel back to the dialplan: the `socket` application returns and the next action runs. */
  release(): Promise<void>;
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
  logger: Logger;
  /** From FreeSWITCH's connect to our decision: a socket still undecided then is dropped (the dialplan goes on with the default). */
  deadlineMs: number;
  onCall(socket: DecisionSocket, acceptedAt: number): void;
}): Promise<DecisionServer> {
  // No event subscription beyond what `esl` asks for itself: the decision needs none, and each
  // subscription is one more round trip before the call reaches us.
  const server = new FreeSwitchServer({ all_events: false, my_events: false, logger: eslLogger(opts.logger) });
  const net = (server as unknown as { __server: Server }).__server;
  const accepted = new WeakMap<Socket, number>();
  // `esl` waits up to 10 s for FreeSWITCH's reply to `connect` and never closes a socket whose
  // reply went wrong; the call's own deadline starts at the TCP accept and covers that step too.
  net.on('connection', (sock: Socket) => {
    accepted.set(sock, Date.now());
    const timer = setTimeout(() => {
      if (accepted.has(sock)) sock.destroy();
    }, opts.deadlineMs);
    sock.once('close', () => clearTimeout(timer));
  });
  server.on('connection', (call, info) => {
    const sock = (call as unknown as { __socket: Socket }).__socket;
    const acceptedAt = accepted.get(sock) ?? Date.now();
    accepted.delete(sock);
    if (sock.destroyed) return;
    const data = info.data as Record<string, string>;
    const uuid = info.uuid ?? data['Unique-ID'] ?? '';
    opts.onCall(decisionSocket(call, uuid, data, opts.requestTimeoutMs), acceptedAt);
  });
  server.on('error', (err) => opts.logger.warn({ err: err.message }, 'FreeSWITCH decision socket error'));
  await server.listen({ host: opts.host, port: opts.port });
  const address = net.address();
  return {
    port: typeof address === 'object' && address ? address.port : opts.port,
    close: () => server.close(),
  };
}

function decisionSocket(call: FreeSwitchResponse, uuid: string, data: Record<string, string>, timeoutMs: number): DecisionSocket {
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
  const request = async (what: string, send: () => Promise<unknown>) => {
    if (closed) throw new CallGoneError(uuid);
    try {
      await withTimeout(Promise.race([send(), gone]), timeoutMs, what);
    } catch (err) {
      if (err instanceof CallGoneError || err instanceof PbxTimeoutError) throw err;
      if (closed) throw new CallGoneError(uuid);
      const reply = (err as { res?: { headers?: Record<string, string> } }).res?.headers?.['Reply-Text'];
      if (reply?.startsWith('-ERR invalid session id')) throw new CallGoneError(uuid);
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
    execute: (app, arg) => request(`execute ${app}`, () => call.execute(app, arg)),
    async release() {
      if (closed) return;
      try {
        await request('exit', () => call.exit());
      } finally {
        call.end();
      }
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
 * and api commands (uuid_exists, sofia status ...).
 */
export function createControlLink(opts: {
  host: string;
  port: number;
  password: string;
  events: string[];
  requestTimeoutMs: number;
  logger: Logger;
  onEvent(event: EslEvent): void;
  onUp(): void;
  onDown(why: string): void;
}): ControlLink {
  let client: FreeSwitchClient | undefined;
  let current: FreeSwitchResponse | undefined;
  let up = false;
  const down = (why: string) => {
    current = undefined;
    if (!up) return;
    up = false;
    opts.onDown(why);
  };
  return {
    start() {
      client = new FreeSwitchClient({ host: opts.host, port: opts.port, password: opts.password, logger: eslLogger(opts.logger) });
      client.on('connect', (call) => {
        void (async () => {
          try {
            for (const name of opts.events) call.on(name as never, (res: { body: Record<string, string | undefined> }) => opts.onEvent(res.body as EslEvent));
            call.once('socket.close', () => down('connection closed'));
            await withTimeout(call.event_json(...(opts.events as never[])), opts.requestTimeoutMs, 'event subscription');
            current = call;
            up = true;
            opts.onUp();
          } catch (err) {
            opts.logger.warn({ err: (err as Error).message }, 'FreeSWITCH event socket: subscription failed; reconnecting');
            call.end();
          }
        })();
      });
      client.on('reconnecting', () => down('connection lost'));
      client.on('error', (err) => opts.logger.debug({ err: String((err as Error)?.message ?? err) }, 'FreeSWITCH event socket error'));
      client.connect();
    },
    stop() {
      client?.end();
      client = undefined;
      down('stopped');
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
