import { eq } from 'drizzle-orm';
import { AdminError } from '../admin/admin-error.js';
import { callerIdUsesToday } from './cap-counts.js';
import { z } from 'zod';
import { policyFileSchema } from '../config/policy-file.js';
import { DEFAULT_CHAINS, type AgentProfile, type CallerIdSettings, type PoolNumber } from '../policy/caller-id-types.js';
import { capDay, createNumberInventory, type NumberInventory } from '../policy/number-inventory.js';
import type { EmergencySettings } from '../policy/emergency.js';
import type { MemorySettings } from '../policy/call-memory.js';
import { SURVEY_OFF, type SurveySettings } from '../policy/survey.js';
import { surveySettingsSchema } from '../survey/survey-settings-schema.js';
import type { Db } from './database.js';
import { agentGroups, agentNumbers, agentPauses, agents, numberGroups, numbers, settings } from './schema/index.js';

const shape = policyFileSchema.shape;
export type TrunkSettings = z.infer<typeof shape.trunks>[string];
export type ProtectionSettings = z.infer<typeof shape.protection>;

/** Everything a call decision needs, loaded from the database into memory. */
export interface RuntimePolicy {
  defaultCountry: string;
  callerId: CallerIdSettings & { onInvalidNumber: 'reject' | 'default' };
  trunks: Record<string, TrunkSettings>;
  privacy: { maskNumbersInLogs: boolean };
  /** Number protection (what agents see of customers' numbers); mode off when none. */
  protection: ProtectionSettings;
  emergency: EmergencySettings;
  memory: MemorySettings;
  /** The post-call survey, prompts resolved when the policy was applied; SURVEY_OFF when none. */
  survey: SurveySettings;
  inventory: NumberInventory;
  /** Agents an administrator paused (callpolicy pause): unavailable to call memory. */
  pausedAgents: ReadonlySet<string>;
  /** False until a policy file has been applied to this database. */
  configured: boolean;
}

/**
 * The policy as the database holds it, in plain JSON-serializable data: what a snapshot file
 * keeps so that the adapter can start deciding while the database is down.
 */
export interface PolicyRows {
  /** Settings documents by section (defaultCountry, callerId, trunks, privacy, emergency, ...). */
  settings: Record<string, unknown>;
  numbers: {
    e164: string;
    enabled: boolean;
    country: string;
    region: string | null;
    area: string | null;
    /** Epoch milliseconds; null: never used. */
    lastUsedAt: number | null;
    /** The number's own daily cap (absent in snapshots of earlier versions). */
    dailyCap?: number | null;
  }[];
  /** Calls per caller ID on `day` (YYYY-MM-DD in callerId.capTimeZone), read when a cap is set. */
  capCounts?: { day: string; perNumber: [string, number][] };
  /** [number, group] */
  numberGroups: [string, string][];
  agents: { id: string; endpoint: string; chosenNumber: string | null }[];
  /** [agent id, group] */
  agentGroups: [string, string][];
  /** [agent id, number] */
  agentNumbers: [string, string][];
  /** Paused agent ids (absent in snapshots of earlier versions). */
  pausedAgents?: string[];
}

/** No policy at all: every call gets the PBX's default caller ID. */
export const EMPTY_POLICY_ROWS: PolicyRows = Object.freeze({
  settings: {},
  numbers: [],
  numberGroups: [],
  agents: [],
  agentGroups: [],
  agentNumbers: [],
}) as PolicyRows;

/**
 * Reads the whole policy in one snapshot of the database (one REPEATABLE READ, read-only
 * transaction): an apply committing meanwhile is seen entirely or not at all.
 */
export async function readPolicyRows(db: Db): Promise<PolicyRows> {
  return db.transaction(
    async (tx) => {
      const settingRows = await tx.select({ key: settings.key, value: settings.value }).from(settings);
      const numberRows = await tx.select().from(numbers);
      const numberGroupRows = await tx.select().from(numberGroups);
      const agentRows = await tx.select({ id: agents.id, endpoint: agents.endpoint, chosenNumber: agents.chosenNumber }).from(agents);
      const agentGroupRows = await tx.select().from(agentGroups);
      const agentNumberRows = await tx.select().from(agentNumbers);
      const pauseRows = await tx.select({ agentId: agentPauses.agentId }).from(agentPauses);
      // Daily caps count the calls already placed today (calls_outbound_decided_idx: today's rows only).
      const callerId = settingRows.find((r) => r.key === 'callerId')?.value as { dailyCap?: number; capTimeZone?: string } | undefined;
      let capCounts: PolicyRows['capCounts'];
      if (callerId?.dailyCap != null || numberRows.some((n) => n.dailyCap !== null)) {
        capCounts = await callerIdUsesToday(tx, callerId?.capTimeZone ?? 'UTC');
      }
      return {
        settings: Object.fromEntries(settingRows.map((r) => [r.key, r.value])),
        numbers: numberRows.map((n) => ({
          e164: n.e164,
          enabled: n.enabled,
          country: n.locationCountry,
          region: n.locationRegion,
          area: n.locationArea,
          lastUsedAt: n.lastUsedAt?.getTime() ?? null,
          dailyCap: n.dailyCap,
        })),
        capCounts,
        numberGroups: numberGroupRows.map((r) => [r.numberE164, r.groupName]),
        agents: agentRows,
        agentGroups: agentGroupRows.map((r) => [r.agentId, r.groupName]),
        agentNumbers: agentNumberRows.map((r) => [r.agentId, r.numberE164]),
        pausedAgents: pauseRows.map((r) => r.agentId),
      };
    },
    { isolationLevel: 'repeatable read', accessMode: 'read only' },
  );
}

/**
 * Builds the in-memory policy from rows (read now or from a snapshot). Settings are parsed
 * again, so a hand-edited row or snapshot throws here instead of crashing calls. With
 * `previous`, each number keeps the later of the two last uses: uses made since the rows were
 * written (records still queued while the database was away) are not forgotten.
 */
export function buildRuntimePolicy(rows: PolicyRows, previous?: RuntimePolicy): RuntimePolicy {
  const raw = rows.settings;
  const callerId = shape.callerId.optional().parse(raw.callerId);

  const groupsOfNumber = multiMap(rows.numberGroups);
  const groupsOfAgent = multiMap(rows.agentGroups);
  const numbersOfAgent = multiMap(rows.agentNumbers);

  const pool: PoolNumber[] = rows.numbers.map((n) => ({
    e164: n.e164,
    enabled: n.enabled,
    groups: groupsOfNumber.get(n.e164) ?? [],
    location: { country: n.country, region: n.region, area: n.area },
    lastUsedAt: Math.max(n.lastUsedAt ?? 0, previous?.inventory.get(n.e164)?.lastUsedAt ?? 0),
    dailyCap: n.dailyCap ?? callerId?.dailyCap ?? null,
  }));
  // Today's counts: the records', or this process's own when higher (uses whose records are still queued).
  const capTimeZone = callerId?.capTimeZone ?? 'UTC';
  const now = Date.now();
  const counted = new Map(rows.capCounts?.day === capDay(now, capTimeZone) ? rows.capCounts.perNumber : []);
  if (previous?.inventory.capped) for (const n of pool) counted.set(n.e164, Math.max(counted.get(n.e164) ?? 0, previous.inventory.usesOn(n.e164, now)));
  const profiles: AgentProfile[] = rows.agents.map((a) => ({
    id: a.id,
    endpoint: a.endpoint,
    groups: groupsOfAgent.get(a.id) ?? [],
    allowedNumbers: numbersOfAgent.get(a.id) ?? [],
    chosenNumber: a.chosenNumber,
  }));

  return {
    defaultCountry: shape.defaultCountry.parse(raw.defaultCountry),
    callerId: {
      strategy: callerId?.strategy ?? 'group',
      selection: callerId?.selection ?? 'random',
      chains: { ...DEFAULT_CHAINS, ...callerId?.chains },
      onInvalidNumber: callerId?.onInvalidNumber ?? 'reject',
    },
    trunks: shape.trunks.parse(raw.trunks),
    privacy: shape.privacy.parse(raw.privacy),
    protection: shape.protection.parse(raw.protection),
    emergency: shape.emergency.parse(raw.emergency),
    memory: shape.memory.parse(raw.memory),
    survey: raw.survey === undefined ? SURVEY_OFF : surveySettingsSchema.parse(raw.survey),
    inventory: createNumberInventory(pool, profiles, { timeZone: capTimeZone, counts: { day: capDay(now, capTimeZone), perNumber: counted } }),
    pausedAgents: new Set(rows.pausedAgents ?? []),
    configured: callerId !== undefined,
  };
}

/** Whether logs and the CLI show customers' numbers masked: the privacy setting, or number protection on. */
export function numbersMasked(policy: Pick<RuntimePolicy, 'privacy' | 'protection'>): boolean {
  return policy.privacy.maskNumbersInLogs || policy.protection.mode !== 'off';
}

/** Reads and builds in one call (the CLI, tests). */
export async function loadPolicy(db: Db): Promise<RuntimePolicy> {
  return buildRuntimePolicy(await readPolicyRows(db));
}

function multiMap(pairs: readonly (readonly [string, string])[]): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const [k, v] of pairs) {
    const list = map.get(k);
    if (list) list.push(v);
    else map.set(k, [v]);
  }
  return map;
}

/** The agent picks one of their allowed numbers (the `agent` strategy). */
export async function setChosenNumber(db: Db, agentId: string, e164: string | null): Promise<void> {
  const [agent] = await db.select().from(agents).where(eq(agents.id, agentId));
  if (!agent) throw new AdminError(404, 'not-found', `unknown agent '${agentId}'`, 'agent');
  if (e164 !== null) {
    const allowed = await db.select().from(agentNumbers).where(eq(agentNumbers.agentId, agentId));
    if (!allowed.some((r) => r.numberE164 === e164)) {
      throw new AdminError(400, 'not-allowed', `agent '${agentId}' may not use ${e164}; allowed: ${allowed.map((r) => r.numberE164).join(', ') || 'none'}`, 'number');
    }
  }
  await db.update(agents).set({ chosenNumber: e164, updatedAt: new Date() }).where(eq(agents.id, agentId));
}

/** Pauses an agent (call memory treats them as unavailable) or ends the pause. Unknown agents are refused. */
export async function setAgentPaused(db: Db, agentId: string, paused: boolean, note: string | null = null): Promise<void> {
  const [agent] = await db.select({ id: agents.id }).from(agents).where(eq(agents.id, agentId));
  if (!agent) throw new AdminError(404, 'not-found', `unknown agent '${agentId}' (not in the applied policy)`, 'agent');
  if (paused) {
    await db.insert(agentPauses).values({ agentId, note }).onConflictDoUpdate({ target: agentPauses.agentId, set: { note, pausedAt: new Date() } });
  } else {
    await db.delete(agentPauses).where(eq(agentPauses.agentId, agentId));
  }
}

/** Paused agents, oldest pause first. */
export async function listAgentPauses(db: Db): Promise<{ agentId: string; pausedAt: Date; note: string | null }[]> {
  return db.select().from(agentPauses).orderBy(agentPauses.pausedAt);
}
