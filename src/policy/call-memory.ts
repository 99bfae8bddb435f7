/**
 * Call memory ("外呼来电记忆"): an inbound call from a customer whom an agent called recently goes
 * straight to that agent. Plain data in, a route out: no PBX, no database, no clock of its own.
 *
 * - Mode `only-agent` (the reference product's mode 1): only the remembered agent. Available: ring
 *   them; busy, offline or paused: the caller waits (prompt and music) and is offered the agent
 *   again until the wait runs out; a ring without answer ends the same way: the configured final
 *   destination (a voicemail extension, or a goodbye).
 * - Mode `agent-first` (mode 2): the remembered agent if available, for one ring cycle; otherwise,
 *   and after a ring without answer, the normal IVR as if there were no memory.
 * - Withheld or unparsable caller IDs, memory off, no outbound call in the window, or an agent
 *   the policy no longer knows: the IVR, unchanged.
 */
import type { CallerNumber } from '../phone/caller-number.js';

export type MemoryMode = 'off' | 'only-agent' | 'agent-first';
export type AgentState = 'available' | 'busy' | 'offline' | 'paused';

/** only-agent's last resort: a voicemail extension, or a goodbye. */
export type FinalDestination = { kind: 'voicemail'; extension: string } | { kind: 'goodbye' };
/** Where a call rung to an agent goes when they do not answer. */
export type NoAnswerRoute = { kind: 'ivr' } | FinalDestination;

export interface MemorySettings {
  mode: MemoryMode;
  /** How far back an outbound call counts. Default 72 h. */
  windowHours: number;
  /** Whether an outbound call the customer did not answer counts (returning a missed call). Default true. */
  countUnanswered: boolean;
  /** How long the remembered agent's phone rings. Default 20 s. */
  ringSeconds: number;
  /** only-agent: how long a caller waits for a busy, offline or paused agent. Default 60 s. */
  waitSeconds: number;
  /** only-agent: where the call goes when the agent never answered. Default: a goodbye. */
  finalDestination: FinalDestination;
}

export const DEFAULT_MEMORY: MemorySettings = {
  mode: 'off',
  windowHours: 72,
  countUnanswered: true,
  ringSeconds: 20,
  waitSeconds: 60,
  finalDestination: { kind: 'goodbye' },
};

/** The most recent outbound call to the customer that the look-up found. */
export interface RememberedCall {
  agentId: string;
  /** Epoch ms the outbound call was placed. */
  at: number;
  /** Whether the customer answered it. */
  answered: boolean;
}

export interface InboundFacts {
  caller: CallerNumber;
  remembered: RememberedCall | null;
  /** The remembered agent, if the policy still has them: their state now. */
  agent: { id: string; state: AgentState } | null;
  now: number;
}

export type MemoryMiss =
  | 'memory_off'
  | 'withheld'
  | 'unparsable'
  | 'no_outbound_call'
  | 'outside_window'
  | 'unanswered_not_counted'
  | 'agent_unknown'
  /** The look-up or the PBX's agent state failed (set by the flow, never by routeInbound). */
  | 'lookup_failed';

export type InboundRoute =
  /** The normal IVR: no memory applies, or mode agent-first found the agent unavailable. */
  | { kind: 'ivr'; reason: MemoryMiss | `agent_${Exclude<AgentState, 'available'>}`; agentId: string | null; customer: string | null }
  /** Ring the remembered agent; if they do not answer: the IVR (agent-first) or the final destination (only-agent). */
  | { kind: 'agent'; agentId: string; customer: string; ringSeconds: number; onNoAnswer: NoAnswerRoute }
  /** only-agent with the agent not available now: hold the caller and offer the agent again until the wait runs out. */
  | { kind: 'wait-for-agent'; agentId: string; customer: string; agentState: Exclude<AgentState, 'available'>; ringSeconds: number; waitSeconds: number; then: FinalDestination };

const HOUR_MS = 3_600_000;

/** The oldest outbound call that still counts at `now` (the window includes this edge). */
export function memoryWindowStart(settings: Pick<MemorySettings, 'windowHours'>, now: number): number {
  return now - settings.windowHours * HOUR_MS;
}

export function routeInbound(facts: InboundFacts, settings: MemorySettings): InboundRoute {
  const customer = facts.caller.ok ? facts.caller.e164 : null;
  const ivr = (reason: Extract<InboundRoute, { kind: 'ivr' }>['reason'], agentId: string | null = null): InboundRoute => ({ kind: 'ivr', reason, agentId, customer });

  if (settings.mode === 'off') return ivr('memory_off');
  if (!facts.caller.ok) return ivr(facts.caller.reason);
  const last = facts.remembered;
  if (!last) return ivr('no_outbound_call');
  if (last.at < memoryWindowStart(settings, facts.now)) return ivr('outside_window', last.agentId);
  if (!last.answered && !settings.countUnanswered) return ivr('unanswered_not_counted', last.agentId);
  if (!facts.agent || facts.agent.id !== last.agentId) return ivr('agent_unknown', last.agentId);

  const { state } = facts.agent;
  if (state === 'available') {
    return {
      kind: 'agent',
      agentId: last.agentId,
      customer: facts.caller.e164,
      ringSeconds: settings.ringSeconds,
      onNoAnswer: settings.mode === 'agent-first' ? { kind: 'ivr' } : settings.finalDestination,
    };
  }
  if (settings.mode === 'agent-first') return ivr(`agent_${state}`, last.agentId);
  return {
    kind: 'wait-for-agent',
    agentId: last.agentId,
    customer: facts.caller.e164,
    agentState: state,
    ringSeconds: settings.ringSeconds,
    waitSeconds: settings.waitSeconds,
    then: settings.finalDestination,
  };
}

/** An agent's state from what the PBX reports and the administrator's pause. */
export function agentState(pbx: { reachable: boolean; inCall: boolean }, paused: boolean): AgentState {
  if (paused) return 'paused';
  if (!pbx.reachable) return 'offline';
  return pbx.inCall ? 'busy' : 'available';
}
