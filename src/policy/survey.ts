/**
 * The post-call satisfaction survey ("呼出满意度评价"): when the agent hangs up first on an answered
 * call, the customer hears the template's intro and rates by DTMF. Plain data in, commands out: no
 * PBX, no timers, no clock. The flow plays what a command says, collects a key with the timeout it
 * gives, and feeds back what happened (a key, the timeout, the customer's hang-up).
 *
 * Exactly one outcome per survey: rated (key, label, score); no input (every try timed out);
 * invalid (a wrong key on the last try); hung up (the customer left before an outcome). The outcome
 * is final as soon as it is known: a hang-up during the closing prompt does not change it.
 */

/** A prompt the PBX can play, resolved when the policy was applied (a sound name or file path without extension). */
export type PromptRef = string;

export interface SurveyKey {
  label: string;
  score: number;
}

export interface SurveyTemplate {
  intro: PromptRef;
  closing: PromptRef;
  /** Played after a key the template does not know, before the intro again. */
  invalid: PromptRef;
  /** DTMF digit (0-9, *, #) to what it means. */
  keys: Record<string, SurveyKey>;
  /** How many times the customer is asked (1 = once, no retry). */
  tries: number;
  /** Seconds to wait for a key after the intro has played. */
  timeoutSeconds: number;
}

export type SurveyOutcome =
  | { kind: 'rated'; key: string; label: string; score: number }
  | { kind: 'no_input' }
  | { kind: 'invalid'; key: string }
  | { kind: 'hung_up' };

export type SurveyState =
  | { phase: 'idle' }
  /** The intro plays or has played; `attempt` counts from 1. Keys count from the first moment (barge-in). */
  | { phase: 'asking'; attempt: number }
  /** The outcome is known; the closing prompt plays, then the PBX hangs up. */
  | { phase: 'closing'; outcome: SurveyOutcome }
  | { phase: 'done'; outcome: SurveyOutcome };

export type SurveyEvent = { kind: 'start' } | { kind: 'key'; digit: string } | { kind: 'timeout' } | { kind: 'hangup' } | { kind: 'closed' };

/** What the PBX is to do next. Empty: nothing (the event did not matter in this state). */
export interface SurveyCommand {
  /** Stop what plays now, then play these, in order. */
  play?: PromptRef[];
  /** After `play`, wait this long for a key; a key pressed while the prompts play counts too. */
  collectSeconds?: number;
  /** After `play`, hang up the customer's channel (the survey is over). */
  hangup?: boolean;
  /** The survey's outcome, given once, the moment it is known: record it. */
  outcome?: SurveyOutcome;
}

export const SURVEY_DIGITS = /^[0-9*#]$/;

export function surveyStep(template: SurveyTemplate, state: SurveyState, event: SurveyEvent): { state: SurveyState; command: SurveyCommand } {
  const ask = (attempt: number, before: PromptRef[] = []) => ({
    state: { phase: 'asking', attempt } as SurveyState,
    command: { play: [...before, template.intro], collectSeconds: template.timeoutSeconds },
  });
  const close = (outcome: SurveyOutcome) => ({ state: { phase: 'closing', outcome } as SurveyState, command: { play: [template.closing], hangup: true, outcome } });
  const nothing = { state, command: {} };

  switch (state.phase) {
    case 'idle':
      if (event.kind === 'start') return ask(1);
      if (event.kind === 'hangup') return { state: { phase: 'done', outcome: { kind: 'hung_up' } }, command: { outcome: { kind: 'hung_up' } } };
      return nothing;
    case 'asking': {
      if (event.kind === 'hangup') return { state: { phase: 'done', outcome: { kind: 'hung_up' } }, command: { outcome: { kind: 'hung_up' } } };
      if (event.kind === 'key') {
        const key = template.keys[event.digit];
        if (key) return close({ kind: 'rated', key: event.digit, label: key.label, score: key.score });
        if (state.attempt < template.tries) return ask(state.attempt + 1, [template.invalid]);
        return close({ kind: 'invalid', key: event.digit });
      }
      if (event.kind === 'timeout') {
        if (state.attempt < template.tries) return ask(state.attempt + 1);
        return close({ kind: 'no_input' });
      }
      return nothing;
    }
    case 'closing':
      // The outcome stands whatever happens now; the hang-up (ours after the closing prompt, or the
      // customer's during it) only ends the survey.
      if (event.kind === 'hangup' || event.kind === 'closed') return { state: { phase: 'done', outcome: state.outcome }, command: {} };
      return nothing;
    case 'done':
      return nothing;
  }
}

/** Which survey applies to a call, if any: by direction, then the first rule whose group the agent has. */
export interface SurveySelection {
  outbound: boolean;
  inbound: boolean;
  /** Tried in order; a rule without group or direction matches any. */
  rules: { direction?: 'outbound' | 'inbound'; group?: string; template: string }[];
  /** When no rule matches. */
  defaultTemplate: string;
}

export function chooseSurveyTemplate(selection: SurveySelection, call: { direction: 'outbound' | 'inbound'; agentGroups: readonly string[] }): string | null {
  if (!selection[call.direction]) return null;
  const rule = selection.rules.find((r) => (r.direction === undefined || r.direction === call.direction) && (r.group === undefined || call.agentGroups.includes(r.group)));
  return rule?.template ?? selection.defaultTemplate;
}

/**
 * The survey policy as the adapter uses it: which calls are surveyed, with which template; every
 * prompt already resolved at apply time to something the PBX can play (PromptRef). Off unless the
 * policy file has a `survey:` section.
 */
export interface SurveySettings extends SurveySelection {
  enabled: boolean;
  templates: Record<string, SurveyTemplate>;
}

/** No survey section applied: nothing is surveyed. */
export const SURVEY_OFF: SurveySettings = Object.freeze({ enabled: false, outbound: false, inbound: false, rules: [], defaultTemplate: '', templates: {} });
