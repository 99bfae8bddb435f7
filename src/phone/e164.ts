/** Strict E.164 parsing shared by the phone helpers. */
import { parsePhoneNumberWithError } from 'libphonenumber-js/max';
import type { PhoneNumber } from 'libphonenumber-js/max';

/** `+`, a non-zero leading digit, at most 15 digits in all (ITU-T E.164). */
const E164 = /^\+[1-9][0-9]{1,14}$/;

/**
 * Parses a canonical E.164 string with libphonenumber's `max` metadata; throws an Error naming
 * `caller` otherwise. The input is echoed into a message only once it is known to be `+` and digits.
 * Validity (isValid) is not required: that is the dialed-number gate's job.
 */
export function parseE164(e164: string, caller: string): PhoneNumber {
  const known = recent.get(e164);
  if (known) return known;
  if (typeof e164 !== 'string' || !E164.test(e164)) {
    throw new Error(`${caller}: expected an E.164 number ("+" then 2 to 15 digits, no leading zero)`);
  }
  let parsed: PhoneNumber;
  try {
    parsed = parsePhoneNumberWithError(e164, { extract: false });
  } catch (err) {
    throw new Error(`${caller}: ${e164} is not a parseable E.164 number (${(err as Error).message})`);
  }
  if (parsed.number !== e164) {
    throw new Error(`${caller}: ${e164} is not in canonical E.164 form (expected ${parsed.number})`);
  }
  rememberCanonical(parsed);
  return parsed;
}

/**
 * Numbers already parsed to canonical E.164, newest last: the pool's caller IDs and the number
 * just dialled are formatted on every call, and a parse costs 150-300 us on an idle machine
 * (libphonenumber's regular expressions, cold), where a hit costs a Map look-up. Bounded, oldest out.
 */
const recent = new Map<string, PhoneNumber>();
const RECENT_MAX = 5000;

/** Remembers a number whose `.number` is canonical E.164 (parsed here or by the dialed-number gate). */
export function rememberCanonical(parsed: PhoneNumber): void {
  if (recent.has(parsed.number)) return;
  if (recent.size >= RECENT_MAX) recent.delete(recent.keys().next().value!);
  recent.set(parsed.number, parsed);
}
