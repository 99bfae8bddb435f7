/**
 * The security gate for anything an agent dials. Whatever comes out of here as `ok: true` is a
 * canonical E.164 string (`+` and 2..15 digits) that is safe to put into a dial string; anything
 * else is refused with a machine-readable reason. The detail never echoes the raw input (it may
 * hold control characters, dial-string separators or personal data): offending characters are
 * named by code point.
 */
import { isSupportedCountry, ParseError, parsePhoneNumberWithError } from 'libphonenumber-js/max';
import type { CountryCode, PhoneNumber } from 'libphonenumber-js/max';

import { rememberCanonical } from './e164.js';

export type { CountryCode } from 'libphonenumber-js/max';

export type DialedRejection = 'empty' | 'too_long' | 'forbidden_characters' | 'not_a_number' | 'invalid_number';

export type ParsedDialed =
  | { ok: true; e164: string; country: CountryCode | undefined }
  | { ok: false; reason: DialedRejection; detail: string };

/** Raw input longer than this is refused before any other work. */
export const MAX_DIALED_INPUT_CHARS = 32;
/** At most this many digits after the optional leading `+`. */
export const MAX_DIALED_DIGITS = 20;

/**
 * Parses what an agent dialed: an optional leading `+`, then ASCII digits only. National forms use
 * `defaultCountry`; an international-prefix form (`00…`, or `011…` in NANP) is resolved through
 * `defaultCountry`'s international prefix, as libphonenumber does. The number must be valid
 * according to libphonenumber's `max` metadata.
 *
 * Throws a TypeError only for a programming error: an unsupported `defaultCountry`.
 */
export function parseDialedNumber(raw: string, defaultCountry: CountryCode): ParsedDialed {
  if (raw.length > MAX_DIALED_INPUT_CHARS) {
    return reject('too_long', `input is ${raw.length} characters; at most ${MAX_DIALED_INPUT_CHARS} allowed`);
  }
  // A bad default country is a configuration bug: fail loudly whatever was dialed.
  if (!isSupportedCountry(defaultCountry)) {
    throw new TypeError(`parseDialedNumber: unsupported default country ${JSON.stringify(String(defaultCountry))}`);
  }
  if (raw.length === 0) return reject('empty', 'nothing was dialed');

  const forbidden = firstForbiddenCharacter(raw);
  if (forbidden) {
    return reject('forbidden_characters', `forbidden character ${forbidden.codePoint} at index ${forbidden.index}; only an optional leading + and digits 0-9 are allowed`);
  }

  const digits = raw.startsWith('+') ? raw.length - 1 : raw.length;
  if (digits === 0) return reject('not_a_number', 'no digits');
  if (digits > MAX_DIALED_DIGITS) return reject('too_long', `${digits} digits; at most ${MAX_DIALED_DIGITS} allowed`);

  let parsed: PhoneNumber;
  try {
    parsed = parsePhoneNumberWithError(raw, { defaultCountry, extract: false });
  } catch (err) {
    if (err instanceof ParseError) {
      // NOT_A_NUMBER: nothing number-like; INVALID_COUNTRY: unknown country calling code;
      // TOO_SHORT / TOO_LONG / INVALID_LENGTH: digits, but not a dialable number.
      const reason: DialedRejection = err.message === 'NOT_A_NUMBER' ? 'not_a_number' : 'invalid_number';
      return reject(reason, `libphonenumber: ${err.message}`);
    }
    throw err;
  }

  if (!parsed.isValid()) {
    return reject('invalid_number', `not a valid number for country calling code +${parsed.countryCallingCode}`);
  }
  rememberCanonical(parsed);
  return { ok: true, e164: parsed.number, country: parsed.country };
}

function reject(reason: DialedRejection, detail: string): ParsedDialed {
  return { ok: false, reason, detail };
}

/** The first character that is neither a leading `+` nor an ASCII digit, as `U+XXXX`. */
function firstForbiddenCharacter(raw: string): { index: number; codePoint: string } | undefined {
  for (let i = 0; i < raw.length; i++) {
    const unit = raw.charCodeAt(i);
    if (unit >= 0x30 && unit <= 0x39) continue; // 0-9
    if (unit === 0x2b && i === 0) continue; // leading +
    // codePointAt pairs a surrogate so an emoji is named as one character (U+1F600).
    const cp = raw.codePointAt(i)!;
    return { index: i, codePoint: `U+${cp.toString(16).toUpperCase().padStart(4, '0')}` };
  }
  return undefined;
}
