import type { SurveyedCall } from './survey-flow.js';

/**
 * The agent and customer of calls in progress, and of calls that just ended with the agent hanging
 * up first (their survey is about to start on the customer's leg), so that a survey knows whose
 * call it follows without asking the database. An entry goes when its call ends (or, for a call
 * that may be surveyed, a grace time after), and a sweep removes whatever a missed end left behind.
 */
export interface RecentCalls {
  /** A call was decided (every direction). */
  decided(channelId: string, facts: SurveyedCall): void;
  /** A call ended; kept a while when the agent hung up first on an answered call. */
  ended(channelId: string, end: { answered: boolean; hungUpBy: string | null | undefined }): void;
  get(channelId: string): SurveyedCall | undefined;
  close(): void;
}

export function createRecentCalls(opts: { graceMs?: number; maxAgeMs?: number; sweepMs?: number; now?: () => number } = {}): RecentCalls {
  const graceMs = opts.graceMs ?? 120_000;
  const maxAgeMs = opts.maxAgeMs ?? 12 * 3600_000;
  const now = opts.now ?? Date.now;
  const calls = new Map<string, { facts: SurveyedCall; expires: number }>();
  const sweep = setInterval(() => {
    const t = now();
    for (const [id, e] of calls) if (e.expires <= t) calls.delete(id);
  }, opts.sweepMs ?? 60_000);
  sweep.unref();
  return {
    decided(channelId, facts) {
      calls.delete(channelId);
      calls.set(channelId, { facts, expires: now() + maxAgeMs });
    },
    ended(channelId, end) {
      const entry = calls.get(channelId);
      if (!entry) return;
      if (end.answered && end.hungUpBy === 'agent') entry.expires = Math.min(entry.expires, now() + graceMs);
      else calls.delete(channelId);
    },
    get: (channelId) => calls.get(channelId)?.facts,
    close: () => clearInterval(sweep),
  };
}
