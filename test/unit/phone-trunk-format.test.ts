import { test } from 'vitest';
import assert from 'node:assert/strict';

import { formatForTrunk, parseDialedNumber } from '../../src/phone/index.js';
import type { TrunkNumberFormat } from '../../src/phone/index.js';

test('e164 format returns the number unchanged', () => {
  assert.equal(formatForTrunk('+14155550123', 'e164'), '+14155550123');
  assert.equal(formatForTrunk('+8613800138000', 'e164'), '+8613800138000');
});

test('national format: national digits only, national prefix kept where the country uses one', () => {
  const cases: Array<[string, string]> = [
    ['+14155550123', '4155550123'], // US: "(415) 555-0123"
    ['+14165550123', '4165550123'], // Canada
    ['+8613800138000', '13800138000'], // CN mobile: "138 0013 8000"
    ['+861012345678', '01012345678'], // Beijing landline: "010 1234 5678"
    ['+8675512345678', '075512345678'], // Shenzhen landline
    ['+442079460000', '02079460000'], // London: "020 7946 0000"
    ['+447400123456', '07400123456'],
    ['+493012345678', '03012345678'],
    ['+81312345678', '0312345678'], // Tokyo: "03-1234-5678"
    ['+61292501234', '0292501234'],
    ['+33142685300', '0142685300'],
  ];
  for (const [e164, national] of cases) {
    const out = formatForTrunk(e164, 'national');
    assert.equal(out, national, e164);
    assert.match(out, /^[0-9]+$/);
  }
});

test('a national trunk string dialed back under its country is the same number', () => {
  const cases: Array<[string, 'US' | 'CN' | 'GB' | 'DE' | 'JP']> = [
    ['+14155550123', 'US'], ['+8613800138000', 'CN'], ['+861012345678', 'CN'], ['+442079460000', 'GB'],
    ['+493012345678', 'DE'], ['+81312345678', 'JP'],
  ];
  for (const [e164, country] of cases) {
    const back = parseDialedNumber(formatForTrunk(e164, 'national'), country);
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
      assert.throws(() => formatForTrunk(input, format), /^Error: formatForTrunk: /, `${JSON.stringify(input)} ${format}`);
    }
  }
  assert.throws(() => formatForTrunk('+8601012345678', 'national'), /canonical E\.164 form \(expected \+861012345678\)/);
});

test('an unknown format throws', () => {
  assert.throws(() => formatForTrunk('+14155550123', 'sip' as TrunkNumberFormat), /unknown trunk format/);
});
