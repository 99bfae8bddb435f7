/**
 * The call-control port: the only view of the PBX that flows have. Asterisk (ARI), a
 * FreeSWITCH implementation and the in-memory fake all implement it and pass one contract
 * suite (test/contract/).
 */

/** Whether the customer's leg goes to the survey point when the agent hangs up first on the answered call. */
export interface SurveyOffer {
  survey?: boolean;
}

/**
 * Number protection: the only identity of the customer that the agent's phone may receive (its
 * From, P-Asserted-Identity, Remote-Party-ID and every connected-line update). `number` goes into
 * a SIP URI user part, `name` into a display name: assertSafeShown says what they may hold.
 */
export interface ShownIdentity {
  number: string;
  name: string;
}

/** With `protect`, the agent's phone receives only that identity of the customer, and the far end's updates never reach it. */
export interface ProtectOffer {
  protect?: ShownIdentity;
}

/** Why a call by customer ID is not placed: the ID names no customer, or the interface could not say. */
export type CustomerIdRefusal = 'unknown-id' | 'id-unavailable';

/** An agent's outbound call, held at the decision point until one of the actions is taken. */
export interface OutboundCall {
  /** PBX-wide id of the agent's channel. */
  readonly id: string;
  /** The agent's endpoint as the PBX names it, e.g. PJSIP/1001. */
  readonly endpoint: string;
  /** What the agent dialled, exactly as received: untrusted. */
  readonly dialed: string;
  /**
   * The agent dialled the customer-ID prefix and an ID (the dialplan's customer-ID context):
   * `dialed` is prefix + ID, not a number. Such a call is placed with dial() once the ID is
   * resolved, or refused with refuseCustomerId(); useDefault() and reject() refuse it too.
   */
  readonly byCustomerId: boolean;
  /** The trunk the dialplan will use (names the trunk's settings). */
  readonly trunk: string;
  /**
   * Present the caller ID and dial `destination` (digits and a leading + only) on the trunk.
   * `survey`: if the agent hangs up first on the answered call, the customer's leg comes to the
   * survey point (handlers.survey) instead of ending.
   */
  dial(callerId: { number: string; name: string }, destination: string, opts?: SurveyOffer & ProtectOffer): Promise<void>;
  /** Let the PBX dial with its default caller ID. */
  useDefault(opts?: SurveyOffer & ProtectOffer): Promise<void>;
  /** Refuse the call (the agent hears that the number is invalid). */
  reject(): Promise<void>;
  /** A call by customer ID that is not placed: the agent hears why (a prompt), nothing is dialled. */
  refuseCustomerId(why: CustomerIdRefusal): Promise<void>;
}

import type { FinalDestination, NoAnswerRoute } from '../policy/call-memory.js';

export type { FinalDestination, NoAnswerRoute };

/**
 * A customer's call from a trunk, held at the routing point until one of the actions is taken.
 * Agents are named by their endpoint in the policy (opaque here: PJSIP/1001, user/1001, ...).
 */
export interface InboundCall {
  /** PBX-wide id of the customer's channel. */
  readonly id: string;
  /** The caller ID number as the trunk presented it: untrusted, possibly withheld or empty. */
  readonly callerNumber: string;
  /** The number the customer dialled (the DID), as received. */
  readonly dialed: string;
  /** The trunk the call came in on (names its settings, e.g. its country). */
  readonly trunk: string;
  /** Ring the agent for `ringSeconds`; if they do not answer (or cannot): `onNoAnswer`. */
  ringAgent(endpoint: string, ringSeconds: number, onNoAnswer: NoAnswerRoute, opts?: SurveyOffer & ProtectOffer): Promise<void>;
  /**
   * The agent is busy or away: the caller hears the waiting prompt and music and is offered the
   * agent again whenever their phone is free (ringing `ringSeconds` each time) until `waitSeconds`
   * ran out; then `then`. `offerAgent: false` (a paused agent): the caller waits, the agent is never rung.
   */
  waitForAgent(endpoint: string, opts: { ringSeconds: number; waitSeconds: number; then: FinalDestination; offerAgent?: boolean } & SurveyOffer & ProtectOffer): Promise<void>;
  /**
   * The normal IVR, as if the adapter were not there. `protect`: what agents that the site's own
   * IVR or queues connect may see (their Dial runs the dialplan's protection handler).
   */
  toIvr(opts?: ProtectOffer): Promise<void>;
}

/** What a survey leg reports while the adapter holds it, in the order it happened. */
export type SurveyLegEvent =
  /** A DTMF key (RFC 4733 or SIP INFO: the PBX tells them apart, the flow does not). */
  | { kind: 'key'; digit: string }
  /** What the last play() started has played to the end (never sent for a play that a later play() or stopPlaying() cut short). */
  | { kind: 'played' }
  /** The customer hung up, or the PBX took the leg away (its own time limit): nothing more will come. */
  | { kind: 'gone' };

/**
 * A customer's leg after the agent hung up first on an answered call, held at the survey point
 * (the PBX decided who hung up first: on Asterisk, Dial's F() and g options). Nothing plays until
 * the flow says so; keys are reported from the first moment.
 */
export interface SurveyCall {
  /** PBX-wide id of the customer's channel. */
  readonly id: string;
  /** The call's id as its record knows it: the agent's channel of an outbound call, the customer's of an inbound one. */
  readonly callId: string;
  readonly direction: 'outbound' | 'inbound';
  /** The agent's endpoint as the PBX knew it on this call (opaque, e.g. PJSIP/1001); '' when not known. */
  readonly agentEndpoint: string;
  /** Found again after the link to the PBX came back: its survey began under an earlier connection. */
  readonly resumed: boolean;
  /** This leg's outcome was already recorded (markOutcomeRecorded) by an earlier connection. */
  readonly outcomeRecorded: boolean;
  /** This leg's events from now on, in order (those that came before the listener are delivered first). One listener. */
  onEvent(listener: (event: SurveyLegEvent) => void): void;
  /** Stops what plays, then plays these prompts in order (PBX sound names, or absolute paths without extension). */
  play(prompts: readonly string[]): Promise<void>;
  /** Stops what plays; no 'played' follows for it. */
  stopPlaying(): Promise<void>;
  /**
   * Notes on the leg itself that its outcome is recorded, so that a re-adopting adapter does not
   * ask again. Requests of a leg take effect in the order they were made; on some PBXs (Asterisk)
   * this one waits while a prompt plays: stop the prompt first.
   */
  markOutcomeRecorded(): Promise<void>;
  /** Ends the customer's leg: the survey is over, or there is none. */
  hangup(): Promise<void>;
}

/** What the PBX says of an agent's endpoint right now. */
export interface EndpointStatus {
  /** Registered / reachable: a call to it can ring. */
  reachable: boolean;
  /** In a call (ringing, talking or on hold). */
  inCall: boolean;
}

export type HungUpBy = 'agent' | 'customer' | 'pbx';

/** What the PBX really did with a call after the decision point, as its dialplan reports it. */
export type FinalAction = 'dial' | 'default' | 'reject';

export interface CallEnded {
  id: string;
  at: Date;
  /** Q.850 cause, if the PBX gave one. */
  cause: number | null;
  /** When the far end answered; null: never answered (or the PBX did not say). */
  answeredAt: Date | null;
  /** Seconds from answer to hang-up, as the PBX counted them; null when not answered. */
  talkSeconds: number | null;
  /** The PBX's dial result (ANSWER, BUSY, NOANSWER, CANCEL, ...); null when nothing was dialled. */
  dialStatus: string | null;
  /**
   * What the PBX did: the adapter's decision, or the default caller ID when the decision came
   * too late (the PBX's own wait ran out); null when the call ended before either.
   */
  finalAction: FinalAction | null;
  /** Who hung up first: the agent, the customer, or the PBX itself (its dialplan); null: not known. */
  hungUpBy?: HungUpBy | null;
  /** An inbound call the remembered agent did not take: where it went then; null otherwise. */
  noAnswerRoute?: NoAnswerRoute['kind'] | null;
  /**
   * True when the end happened while nobody was following the call (the adapter was down):
   * `at` is when that was noticed, an upper bound, and the other fields are unknown (null).
   */
  estimated?: boolean;
}

export interface CallControlHandlers {
  outbound(call: OutboundCall): Promise<void>;
  /** A call from a trunk at the routing point. Without this handler such calls go to the IVR. */
  inbound?(call: InboundCall): Promise<void>;
  /** A customer's leg at the survey point. Without this handler such legs are hung up at once. */
  survey?(call: SurveyCall): Promise<void>;
  /**
   * A call seen by `outbound` has ended, whatever the decision was (rejected calls included)
   * and even when the decision never reached the PBX.
   */
  ended?(info: CallEnded): void;
  /** The link is up (first connect and every reconnect), after waiting calls were re-adopted. */
  linked?(): void;
}

export type LinkState = 'connecting' | 'up' | 'down';

export interface CallControlPort {
  readonly kind: string;
  /** Connects (retrying until stop) and starts delivering calls to the handlers. */
  start(handlers: CallControlHandlers): Promise<void>;
  stop(): Promise<void>;
  linkState(): LinkState;
  /**
   * Follows calls again whose end this process has not seen (after a restart or a lost link):
   * the live ones are reported through `ended` when they end, the others have already ended.
   */
  follow(callIds: string[]): Promise<{ following: string[]; gone: string[] }>;
  /** An agent endpoint's state now, from the PBX (not cached). */
  endpointStatus(endpoint: string): Promise<EndpointStatus>;
}

/** The call hung up or vanished before the action reached the PBX: expected, not a crash. */
export class CallGoneError extends Error {
  override name = 'CallGoneError';
  readonly code = 'call-gone';
  constructor(readonly callId: string) {
    super(`call ${callId} is gone`);
  }
}

/** The PBX did not answer in time. */
export class PbxTimeoutError extends Error {
  override name = 'PbxTimeoutError';
  readonly code = 'pbx-timeout';
  constructor(
    readonly operation: string,
    readonly ms: number,
  ) {
    super(`PBX did not answer ${operation} within ${ms} ms`);
  }
}

/** The PBX refused a request for a reason other than a missing call. */
export class PbxRequestError extends Error {
  override name = 'PbxRequestError';
  readonly code = 'pbx-request-failed';
}

/** A prompt reaches a PBX media URI: a sound name (segments of letters, digits, _ and -) or an absolute path, never a list separator or "..". */
export function assertSafePrompt(prompt: string): void {
  if (!/^\/?[A-Za-z0-9_-]+(\/[A-Za-z0-9_.-]+)*$/.test(prompt) || prompt.split('/').some((seg) => seg === '..' || seg === '.')) {
    throw new Error(`unsafe prompt refused: ${JSON.stringify(prompt.slice(0, 60))}`);
  }
}

/** Destinations reach a dial string: only digits with an optional leading +. */
export function assertSafeDestination(destination: string): void {
  if (!/^\+?[0-9]{1,20}$/.test(destination)) throw new Error(`unsafe destination refused: ${JSON.stringify(destination.slice(0, 24))}`);
}

/** Caller ID goes into SIP headers: a number like a destination, a name without quoting tricks. */
export function assertSafeCallerId(callerId: { number: string; name: string }): void {
  assertSafeDestination(callerId.number);
  // eslint-disable-next-line no-control-regex
  if (/["<>|\\\u0000-\u001f\u007f]/.test(callerId.name) || callerId.name.length > 80) {
    throw new Error(`unsafe caller ID name refused: ${JSON.stringify(callerId.name.slice(0, 24))}`);
  }
}

/** A shown identity reaches SIP headers: a URI user part and a display name of plain characters, nothing that quotes or separates. */
export function assertSafeShown(shown: ShownIdentity): void {
  if (!/^[A-Za-z0-9*#+_.-]{1,48}$/.test(shown.number)) throw new Error(`unsafe shown number refused: ${JSON.stringify(shown.number.slice(0, 24))}`);
  if (!/^[A-Za-z0-9*#+_. -]{1,48}$/.test(shown.name)) throw new Error(`unsafe shown name refused: ${JSON.stringify(shown.name.slice(0, 24))}`);
}

/** An agent's endpoint reaches a Dial string: a PBX endpoint like PJSIP/1001 and nothing else. */
export function assertSafeEndpoint(endpoint: string): void {
  if (!/^[A-Za-z0-9]+\/[A-Za-z0-9_.@-]{1,64}$/.test(endpoint)) throw new Error(`unsafe agent endpoint refused: ${JSON.stringify(endpoint.slice(0, 40))}`);
}

/** Ring and wait times reach the dialplan as digits: whole seconds in 1..max. */
export function assertSeconds(what: string, n: number, max: number): void {
  if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`${what} must be whole seconds from 1 to ${max}: ${n}`);
}

/** A voicemail extension reaches the dialplan: digits only. */
export function assertSafeNoAnswerRoute(route: NoAnswerRoute): void {
  if (route.kind === 'voicemail' && !/^[0-9]{1,20}$/.test(route.extension)) {
    throw new Error(`voicemail extension must be 1-20 digits: ${JSON.stringify(route.extension.slice(0, 24))}`);
  }
}
