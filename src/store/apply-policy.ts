import { notInArray, sql } from 'drizzle-orm';
import type { PolicyFile } from '../config/policy-file.js';
import type { Location } from '../policy/caller-id-types.js';
import type { Db } from './database.js';
import { agentGroups, agentNumbers, agents, groups, numberGroups, numbers, settings } from './schema/index.js';

export const POLICY_CHANGED_CHANNEL = 'callpolicy_changed';

export interface ApplySummary {
  groups: number;
  numbers: number;
  agents: number;
}

/** Finds a number's location; the locator may be slow, so it runs before the transaction. */
export type LocateNumber = (e164: string) => Promise<Location>;

/**
 * Makes the database hold exactly what the file says, in one transaction: a failure leaves
 * the old state whole. Idempotent. Kept across applies: each number's last use (for LRU)
 * and an agent's chosen number when the file names none and it is still allowed.
 */
export async function applyPolicy(db: Db, file: PolicyFile, locate: LocateNumber): Promise<ApplySummary> {
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
        locationCountry: auto.country,
        locationRegion: override(manual?.region, auto.region),
        locationArea: override(manual?.area, auto.area),
        locationSource: manual ? ('manual' as const) : ('auto' as const),
      };
    }),
  );

  await db.transaction(async (tx) => {
    const now = new Date();
    const groupNames = file.groups;
    const numberList = located.map((n) => n.e164);
    const agentIds = file.agents.map((a) => a.id);

    // Links are rebuilt from the file; rows they point at are upserted or deleted.
    await tx.delete(numberGroups);
    await tx.delete(agentGroups);
    await tx.delete(agentNumbers);

    if (agentIds.length > 0) await tx.delete(agents).where(notInArray(agents.id, agentIds));
    else await tx.delete(agents);
    if (numberList.length > 0) await tx.delete(numbers).where(notInArray(numbers.e164, numberList));
    else await tx.delete(numbers);
    if (groupNames.length > 0) await tx.delete(groups).where(notInArray(groups.name, groupNames));
    else await tx.delete(groups);

    if (groupNames.length > 0) {
      await tx.insert(groups).values(groupNames.map((name) => ({ name }))).onConflictDoNothing();
    }
    for (const chunk of chunks(located, 1000)) {
      await tx
        .insert(numbers)
        .values(chunk.map((n) => ({ ...n, updatedAt: now })))
        .onConflictDoUpdate({
          target: numbers.e164,
          set: {
            enabled: sql`excluded.enabled`,
            locationCountry: sql`excluded.location_country`,
            locationRegion: sql`excluded.location_region`,
            locationArea: sql`excluded.location_area`,
            locationSource: sql`excluded.location_source`,
            updatedAt: now,
          },
        });
    }
    const links = file.numbers.flatMap((n) => n.groups.map((g) => ({ numberE164: n.number, groupName: g })));
    for (const chunk of chunks(links, 1000)) await tx.insert(numberGroups).values(chunk);

    if (file.agents.length > 0) {
      const existing = new Map((await tx.select({ id: agents.id, chosen: agents.chosenNumber }).from(agents)).map((a) => [a.id, a.chosen]));
      const rows = file.agents.map((a) => {
        const kept = existing.get(a.id);
        const chosen = a.chosen !== undefined ? a.chosen : kept && a.numbers.includes(kept) ? kept : null;
        return { id: a.id, endpoint: a.endpoint, chosenNumber: chosen, updatedAt: now };
      });
      // Endpoints are unique: clear them first so two agents can swap endpoints in one apply.
      await tx.update(agents).set({ endpoint: sql`'~' || ${agents.id}` });
      await tx
        .insert(agents)
        .values(rows)
        .onConflictDoUpdate({
          target: agents.id,
          set: { endpoint: sql`excluded.endpoint`, chosenNumber: sql`excluded.chosen_number`, updatedAt: now },
        });
      const ag = file.agents.flatMap((a) => a.groups.map((g) => ({ agentId: a.id, groupName: g })));
      for (const chunk of chunks(ag, 1000)) await tx.insert(agentGroups).values(chunk);
      const an = file.agents.flatMap((a) => a.numbers.map((n) => ({ agentId: a.id, numberE164: n })));
      for (const chunk of chunks(an, 1000)) await tx.insert(agentNumbers).values(chunk);
    }

    const settingRows = [
      { key: 'defaultCountry', value: file.defaultCountry },
      { key: 'callerId', value: file.callerId },
      { key: 'trunks', value: file.trunks },
      { key: 'privacy', value: file.privacy },
    ];
    await tx
      .insert(settings)
      .values(settingRows.map((s) => ({ ...s, updatedAt: now })))
      .onConflictDoUpdate({ target: settings.key, set: { value: sql`excluded.value`, updatedAt: now } });
  });
  return { groups: file.groups.length, numbers: file.numbers.length, agents: file.agents.length };
}

function* chunks<T>(items: T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}
