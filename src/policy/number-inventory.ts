import type { AgentProfile, PoolNumber } from './caller-id-types.js';

/**
 * The caller-ID pool indexed for the decision's hot path: every tier's candidates are one
 * Map lookup away. Only enabled numbers are indexed, so a disabled number is never offered.
 */
export interface NumberInventory {
  readonly size: number;
  get(e164: string): PoolNumber | undefined;
  all(): readonly PoolNumber[];
  inGroups(groups: readonly string[]): readonly PoolNumber[];
  inArea(key: string): readonly PoolNumber[];
  inRegion(key: string): readonly PoolNumber[];
  inCountry(key: string): readonly PoolNumber[];
  agent(endpoint: string): AgentProfile | undefined;
  /** The agent with this PBX-neutral id (call memory remembers agents by id). */
  agentById(id: string): AgentProfile | undefined;
  /**
   * Records that a call presents this number (epoch ms `at`): it becomes the most recently used
   * of all, even when calls share a millisecond or the clock stepped back, so `lru` never offers
   * it again before every other candidate.
   */
  markUsed(e164: string, at: number): void;
  /**
   * The least recently used of `candidates` (ties: the first in pool order). Constant time for
   * the lists this inventory hands out (one queue each, kept in use order); a scan otherwise.
   */
  leastRecentlyUsed(candidates: readonly PoolNumber[]): PoolNumber;
  /** Whether any number has a daily cap (else `available` is the list itself, at no cost). */
  readonly capped: boolean;
  /** `list` without the numbers that reached their daily cap on the day of `at`. */
  available(list: readonly PoolNumber[], at: number): readonly PoolNumber[];
  /** Calls that presented the number on the day of `at` (counted by markUsed and the loaded counts). */
  usesOn(e164: string, at: number): number;
}

/** Daily caps: the day's boundary, and the calls counted so far on a day (loaded from the records). */
export interface CapOptions {
  timeZone: string;
  /** Calls per number on `day` (YYYY-MM-DD in timeZone). */
  counts?: { day: string; perNumber: ReadonlyMap<string, number> };
}

/** The calendar day (YYYY-MM-DD) of an instant in a time zone; one formatter per zone. */
const formatters = new Map<string, Intl.DateTimeFormat>();
export function capDay(at: number, timeZone: string): string {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    formatters.set(timeZone, f);
  }
  return f.format(at);
}

const EMPTY: readonly PoolNumber[] = [];

export function createNumberInventory(numbers: readonly PoolNumber[], agents: readonly AgentProfile[], caps: CapOptions = { timeZone: 'UTC' }): NumberInventory {
  const enabled = numbers.filter((n) => n.enabled);
  const capped = enabled.some((n) => n.dailyCap != null);
  // Today's calls per number; a new day starts from zero.
  let day = caps.counts?.day ?? '';
  let uses = new Map(caps.counts?.perNumber ?? []);
  // Day keys are formatted at most once a second (Intl is slow on the hot path).
  let dayCheckedAt = -Infinity;
  const onDay = (at: number) => {
    if (Math.abs(at - dayCheckedAt) < 1000) return;
    dayCheckedAt = at;
    const d = capDay(at, caps.timeZone);
    if (d !== day) {
      day = d;
      uses = new Map();
    }
  };
  const byE164 = new Map(numbers.map((n) => [n.e164, n]));
  const byGroup = groupBy(enabled, (n) => n.groups);
  const byArea = groupBy(enabled, (n) => keyList(n.location.area));
  const byRegion = groupBy(enabled, (n) => keyList(n.location.region));
  const byCountry = groupBy(enabled, (n) => [n.location.country]);
  const byEndpoint = new Map(agents.map((a) => [a.endpoint, a]));
  const byId = new Map(agents.map((a) => [a.id, a]));
  // Agents in several groups share few distinct group sets: cache each union once.
  const unions = new Map<string, readonly PoolNumber[]>();
  // The latest use of any number: uses only move forward from here.
  let latest = numbers.reduce((max, n) => Math.max(max, n.lastUsedAt), 0);
  // Every list a tier can hand out gets a queue in use order; a use moves the number to the back
  // of each queue it is in.
  const queues = new Map<readonly PoolNumber[], LruQueue>();
  const queuesOf = new Map<PoolNumber, LruQueue[]>();
  const track = (list: readonly PoolNumber[]) => {
    const q = createLruQueue(list);
    queues.set(list, q);
    for (const n of list) {
      const mine = queuesOf.get(n);
      if (mine) mine.push(q);
      else queuesOf.set(n, [q]);
    }
  };
  for (const index of [byGroup, byArea, byRegion, byCountry]) for (const list of index.values()) track(list);
  track(enabled);

  return {
    size: enabled.length,
    get: (e164) => byE164.get(e164),
    all: () => enabled,
    inGroups(groups) {
      if (groups.length === 1) return byGroup.get(groups[0]!) ?? EMPTY;
      const key = [...groups].sort().join('\u0000');
      let union = unions.get(key);
      if (!union) {
        const seen = new Set<PoolNumber>();
        for (const g of groups) for (const n of byGroup.get(g) ?? EMPTY) seen.add(n);
        union = [...seen];
        unions.set(key, union);
        track(union);
      }
      return union;
    },
    inArea: (key) => byArea.get(key) ?? EMPTY,
    inRegion: (key) => byRegion.get(key) ?? EMPTY,
    inCountry: (key) => byCountry.get(key) ?? EMPTY,
    agent: (endpoint) => byEndpoint.get(endpoint),
    agentById: (id) => byId.get(id),
    markUsed(e164, at) {
      const n = byE164.get(e164);
      if (!n) return;
      if (capped) {
        onDay(at);
        uses.set(e164, (uses.get(e164) ?? 0) + 1);
      }
      latest = Math.max(at, latest + 1);
      n.lastUsedAt = latest;
      for (const q of queuesOf.get(n) ?? EMPTY_QUEUES) q.used(n);
    },
    capped,
    available(list, at) {
      if (!capped) return list;
      onDay(at);
      let any = false;
      for (const n of list) if (n.dailyCap != null && (uses.get(n.e164) ?? 0) >= n.dailyCap) any = true;
      return any ? list.filter((n) => n.dailyCap == null || (uses.get(n.e164) ?? 0) < n.dailyCap) : list;
    },
    usesOn(e164, at) {
      if (!capped) return 0;
      // onDay starts the counts again when `at` is on another day.
      onDay(at);
      return uses.get(e164) ?? 0;
    },
    leastRecentlyUsed(candidates) {
      const q = queues.get(candidates);
      if (q) return q.front();
      let best = candidates[0]!;
      for (const c of candidates) if (c.lastUsedAt < best.lastUsedAt) best = c;
      return best;
    },
  };
}

function keyList(key: string | null): string[] {
  return key === null ? [] : [key];
}

function groupBy(items: readonly PoolNumber[], keysOf: (n: PoolNumber) => readonly string[]): Map<string, PoolNumber[]> {
  const map = new Map<string, PoolNumber[]>();
  for (const item of items) {
    for (const key of keysOf(item)) {
      const list = map.get(key);
      if (list) list.push(item);
      else map.set(key, [item]);
    }
  }
  return map;
}

const EMPTY_QUEUES: readonly LruQueue[] = [];

interface LruQueue {
  /** The least recently used number of the list. */
  front(): PoolNumber;
  /** `n` was just used: it is now the most recent (its lastUsedAt is above every other). */
  used(n: PoolNumber): void;
}

/**
 * A list's numbers in use order, oldest first: entries are (number, lastUsedAt when queued). A
 * use appends the number again; the entry it leaves behind is stale (its stamp no longer matches)
 * and is skipped when it reaches the front. Compacted when half of it is stale.
 */
function createLruQueue(list: readonly PoolNumber[]): LruQueue {
  // Stable sort: ties (e.g. never used) keep pool order.
  let nums = [...list].sort((a, b) => a.lastUsedAt - b.lastUsedAt);
  let stamps = nums.map((n) => n.lastUsedAt);
  let head = 0;
  const compact = () => {
    const keep: number[] = [];
    for (let i = head; i < nums.length; i++) if (stamps[i] === nums[i]!.lastUsedAt) keep.push(i);
    nums = keep.map((i) => nums[i]!);
    stamps = keep.map((i) => stamps[i]!);
    head = 0;
  };
  return {
    front() {
      while (stamps[head] !== nums[head]!.lastUsedAt) head++;
      return nums[head]!;
    },
    used(n) {
      nums.push(n);
      stamps.push(n.lastUsedAt);
      if (nums.length - head > 2 * list.length + 64) compact();
    },
  };
}
