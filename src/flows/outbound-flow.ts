import type { CountryCode } from 'libphonenumber-js';
import { numberForLog, type Logger } from '../log.js';
import { formatForTrunk, parseDialedNumber } from '../phone/index.js';
import { reserveCallerId, type Random } from '../policy/choose-caller-id.js';
import type { Location } from '../policy/caller-id-types.js';
import { decideEmergency } from '../policy/emergency.js';
import { resolveTrunk, type TrunkProfile } from '../policy/trunk.js';
import { CallGoneError, type CallEnded, type OutboundCall } from '../pbx/call-control.js';
import type { CallRecorder, NewCallRecord } from '../store/call-records.js';
import { numbersMasked, type ProtectionSettings, type RuntimePolicy } from '../store/load-policy.js';
import { protectionForPolicy, type CustomerIdResolution, type NumberProtection } from '../protection/number-protection.js';
import type { ShownIdentity } from '../pbx/call-control.js';

export interface OutboundFlowDeps {
  policy: () => RuntimePolicy;
  locate: (e164: string) => Promise<Location>;
  recorder: Pick<CallRecorder, 'recordDecision' | 'recordEnd'>;
  logger: Logger;
  pbx: string;
  random?: Random;
  /** Number protection for the policy's settings (default: built from them, without the interface's secret). */
  protection?: (settings: ProtectionSettings) => NumberProtection;
  /** Told, per call, the time the adapter added: its decision plus the PBX taking it (metrics). */
  added?: (micros: number) => void;
}

type Outcome = Pick<NewCallRecord, 'action' | 'reason' | 'customerE164' | 'callerId' | 'strategy' | 'tier' | 'fallback' | 'candidates' | 'agentId'>;
type Decided = Outcome & { dial?: { number: string; name: string; destination: string }; refuseId?: CustomerIdResolution & { kind: 'refused' } };

/** The fields of an outcome that no decision has filled in yet. */
const UNDECIDED = { customerE164: null, callerId: null, strategy: null, tier: null, fallback: false, candidates: null, agentId: null } as const;

/**
 * One agent's outbound call: an emergency number goes straight out; otherwise check the dialled
 * number, find the agent, choose the caller ID, hand the call back to the PBX, then record and
 * log the reason. Any failure sends the call out with the PBX's default caller ID rather than
 * dropping it.
 */
export function createOutboundFlow(deps: OutboundFlowDeps) {
  /**
   * Calls being decided, with the end the PBX reported while they were (a hang-up during the
   * decision): an end is recorded only after its call's decision, never before.
   */
  const inFlight = new Map<string, CallEnded | null>();

  /** Emergency numbers: from the dialled digits alone, synchronously; never refused, never a pool number. */
  function emergency(call: OutboundCall, policy: RuntimePolicy, trunk: TrunkProfile): Decided | null {
    const e = decideEmergency(call.dialed, trunk, policy.emergency);
    if (!e) return null;
    const base = { ...UNDECIDED, tier: 'emergency', reason: 'emergency_number' };
    if (e.callerId === null) return { ...base, action: 'default' };
    const number = formatForTrunk(e.callerId, trunk.callerIdFormat, trunk);
    return { ...base, action: 'dial', callerId: e.callerId, dial: { number, name: trunk.displayName, destination: e.destination } };
  }

  /** `dialed`: what the agent dialled, or the number a customer ID stands for. */
  async function decide(call: OutboundCall, dialed: string, policy: RuntimePolicy, trunk: TrunkProfile, at: number): Promise<Decided> {
    const base = UNDECIDED;
    const parsed = parseDialedNumber(dialed, policy.defaultCountry as CountryCode);
    if (!parsed.ok) {
      const action = policy.callerId.onInvalidNumber === 'reject' ? 'reject' : 'default';
      return { ...base, action, reason: `invalid_number:${parsed.reason}` };
    }
    const customer = parsed.e164;
    const agent = policy.inventory.agent(call.endpoint);
    if (!agent) return { ...base, customerE164: customer, action: 'default', reason: 'unknown_agent' };

    const callee = await deps.locate(customer).catch(() => ({ country: parsed.country ?? '', region: null, area: null }));
    // After the last await: choice and reservation in one step, so simultaneous calls get different numbers.
    const decision = reserveCallerId({ agent, callee }, policy.inventory, policy.callerId, at, deps.random);
    if (decision.kind === 'none') {
      return { ...base, customerE164: customer, agentId: agent.id, strategy: decision.strategy, action: 'default', reason: decision.reason };
    }
    return {
      ...base,
      customerE164: customer,
      agentId: agent.id,
      callerId: decision.number,
      strategy: decision.strategy,
      tier: decision.tier,
      fallback: decision.fallback,
      candidates: decision.candidates,
      action: 'dial',
      reason: trunk.known ? 'decided' : 'decided_unknown_trunk',
      dial: {
        number: formatForTrunk(decision.number, trunk.callerIdFormat, trunk),
        name: trunk.displayName,
        destination: formatForTrunk(customer, trunk.calleeFormat, trunk),
      },
    };
  }

  const protectionFor = deps.protection ?? protectionForPolicy({});

  /** A call by customer ID: the number behind the ID, then the caller ID as for any number; or refused, nothing dialled. */
  async function decideById(call: OutboundCall, protection: NumberProtection, policy: RuntimePolicy, trunk: TrunkProfile, at: number): Promise<{ outcome: Decided; shown?: ShownIdentity }> {
    const resolved = await protection.resolveDialed(call.dialed);
    if (resolved.kind === 'refused') {
      const reason = resolved.why === 'unknown-id' ? 'customer_id_unknown' : 'customer_id_unavailable';
      return { outcome: { ...UNDECIDED, agentId: policy.inventory.agent(call.endpoint)?.id ?? null, action: 'reject', reason, refuseId: resolved } };
    }
    const outcome = await decide(call, resolved.e164, policy, trunk, at);
    // A number the interface gave that cannot be dialled is not the agent's typo: say so, dial nothing.
    if (outcome.action === 'reject') return { outcome: { ...outcome, refuseId: { kind: 'refused', why: 'id-unavailable', reason: 'the interface gave a number that cannot be dialled', id: resolved.id } } };
    return { outcome, shown: resolved.shown };
  }

  async function handle(call: OutboundCall): Promise<void> {
    const started = performance.now();
    const decidedAt = new Date();
    const policy = deps.policy();
    const protection = protectionFor(policy.protection);
    const mask = numbersMasked(policy);
    // Made when first needed: nothing that only logs runs before the decision reaches the PBX.
    let childLog: Logger | undefined;
    const log = () => (childLog ??= deps.logger.child({ channel: call.id, direction: 'outbound', endpoint: call.endpoint }));

    inFlight.set(call.id, null);
    const trunk = resolveTrunk(policy.trunks, call.trunk, policy.defaultCountry);
    let outcome: Decided;
    let shown: ShownIdentity | undefined;
    try {
      if (call.byCustomerId) {
        ({ outcome, shown } = await decideById(call, protection, policy, trunk, decidedAt.getTime()));
      } else {
        outcome = emergency(call, policy, trunk) ?? (await decide(call, call.dialed, policy, trunk, decidedAt.getTime()));
      }
    } catch (err) {
      outcome = { ...UNDECIDED, action: 'default', reason: 'decision_failed' };
      log().error({ err: (err as Error).message }, 'caller-ID decision failed; using the default caller ID');
    }
    // Not an ID: the masked form of the number the agent dialled (no look-up: no delay), 'anonymous'
    // when there is none (refused, undecided); nothing for emergency calls, nothing with protection off.
    if (!shown && outcome.tier !== 'emergency') shown = protection.maskedFor(outcome.customerE164 ?? null) ?? undefined;
    const decisionMicros = Math.round((performance.now() - started) * 1000);
    const releaseStarted = performance.now();

    // An agent's call to a customer is surveyed when the agent hangs up first (never an emergency call).
    const offer = { survey: policy.survey.enabled && policy.survey.outbound && outcome.agentId !== null && outcome.tier !== 'emergency', protect: shown };
    try {
      if (outcome.refuseId) {
        await call.refuseCustomerId(outcome.refuseId.why);
      } else if (outcome.action === 'dial' && outcome.dial) {
        await call.dial({ number: outcome.dial.number, name: outcome.dial.name }, outcome.dial.destination, offer);
      } else if (outcome.action === 'reject') {
        await call.reject();
      } else {
        await call.useDefault(offer);
      }
    } catch (err) {
      if (err instanceof CallGoneError) {
        // Hung up, or the PBX stopped waiting and went on with its default caller ID: the
        // decision is still recorded, and the call's end says what the PBX really did.
        log().info({ reason: outcome.reason }, 'the call left the decision point before the decision reached the PBX');
      } else {
        log().error({ err: (err as Error).message }, 'PBX refused the decision; trying the default caller ID');
        outcome = { ...outcome, action: 'default', reason: `pbx_error_after:${outcome.reason}` };
        await call.useDefault({ protect: shown }).catch((e: Error) => log().error({ err: e.message }, 'cannot release the call'));
      }
    }

    const pbxMicros = Math.round((performance.now() - releaseStarted) * 1000);
    deps.added?.(decisionMicros + pbxMicros);
    const { dial: _dial, refuseId, ...record } = outcome;
    // Not placed: the agent heard why; the administrator reads it here (the ID is not the number).
    if (refuseId) log().warn({ customerId: refuseId.id, why: refuseId.why, reason: refuseId.reason }, 'call by customer ID not placed');
    // One line per call at debug level: the same facts are in the call's record (`callpolicy calls`),
    // and at info this line was a tenth of the adapter's CPU at 250 calls/s.
    log().debug(
      {
        action: record.action,
        reason: record.reason,
        agent: record.agentId,
        // An emergency number is no one's personal data; anything else unparsed is not echoed.
        dialed: record.tier === 'emergency' ? call.dialed : record.customerE164 ? numberForLog(record.customerE164, mask) : `${call.dialed.length} chars`,
        shown: shown?.number,
        callerId: record.callerId,
        strategy: record.strategy,
        tier: record.tier,
        fallback: record.fallback,
        candidates: record.candidates,
        decisionMicros,
        pbxMicros,
      },
      'outbound caller ID',
    );
    deps.recorder.recordDecision({ ...record, direction: 'outbound', pbx: deps.pbx, channelId: call.id, agentEndpoint: call.endpoint, decidedAt, decisionMicros });
    const endedMeanwhile = inFlight.get(call.id);
    inFlight.delete(call.id);
    if (endedMeanwhile) recordEnd(endedMeanwhile);
  }

  function recordEnd(info: CallEnded): void {
    const { id, at, cause, ...end } = info;
    deps.recorder.recordEnd({ pbx: deps.pbx, channelId: id, endedAt: at, hangupCause: cause, ...end });
  }

  function ended(info: CallEnded): void {
    if (inFlight.has(info.id)) inFlight.set(info.id, info);
    else recordEnd(info);
  }

  return { handle, ended };
}
