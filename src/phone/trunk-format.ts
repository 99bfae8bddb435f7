/**
 * The digits a trunk expects for a number that already passed the dialed-number gate.
 */
import { getCountryCallingCode, isSupportedCountry, type CountryCode } from 'libphonenumber-js/max';
import { parseE164 } from './e164.js';

export type TrunkNumberFormat = 'e164' | 'national';

/** Where a trunk is and how it wants numbers from abroad. */
export interface TrunkNumbering {
  /** ISO 3166 alpha-2 of the trunk's country (`US`, `CN`). */
  country: string;
  /** Dialled before the country code of a number abroad (`00`, `011`); absent or null: E.164. */
  internationalPrefix?: string | null;
}

/** 2 to 5 digits: with a 15-digit E.164 number the result stays within 20 digits. */
const INTERNATIONAL_PREFIX = /^[0-9]{2,5}$/;

/**
 * `e164`: the number unchanged (`+14155550123`), whatever the trunk's country.
 * `national`: for a number of the trunk's numbering plan (same country calling code: a US trunk
 * takes Canadian numbers nationally, as NANP does), the national format with every non-digit
 * stripped, national prefix included where the country uses one (`4155550123` for US,
 * `13800138000` for a CN mobile, `01012345678` for a Beijing landline, `02079460000` for London).
 * A number from abroad goes out in international form: E.164, or the trunk's international prefix
 * then country code and national number (`011442079460000`, `00442079460000`).
 *
 * Throws an Error when `e164` is not a canonical E.164 string libphonenumber can parse, or the
 * trunk's country or international prefix is not usable.
 */
export function formatForTrunk(e164: string, format: TrunkNumberFormat, trunk: TrunkNumbering): string {
  const parsed = parseE164(e164, 'formatForTrunk');
  switch (format) {
    case 'e164':
      return parsed.number;
    case 'national': {
      if (parsed.countryCallingCode === callingCodeOf(trunk.country)) return parsed.formatNational().replace(/[^0-9]/g, '');
      const prefix = trunk.internationalPrefix;
      if (prefix === undefined || prefix === null) return parsed.number;
      if (!INTERNATIONAL_PREFIX.test(prefix)) throw new Error('formatForTrunk: the international prefix must be 2 to 5 digits');
      return `${prefix}${parsed.number.slice(1)}`;
    }
    default: {
      const unknown: never = format;
      throw new Error(`formatForTrunk: unknown trunk format ${JSON.stringify(String(unknown))}`);
    }
  }
}

function callingCodeOf(country: string): string {
  if (!isSupportedCountry(country)) throw new Error(`formatForTrunk: unsupported trunk country ${JSON.stringify(String(country).slice(0, 8))}`);
  return getCountryCallingCode(country as CountryCode);
}
