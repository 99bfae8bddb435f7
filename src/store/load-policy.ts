import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { policyFileSchema } from '../config/policy-file.js';
import { DEFAULT_CHAINS, type AgentProfile, type CallerIdSettings, type PoolNumber } from '../policy/caller-id-types.js';
import { createNumberInventory, type NumberInventory } from '../policy/number-inventory.js';
import type { EmergencySettings } from '../policy/emergency.js';
import type { Db } from './database.js';
import { agentGroups, agentNumbers, agents, numberGroups, numbers, settings } from './schema/index.js';

const shape = policyFileSchema.shape;
export type TrunkSettings = z.infer<typeof shape.trunks>[string];

/** Everything a call decision needs, loaded from the database into memory. */
export interface RuntimePolicy {
  defaultCountry: string;
  callerId: CallerIdSettings & { onInvalidNumber: 'reject' | 'default' };
  trunks: Record<string, TrunkSettings>;
  privacy: { maskNumbersInLogs: boolean };
  emergency: EmergencySettings;
  inventory: NumberInventory;
  /** False until a policy file has been applied to this database. */
  configured: boolean;
}

export async function loadPolicy(db: Db): Promise<RuntimePolicy> {
  const settingRows = await db.select().from(settings);
  const raw = Object.fromEntries(settingRows.map((r) => [r.key, r.value]));
  // Stored settings were validated on apply; parse again so a hand-edited row cannot crash calls.
  const callerId = shape.callerId.optional().parse(raw.callerId);
  const numberRows = await db.select().from(numbers);
  const numberGroupRows = await db.select().from(numberGroups);
  const agentRows = await db.select().from(agents);
  const agentGroupRows = await db.select().from(agentGroups);
  const agentNumberRows = await db.select().from(agentNumbers);

  const groupsOfNumber = multiMap(numberGroupRows.map((r) => [r.numberE164, r.groupName]));
  const groupsOfAgent = multiMap(agentGroupRows.map((r) => [r.agentId, r.groupName]));
  const numbersOfAgent = multiMap(agentNumberRows.map((r) => [r.agentId, r.numberE164]));

  const pool: PoolNumber[] = numberRows.map((n) => ({
    e164: n.e164,
    enabled: n.enabled,
    groups: groupsOfNumber.get(n.e164) ?? [],
    location: { country: n.locationCountry, region: n.locationRegion, area: n.locationArea },
    lastUsedAt: n.lastUsedAt?.getTime() ?? 0,
  }));
  const profiles: AgentProfile[] = agentRows.map((a) => ({
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
    emergency: shape.emergency.parse(raw.emergency),
    inventory: createNumberInventory(pool, profiles),
    configured: callerId !== undefined,
  };
}

function multiMap(pairs: [string, string][]): Map<string, string[]> {
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
  if (!agent) throw new Error(`unknown agent '${agentId}'`);
  if (e164 !== null) {
    const allowed = await db.select().from(agentNumbers).where(eq(agentNumbers.agentId, agentId));
    if (!allowed.some((r) => r.numberE164 === e164)) {
      throw new Error(`agent '${agentId}' may not use ${e164}; allowed: ${allowed.map((r) => r.numberE164).join(', ') || 'none'}`);
    }
  }
  await db.update(agents).set({ chosenNumber: e164, updatedAt: new Date() }).where(eq(agents.id, agentId));
}
