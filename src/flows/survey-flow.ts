import { numberForLog, type Logger } from '../log.js';
import { SURVEY_DIGITS, chooseSurveyTemplate, surveyStep, type SurveyCommand, type SurveyEvent, type SurveyOutcome, type SurveyState, type SurveyTemplate } from '../policy/survey.js';
import { CallGoneError, type SurveyCall } from '../pbx/call-control.js';
import { withTimeout } from '../pbx/with-timeout.js';
import type { CallRecorder } from '../store/call-records.js';
import { numbersMasked, type RuntimePolicy } from '../store/load-policy.js';

/** What the survey needs to know of the call it follows: whose call it was, with whom. */
export interface SurveyedCall {
  agentId: string | null;
  customerE164: string | null;
}

export interface SurveyFlowDeps {
  policy: () => RuntimePolicy;
  /** The call's agent and customer, by the call's id (recent calls in memory, else its record); null: not known. */
  callFacts: (callId: string) => Promise<SurveyedCall | null>;
  /** How long callFacts may take before the survey starts without them (default 300 ms). */
  factsTimeoutMs?: number;
  recorder: Pick<CallRecorder, 'recordSurvey'>;
  logger: Logger;
  pbx: string;
  now?: () => number;
}

/**
 * The post-call survey on the customer's leg: choose the template (direction, the agent's
 * groups), then run the pure state machine (src/policy/survey.ts) over the leg: play what it says,
 * time the wait for a key once the prompts have played, feed back keys, time-outs and the hang-up.
 * The outcome is recorded the moment it is known, once, and noted on the leg so that an adapter
 * that re-adopts the leg during the closing prompt does not ask again. Any PBX failure ends the
 * leg; it never holds the customer.
 */
export function createSurveyFlow(deps: SurveyFlowDeps) {
  const now = deps.now ?? Date.now;

  async function handle(call: SurveyCall): Promise<void> {
    const log = deps.logger.child({ channel: call.id, call: call.callId, direction: call.direction, survey: true });
    // One policy for the whole survey: the settings, the agent's groups and the template agree.
    const policy = deps.policy();
    const settings = policy.survey;
    if (!settings.enabled || !settings[call.direction] || call.outcomeRecorded) {
      await call.hangup().catch(() => undefined);
      return;
    }
    const startedAt = new Date(now());
    const facts = await withTimeout(deps.callFacts(call.callId), deps.factsTimeoutMs ?? 300, 'survey call facts').catch((err: Error) => {
      log.warn({ err: err.message }, 'the call behind the survey is not known; surveying without its agent and customer');
      return null;
    });
    // The call's record names the agent; failing that, the endpoint the PBX dialled.
    const agent = facts?.agentId ? policy.inventory.agentById(facts.agentId) : call.agentEndpoint ? policy.inventory.agent(call.agentEndpoint) : undefined;
    const agentId = facts?.agentId ?? agent?.id ?? null;
    const agentGroups = agent ? [...agent.groups] : [];
    const templateName = chooseSurveyTemplate(settings, { direction: call.direction, agentGroups });
    const template = templateName ? settings.templates[templateName] : undefined;
    if (!templateName || !template) {
      if (templateName) log.error({ template: templateName }, 'survey template missing from the policy; no survey');
      await call.hangup().catch(() => undefined);
      return;
    }

    const mask = numbersMasked(policy);
    const record = (outcome: SurveyOutcome, attempts: number) => {
      deps.recorder.recordSurvey({
        pbx: deps.pbx,
        channelId: call.id,
        callChannelId: call.callId,
        direction: call.direction,
        agentId,
        agentGroups,
        customerE164: facts?.customerE164 ?? null,
        template: templateName,
        outcome: outcome.kind,
        dtmfKey: outcome.kind === 'rated' || outcome.kind === 'invalid' ? outcome.key : null,
        label: outcome.kind === 'rated' ? outcome.label : null,
        score: outcome.kind === 'rated' ? outcome.score : null,
        attempts,
        startedAt,
        endedAt: new Date(now()),
      });
      log.info({ outcome: outcome.kind, key: 'key' in outcome ? outcome.key : undefined, agent: agentId, customer: numberForLog(facts?.customerE164 ?? null, mask), template: templateName, attempts }, 'survey outcome');
      if (outcome.kind === 'hung_up') return;
      // The prompt that was playing stops first: noting the outcome waits for the channel on Asterisk.
      call.stopPlaying().catch(() => undefined);
      call.markOutcomeRecorded().catch((err: Error) => log.warn({ err: err.message }, 'cannot note the survey outcome on the leg'));
    };
    await runSurvey(call, template, record, log);
  }

  return { handle };
}

/**
 * Drives one leg through the state machine until it is gone or hung up. Resolves then; never rejects.
 * Exported for the unit tests of the timing rules.
 */
export function runSurvey(
  call: SurveyCall,
  template: SurveyTemplate,
  record: (outcome: SurveyOutcome, attempts: number) => void,
  log: Logger,
  opts: { maxPlayMs?: number } = {},
): Promise<void> {
  // A 'played' lost with the PBX link (the event came while it was down) must not hold the survey for ever.
  const maxPlayMs = opts.maxPlayMs ?? 120_000;
  return new Promise<void>((resolve) => {
    let state: SurveyState = { phase: 'idle' };
    let attempts = 0;
    let recorded = false;
    let finished = false;
    /** After the prompts now playing: wait this long for a key, or hang up. */
    let afterPlay: { collectSeconds?: number; hangup?: boolean } = {};
    /** The one pending timer: the watchdog of the prompts playing, or the wait for a key. */
    let timer: NodeJS.Timeout | undefined;

    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      resolve();
    };
    const end = () => {
      call.hangup().catch((err: Error) => {
        if (!(err instanceof CallGoneError)) log.warn({ err: err.message }, 'cannot hang up the survey leg');
      });
      finish();
    };

    const step = (event: SurveyEvent) => {
      if (finished) return;
      const r = surveyStep(template, state, event);
      state = r.state;
      if (state.phase === 'asking') attempts = state.attempt;
      apply(r.command);
      if (state.phase === 'done') finish();
    };

    const apply = (command: SurveyCommand) => {
      if (command.outcome && !recorded) {
        recorded = true;
        record(command.outcome, attempts);
      }
      if (command.play) {
        clearTimeout(timer);
        afterPlay = { collectSeconds: command.collectSeconds, hangup: command.hangup };
        timer = setTimeout(onPlayed, maxPlayMs);
        call.play(command.play).catch((err: Error) => {
          if (!(err instanceof CallGoneError)) log.warn({ err: err.message }, 'cannot play the survey prompts; ending the survey');
          step({ kind: 'hangup' });
          end();
        });
      } else if (command.hangup) {
        end();
      }
    };

    /** The prompts have played: hang up after the closing one, else wait for a key. */
    const onPlayed = () => {
      if (finished) return;
      clearTimeout(timer);
      if (afterPlay.hangup) {
        step({ kind: 'closed' });
        end();
      } else if (afterPlay.collectSeconds !== undefined && state.phase === 'asking') {
        const attempt = state.attempt;
        timer = setTimeout(() => {
          if (state.phase === 'asking' && state.attempt === attempt) step({ kind: 'timeout' });
        }, afterPlay.collectSeconds * 1000);
      }
    };

    call.onEvent((e) => {
      if (finished) return;
      if (e.kind === 'gone') {
        step({ kind: 'hangup' });
        finish();
      } else if (e.kind === 'key') {
        if (!SURVEY_DIGITS.test(e.digit)) return;
        // A key counts while the prompts play too (barge-in); the next command's play replaces them.
        if (state.phase === 'asking') clearTimeout(timer);
        step({ kind: 'key', digit: e.digit });
      } else if (e.kind === 'played') {
        onPlayed();
      }
    });
    step({ kind: 'start' });
  });
}
