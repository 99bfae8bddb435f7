import { test } from 'vitest';
import assert from 'node:assert/strict';

import { parseDialedNumber } from '../../src/phone/index.js';
import type { CountryCode, ParsedDialed } from '../../src/phone/index.js';

function accepted(raw: string, country: CountryCode): { e164: string; country: CountryCode | undefined } {
  const r = parseDialedNumber(raw, country);
  assert.equal(r.ok, true, `${JSON.stringify(raw)} (${country}) should be accepted, got ${JSON.stringify(r)}`);
  if (!r.ok) throw new Error('unreachable');
  return { e164: r.e164, country: r.country };
}

function rejected(raw: string, country: CountryCode = 'US'): Extract<ParsedDialed, { ok: false }> {
  const r = parseDialedNumber(raw, country);
  assert.equal(r.ok, false, `${JSON.stringify(raw)} should be rejected, got ${JSON.stringify(r)}`);
  if (r.ok) throw new Error('unreachable');
  return r;
}

test('international form: NANP, China mobile and landline, UK, Germany', () => {
  assert.deepEqual(accepted('+14155550123', 'US'), { e164: '+14155550123', country: 'US' });
  assert.deepEqual(accepted('+14165550123', 'US'), { e164: '+14165550123', country: 'CA' });
  assert.deepEqual(accepted('+8613800138000', 'US'), { e164: '+8613800138000', country: 'CN' });
  assert.deepEqual(accepted('+861012345678', 'US'), { e164: '+861012345678', country: 'CN' });
  assert.deepEqual(accepted('+8675512345678', 'DE'), { e164: '+8675512345678', country: 'CN' });
  assert.deepEqual(accepted('+442079460000', 'US'), { e164: '+442079460000', country: 'GB' });
  assert.deepEqual(accepted('+447400123456', 'CN'), { e164: '+447400123456', country: 'GB' });
  assert.deepEqual(accepted('+493012345678', 'US'), { e164: '+493012345678', country: 'DE' });
});

test('national forms use the default country', () => {
  assert.deepEqual(accepted('4155550123', 'US'), { e164: '+14155550123', country: 'US' });
  assert.deepEqual(accepted('14155550123', 'US'), { e164: '+14155550123', country: 'US' });
  assert.deepEqual(accepted('13800138000', 'CN'), { e164: '+8613800138000', country: 'CN' });
  assert.deepEqual(accepted('01012345678', 'CN'), { e164: '+861012345678', country: 'CN' });
  assert.deepEqual(accepted('02112345678', 'CN'), { e164: '+862112345678', country: 'CN' });
  assert.deepEqual(accepted('075512345678', 'CN'), { e164: '+8675512345678', country: 'CN' });
  assert.deepEqual(accepted('02079460000', 'GB'), { e164: '+442079460000', country: 'GB' });
  assert.deepEqual(accepted('03012345678', 'DE'), { e164: '+493012345678', country: 'DE' });
});

test('the same national digits mean different numbers under different default countries', () => {
  assert.equal(accepted('02079460000', 'GB').e164, '+442079460000');
  // 020 is Guangzhou in China.
  assert.equal(accepted('02012345678', 'CN').e164, '+862012345678');
  assert.equal(rejected('13800138000', 'US').reason, 'invalid_number');
});

test('international prefixes: 00 outside NANP, 011 in NANP', () => {
  assert.deepEqual(accepted('00442079460000', 'DE'), { e164: '+442079460000', country: 'GB' });
  assert.deepEqual(accepted('008613800138000', 'GB'), { e164: '+8613800138000', country: 'CN' });
  assert.deepEqual(accepted('0014155550123', 'CN'), { e164: '+14155550123', country: 'US' });
  assert.deepEqual(accepted('011442079460000', 'US'), { e164: '+442079460000', country: 'GB' });
  assert.deepEqual(accepted('01186075512345678', 'CA'), { e164: '+8675512345678', country: 'CN' });
  // 00 is not the international prefix in NANP, nor 011 in China: these are not valid numbers.
  assert.equal(rejected('00442079460000', 'US').reason, 'invalid_number');
  assert.equal(rejected('011442079460000', 'CN').reason, 'invalid_number');
});

test('a valid number no country owns is accepted with country undefined', () => {
  assert.deepEqual(accepted('+80012345678', 'US'), { e164: '+80012345678', country: undefined });
});

test('every forbidden character listed for the gate is refused by code point', () => {
  const cases: Array<[string, string]> = [
    ['&', 'U+0026'], [',', 'U+002C'], ['|', 'U+007C'], ['/', 'U+002F'], [';', 'U+003B'],
    ['^', 'U+005E'], ['"', 'U+0022'], ["'", 'U+0027'], ['`', 'U+0060'], [' ', 'U+0020'],
    ['\n', 'U+000A'], ['\r', 'U+000D'], ['\t', 'U+0009'], ['\0', 'U+0000'], ['\u007f', 'U+007F'],
    ['a', 'U+0061'], ['X', 'U+0058'], ['*', 'U+002A'], ['#', 'U+0023'], ['-', 'U+002D'],
    ['(', 'U+0028'], ['.', 'U+002E'], ['$', 'U+0024'], ['\\', 'U+005C'], ['=', 'U+003D'],
    ['\u202e', 'U+202E'], ['\u00a0', 'U+00A0'], ['\uff11', 'U+FF11'], ['\u0664', 'U+0664'],
    ['\u{1F600}', 'U+1F600'],
  ];
  const templates = new Set<string>();
  for (const [ch, codePoint] of cases) {
    const r = rejected(`41555${ch}50123`);
    assert.equal(r.reason, 'forbidden_characters', `${codePoint}`);
    assert.ok(r.detail.includes(`${codePoint} at index 5`), `${codePoint}: ${JSON.stringify(r.detail)}`);
    // Apart from the code point the detail is the same text whatever the character: nothing echoed.
    templates.add(r.detail.replace(codePoint, 'U+????'));
  }
  assert.equal(templates.size, 1, JSON.stringify([...templates]));
});

test('every ASCII character other than digits (and a leading +) is forbidden', () => {
  let checked = 0;
  for (let cp = 0; cp < 128; cp++) {
    if ((cp >= 0x30 && cp <= 0x39) || cp === 0x2b) continue;
    const r = rejected(`4155550123${String.fromCharCode(cp)}`);
    const name = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
    assert.equal(r.reason, 'forbidden_characters', name);
    assert.match(r.detail, new RegExp(`${name.replace('+', '\\+')} at index 10`), name);
    checked++;
  }
  assert.equal(checked, 128 - 11);
});

test('a plus anywhere but first is forbidden; a lone leading plus is allowed', () => {
  const doubled = rejected('++14155550123');
  assert.equal(doubled.reason, 'forbidden_characters');
  assert.match(doubled.detail, /U\+002B at index 1/);
  const inside = rejected('1415+5550123');
  assert.equal(inside.reason, 'forbidden_characters');
  assert.match(inside.detail, /U\+002B at index 4/);
});

test('the first offending character is the one reported, and the rest of the input is not echoed', () => {
  const r = rejected('4155550123&Dial(PJSIP/evil)');
  assert.equal(r.reason, 'forbidden_characters');
  assert.match(r.detail, /U\+0026 at index 10/);
  assert.ok(!r.detail.includes('Dial'), r.detail);
  assert.ok(!r.detail.includes('4155550123'), r.detail);
  assert.match(rejected('41,5|5').detail, /U\+002C at index 2/);
});

test('control characters never appear raw in the detail', () => {
  for (const raw of ['\u0000', '415\n', '\u001b[31m', '1\u0007', '+1\r\n']) {
    const r = rejected(raw);
    assert.equal(r.reason, 'forbidden_characters');
    assert.doesNotMatch(r.detail, /[\u0000-\u001f\u007f]/, JSON.stringify(r.detail));
  }
});

test('empty input', () => {
  const r = rejected('');
  assert.equal(r.reason, 'empty');
  assert.ok(r.detail.length > 0);
});

test('too long: more than 32 characters before anything else, more than 20 digits', () => {
  assert.equal(rejected('1'.repeat(33)).reason, 'too_long');
  // Checked before characters: a long injection attempt is too_long, not inspected further.
  const longInjection = rejected('&'.repeat(33));
  assert.equal(longInjection.reason, 'too_long');
  assert.match(longInjection.detail, /33 characters/);
  assert.equal(rejected('1'.repeat(21)).reason, 'too_long');
  assert.equal(rejected('+' + '1'.repeat(21)).reason, 'too_long');
  // 20 digits pass the length gate (and then fail validation).
  assert.equal(rejected('+' + '4'.repeat(20)).reason, 'invalid_number');
  assert.equal(rejected('4'.repeat(20)).reason, 'invalid_number');
});

test('not a number', () => {
  assert.equal(rejected('+').reason, 'not_a_number');
});

test('invalid numbers', () => {
  const cases: Array<[string, CountryCode]> = [
    ['+11234567890', 'US'], // NPA 123 does not exist
    ['+14155550', 'US'], // too short
    ['1', 'US'],
    ['+1', 'US'],
    ['00', 'US'],
    ['+999123456', 'US'], // unassigned country calling code
    ['+0044207946000', 'US'], // E.164 never starts with 0
    ['+44207946000', 'US'], // one digit short
    ['+86138001380001', 'US'], // CN mobile with one digit too many
    ['+8617412345678', 'CN'], // 174 is not an assigned CN mobile range
    ['0000000000', 'GB'],
  ];
  for (const [raw, country] of cases) {
    const r = rejected(raw, country);
    assert.equal(r.reason, 'invalid_number', `${raw}: ${JSON.stringify(r)}`);
  }
});

test('an unsupported default country is a programming error', () => {
  assert.throws(() => parseDialedNumber('4155550123', 'XX' as CountryCode), TypeError);
});
