/**
 * Emergency and service numbers. A PBX must never block or delay them: the flow asks this module
 * first, before it parses the number or looks anything up, and an emergency number goes to the
 * trunk as dialled, with the site's callback number (never a pool number) or the PBX's default.
 */

export interface EmergencySettings {
  /** Numbers per ISO country (digits only), on top of the built-in ones: they add, never remove. */
  numbers: Readonly<Record<string, readonly string[]>>;
  /** The site's callback number (E.164) for every trunk without its own; absent: the PBX default. */
  callerId?: string | null;
}

export const NO_EXTRA_EMERGENCY_NUMBERS: EmergencySettings = { numbers: {} };

/**
 * Recognised in every country, as mobile phones do (3GPP TS 22.101: 112 and 911 are always
 * emergency numbers). Where a network does not route one, the call fails at the carrier, which
 * is still better than the adapter refusing it.
 */
export const UNIVERSAL_EMERGENCY_NUMBERS: readonly string[] = ['112', '911'];

/** Each country's own emergency and crisis numbers, besides the universal ones. */
export const BUILTIN_EMERGENCY_NUMBERS: Readonly<Record<string, readonly string[]>> = {
  // NANP: 933 is the carriers' 911 address test line; 988 the suicide and crisis line.
  US: ['911', '933', '988'],
  CA: ['911', '933', '988'],
  PR: ['911'], VI: ['911'], GU: ['911'], AS: ['911'], MP: ['911'],
  MX: ['911'],
  GB: ['999'], GG: ['999'], JE: ['999'], IM: ['999'], IE: ['999'],
  AU: ['000', '106'], // 106: text relay
  NZ: ['111'],
  CN: ['110', '119', '120', '122'], // police, fire, ambulance, traffic
  HK: ['999'], MO: ['999'], TW: ['110', '119'],
  JP: ['110', '118', '119'], KR: ['112', '119'],
  IN: ['100', '101', '102', '108'], SG: ['995', '999'], MY: ['999'], PH: ['911'],
  DE: ['110'], FR: ['15', '17', '18', '114'], IT: ['113', '115', '118'],
  ES: ['091', '092', '061', '080', '062'], AT: ['122', '133', '144'], CH: ['117', '118', '144'],
  BE: ['100', '101'], NO: ['110', '113'], PL: ['997', '998', '999'], CZ: ['150', '155', '158'],
  GR: ['100', '166', '199'], RU: ['101', '102', '103', '104'],
  BR: ['190', '192', '193'], ZA: ['10111', '10177'], IL: ['100', '101', '102'],
  AE: ['997', '998', '999'], SA: ['997', '998', '999'],
};

/** Shortest and longest emergency number accepted, in digits. */
export const EMERGENCY_DIGITS_MIN = 2;
export const EMERGENCY_DIGITS_MAX = 6;

const NONE: readonly string[] = [];

function listed(table: Readonly<Record<string, readonly string[]>>, country: string): readonly string[] {
  return Object.hasOwn(table, country) ? table[country]! : NONE;
}

/** Every emergency number of a country: universal, built-in and configured, without repeats. */
export function emergencyNumbersOf(country: string, settings: EmergencySettings): string[] {
  return [...new Set([...UNIVERSAL_EMERGENCY_NUMBERS, ...listed(BUILTIN_EMERGENCY_NUMBERS, country), ...listed(settings.numbers, country)])];
}

/** True when `dialed` is exactly one of the country's emergency numbers: digits only, nothing around them. */
export function isEmergencyNumber(dialed: string, country: string, settings: EmergencySettings): boolean {
  if (dialed.length < EMERGENCY_DIGITS_MIN || dialed.length > EMERGENCY_DIGITS_MAX) return false;
  for (let i = 0; i < dialed.length; i++) {
    const c = dialed.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return (
    UNIVERSAL_EMERGENCY_NUMBERS.includes(dialed) ||
    listed(BUILTIN_EMERGENCY_NUMBERS, country).includes(dialed) ||
    listed(settings.numbers, country).includes(dialed)
  );
}

export interface EmergencyDecision {
  /** The digits exactly as dialled: what the trunk receives. */
  destination: string;
  /** The callback number to present (E.164): the trunk's, else the policy's; null: the PBX default. */
  callerId: string | null;
}

/**
 * The decision for an emergency number, or null when `dialed` is not one. The list is that of
 * the trunk's country. Synchronous and allocation-free for ordinary numbers.
 */
export function decideEmergency(
  dialed: string,
  trunk: { country: string; emergencyCallerId: string | null },
  settings: EmergencySettings,
): EmergencyDecision | null {
  if (!isEmergencyNumber(dialed, trunk.country, settings)) return null;
  return { destination: dialed, callerId: trunk.emergencyCallerId ?? settings.callerId ?? null };
}
