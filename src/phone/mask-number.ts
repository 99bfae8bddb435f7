/**
 * The masked form of a customer's number, the only form an agent may see while number protection
 * (issue 9, mode `mask`) is on. Pure: no I/O, no logging.
 *
 * The rule, applied to the national significant number (NSN: libphonenumber's `nationalNumber`,
 * digits only, without country calling code or trunk prefix) of n digits:
 *
 * - n >= 5: exactly 4 consecutive digits are hidden, starting at index floor((n - 4) / 2); the
 *   floor((n - 4) / 2) digits before them and the rest after them stay visible. So 11 digits
 *   `13800138000` -> `138****8000`, 10 digits `4155550123` -> `415****123`, 7 digits `6101234` ->
 *   `6****34`, 6 digits `321000` -> `3****0`, 5 digits `22158` -> `****8`. Numbers of 5 to 7
 *   digits thus keep n - 4 visible digits (1 to 3), split the same way.
 * - n <= 4: every digit is hidden; `national` is `****` whatever n is (the length is not shown).
 * - The country calling code may be shown in `display` (`+86 138****8000`); no other digit is ever
 *   added: no trunk prefix, no hidden digit, no digit of the input that is not in the NSN.
 * - Input that is not canonical E.164 (`+`, then 2 to 15 digits, no leading zero, nothing else) or
 *   that libphonenumber cannot read: `display` and `national` are both `****`; nothing of the input
 *   is echoed.
 *
 * The hidden block is one run of `*`, so a search of the masked text for the real number in any of
 * its forms (E.164, national with or without trunk prefix, `00`/`011` international prefix, with
 * separators) or for a hidden digit next to a visible one finds nothing (test/unit/mask-number.test.ts).
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';

export interface MaskedNumber {
  /** For an agent's screen or a SIP display: `+<country code> <national>`, or `****` for unreadable input. */
  display: string;
  /** The NSN with its hidden digits as `*`: `138****8000`; `****` for short or unreadable numbers. */
  national: string;
  /**
   * How many digits of the NSN are not shown: 4, or n for n <= 4 digits; 0 only when the input was
   * not a readable number (nothing was read, and display/national show no digit at all).
   */
  hidden: number;
}

/** How many consecutive digits the mask hides. */
export const MASKED_DIGITS = 4;
const HIDDEN = '*'.repeat(MASKED_DIGITS);
/** Canonical E.164: `+`, a non-zero leading digit, at most 15 digits in all. */
const E164 = /^\+[1-9][0-9]{1,14}$/;
const UNREADABLE: MaskedNumber = Object.freeze({ display: HIDDEN, national: HIDDEN, hidden: 0 });

/** Where the hidden block of an n-digit NSN starts (n >= 5). */
export function maskStart(n: number): number {
  return Math.floor((n - MASKED_DIGITS) / 2);
}

export function maskNumber(e164: string): MaskedNumber {
  if (typeof e164 !== 'string' || !E164.test(e164)) return UNREADABLE;
  const parsed = parsePhoneNumberFromString(e164, { extract: false });
  const nsn = parsed?.nationalNumber;
  const cc = parsed?.countryCallingCode;
  if (!nsn || !cc || !/^[0-9]+$/.test(nsn) || !/^[0-9]{1,3}$/.test(cc)) return UNREADABLE;

  const n = nsn.length;
  if (n <= MASKED_DIGITS) return { display: `+${cc} ${HIDDEN}`, national: HIDDEN, hidden: n };
  const start = maskStart(n);
  const national = nsn.slice(0, start) + HIDDEN + nsn.slice(start + MASKED_DIGITS);
  return { display: `+${cc} ${national}`, national, hidden: MASKED_DIGITS };
}
