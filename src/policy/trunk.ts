/** A trunk as a call decision sees it: every setting resolved, nothing left to default. */

export type NumberFormat = 'e164' | 'national';

/** A trunk's settings as configured: everything but the formats may be left out. */
export interface TrunkSettingsInput {
  country?: string | null;
  callerIdFormat: NumberFormat;
  calleeFormat: NumberFormat;
  displayName: string;
  internationalPrefix?: string | null;
  emergencyCallerId?: string | null;
}

export interface TrunkProfile {
  /** False when the PBX named a trunk the policy does not list (the defaults apply). */
  known: boolean;
  /** ISO 3166 alpha-2: `national` formats apply to numbers of this country's numbering plan. */
  country: string;
  callerIdFormat: NumberFormat;
  calleeFormat: NumberFormat;
  /** The caller ID name the trunk receives (never the agent's internal name). */
  displayName: string;
  /** Dialled before the country code of numbers abroad on a `national` trunk; null: E.164. */
  internationalPrefix: string | null;
  /** The callback number (E.164) for emergency calls on this trunk; null: the policy-wide one. */
  emergencyCallerId: string | null;
}

/**
 * The trunk a call leaves on, by the name the PBX gave. An unknown trunk gets E.164 both ways,
 * no display name, and the default country.
 */
export function resolveTrunk(trunks: Readonly<Record<string, TrunkSettingsInput>>, name: string, defaultCountry: string): TrunkProfile {
  // Own keys only: a trunk named "constructor" must not find Object.prototype's.
  const t = Object.hasOwn(trunks, name) ? trunks[name] : undefined;
  return {
    known: t !== undefined,
    country: t?.country ?? defaultCountry,
    callerIdFormat: t?.callerIdFormat ?? 'e164',
    calleeFormat: t?.calleeFormat ?? 'e164',
    displayName: t?.displayName ?? '',
    internationalPrefix: t?.internationalPrefix ?? null,
    emergencyCallerId: t?.emergencyCallerId ?? null,
  };
}
