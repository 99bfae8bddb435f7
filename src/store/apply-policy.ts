import { sql, type SQL } from 'drizzle-orm';
import type { PolicyFile } from '../config/policy-file.js';
import type { Location } from '../policy/caller-id-types.js';
import { SURVEY_OFF, type SurveySettings } from '../policy/survey.js';
import { rowsOf } from './call-records.js';
import type { Db } from './database.js';

export const POLICY_CHANGED_CHANNEL = 'callpolicy_changed';
/** Settings key of the survey section as the file wrote it (the `survey` key holds it rendered). */
export const SURVEY_SOURCE_KEY = 'surveySource';
/** pg_advisory_xact_lock key taken by every apply (any constant both sides agree on). */
const APPLY_LOCK_KEY = 7_310_221;

/** The policy changed between an edit's read and its apply: the edit is not applied. */
export class PolicyConflictError extends Error {
  override name = 'PolicyConflictError';
  constructor() {
    super('the policy changed while this edit was made (another apply or edit): nothing applied; try again');
  }
}

/**
 * A digest of what an apply writes (not the numbers' last use nor agents' chosen numbers, which
 * calls and agents change): equal digests, equal policies.
 */
export async function policyFingerprint(tx: Pick<Db, 'execute'>): Promise<string> {
  const [row] = rowsOf<{ f: string }>(
    await tx.execute(sql`SELECT md5(concat_ws('#',
      (SELECT string_agg(concat_ws('|', e164, enabled, location_country, location_region, location_area, location_source, daily_cap), ',' ORDER BY e164) FROM numbers),
      (SELECT string_agg(name, ',' ORDER BY name) FROM groups),
      (SELECT string_agg(number_e164 || '|' || group_name, ',' ORDER BY number_e164, group_name) FROM number_groups),
      (SELECT string_agg(id || '|' || endpoint, ',' ORDER BY id) FROM agents),
      (SELECT string_agg(agent_id || '|' || group_name, ',' ORDER BY agent_id, group_name) FROM agent_groups),
      (SELECT string_agg(agent_id || '|' || number_e164, ',' ORDER BY agent_id, number_e164) FROM agent_numbers),
      (SELECT string_agg(key || '|' || value::text, ',' ORDER BY key) FROM settings))) AS f`),
  );
  return row!.f;
}

export interface ApplySummary {
  groups: number;
  numbers: number;
  agents: number;
  /** Rows inserted, updated or deleted: 0 when the database already held exactly this. */
  changes: number;
}

/** Finds a number's location; the locator may be slow, so it runs before the transaction. */
export type LocateNumber = (e164: string) => Promise<Location>;

/**
 * Sections of the file that are not stored as they are: lists of rows, and the survey (stored
 * resolved, from opts.survey). Every other top-level section is a settings document.
 */
const NOT_SETTINGS = new Set(['groups', 'numbers', 'agents', 'survey']);
/** Rows per staging statement: the rows travel as one JSON parameter, whatever their number. */
const STAGE_CHUNK = 10_000;

/**
 * Makes the database hold exactly what the file says, in one transaction: a failure leaves
 * the old state whole. The file's rows are staged in temporary tables, then the real tables are
 * brought in line with set statements that touch only what differs: applying the same file
 * twice writes nothing (changes: 0), and the size of the inventory is bounded by memory, not by
 * PostgreSQL's 65,535 parameters per statement. Kept across applies: each number's last use
 * (for LRU) and an agent's chosen number when the file names none and it is still allowed.
 *
 * The survey document is always written: `opts.survey` (the file's survey section with its prompts
 * rendered by resolveSurveySettings, before this transaction), else SURVEY_OFF, so a file without
 * a survey section turns surveys off.
 */
export async function applyPolicy(
  db: Db,
  file: PolicyFile,
  locate: LocateNumber,
  opts: { survey?: SurveySettings; /** Refuse (PolicyConflictError) unless the database still holds the policy with this fingerprint. */ expectFingerprint?: string } = {},
): Promise<ApplySummary> {
  if (file.survey !== undefined && opts.survey === undefined) {
    throw new Error('the policy file has a survey section: resolve its prompts first (resolveSurveySettings) and pass them as opts.survey');
  }
  const located = await Promise.all(
    file.numbers.map(async (n) => {
      const auto = await locate(n.number);
      const manual = n.location;
      // A hand-set value wins (null clears it); plain text is namespaced by the number's country.
      const override = (set: string | null | undefined, computed: string | null) =>
        set === undefined ? computed : set === null ? null : /^[A-Z]{2}:/.test(set) ? set : `${auto.country}:${set}`;
      return {
        e164: n.number,
        enabled: n.enabled,
        location_country: auto.country,
        location_region: override(manual?.region, auto.region),
        location_area: override(manual?.area, auto.area),
        location_source: manual ? 'manual' : 'auto',
        daily_cap: n.dailyCap ?? null,
      };
    }),
  );
  const settingDocs: { key: string; value: unknown }[] = Object.entries(file)
    .filter(([key, value]) => !NOT_SETTINGS.has(key) && value !== undefined)
    .map(([key, value]) => ({ key, value }));
  settingDocs.push({ key: 'survey', value: opts.survey ?? SURVEY_OFF });
  // The survey section as written (prompts unrendered): what an export gives back, so that an
  // edit through the API re-applies the same survey.
  settingDocs.push({ key: SURVEY_SOURCE_KEY, value: { survey: file.survey ?? null } });

  const changes = await db.transaction(async (tx) => {
    // One apply at a time: an edit through the API checks, under this lock, that nothing changed
    // since it read the policy.
    await tx.execute(sql`SELECT pg_advisory_xact_lock(${APPLY_LOCK_KEY})`);
    if (opts.expectFingerprint !== undefined) {
      const now = await policyFingerprint(tx);
      if (now !== opts.expectFingerprint) throw new PolicyConflictError();
    }
    let changed = 0;
    const change = async (q: SQL) => {
      changed += affectedRows(await tx.execute(q));
    };
    const stage = async (table: string, columns: string, rows: unknown[]) => {
      for (let i = 0; i < rows.length; i += STAGE_CHUNK) {
        const chunk = JSON.stringify(rows.slice(i, i + STAGE_CHUNK));
        await tx.execute(sql`INSERT INTO ${sql.raw(table)} SELECT * FROM jsonb_to_recordset(${chunk}::jsonb) AS v(${sql.raw(columns)})`);
      }
    };

    await tx.execute(sql`CREATE TEMP TABLE apply_groups (name text PRIMARY KEY) ON COMMIT DROP`);
    await tx.execute(sql`CREATE TEMP TABLE apply_numbers (e164 text PRIMARY KEY, enabled boolean NOT NULL, location_country text NOT NULL,
      location_region text, location_area text, location_source text NOT NULL, daily_cap integer) ON COMMIT DROP`);
    await tx.execute(sql`CREATE TEMP TABLE apply_number_groups (number_e164 text, group_name text, PRIMARY KEY (number_e164, group_name)) ON COMMIT DROP`);
    await tx.execute(sql`CREATE TEMP TABLE apply_agents (id text PRIMARY KEY, endpoint text NOT NULL, chosen_number text) ON COMMIT DROP`);
    await tx.execute(sql`CREATE TEMP TABLE apply_agent_groups (agent_id text, group_name text, PRIMARY KEY (agent_id, group_name)) ON COMMIT DROP`);
    await tx.execute(sql`CREATE TEMP TABLE apply_agent_numbers (agent_id text, number_e164 text, PRIMARY KEY (agent_id, number_e164)) ON COMMIT DROP`);

    await stage('apply_groups', 'name text', file.groups.map((name) => ({ name })));
    await stage('apply_numbers', 'e164 text, enabled boolean, location_country text, location_region text, location_area text, location_source text, daily_cap integer', located);
    await stage('apply_number_groups', 'number_e164 text, group_name text', file.numbers.flatMap((n) => n.groups.map((g) => ({ number_e164: n.number, group_name: g }))));
    const existing = new Map(rowsOf<{ id: string; chosen_number: string | null }>(await tx.execute(sql`SELECT id, chosen_number FROM agents`)).map((a) => [a.id, a.chosen_number]));
    await stage(
      'apply_agents',
      'id text, endpoint text, chosen_number text',
      file.agents.map((a) => {
        const kept = existing.get(a.id);
        const chosen = a.chosen !== undefined ? a.chosen : kept && a.numbers.includes(kept) ? kept : null;
        return { id: a.id, endpoint: a.endpoint, chosen_number: chosen };
      }),
    );
    await stage('apply_agent_groups', 'agent_id text, group_name text', file.agents.flatMap((a) => a.groups.map((g) => ({ agent_id: a.id, group_name: g }))));
    await stage('apply_agent_numbers', 'agent_id text, number_e164 text', file.agents.flatMap((a) => a.numbers.map((n) => ({ agent_id: a.id, number_e164: n }))));

    // What the file no longer has: links first, then the rows they point at.
    await change(sql`DELETE FROM number_groups t WHERE NOT EXISTS
      (SELECT 1 FROM apply_number_groups a WHERE a.number_e164 = t.number_e164 AND a.group_name = t.group_name)`);
    await change(sql`DELETE FROM agent_groups t WHERE NOT EXISTS
      (SELECT 1 FROM apply_agent_groups a WHERE a.agent_id = t.agent_id AND a.group_name = t.group_name)`);
    await change(sql`DELETE FROM agent_numbers t WHERE NOT EXISTS
      (SELECT 1 FROM apply_agent_numbers a WHERE a.agent_id = t.agent_id AND a.number_e164 = t.number_e164)`);
    await change(sql`DELETE FROM agents t WHERE NOT EXISTS (SELECT 1 FROM apply_agents a WHERE a.id = t.id)`);
    await change(sql`DELETE FROM numbers t WHERE NOT EXISTS (SELECT 1 FROM apply_numbers a WHERE a.e164 = t.e164)`);
    await change(sql`DELETE FROM groups t WHERE NOT EXISTS (SELECT 1 FROM apply_groups a WHERE a.name = t.name)`);

    // What is new or different; rows already as the file says are not written at all.
    await change(sql`INSERT INTO groups (name) SELECT name FROM apply_groups ON CONFLICT DO NOTHING`);
    await change(sql`
      INSERT INTO numbers (e164, enabled, location_country, location_region, location_area, location_source, daily_cap, updated_at)
      SELECT e164, enabled, location_country, location_region, location_area, location_source, daily_cap, now() FROM apply_numbers
      ON CONFLICT (e164) DO UPDATE SET enabled = excluded.enabled, location_country = excluded.location_country,
        location_region = excluded.location_region, location_area = excluded.location_area,
        location_source = excluded.location_source, daily_cap = excluded.daily_cap, updated_at = excluded.updated_at
      WHERE (numbers.enabled, numbers.location_country, numbers.location_region, numbers.location_area, numbers.location_source, numbers.daily_cap)
        IS DISTINCT FROM (excluded.enabled, excluded.location_country, excluded.location_region, excluded.location_area, excluded.location_source, excluded.daily_cap)`);
    await change(sql`INSERT INTO number_groups (number_e164, group_name) SELECT number_e164, group_name FROM apply_number_groups ON CONFLICT DO NOTHING`);
    // Endpoints are unique: move the changing ones out of the way so two agents can swap endpoints.
    await change(sql`UPDATE agents t SET endpoint = '~' || t.id FROM apply_agents a WHERE a.id = t.id AND a.endpoint <> t.endpoint`);
    await change(sql`
      INSERT INTO agents (id, endpoint, chosen_number, updated_at) SELECT id, endpoint, chosen_number, now() FROM apply_agents
      ON CONFLICT (id) DO UPDATE SET endpoint = excluded.endpoint, chosen_number = excluded.chosen_number, updated_at = excluded.updated_at
      WHERE (agents.endpoint, agents.chosen_number) IS DISTINCT FROM (excluded.endpoint, excluded.chosen_number)`);
    await change(sql`INSERT INTO agent_groups (agent_id, group_name) SELECT agent_id, group_name FROM apply_agent_groups ON CONFLICT DO NOTHING`);
    await change(sql`INSERT INTO agent_numbers (agent_id, number_e164) SELECT agent_id, number_e164 FROM apply_agent_numbers ON CONFLICT DO NOTHING`);

    await change(sql`
      INSERT INTO settings (key, value, updated_at) SELECT key, value, now() FROM jsonb_to_recordset(${JSON.stringify(settingDocs)}::jsonb) AS v(key text, value jsonb)
      ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
      WHERE settings.value IS DISTINCT FROM excluded.value`);
    return changed;
  });
  return { groups: file.groups.length, numbers: file.numbers.length, agents: file.agents.length, changes };
}

/** Rows a statement changed, on either driver (node-postgres: rowCount, PGlite: affectedRows). */
function affectedRows(result: unknown): number {
  const r = result as { rowCount?: number | null; affectedRows?: number };
  return r.rowCount ?? r.affectedRows ?? 0;
}
