/**
 * The digits a trunk expects for a number that already passed the dialed-number gate.
 */
import { parseE164 } from './e164.js';

export type TrunkNumberFormat = 'e164' | 'national';

/**
 * `e164`: the number unchanged (`+14155550123`).
 * `national`: the national format with every non-digit stripped, national prefix included where
 * the country uses one (`4155550123` for US, `13800138000` for a CN mobile, `01012345678` for a
 * Beijing landline, `02079460000` for London).
 *
 * Throws an Error when `e164` is not a canonical E.164 string libphonenumber can parse.
 */
export function formatForTrunk(e164: string, format: TrunkNumberFormat): string {
  const parsed = parseE164(e164, 'formatForTrunk');
  switch (format) {
    case 'e164':
      return parsed.number;
    case 'national':
      return parsed.formatNational().replace(/[^0-9]/g, '');
    default: {
      const unknown: never = format;
      throw new Error(`formatForTrunk: unknown trunk format ${JSON.stringify(String(unknown))}`);
    }
  }
}
