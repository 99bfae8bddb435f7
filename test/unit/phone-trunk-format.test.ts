import { test } from 'vitest';
import assert from 'node:assert/strict';

import { formatForTrunk, parseDialedNumber } from '../../src/phone/index.js';
import type { TrunkNumberFormat } from '../../src/phone/index.js';

const US = { country: 'US' };
const US_011 = { country: 'US', internationalPrefix: '011' };
const CN = { country: 'CN' };
const GB_00 = { country: 'GB', internationalPrefix: '00' };

test('e164 format returns the number unchanged, wherever the trunk is', () => {
  assert.equal(formatForTrunk('+14155550123', 'e164', US), '+14155550123');
  assert.equal(formatForTrunk('+8613800138000', 'e164', US_011), '+8613800138000');
  assert.equal(formatForTrunk('+8613800138000', 'e164', CN), '+8613800138000');
});

test('national format on a trunk of the number\'s country: national digits only, national prefix kept where the country uses one', () => {
  const cases: Array<[string, string, string]> = [
    ['+14155550123', 'US', '4155550123'], // US: "(415) 555-0123"
    ['+14165550123', 'CA', '4165550123'], // Canada
    ['+8613800138000', 'CN', '13800138000'], // CN mobile: "138 0013 8000"
    ['+861012345678', 'CN', '01012345678'], // Beijing landline: "010 1234 5678"
    ['+8675512345678', 'CN', '075512345678'], // Shenzhen landline
    ['+442079460000', 'GB', '02079460000'], // London: "020 7946 0000"
    ['+447400123456', 'GB', '07400123456'],
    ['+493012345678', 'DE', '03012345678'],
    ['+81312345678', 'JP', '0312345678'], // Tokyo: "03-1234-5678"
    ['+61292501234', 'AU', '0292501234'],
    ['+33142685300', 'FR', '0142685300'],
  ];
  for (const [e164, country, national] of cases) {
    const out = formatForTrunk(e164, 'national', { country });
    assert.equal(out, national, e164);
    assert.match(out, /^[0-9]+$/);
    // The prefix for numbers abroad changes nothing at home.
    assert.equal(formatForTrunk(e164, 'national', { country, internationalPrefix: '00' }), national, e164);
  }
});

test('national format, number from abroad: E.164 unless the trunk names its international prefix', () => {
  assert.equal(formatForTrunk('+442079460000', 'national', US), '+442079460000');
  assert.equal(formatForTrunk('+442079460000', 'national', US_011), '011442079460000');
  assert.equal(formatForTrunk('+8613800138000', 'national', US_011), '0118613800138000');
  assert.equal(formatForTrunk('+14155550123', 'national', GB_00), '0014155550123');
  assert.equal(formatForTrunk('+14155550123', 'national', CN), '+14155550123');
  assert.equal(formatForTrunk('+861012345678', 'national', GB_00), '00861012345678'); // no national 0 abroad
  assert.equal(formatForTrunk('+390612345678', 'national', GB_00), '00390612345678'); // Italy keeps its 0
  assert.equal(formatForTrunk('+80012345678', 'national', GB_00), '0080012345678'); // international freephone
  assert.equal(formatForTrunk('+80012345678', 'national', US), '+80012345678');
});

test('a numbering plan shared by several countries counts as home', () => {
  assert.equal(formatForTrunk('+14165550123', 'national', US_011), '4165550123'); // Toronto on a US trunk: NANP
  assert.equal(formatForTrunk('+14155550123', 'national', { country: 'CA', internationalPrefix: '011' }), '4155550123');
  assert.equal(formatForTrunk('+441481712345', 'national', GB_00), '01481712345'); // Guernsey on a GB trunk
});

test('CN trunk: mobiles as 11 digits, landlines with the trunk prefix 0', () => {
  assert.equal(formatForTrunk('+8613800138000', 'national', CN), '13800138000');
  assert.equal(formatForTrunk('+861012345678', 'national', CN), '01012345678');
  assert.equal(formatForTrunk('+8675512345678', 'national', { country: 'CN', internationalPrefix: '00' }), '075512345678');
});

test('a bad trunk country or international prefix throws instead of dialling garbage', () => {
  assert.throws(() => formatForTrunk('+442079460000', 'national', { country: 'XX' }), /unsupported trunk country "XX"/);
  assert.throws(() => formatForTrunk('+442079460000', 'national', { country: 'us' }), /unsupported trunk country/);
  for (const internationalPrefix of ['+', '0', '00&', '0011223', '', ' 00']) {
    assert.throws(() => formatForTrunk('+442079460000', 'national', { country: 'US', internationalPrefix }), /international prefix must be 2 to 5 digits/, internationalPrefix);
  }
});

test('a national trunk string dialed back under its country is the same number', () => {
  const cases: Array<[string, 'US' | 'CN' | 'GB' | 'DE' | 'JP']> = [
    ['+14155550123', 'US'], ['+8613800138000', 'CN'], ['+861012345678', 'CN'], ['+442079460000', 'GB'],
    ['+493012345678', 'DE'], ['+81312345678', 'JP'],
  ];
  for (const [e164, country] of cases) {
    const back = parseDialedNumber(formatForTrunk(e164, 'national', { country }), country);
    assert.deepEqual(back.ok && back.e164, e164);
  }
});

test('non-E.164 input throws a clear error', () => {
  const bad = [
    '4155550123', // national
    '14155550123', // no plus
    '+1 415 555 0123', // spaces
    '+1-415-555-0123',
    '+0441234567', // leading zero
    '+1234567890123456', // 16 digits
    '',
    '+',
    '+14155550123;ext',
    '+8601012345678', // national prefix inside: not canonical
    '+999123456', // unassigned calling code
  ];
  for (const input of bad) {
    for (const format of ['e164', 'national'] as const) {
      assert.throws(() => formatForTrunk(input, format, US), /^Error: formatForTrunk: /, `${JSON.stringify(input)} ${format}`);
    }
  }
  assert.throws(() => formatForTrunk('+8601012345678', 'national', CN), /canonical E\.164 form \(expected \+861012345678\)/);
});

test('an unknown format throws', () => {
  assert.throws(() => formatForTrunk('+14155550123', 'sip' as TrunkNumberFormat, US), /unknown trunk format/);
});
