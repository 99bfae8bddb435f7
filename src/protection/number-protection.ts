/**
 * Number protection (issue 9): what an agent may see of a customer's number, and the way back
 * from a customer ID to the number for "call by customer ID". The policy says the mode; this
 * module turns it into the identity the PBX presents to the agent's phone. It never throws and
 * never waits longer than the interface's own time limit: whatever fails, the agent gets the
 * masked number, never the real one.
 */
import type { CustomerIdRefusal, ShownIdentity } from '../pbx/call-control.js';
import { maskNumber } from '../phone/mask-number.js';
import type { ProtectionSettings } from '../store/load-policy.js';
import { CUSTOMER_ID_PATTERN, createCustomerIdClient, type CustomerIdClient, type UnavailableReason } from './customer-id-client.js';

/** A shown identity and how it was made (for the log line; none of it is the real number). */
export type Shown = ShownIdentity & {
  source: 'mask' | 'customer-id' | 'withheld';
  /** customer-id mode fell back to the mask: no such customer, or why the interface could not say. */
  fallback?: 'none' | UnavailableReason;
};

export type CustomerIdResolution =
  | { kind: 'number'; e164: string; id: string; shown: ShownIdentity }
  | { kind: 'refused'; why: CustomerIdRefusal; reason: string; id: string | null };

export interface NumberProtection {
  readonly mode: ProtectionSettings['mode'];
  /**
   * What the agent's phone may receive of a customer: `e164` when the caller ID is a number,
   * else null (`raw` tells a withheld caller from an unreadable one). null when protection is off.
   */
  shownFor(e164: string | null, raw?: string): Promise<Shown | null>;
  /** The masked identity, at once, no look-up (an outbound number the agent dialled); null when protection is off. */
  maskedFor(e164: string | null): Shown | null;
  /** What an agent dialled in the customer-ID context (prefix + ID): the customer's number, or why not. */
  resolveDialed(dialed: string): Promise<CustomerIdResolution>;
  /** The interface's counters (customer-id mode), for health and tests. */
  stats(): ReturnType<CustomerIdClient['stats']> | null;
}

/** The masked identity: the national number with four digits hidden, `****` when it cannot be read. */
function masked(e164: string | null, raw?: string): Shown {
  if (e164 === null && (raw === undefined || raw.trim() === '' || /^anonymous$/i.test(raw.trim()))) {
    return { number: 'anonymous', name: 'Anonymous', source: 'withheld' };
  }
  const m = maskNumber(e164 ?? '');
  return { number: m.national, name: m.display, source: 'mask' };
}

/** The header value of the interface's secret, as the environment gave it (never from the policy). */
export interface ProtectionSecrets {
  customerIdAuth?: string;
}

export function createNumberProtection(settings: ProtectionSettings, secrets: ProtectionSecrets = {}): NumberProtection {
  const mode = settings.mode;
  const cfg = mode === 'customer-id' ? settings.customerId : undefined;
  const client = cfg
    ? createCustomerIdClient({
        url: cfg.url,
        headers: cfg.authHeader && secrets.customerIdAuth ? { [cfg.authHeader]: secrets.customerIdAuth } : {},
        timeoutMs: cfg.timeoutMs,
        cacheTtlMs: cfg.cacheSeconds * 1000,
        negativeTtlMs: cfg.negativeCacheSeconds * 1000,
      })
    : null;
  const prefix = cfg?.dialPrefix ?? '';
  /** What the agent's phone shows for a customer ID: the ID, and as the number prefix + ID, so that calling back calls that customer. */
  const byId = (id: string): ShownIdentity => ({ number: `${prefix}${id}`, name: id });

  return {
    mode,
    maskedFor: (e164) => (mode === 'off' ? null : masked(e164)),
    async shownFor(e164, raw) {
      if (mode === 'off') return null;
      if (!client || e164 === null) return masked(e164, raw);
      const found = await client.idFor(e164);
      if (found.kind === 'id') return { ...byId(found.id), source: 'customer-id' };
      return { ...masked(e164), fallback: found.kind === 'none' ? 'none' : found.reason };
    },
    async resolveDialed(dialed) {
      if (!client) return { kind: 'refused', why: 'unknown-id', reason: 'call by customer ID needs protection mode customer-id', id: null };
      if (!cfg?.dialPrefix) return { kind: 'refused', why: 'unknown-id', reason: 'protection.customerId.dialPrefix is not set: calls by customer ID are off', id: null };
      if (!dialed.startsWith(prefix)) {
        return { kind: 'refused', why: 'unknown-id', reason: `the dialplan sent a call by customer ID without the policy's prefix "${prefix}": its pattern and protection.customerId.dialPrefix differ`, id: null };
      }
      const id = dialed.slice(prefix.length);
      if (!CUSTOMER_ID_PATTERN.test(id)) return { kind: 'refused', why: 'unknown-id', reason: 'not a customer ID (1-40 letters, digits, _ . -)', id: null };
      const found = await client.numberFor(id);
      if (found.kind === 'number') return { kind: 'number', e164: found.e164, id, shown: byId(id) };
      if (found.kind === 'none') return { kind: 'refused', why: 'unknown-id', reason: 'no such customer', id };
      return { kind: 'refused', why: 'id-unavailable', reason: `customer-ID interface: ${found.reason}`, id };
    },
    stats: () => client?.stats() ?? null,
  };
}

/**
 * The protection of the policy in use, rebuilt only when its settings change (a policy reload),
 * so the interface's cache survives reloads that do not touch it.
 */
export function protectionForPolicy(secrets: ProtectionSecrets): (settings: ProtectionSettings) => NumberProtection {
  let key = '';
  let current: NumberProtection | undefined;
  return (settings) => {
    const k = JSON.stringify(settings);
    if (!current || k !== key) {
      current = createNumberProtection(settings, secrets);
      key = k;
    }
    return current;
  };
}
