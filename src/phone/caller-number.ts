/**
 * The number an inbound call presents, as one customer key: E.164, read the way the inbound
 * trunk's country writes numbers. From a Chinese trunk `+8613800138000`, `008613800138000`,
 * `013800138000` and `13800138000` are one customer; from a US trunk `+14155550123`,
 * `14155550123`, `4155550123` and `0114155550123`... likewise.
 *
 * The result is only ever a look-up key (never part of a dial string), but it is still strict:
 * digits with an optional leading +, after the usual visual separators are dropped.
 */
import { isSupportedCountry, parsePhoneNumberFromString } from 'libphonenumber-js/max';
import type { CountryCode } from 'libphonenumber-js/max';

export type CallerNumber = { ok: true; e164: string } | { ok: false; reason: 'withheld' | 'unparsable' };

/** What trunks put in the caller ID when the caller withheld it (compared without case). */
const WITHHELD = new Set(['', 'anonymous', 'restricted', 'private', 'withheld', 'unknown', 'unavailable', 'blocked', 'anonymous.invalid']);

/** Spaces, dashes, dots and brackets some trunks leave in a number. */
const SEPARATORS = /[\s\-.()]/g;

export function normalizeCallerNumber(raw: string | null | undefined, trunkCountry: string): CallerNumber {
  if (!isSupportedCountry(trunkCountry)) {
    throw new TypeError(`normalizeCallerNumber: unsupported trunk country ${JSON.stringify(String(trunkCountry).slice(0, 8))}`);
  }
  const text = (raw ?? '').trim();
  if (WITHHELD.has(text.toLowerCase())) return { ok: false, reason: 'withheld' };
  const compact = text.replace(SEPARATORS, '');
  // Nothing but zeros, or a handful of digits: an operator's placeholder, not a customer.
  if (/^\+?[0-9]{0,4}$/.test(compact) || /^\+?0+$/.test(compact)) return { ok: false, reason: 'withheld' };
  if (compact.length > 32 || !/^\+?[0-9]+$/.test(compact)) return { ok: false, reason: 'unparsable' };
  const parsed = parsePhoneNumberFromString(compact, { defaultCountry: trunkCountry as CountryCode, extract: false });
  if (!parsed || !parsed.isPossible()) return { ok: false, reason: 'unparsable' };
  return { ok: true, e164: parsed.number };
}
