// Inbound caller IDs become one customer key, read the way the inbound trunk's country writes numbers.
import assert from 'node:assert/strict';
import { test } from 'vitest';
import { normalizeCallerNumber } from '../../src/phone/caller-number.js';

test('every form of a Chinese mobile, from a Chinese trunk, is one customer', () => {
  for (const form of ['+8613800138000', '008613800138000', '013800138000', '13800138000', '+86 138 0013 8000']) {
    assert.deepEqual(normalizeCallerNumber(form, 'CN'), { ok: true, e164: '+8613800138000' }, form);
  }
});

test('a Beijing landline with and without its trunk prefix, from a Chinese trunk', () => {
  for (const form of ['+861012345678', '01012345678', '1012345678', '00861012345678']) {
    assert.deepEqual(normalizeCallerNumber(form, 'CN'), { ok: true, e164: '+861012345678' }, form);
  }
});

test('NANP: +1, 1 and ten digits, from a US or Canadian trunk; 011 is the US international prefix', () => {
  for (const country of ['US', 'CA']) {
    for (const form of ['+14155550123', '14155550123', '4155550123', '(415) 555-0123', '415.555.0123']) {
      assert.deepEqual(normalizeCallerNumber(form, country), { ok: true, e164: '+14155550123' }, `${form} ${country}`);
    }
  }
  assert.deepEqual(normalizeCallerNumber('011442079460000', 'US'), { ok: true, e164: '+442079460000' });
});

test('a foreign number keeps its country whatever the trunk', () => {
  assert.deepEqual(normalizeCallerNumber('00442079460000', 'CN'), { ok: true, e164: '+442079460000' });
  assert.deepEqual(normalizeCallerNumber('+442079460000', 'US'), { ok: true, e164: '+442079460000' });
});

test('withheld caller IDs, however the trunk spells them', () => {
  for (const form of ['', '  ', 'anonymous', 'Anonymous', 'RESTRICTED', 'private', 'unknown', 'Unavailable', '0', '0000000', '+', '123']) {
    assert.deepEqual(normalizeCallerNumber(form, 'US'), { ok: false, reason: 'withheld' }, JSON.stringify(form));
  }
  assert.deepEqual(normalizeCallerNumber(null, 'US'), { ok: false, reason: 'withheld' });
  assert.deepEqual(normalizeCallerNumber(undefined, 'CN'), { ok: false, reason: 'withheld' });
});

test('anything that is not a number is unparsable, never an error', () => {
  for (const form of ['sip:alice@example.com', '4155550123;ext=1', '+1415555012x', '12345678901234567890123456789012345', '+999123456', '41555501']) {
    assert.deepEqual(normalizeCallerNumber(form, 'US'), { ok: false, reason: 'unparsable' }, form);
  }
});

test('a trunk country libphonenumber does not know is a configuration error', () => {
  assert.throws(() => normalizeCallerNumber('4155550123', 'XX'), /unsupported trunk country "XX"/);
});
