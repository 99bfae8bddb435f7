import { checkPolicyObject, type PolicyFile } from '../config/policy-file.js';
import type { SurveySettings } from '../policy/survey.js';
import { applyPolicy, PolicyConflictError, type ApplySummary, type LocateNumber } from '../store/apply-policy.js';
import type { Db } from '../store/database.js';
import { exportPolicy, type ExportedPolicy } from '../store/export-policy.js';
import { resolveSurveySettings, surveySettingsSchema, type PromptOptions } from '../survey/render-prompts.js';
import { AdminError } from './admin-error.js';
import type { PolicyData } from './policy-edits.js';

export interface PolicyEditorDeps {
  db: Db;
  locate: LocateNumber;
  prompts: PromptOptions;
  /** Tells running adapters to reload (NOTIFY); called after a change. */
  changed(): Promise<void>;
}

/** An edit touched the survey section: its prompts are rendered again. */
export interface EditOptions {
  touchesSurvey?: boolean;
}

/** A change that read the policy and lost a race with another apply is tried again this often. */
const CONFLICT_RETRIES = 3;

/**
 * Every change of the policy, whole file or one row, goes through applyPolicy: what the API
 * applies and what `callpolicy apply` applies give the same state. An edit reads the applied
 * policy, changes it, checks the result as a file is checked and applies it in one transaction
 * that first verifies nothing changed since the read.
 */
export function createPolicyEditor(deps: PolicyEditorDeps) {
  let queue: Promise<unknown> = Promise.resolve();
  /** One change at a time in this process; other processes are held off by the apply's lock. */
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const run = queue.then(work, work);
    queue = run.catch(() => undefined);
    return run;
  };

  async function applyChecked(file: PolicyFile, source: string, opts: { expectFingerprint?: string; survey?: SurveySettings }): Promise<ApplySummary> {
    const survey = opts.survey ?? (await resolveSurveySettings(file, { ...deps.prompts, source }));
    const summary = await applyPolicy(deps.db, file, deps.locate, { survey, expectFingerprint: opts.expectFingerprint });
    if (summary.changes > 0) await deps.changed();
    return summary;
  }

  return {
    read: (): Promise<ExportedPolicy> => exportPolicy(deps.db),

    /** A change made outside an apply (an agent's chosen number, a pause): running adapters reload. */
    changedElsewhere: (): Promise<void> => deps.changed(),

    /** Replaces the whole policy with a checked file (parsePolicyFile), exactly as `callpolicy apply` does. */
    replace(file: PolicyFile, source: string): Promise<ApplySummary> {
      return serial(() => applyChecked(file, source, {}));
    },

    /**
     * Applies `change` to the current policy. It may throw an AdminError (nothing is applied) and
     * returns what the caller reports.
     */
    edit<T>(source: string, change: (policy: PolicyData) => T | Promise<T>, opts: EditOptions = {}): Promise<{ result: T; summary: ApplySummary }> {
      return serial(async () => {
        for (let attempt = 1; ; attempt++) {
          const current = await exportPolicy(deps.db);
          if (!current.configured) throw new AdminError(409, 'not-configured', 'no policy is applied yet: apply a whole policy first (PUT /api/v1/policy or callpolicy apply)');
          if (current.surveySourceMissing && !opts.touchesSurvey) {
            throw new AdminError(409, 'survey-source-missing', 'the survey was applied by an older version that did not keep its source: apply the policy file once (callpolicy apply), then edit');
          }
          const draft = structuredClone(current.policy);
          const result = await change(draft);
          const file = checkPolicyObject(draft, source);
          // The survey is left as it was applied, prompts and all, unless this edit is about it.
          const survey = opts.touchesSurvey ? undefined : file.survey ? surveySettingsSchema.parse(current.renderedSurvey) : undefined;
          try {
            const summary = await applyChecked(file, source, { expectFingerprint: current.fingerprint, survey });
            return { result, summary };
          } catch (err) {
            if (!(err instanceof PolicyConflictError) || attempt >= CONFLICT_RETRIES) throw err;
          }
        }
      });
    },
  };
}

export type PolicyEditor = ReturnType<typeof createPolicyEditor>;
