// Number protection, mask mode: the masked form shows the country code and the national number
// with 4 middle digits hidden, and no form of the real number can be found in it.
import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import { getCountries, getExampleNumber, parsePhoneNumberFromString } from 'libphonenumber-js/max';
import examples from 'libphonenumber-js/examples.mobile.json';

import { maskNumber, maskStart } from '../../src/phone/mask-number.js';
import type { MaskedNumber } from '../../src/phone/mask-number.js';

/**
 * Every way the real number can be written: E.164, with and without `+`, with the `00` and `011`
 * international prefixes, national without and with a trunk prefix (0 and 1, whatever the
 * country uses), libphonenumber's national and international formats, the tel: URI, and the
 * grouped forms with spaces, dashes and dots.
 */
function numberForms(e164: string): string[] {
  const p = parsePhoneNumberFromString(e164, { extract: false });
  if (!p) throw new Error(`test number ${e164} does not parse`);
  const cc = p.countryCallingCode;
  const nsn = p.nationalNumber;
  const grouped = [nsn.slice(0, 3), nsn.slice(3, 7), nsn.slice(7)].filter(Boolean);
  const forms = [
    e164,
    `${cc}${nsn}`,
    `00${cc}${nsn}`,
    `011${cc}${nsn}`,
    nsn,
    `0${nsn}`,
    `1${nsn}`,
    p.formatNational(),
    p.formatInternational(),
    p.getURI(),
    `+${cc} ${grouped.join(' ')}`,
    `+${cc}-${grouped.join('-')}`,
    `00 ${cc} ${grouped.join(' ')}`,
    `0${grouped.join('-')}`,
    `1-${grouped.join('-')}`,
    grouped.join('.'),
    `(0${nsn.slice(0, 3)}) ${nsn.slice(3)}`,
  ];
  return [...new Set(forms)];
}

/** Separators dropped: what a search of a SIP message for digits would see (the `*` stays). */
const compact = (s: string) => s.replace(/[^0-9*]/g, '');
const digitsOnly = (s: string) => s.replace(/[^0-9]/g, '');
const sortedDigits = (s: string) => [...digitsOnly(s)].sort().join('');

/**
 * Checks (a), (b) and (c) of the masking rule for one number, and that the masked form is the same
 * whatever the hidden digits are; returns the masked form.
 *
 * `search`: how much of (c) to run. `full` (named numbers): every form, every run of 5+ digits of
 * a form that covers a hidden digit, and a hidden digit next to its visible run in `national`
 * ("1380" and "0800" for 138****8000). `forms` (pseudo-random digits): whole forms only. On random
 * digits a string can be in the output by coincidence while showing nothing hidden:
 * +81 428814281368 shows `+81 4288****1368`, and "81428" is both the country code with the first
 * visible digits and, by chance, digits 4-8 of the number, hidden ones included. That the output
 * carries no hidden digit is what (a), (b) and the invariance check prove for those.
 */
function assertProtected(e164: string, search: 'full' | 'forms' = 'full'): MaskedNumber {
  const p = parsePhoneNumberFromString(e164, { extract: false });
  assert.ok(p, `${e164} parses`);
  const nsn = p.nationalNumber;
  const cc = p.countryCallingCode;
  const n = nsn.length;
  const m = maskNumber(e164);
  const what = `${e164} -> ${JSON.stringify(m)}`;

  // Which NSN positions are hidden.
  const hidden = new Set<number>();
  if (n <= 4) for (let i = 0; i < n; i++) hidden.add(i);
  else for (let i = maskStart(n); i < maskStart(n) + 4; i++) hidden.add(i);
  assert.equal(m.hidden, hidden.size, what);

  // (a) the visible digits of `national` are the NSN with exactly 4 digits replaced by '*'.
  if (n <= 4) {
    assert.equal(m.national, '****', what);
  } else {
    assert.equal(m.national.length, n, what);
    assert.match(m.national, /^[0-9]*\*{4}[0-9]*$/, what);
    for (let i = 0; i < n; i++) assert.equal(m.national[i], hidden.has(i) ? '*' : nsn[i], `${what}: position ${i}`);
  }
  assert.equal(m.display, `+${cc} ${m.national}`, what);

  // (b) no hidden digit anywhere: the digits shown are exactly the visible ones (+ the country code).
  const visible = [...nsn].filter((_, i) => !hidden.has(i)).join('');
  assert.equal(sortedDigits(m.national), sortedDigits(visible), what);
  assert.equal(sortedDigits(m.display), sortedDigits(cc + visible), what);

  // (c) no form of the number, and no run of 5+ digits of a form that covers a hidden digit.
  for (const out of [m.display, m.national]) {
    const c = compact(out);
    const stripped = digitsOnly(out); // even with the asterisks deleted
    for (const form of numberForms(e164)) {
      const f = digitsOnly(form);
      assert.ok(!c.includes(f), `${what}: shows form ${form}`);
      assert.ok(!stripped.includes(f), `${what}: shows form ${form} once the * are removed`);
      // Forms that do not end with the NSN (Argentina's national "011 15-2345-6789" inserts its
      // mobile token) have no position-by-position alignment: their runs around the hidden block
      // are the NSN's, which the E.164 and national forms check.
      if (search !== 'full' || !f.endsWith(nsn)) continue;
      const offset = f.length - nsn.length; // where the NSN starts in this form
      for (let i = 0; i < f.length; i++) {
        for (let j = i + 5; j <= f.length; j++) {
          let coversHidden = false;
          for (let k = i; k < j && !coversHidden; k++) coversHidden = hidden.has(k - offset);
          if (coversHidden) assert.ok(!c.includes(f.slice(i, j)), `${what}: shows ${f.slice(i, j)} of form ${form}`);
        }
      }
    }
  }

  // A hidden digit next to a visible one ("1380", "0800" for 138****8000) is nowhere in `national`.
  if (search === 'full' && n > 4) {
    const start = maskStart(n);
    const before = nsn.slice(0, start);
    const after = nsn.slice(start + 4);
    const runs = m.national.split('*').filter(Boolean);
    if (before) assert.ok(!runs.some((r) => r.includes(before + nsn[start])), `${what}: shows ${before}${nsn[start]}`);
    if (after) assert.ok(!runs.some((r) => r.includes(nsn[start + 3] + after)), `${what}: shows ${nsn[start + 3]}${after}`);
  }

  // The masked form depends on the visible digits only: any other hidden digits give the same output.
  for (let fill = 0; fill <= 9; fill++) {
    const other = [...nsn].map((d, i) => (hidden.has(i) ? String((Number(d) + fill + i) % 10) : d)).join('');
    const variant = parsePhoneNumberFromString(`+${cc}${other}`, { extract: false });
    if (!variant || variant.countryCallingCode !== cc || variant.nationalNumber !== other) continue;
    assert.deepEqual(maskNumber(variant.number), m, `${what}: differs for hidden digits of ${variant.number}`);
  }
  return m;
}

describe('maskNumber: the rule on named numbers', () => {
  const cases: Array<[string, string, string]> = [
    // e164, display, what it is
    ['+8613800138000', '+86 138****8000', 'CN mobile (11 digits)'],
    ['+861062345678', '+86 106****678', 'CN Beijing landline (10)'],
    ['+862112345678', '+86 211****678', 'CN Shanghai landline (10)'],
    ['+8675512345678', '+86 755****5678', 'CN Shenzhen landline (11)'],
    ['+14155550123', '+1 415****123', 'US (10)'],
    ['+14165550123', '+1 416****123', 'CA (10)'],
    ['+18005550199', '+1 800****199', 'US toll-free'],
    ['+18885550100', '+1 888****100', 'US toll-free 888'],
    ['+442079460000', '+44 207****000', 'GB London (10)'],
    ['+447400123456', '+44 740****456', 'GB mobile (10)'],
    ['+493012345678', '+49 301****678', 'DE Berlin (10)'],
    ['+4930123', '+49 ****3', 'DE short Berlin number (5)'],
    ['+81312345678', '+81 31****678', 'JP Tokyo (9)'],
    ['+819012345678', '+81 901****678', 'JP mobile (10)'],
    ['+390612345678', '+39 061****678', 'IT Rome, leading 0 kept in the NSN (10)'],
    ['+3546111234', '+354 6****34', 'IS (7)'],
    ['+299321000', '+299 3****0', 'GL (6)'],
    ['+43123456', '+43 1****6', 'AT Vienna short (6)'],
    ['+29022158', '+290 ****8', 'SH (5)'],
    ['+50051234', '+500 ****4', 'FK (5)'],
    ['+6834002', '+683 ****', 'NU (4): all hidden'],
  ];
  for (const [e164, display, name] of cases) {
    test(`${name}: ${display}`, () => {
      const m = assertProtected(e164);
      assert.equal(m.display, display);
    });
  }

  test('the brief\'s two examples, field by field', () => {
    assert.deepEqual(maskNumber('+8613800138000'), { display: '+86 138****8000', national: '138****8000', hidden: 4 });
    assert.deepEqual(maskNumber('+14155550123'), { display: '+1 415****123', national: '415****123', hidden: 4 });
  });

  test('number forms cover E.164, national with and without trunk prefix, separators, 00/011', () => {
    const forms = numberForms('+8613800138000');
    for (const f of ['+8613800138000', '8613800138000', '008613800138000', '0118613800138000', '13800138000', '013800138000', '138 0013 8000', '+86 138 0013 8000', '+86-138-0013-8000', 'tel:+8613800138000']) {
      assert.ok(forms.includes(f), `${f} in ${JSON.stringify(forms)}`);
    }
    assert.ok(numberForms('+14155550123').includes('(415) 555-0123'));
    assert.ok(numberForms('+14155550123').includes('1-415-5550-123'));
    assert.ok(numberForms('+861062345678').includes('010 6234 5678'));
  });
});

describe('maskNumber: unreadable input is hidden whole, never echoed', () => {
  const bad: unknown[] = [
    '', '+', '+0', '+0123456789', '13800138000', '8613800138000', '008613800138000',
    '+86 138 0013 8000', '+86-138-0013-8000', ' +8613800138000', '+8613800138000 ', '+8613800138000\n',
    '+8613800138000;ext=12', 'tel:+8613800138000', '+１３８００１３８０００', 'abc', '+999123456789',
    '+1234567890123456', '+86138001380001234567890', undefined, null, 8613800138000,
  ];
  for (const input of bad) {
    test(JSON.stringify(input) ?? String(input), () => {
      const m = maskNumber(input as string);
      assert.deepEqual(m, { display: '****', national: '****', hidden: 0 });
    });
  }
});

describe('maskNumber: the property on many numbers', () => {
  test('every country\'s example mobile number', () => {
    let checked = 0;
    for (const country of getCountries()) {
      const example = getExampleNumber(country, examples);
      if (!example) continue;
      assertProtected(example.number);
      checked++;
    }
    assert.ok(checked > 200, `${checked} countries`);
  });

  test('2,000 pseudo-random numbers of 4 to 14 national digits', () => {
    let seed = 0x9e3779b9;
    const random = () => {
      // xorshift32: the same numbers on every run
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) / 2 ** 32;
    };
    const codes = ['1', '7', '33', '39', '44', '49', '61', '81', '86', '91', '290', '299', '354', '683', '852', '971'];
    let checked = 0;
    while (checked < 2000) {
      const cc = codes[Math.floor(random() * codes.length)]!;
      const len = 4 + Math.floor(random() * 11);
      let digits = String(1 + Math.floor(random() * 9));
      while (digits.length < len) digits += String(Math.floor(random() * 10));
      const e164 = `+${cc}${digits}`;
      if (e164.length > 16 || !parsePhoneNumberFromString(e164, { extract: false })) continue;
      assertProtected(e164, 'forms');
      checked++;
    }
  });
});
