import { sql } from 'drizzle-orm';
import { SURVEY_SOURCE_KEY, policyFingerprint } from './apply-policy.js';
import { rowsOf } from './call-records.js';
import type { Db } from './database.js';

/**
 * The applied policy as a policy file would say it (plain data, not yet checked), with the
 * fingerprint of what was read. Re-applying it changes nothing: an edit through the API is this,
 * changed, checked like a file and applied like a file. Agents' chosen numbers are left out
 * (an apply keeps them while they stay allowed), as are the numbers' last uses.
 */
export interface ExportedPolicy {
  policy: Record<string, unknown> & { groups: string[]; numbers: ExportedNumber[]; agents: ExportedAgent[] };
  fingerprint: string;
  /** False until a policy has been applied. */
  configured: boolean;
  /** The stored survey is on but its source is not stored (applied by a version before 0.2): an edit would lose it. */
  surveySourceMissing: boolean;
  /** The survey as stored (prompts rendered): what an edit that leaves the survey alone re-applies. */
  renderedSurvey: unknown;
}

export interface ExportedNumber {
  number: string;
  enabled: boolean;
  groups: string[];
  location?: { area?: string | null; region?: string | null };
  dailyCap?: number;
}

export interface ExportedAgent {
  id: string;
  endpoint: string;
  groups: string[];
  numbers: string[];
}

const SETTING_SECTIONS = ['defaultCountry', 'callerId', 'trunks', 'emergency', 'memory', 'privacy', 'protection'] as const;

export async function exportPolicy(db: Db): Promise<ExportedPolicy> {
  return db.transaction(
    async (tx) => {
      const settings = new Map(rowsOf<{ key: string; value: unknown }>(await tx.execute(sql`SELECT key, value FROM settings`)).map((r) => [r.key, r.value]));
      const groups = rowsOf<{ name: string }>(await tx.execute(sql`SELECT name FROM groups ORDER BY name`)).map((r) => r.name);
      const numberRows = rowsOf<{ e164: string; enabled: boolean; daily_cap: number | null; location_country: string; location_region: string | null; location_area: string | null; location_source: string; groups: string[] }>(
        await tx.execute(sql`SELECT n.e164, n.enabled, n.daily_cap, n.location_country, n.location_region, n.location_area, n.location_source,
          coalesce(array_agg(g.group_name ORDER BY g.group_name) FILTER (WHERE g.group_name IS NOT NULL), '{}') AS groups
          FROM numbers n LEFT JOIN number_groups g ON g.number_e164 = n.e164 GROUP BY n.e164 ORDER BY n.e164`),
      );
      const agentRows = rowsOf<{ id: string; endpoint: string; groups: string[]; numbers: string[] }>(
        await tx.execute(sql`SELECT a.id, a.endpoint,
          coalesce((SELECT array_agg(group_name ORDER BY group_name) FROM agent_groups WHERE agent_id = a.id), '{}') AS groups,
          coalesce((SELECT array_agg(number_e164 ORDER BY number_e164) FROM agent_numbers WHERE agent_id = a.id), '{}') AS numbers
          FROM agents a ORDER BY a.id`),
      );
      const fingerprint = await policyFingerprint(tx);

      const policy: ExportedPolicy['policy'] = { groups, numbers: [], agents: [] };
      for (const key of SETTING_SECTIONS) if (settings.has(key)) policy[key] = settings.get(key);
      // Stored wrapped ({ survey: null } when the file had none): a SQL NULL cannot stand for it.
      const surveySource = (settings.get(SURVEY_SOURCE_KEY) as { survey?: unknown } | undefined)?.survey;
      if (surveySource !== undefined && surveySource !== null) policy.survey = surveySource;
      policy.numbers = numberRows.map((n) => ({
        number: n.e164,
        enabled: n.enabled,
        groups: n.groups,
        ...(n.daily_cap !== null ? { dailyCap: n.daily_cap } : {}),
        ...(n.location_source === 'manual' ? { location: { area: plain(n.location_area, n.location_country), region: plain(n.location_region, n.location_country) } } : {}),
      }));
      policy.agents = agentRows.map((a) => ({ id: a.id, endpoint: a.endpoint, groups: a.groups, numbers: a.numbers }));
      const rendered = settings.get('survey') as { enabled?: boolean } | undefined;
      return {
        policy,
        fingerprint,
        configured: settings.has('callerId'),
        surveySourceMissing: rendered?.enabled === true && !settings.has(SURVEY_SOURCE_KEY),
        renderedSurvey: rendered,
      };
    },
    { isolationLevel: 'repeatable read', accessMode: 'read only' },
  );
}

/**
 * A location key as a file writes it: stored keys are namespaced by country ("US:Oakland"), and an
 * apply namespaces plain text by the number's own country, so that prefix is left out; a key of
 * another country stays namespaced (an apply keeps it as it is).
 */
function plain(key: string | null, country: string): string | null {
  return key !== null && key.startsWith(`${country}:`) ? key.slice(country.length + 1) : key;
}
