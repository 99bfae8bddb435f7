import { numberForLog, type Logger } from '../log.js';
import { normalizeCallerNumber } from '../phone/caller-number.js';
import { agentState, memoryWindowStart, routeInbound, type InboundRoute, type RememberedCall } from '../policy/call-memory.js';
import { resolveTrunk } from '../policy/trunk.js';
import { CallGoneError, type EndpointStatus, type InboundCall } from '../pbx/call-control.js';
import { withTimeout } from '../pbx/with-timeout.js';
import type { CallMemoryLookup } from '../store/call-memory-lookup.js';
import type { CallRecorder } from '../store/call-records.js';
import { numbersMasked, type ProtectionSettings, type RuntimePolicy } from '../store/load-policy.js';
import { protectionForPolicy, type NumberProtection } from '../protection/number-protection.js';

export interface InboundFlowDeps {
  /** The policy in use: its memory settings, agents and pauses. */
  policy: () => RuntimePolicy;
  lookUp: CallMemoryLookup;
  /** False while the database is known to be down: no look-up is tried, the call goes to the IVR at once. */
  databaseUp?: () => boolean;
  /** The longest a look-up and the agent's state may take together (default 500 ms); then the IVR. */
  timeoutMs?: number;
  endpointStatus: (endpoint: string) => Promise<EndpointStatus>;
  recorder: Pick<CallRecorder, 'recordDecision'>;
  logger: Logger;
  pbx: string;
  now?: () => number;
  /** Number protection for the policy's settings (default: built from them, without the interface's secret). */
  protection?: (settings: ProtectionSettings) => NumberProtection;
  /** Told, per call, the time the adapter added: its decision plus the PBX taking the route (metrics). */
  added?: (micros: number) => void;
}

/** What routing an inbound call needs: the policy, the look-up, the PBX's word on an agent. */
export type InboundDecisionDeps = Pick<InboundFlowDeps, 'policy' | 'lookUp' | 'databaseUp' | 'endpointStatus'>;

/** A route, and the facts it was decided on (for the record, the log and `callpolicy explain inbound`). */
export type InboundDecision = InboundRoute & {
  agentEndpoint?: string;
  /** The most recent outbound call to the customer inside the window, if any. */
  remembered: RememberedCall | null;
  /** What the PBX said of the remembered agent's endpoint (not asked for a paused agent). */
  agentStatus?: EndpointStatus;
};

/**
 * Where a call from `callerNumber` on `trunk` goes at `at`: the caller's number read as the trunk's
 * country writes numbers, the look-up, the agent's state from the PBX (or a pause), the route.
 */
export async function decideInbound(deps: InboundDecisionDeps, call: { callerNumber: string; trunk: string }, at: number): Promise<InboundDecision> {
  const policy = deps.policy();
  const settings = policy.memory;
  const trunk = resolveTrunk(policy.trunks, call.trunk, policy.defaultCountry);
  const caller = normalizeCallerNumber(call.callerNumber, trunk.country);
  if (settings.mode === 'off' || !caller.ok) return { ...routeInbound({ caller, remembered: null, agent: null, now: at }, settings), remembered: null };
  if (deps.databaseUp && !deps.databaseUp()) return { kind: 'ivr', reason: 'lookup_failed', agentId: null, customer: caller.e164, remembered: null };

  const remembered = await deps.lookUp(caller.e164, new Date(memoryWindowStart(settings, at)), { answeredOnly: !settings.countUnanswered });
  const profile = remembered ? policy.inventory.agentById(remembered.agentId) : undefined;
  let agent = null;
  let agentStatus: EndpointStatus | undefined;
  if (profile) {
    const paused = policy.pausedAgents.has(profile.id);
    // A paused agent is unavailable whatever the PBX says: no need to ask it.
    if (!paused) agentStatus = await deps.endpointStatus(profile.endpoint);
    agent = { id: profile.id, state: agentState(agentStatus ?? { reachable: true, inCall: false }, paused) };
  }
  const route = routeInbound({ caller, remembered, agent, now: at }, settings);
  return { ...route, agentEndpoint: profile?.endpoint, remembered, agentStatus };
}

/**
 * A customer's call from a trunk: find who last called them, ask the PBX about that agent, route.
 * Whatever fails on the way (database, PBX, a bad number) sends the call to the IVR, never drops it.
 */
export function createInboundFlow(deps: InboundFlowDeps) {
  const now = deps.now ?? Date.now;
  const protectionFor = deps.protection ?? protectionForPolicy({});

  async function handle(call: InboundCall): Promise<void> {
    const decidedAt = new Date(now());
    const started = performance.now();
    const log = deps.logger.child({ channel: call.id, direction: 'inbound' });
    const policy = deps.policy();
    const protection = protectionFor(policy.protection);
    // What agents may see of this caller, asked of the interface while the memory is looked up.
    let shownLater: ReturnType<NumberProtection['shownFor']> | null = null;
    if (protection.mode !== 'off') {
      const caller = normalizeCallerNumber(call.callerNumber, resolveTrunk(policy.trunks, call.trunk, policy.defaultCountry).country);
      shownLater = protection.shownFor(caller.ok ? caller.e164 : null, call.callerNumber);
    }
    let route: InboundRoute & { agentEndpoint?: string };
    try {
      route = await withTimeout(decideInbound(deps, call, decidedAt.getTime()), deps.timeoutMs ?? 500, 'call memory look-up');
    } catch (err) {
      route = { kind: 'ivr', reason: 'lookup_failed', agentId: null, customer: null };
      log.error({ err: (err as Error).message }, 'call memory look-up failed; the call goes to the IVR');
    }
    const decisionMicros = Math.round((performance.now() - started) * 1000);

    // Recorded before the PBX is told: the call's end (reported by the PBX) then always finds its row.
    const mask = numbersMasked(policy);
    // Never throws, never waits longer than the interface's own limit.
    const shown = shownLater ? await shownLater : null;
    const reason = route.kind === 'ivr' ? `memory_miss:${route.reason}` : route.kind === 'agent' ? 'memory_hit' : `memory_hit_wait:${route.agentState}`;
    deps.recorder.recordDecision({
      direction: 'inbound',
      pbx: deps.pbx,
      channelId: call.id,
      agentId: route.kind === 'ivr' ? null : route.agentId,
      agentEndpoint: route.kind === 'ivr' ? null : (route.agentEndpoint ?? null),
      customerE164: route.customer,
      action: route.kind === 'ivr' ? 'default' : 'dial',
      reason,
      decidedAt,
      decisionMicros,
    });
    const shownLog = shown ? { shown: shown.number, shownAs: shown.source, ...(shown.fallback ? { shownFallback: shown.fallback } : {}) } : {};
    log.info({ route: route.kind, reason, agent: route.agentId, caller: numberForLog(route.customer, mask), ...shownLog, decisionMicros }, 'inbound route');

    const settings = policy.survey;
    const survey = settings.enabled && settings.inbound;
    const protect = shown ?? undefined;
    try {
      if (route.kind === 'agent' && route.agentEndpoint) {
        await call.ringAgent(route.agentEndpoint, route.ringSeconds, route.onNoAnswer, { survey, protect });
      } else if (route.kind === 'wait-for-agent' && route.agentEndpoint) {
        // A paused agent is never rung while the caller waits: the pause is the administrator's word.
        const offerAgent = route.agentState !== 'paused';
        await call.waitForAgent(route.agentEndpoint, { ringSeconds: route.ringSeconds, waitSeconds: route.waitSeconds, then: route.then, offerAgent, survey, protect });
      } else {
        await call.toIvr({ protect });
      }
    } catch (err) {
      if (!(err instanceof CallGoneError)) {
        log.error({ err: (err as Error).message }, 'PBX refused the route; sending the call to the IVR');
        await call.toIvr({ protect }).catch((e: Error) => log.error({ err: e.message }, 'cannot release the call'));
      }
    }
    deps.added?.(Math.round((performance.now() - started) * 1000));
  }

  return { handle };
}
