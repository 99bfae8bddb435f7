// What a FreeSWITCH CHANNEL_HANGUP_COMPLETE says about the end of a call, in the port's terms. Pure:
// unit-tested on the events recorded from a real FreeSWITCH.
import type { CallEnded, FinalAction, HungUpBy, NoAnswerRoute } from '../call-control.js';
import type { EslEvent } from './esl-link.js';

/** Set by the shipped dialplan's route extensions when a route really runs (not when it was only decided). */
export const OUTCOME_VAR = 'callpolicy_outcome';

/** FreeSWITCH's DIALSTATUS in the words the port uses (Asterisk's). */
const DIAL_STATUS: Record<string, string> = {
  SUCCESS: 'ANSWER',
  USER_BUSY: 'BUSY',
  NO_ANSWER: 'NOANSWER',
  NO_USER_RESPONSE: 'NOANSWER',
  ORIGINATOR_CANCEL: 'CANCEL',
  CALL_REJECTED: 'BUSY',
  UNALLOCATED_NUMBER: 'CHANUNAVAIL',
  NO_ROUTE_DESTINATION: 'CHANUNAVAIL',
  USER_NOT_REGISTERED: 'CHANUNAVAIL',
  SUBSCRIBER_ABSENT: 'CHANUNAVAIL',
  RECOVERY_ON_TIMER_EXPIRE: 'NOANSWER',
  ALLOTTED_TIMEOUT: 'NOANSWER',
};

/**
 * The port speaks Asterisk's DIALSTATUS words; any other failure of FreeSWITCH's originate
 * (NORMAL_TEMPORARY_FAILURE, a refused INVITE ...) is a congestion, as Asterisk would say. The raw
 * cause is still in the record's hang-up cause.
 */
const dialStatusOf = (disposition: string): string => DIAL_STATUS[disposition] ?? 'CONGESTION';

const micros = (v: string | undefined): Date | null => {
  const n = Number(v ?? 0);
  return Number.isFinite(n) && n > 0 ? new Date(n / 1000) : null;
};

/** Set by the no-answer and end-of-wait route extensions: where an inbound call went when the agent did not take it. */
export const NO_ANSWER_ROUTE_VAR = 'callpolicy_noanswer_route';

/** What each route extension's outcome means; anything else (garbage, a newer route) is not known: null. */
const FINAL_ACTIONS: Readonly<Record<string, FinalAction>> = {
  dial: 'dial',
  ring: 'dial',
  wait: 'dial',
  default: 'default',
  'default-down': 'default',
  'default-timeout': 'default',
  ivr: 'default',
  'ivr-down': 'default',
  'ivr-timeout': 'default',
  reject: 'reject',
  'refused-unknown-id': 'reject',
  'refused-id-unavailable': 'reject',
};

/** Outbound routes, and inbound ones: ring or wait is the adapter's route to an agent, the IVR the default. */
export function finalActionOf(outcome: string | undefined): FinalAction | null {
  return outcome !== undefined && Object.hasOwn(FINAL_ACTIONS, outcome) ? FINAL_ACTIONS[outcome]! : null;
}

/**
 * Who hung up first, from the leg's own SIP hang-up disposition (the recording showed that the order
 * of the two legs' CHANNEL_HANGUP_COMPLETE says nothing: the B leg's came first although A hung up).
 * `recv_*`: this leg's phone ended it. `send_bye` on a bridged leg: FreeSWITCH ended it because the
 * other leg left. Anything else: the PBX itself (a reject, a time limit, the dialplan).
 */
export function hungUpByOf(event: EslEvent, thisLeg: 'agent' | 'customer'): HungUpBy | null {
  const disposition = event.variable_sip_hangup_disposition;
  const other: HungUpBy = thisLeg === 'agent' ? 'customer' : 'agent';
  if (!disposition) return null;
  if (disposition.startsWith('recv_')) return thisLeg;
  if (disposition === 'send_bye' && event.variable_bridge_uuid) return other;
  return 'pbx';
}

/**
 * Whose phone a call's channel is, from the variables the shipped dialplan set on it: a customer's
 * call from the trunk (callpolicy_kind inbound, or survey on an inbound call's own channel), else
 * an agent's. Read from the event, so a call followed after a restart is told apart too.
 */
export function legOf(event: EslEvent): 'agent' | 'customer' {
  const kind = event.variable_callpolicy_kind;
  return kind === 'inbound' || (kind === 'survey' && event.variable_callpolicy_direction === 'inbound') ? 'customer' : 'agent';
}

/** The end of the channel `event` describes (its own Unique-ID); `leg`: whose phone it is (default: legOf). */
export function callEndedOf(event: EslEvent, leg: 'agent' | 'customer' = legOf(event)): CallEnded {
  const answeredAt = micros(event.variable_answer_uepoch);
  const q850 = Number(event.variable_hangup_cause_q850);
  const dial = event.variable_DIALSTATUS;
  const billsec = Number(event.variable_billsec);
  return {
    id: event['Unique-ID'] ?? '',
    at: micros(event['Event-Date-Timestamp']) ?? new Date(),
    cause: Number.isInteger(q850) && q850 > 0 ? q850 : null,
    answeredAt,
    talkSeconds: answeredAt ? talkSecondsOf(event, answeredAt, billsec) : null,
    dialStatus: dial ? dialStatusOf(dial) : null,
    finalAction: finalActionOf(event[`variable_${OUTCOME_VAR}`]),
    // A channel that went on to the survey: the agent had hung up first (nothing else leads there).
    hungUpBy: event.variable_callpolicy_kind === 'survey' ? 'agent' : hungUpByOf(event, leg),
    noAnswerRoute: noAnswerRouteOf(event[`variable_${NO_ANSWER_ROUTE_VAR}`]),
  };
}

/**
 * Talk time: billsec, unless the dialplan marked when the talk ended (callpolicy_talk_end, set as
 * the agent's bridge returns on an inbound call): the survey that follows on the same channel is
 * not talk.
 */
function talkSecondsOf(event: EslEvent, answeredAt: Date, billsec: number): number | null {
  const end = Number(event.variable_callpolicy_talk_end);
  if (Number.isInteger(end) && end > 0) return Math.max(0, Math.round(end - answeredAt.getTime() / 1000));
  return Number.isFinite(billsec) ? billsec : null;
}

function noAnswerRouteOf(v: string | undefined): NoAnswerRoute['kind'] | null {
  return v === 'ivr' || v === 'voicemail' || v === 'goodbye' ? v : null;
}
