/**
 * Where a number is, in the "local" sense a callee would use, as keys a matcher can compare:
 * area ⊂ region ⊂ country. Keys are namespaced by country so they never collide across countries:
 * area `US:415`, region `US:CA`, country `US`.
 */
import { describeNumber } from './geocode-data.js';
import type { NumberType, PhoneNumber } from 'libphonenumber-js/max';

import { parseE164 } from './e164.js';
import { CN_CITY_ALIASES, isCountryName, nanpSubdivision } from './geo-names.js';

export interface NumberLocation {
  /** ISO 3166 alpha-2 (`US`); `+<calling code>` for a number no country owns (`+800`). */
  country: string;
  /** `US:CA`, `CA:ON`, `CN:Guangdong`, `JP:Hokkaido`, `GB:London`; null when unknown. */
  region: string | null;
  /** `US:415`, `CN:Shenzhen, Guangdong`, `CN:0755`, `GB:London`; null when unknown. */
  area: string | null;
}

export interface LocatorStats {
  /** Entries held (resolved or in flight). */
  size: number;
  hits: number;
  misses: number;
  evictions: number;
}

export interface Locator {
  /**
   * Locates an E.164 number. Rejects when the input is not canonical E.164. The returned object
   * is frozen and shared between callers of the same number.
   */
  locate(e164: string): Promise<NumberLocation>;
  stats(): LocatorStats;
}

export interface LocatorOptions {
  /** Most numbers remembered; the least recently used is evicted first. Default 10 000. */
  cacheSize?: number;
}

export const DEFAULT_LOCATOR_CACHE_SIZE = 10_000;

/**
 * A locator with a bounded LRU cache keyed by the E.164 string: a repeat callee costs one Map
 * lookup (plus a refresh of its recency). Concurrent lookups of one number share one geocoder call.
 *
 * A miss costs a few Map lookups once the country's data is loaded (see geocode-data.ts).
 */
export function createLocator(opts: LocatorOptions = {}): Locator {
  const cacheSize = opts.cacheSize ?? DEFAULT_LOCATOR_CACHE_SIZE;
  if (!Number.isInteger(cacheSize) || cacheSize < 1) {
    throw new RangeError(`createLocator: cacheSize must be a positive integer, got ${String(cacheSize)}`);
  }
  const cache = new Map<string, Promise<NumberLocation>>();
  let hits = 0;
  let misses = 0;
  let evictions = 0;

  return {
    locate(e164) {
      const cached = cache.get(e164);
      if (cached) {
        hits++;
        // Map iteration order is insertion order: re-inserting makes this the most recent.
        cache.delete(e164);
        cache.set(e164, cached);
        return cached;
      }
      // Validate before touching the cache, so garbage input can never evict real entries.
      let parsed: PhoneNumber;
      try {
        parsed = parseE164(e164, 'locate');
      } catch (err) {
        return Promise.reject(err);
      }
      misses++;
      const pending = resolveLocation(parsed);
      cache.set(e164, pending);
      if (cache.size > cacheSize) {
        const oldest = cache.keys().next().value;
        if (oldest !== undefined) {
          cache.delete(oldest);
          evictions++;
        }
      }
      // A failed lookup must not stay cached (the geocoder swallows its own errors, but be safe).
      pending.catch(() => {
        if (cache.get(e164) === pending) cache.delete(e164);
      });
      return pending;
    },
    stats: () => ({ size: cache.size, hits, misses, evictions }),
  };
}

async function resolveLocation(parsed: PhoneNumber): Promise<NumberLocation> {
  const description = await describeNumber(parsed.countryCallingCode, parsed.nationalNumber);
  return Object.freeze(locationFromDescription(parsed, description));
}

/**
 * The location rules, applied to a parsed number and its geocoder description (null when the
 * geocoder has none). Exported for tests and for callers that already have a description.
 */
export function locationFromDescription(parsed: PhoneNumber, rawDescription: string | null): NumberLocation {
  const iso = parsed.country;
  const country = iso ?? `+${parsed.countryCallingCode}`;
  const trimmed = rawDescription?.trim() ?? '';
  // The geocoder names the country itself for some ranges: that is no more than the country key.
  const description = trimmed !== '' && !isCountryName(iso, trimmed) ? trimmed : null;
  const national = parsed.nationalNumber;

  switch (parsed.countryCallingCode) {
    case '1': {
      // NANP: the area code is the local unit everywhere; only US and CA have states/provinces.
      // Toll-free (800, 888…), premium (900) and personal (500…) codes are not places.
      if (NON_GEOGRAPHIC_TYPES.has(parsed.getType())) return { country, area: null, region: null };
      const subdivision = description !== null && iso ? nanpSubdivision(iso, description) : null;
      return {
        country,
        area: `${country}:${national.slice(0, 3)}`,
        region: subdivision === null ? null : `${country}:${subdivision}`,
      };
    }
    case '86': {
      if (description !== null) {
        const city = CN_CITY_ALIASES[description] ?? description;
        return { country, area: `${country}:${city}`, region: `${country}:${afterLastComma(city)}` };
      }
      const type = parsed.getType();
      if (type === 'FIXED_LINE' || type === 'FIXED_LINE_OR_MOBILE') {
        // Area codes are 2 digits for 10 (Beijing) and 2X, 3 digits otherwise; written with the 0.
        const length = national.startsWith('10') || national.startsWith('2') ? 2 : 3;
        return { country, area: `${country}:0${national.slice(0, length)}`, region: null };
      }
      return { country, area: null, region: null };
    }
    default: {
      if (description === null || !iso) return { country, area: null, region: null };
      const area = `${country}:${description}`;
      const region = description.includes(',') ? `${country}:${afterLastComma(description)}` : area;
      return { country, area, region };
    }
  }
}

const NON_GEOGRAPHIC_TYPES: ReadonlySet<NumberType | undefined> = new Set<NumberType>([
  'TOLL_FREE', 'PREMIUM_RATE', 'SHARED_COST', 'PERSONAL_NUMBER', 'UAN', 'VOICEMAIL', 'PAGER',
]);

function afterLastComma(description: string): string {
  return description.slice(description.lastIndexOf(',') + 1).trim();
}

/**
 * The keys of a location a matcher tries, most specific first: area, region, country, without
 * nulls and without repeats (region equals area when the description has no wider part).
 */
export function locationTiers(loc: NumberLocation): string[] {
  const tiers: string[] = [];
  for (const key of [loc.area, loc.region, loc.country]) {
    if (key !== null && !tiers.includes(key)) tiers.push(key);
  }
  return tiers;
}
