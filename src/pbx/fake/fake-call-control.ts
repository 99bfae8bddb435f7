import {
  CallGoneError,
  assertSafeCallerId,
  assertSafeDestination,
  assertSafeEndpoint,
  assertSafeNoAnswerRoute,
  assertSeconds,
  type CallControlHandlers,
  type CallControlPort,
  type EndpointStatus,
  type FinalAction,
  type LinkState,
  type FinalDestination,
  type NoAnswerRoute,
  type SurveyLegEvent,
  type ShownIdentity,
  type CustomerIdRefusal,
  assertSafePrompt,
  assertSafeShown,
} from '../call-control.js';

/** The survey and protection offers of a release, as the fake reports them (checked like the ARI driver checks them). */
function extras(o: { survey?: boolean; protect?: ShownIdentity } | undefined): { survey?: true; protect?: ShownIdentity } {
  if (o?.protect) assertSafeShown(o.protect);
  // Only what a PBX receives of the identity: its number and name.
  return { ...(o?.survey ? { survey: true as const } : {}), ...(o?.protect ? { protect: { number: o.protect.number, name: o.protect.name } } : {}) };
}

/** What the trunk saw of a call, or that the call never reached it. */
export interface FakeCallResult {
  outcome: 'dialed' | 'default' | 'rejected' | 'refused-id' | 'gone';
  trunk: { destination: string; callerIdNumber: string; callerIdName: string } | null;
  /** Present (true) when the adapter asked for the survey should the agent hang up first. */
  survey?: true;
  /** Number protection: the only identity of the customer the agent's phone would receive. */
  protect?: ShownIdentity;
  /** outcome refused-id: why the call by customer ID was not placed. */
  why?: CustomerIdRefusal;
}

export interface FakePlaceCall {
  endpoint: string;
  dialed: string;
  /** Dialled through the customer-ID context (prefix + ID). */
  byCustomerId?: boolean;
  trunk?: string;
  /** The caller ID the PBX uses when the adapter does not set one. */
  defaultCallerId?: { number: string; name: string };
  /** The agent hangs up this long after dialling if the call is still undecided. */
  cancelAfterMs?: number;
  /** The PBX stops waiting for a decision after this long (default 2000, as the dialplan). */
  decisionTimeoutMs?: number;
}

export interface FakeInbound {
  callerNumber: string;
  dialed?: string;
  trunk?: string;
  /** Whether the agent's phone answers when rung (default true). */
  agentAnswers?: boolean;
  /** The PBX stops waiting for a route after this long (default 2000) and sends the call to the IVR. */
  decisionTimeoutMs?: number;
}

export type FakeInboundResult =
  | { outcome: 'ivr'; via: 'no-adapter' | 'timeout' | 'adapter'; protect?: ShownIdentity }
  | { outcome: 'agent'; endpoint: string; ringSeconds: number; onNoAnswer: NoAnswerRoute; survey?: true; protect?: ShownIdentity }
  | { outcome: 'wait-for-agent'; endpoint: string; ringSeconds: number; waitSeconds: number; then: FinalDestination; offerAgent: boolean; survey?: true; protect?: ShownIdentity };

/** A customer on a survey leg: what they do, in ms from the moment the leg reaches the adapter. */
export type FakeCustomerAction = { atMs: number; key: string } | { atMs: number; hangup: true };

export interface FakeSurvey {
  direction: 'outbound' | 'inbound';
  callId?: string;
  agentEndpoint?: string;
  customer: FakeCustomerAction[];
  /** How long one prompt plays (default 30 ms), unless `promptDurations` names it. */
  promptMs?: number;
  /** How long a named prompt plays, in ms. */
  promptDurations?: Record<string, number>;
  /** The PBX's own limit on the survey (the dialplan's TIMEOUT(absolute)); default 10 s. */
  maxMs?: number;
  /** The leg as re-adopted after a reconnect, with its outcome recorded or not. */
  resumed?: { outcomeRecorded: boolean };
}

export interface FakeSurveyResult {
  /** The prompts of each play() in order, with whether each play ran to its end. */
  plays: { prompts: string[]; completed: boolean }[];
  /** Who ended the leg: the adapter (hangup), the customer, or the PBX's limit. */
  endedBy: 'adapter' | 'customer' | 'pbx-limit';
  /** markOutcomeRecorded was called. */
  outcomeMarked: boolean;
  durationMs: number;
}

/** Where the fake's dialplan takes a routed call: the agent, or the no-answer route. */
export function inboundDestination(r: FakeInboundResult, agentAnswers: boolean): { reached: 'agent' | NoAnswerRoute['kind']; agentRang: boolean; mailbox?: string } {
  if (r.outcome === 'ivr') return { reached: 'ivr', agentRang: false };
  const rings = r.outcome === 'agent' || r.offerAgent;
  if (rings && agentAnswers) return { reached: 'agent', agentRang: true };
  const then = r.outcome === 'agent' ? r.onNoAnswer : r.then;
  return then.kind === 'voicemail' ? { reached: 'voicemail', agentRang: rings, mailbox: then.extension } : { reached: then.kind, agentRang: rings };
}

/**
 * An in-memory PBX for unit tests of the flows: it behaves like the shipped dialplan
 * (default caller ID when the adapter is away, digits-only fallback dialling).
 */
export function createFakeCallControl() {
  let handlers: CallControlHandlers | undefined;
  let state: LinkState = 'down';
  let seq = 0;

  const port: CallControlPort = {
    kind: 'fake',
    linkState: () => state,
    async start(h) {
      handlers = h;
      state = 'up';
      h.linked?.();
    },
    async stop() {
      handlers = undefined;
      state = 'down';
    },
    // The fake's calls end as soon as they are released: none is ever left to follow.
    async follow(callIds) {
      return { following: [], gone: [...callIds] };
    },
    async endpointStatus(endpoint) {
      return endpoints.get(endpoint) ?? { reachable: true, inCall: false };
    },
  };
  /** Endpoint states the fake reports; unlisted endpoints are reachable and idle. */
  const endpoints = new Map<string, EndpointStatus>();

  function placeCall(req: FakePlaceCall): Promise<FakeCallResult> {
    const id = `fake-${++seq}`;
    const fallback = req.defaultCallerId ?? { number: '+15550000000', name: '' };
    const defaultDial = (): FakeCallResult => ({
      outcome: 'default',
      trunk: { destination: req.dialed.replace(/[^0-9+]/g, ''), callerIdNumber: fallback.number, callerIdName: fallback.name },
    });
    // Like Stasis() with no app registered: straight to the default caller ID.
    if (!handlers || state !== 'up') return Promise.resolve(defaultDial());
    const h = handlers;
    return new Promise<FakeCallResult>((resolve) => {
      let alive = true;
      let settled = false;
      const timers: NodeJS.Timeout[] = [];
      // The trunk answers at once and the call ends right after: what the dialplan's h extension reports.
      const end = (finalAction: FinalAction | null) => {
        const at = new Date();
        const answered = finalAction === 'dial' || finalAction === 'default';
        h.ended?.({
          id,
          at,
          cause: finalAction === 'reject' ? 28 : 16,
          answeredAt: answered ? at : null,
          talkSeconds: answered ? 0 : null,
          dialStatus: answered ? 'ANSWER' : null,
          finalAction,
        });
      };
      const settle = (r: FakeCallResult, finalAction: FinalAction | null) => {
        if (settled) throw new Error(`call ${id} was already released`);
        settled = true;
        alive = false;
        timers.forEach(clearTimeout);
        resolve(r);
        end(finalAction);
      };
      const guard = () => {
        if (!alive) throw new CallGoneError(id);
      };
      if (req.cancelAfterMs !== undefined) {
        timers.push(setTimeout(() => !settled && settle({ outcome: 'gone', trunk: null }, null), req.cancelAfterMs));
      }
      // The dialplan's TIMEOUT(absolute): no decision in time, the call leaves with the default.
      timers.push(setTimeout(() => !settled && settle(defaultDial(), 'default'), req.decisionTimeoutMs ?? 2000));
      h.outbound({
        id,
        endpoint: req.endpoint,
        dialed: req.dialed,
        trunk: req.trunk ?? 'trunk',
        byCustomerId: req.byCustomerId ?? false,
        async dial(callerId, destination, o) {
          guard();
          assertSafeDestination(destination);
          assertSafeCallerId(callerId);
          settle({ outcome: 'dialed', trunk: { destination, callerIdNumber: callerId.number, callerIdName: callerId.name }, ...extras(o) }, 'dial');
        },
        async useDefault(o) {
          guard();
          // As the dialplan's customer-ID context: there is no number to dial with a default caller ID.
          if (req.byCustomerId) settle({ outcome: 'refused-id', trunk: null, why: 'id-unavailable' }, 'reject');
          else settle({ ...defaultDial(), ...extras(o) }, 'default');
        },
        async reject() {
          guard();
          settle(req.byCustomerId ? { outcome: 'refused-id', trunk: null, why: 'unknown-id' } : { outcome: 'rejected', trunk: null }, 'reject');
        },
        async refuseCustomerId(why) {
          guard();
          settle({ outcome: 'refused-id', trunk: null, why }, 'reject');
        },
      }).catch(() => undefined);
    });
  }

  /**
   * A customer's call from a trunk, routed like the shipped dialplan: to the IVR when no adapter is
   * linked, when the adapter does not answer within `decisionTimeoutMs`, or when it says so.
   */
  function placeInbound(req: FakeInbound): Promise<FakeInboundResult> {
    const id = `fake-in-${++seq}`;
    if (!handlers?.inbound || state !== 'up') return Promise.resolve({ outcome: 'ivr', via: 'no-adapter' });
    const h = handlers.inbound;
    return new Promise<FakeInboundResult>((resolve) => {
      let settled = false;
      const settle = (r: FakeInboundResult) => {
        if (settled) throw new CallGoneError(id);
        settled = true;
        clearTimeout(timer);
        resolve(r);
        // The call ends right after, as the dialplan's hangup handler reports it: the customer hangs
        // up first on an answered call, the PBX after a goodbye.
        const where = inboundDestination(r, req.agentAnswers ?? true);
        const at = new Date();
        const dialed = r.outcome !== 'ivr';
        handlers?.ended?.({
          id,
          at,
          cause: 16,
          answeredAt: at,
          talkSeconds: 0,
          dialStatus: dialed ? (where.reached === 'agent' ? 'ANSWER' : 'NOANSWER') : null,
          finalAction: dialed ? 'dial' : 'default',
          hungUpBy: where.reached === 'goodbye' ? 'pbx' : 'customer',
          noAnswerRoute: where.reached === 'agent' || !dialed ? null : where.reached,
        });
      };
      const timer = setTimeout(() => !settled && settle({ outcome: 'ivr', via: 'timeout' }), req.decisionTimeoutMs ?? 2000);
      h({
        id,
        callerNumber: req.callerNumber,
        dialed: req.dialed ?? '4000',
        trunk: req.trunk ?? 'trunk',
        async ringAgent(endpoint, ringSeconds, onNoAnswer, o) {
          assertSafeEndpoint(endpoint);
          assertSeconds('ring time', ringSeconds, 999);
          assertSafeNoAnswerRoute(onNoAnswer);
          settle({ outcome: 'agent', endpoint, ringSeconds, onNoAnswer, ...extras(o) });
        },
        async waitForAgent(endpoint, opts) {
          assertSafeEndpoint(endpoint);
          assertSeconds('ring time', opts.ringSeconds, 999);
          assertSeconds('wait time', opts.waitSeconds, 9999);
          assertSafeNoAnswerRoute(opts.then);
          settle({
            outcome: 'wait-for-agent',
            endpoint,
            ringSeconds: opts.ringSeconds,
            waitSeconds: opts.waitSeconds,
            then: opts.then,
            offerAgent: opts.offerAgent ?? true,
            ...extras(opts),
          });
        },
        async toIvr(o) {
          settle({ outcome: 'ivr', via: 'adapter', ...extras(o) });
        },
      }).catch(() => undefined);
    });
  }

  /**
   * A customer's leg at the survey point, as the shipped dialplan sends it after the agent hung up
   * first: to the adapter's survey handler (hung up at once without one, or with no link), with
   * keys and the hang-up scripted by `req.customer` and prompts that play `promptMs` each.
   */
  function placeSurvey(req: FakeSurvey): Promise<FakeSurveyResult> {
    const id = `fake-survey-${++seq}`;
    const started = Date.now();
    const h = handlers?.survey;
    if (!h || state !== 'up') return Promise.resolve({ plays: [], endedBy: 'adapter', outcomeMarked: false, durationMs: 0 });
    return new Promise<FakeSurveyResult>((resolve) => {
      const plays: FakeSurveyResult['plays'] = [];
      const timers: NodeJS.Timeout[] = [];
      let playTimer: NodeJS.Timeout | undefined;
      let listener: ((e: SurveyLegEvent) => void) | undefined;
      const buffered: SurveyLegEvent[] = [];
      let alive = true;
      let outcomeMarked = false;
      const emit = (e: SurveyLegEvent) => (listener ? listener(e) : buffered.push(e));
      const end = (endedBy: FakeSurveyResult['endedBy']) => {
        if (!alive) return;
        alive = false;
        clearTimeout(playTimer);
        timers.forEach(clearTimeout);
        if (endedBy !== 'adapter') emit({ kind: 'gone' });
        resolve({ plays, endedBy, outcomeMarked, durationMs: Date.now() - started });
      };
      const guard = () => {
        if (!alive) throw new CallGoneError(id);
      };
      const stop = () => {
        clearTimeout(playTimer);
        playTimer = undefined;
      };
      for (const a of req.customer) {
        timers.push(setTimeout(() => ('hangup' in a ? end('customer') : alive && emit({ kind: 'key', digit: a.key })), a.atMs));
      }
      timers.push(setTimeout(() => end('pbx-limit'), req.maxMs ?? 10_000));
      h({
        id,
        callId: req.callId ?? `fake-call-${seq}`,
        direction: req.direction,
        agentEndpoint: req.agentEndpoint ?? '',
        resumed: req.resumed !== undefined,
        outcomeRecorded: req.resumed?.outcomeRecorded ?? false,
        onEvent(l) {
          listener = l;
          for (const e of buffered.splice(0)) l(e);
        },
        async play(prompts) {
          guard();
          prompts.forEach(assertSafePrompt);
          stop();
          const entry = { prompts: [...prompts], completed: false };
          plays.push(entry);
          playTimer = setTimeout(() => {
            entry.completed = true;
            playTimer = undefined;
            if (alive) emit({ kind: 'played' });
          }, prompts.reduce((ms, p) => ms + (req.promptDurations?.[p] ?? req.promptMs ?? 30), 0));
        },
        async stopPlaying() {
          guard();
          stop();
        },
        async markOutcomeRecorded() {
          guard();
          outcomeMarked = true;
        },
        async hangup() {
          guard();
          end('adapter');
        },
      }).catch(() => end('adapter'));
    });
  }

  return {
    port,
    placeCall,
    placeInbound,
    placeSurvey,
    /** Simulates the adapter's link to the PBX going away. */
    setLinkState(s: LinkState) {
      state = s;
    },
    /** What the fake says of an agent's endpoint from now on. */
    setEndpoint(endpoint: string, status: EndpointStatus) {
      endpoints.set(endpoint, status);
    },
  };
}
