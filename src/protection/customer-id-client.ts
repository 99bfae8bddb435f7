/**
 * The external customer-ID interface of number protection (issue 9, mode `customer-id`): the
 * real number is mapped to a customer ID that agents see instead, and back again for "call by
 * customer ID".
 *
 *   number -> id:  GET {url}?number=<E.164>    200 {"customerId": "C-1001"}
 *   id -> number:  GET {url}?customerId=<id>   200 {"number": "+8613800138000"}
 *   no such customer: 404, or 200 with `null` in place of the value.
 *
 * Whatever goes wrong (timeout, refused connection, a status other than 200/404, a redirect, a body
 * over 4 KiB, not UTF-8 JSON, wrong types, an id outside CUSTOMER_ID_PATTERN, a number that is not
 * valid canonical E.164) the look-up resolves to `unavailable` with a reason: it never throws, and
 * no result other than a successful reverse look-up holds a number. The caller then shows the
 * masked number. Nothing is logged here: the caller logs, masked.
 *
 * Answers and "no such customer" are cached (separate TTLs, at most `cacheMax` entries per
 * direction, oldest written first out); `unavailable` never is. Concurrent look-ups of one key
 * share one request.
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { z } from 'zod';

/** What an id may look like, in answers and in `numberFor`: nothing else reaches an agent or the URL. */
export const CUSTOMER_ID_PATTERN = /^[A-Za-z0-9_.-]{1,40}$/;
/** Larger answers are refused (`bad-answer`) without being read further. */
export const MAX_ANSWER_BYTES = 4096;
export const DEFAULT_CACHE_MAX = 10_000;
/** `negativeTtlMs` defaults to min(cacheTtlMs, this). */
export const DEFAULT_NEGATIVE_TTL_CAP_MS = 60_000;

export interface CustomerIdClientOptions {
  /** http(s) URL of the interface, e.g. https://crm.example/api/customer-id; a query it has is kept. */
  url: string;
  /** Sent with every request, e.g. { authorization: 'Bearer ...' } (where the secret comes from is the caller's business). */
  headers?: Record<string, string>;
  /** Time limit of each request, answer body included. */
  timeoutMs: number;
  /** How long an answer is kept. */
  cacheTtlMs: number;
  /** How long "no such customer" is kept; default min(cacheTtlMs, 60 s). */
  negativeTtlMs?: number;
  /** Entries kept per direction; default 10,000, oldest written first out. */
  cacheMax?: number;
  /** Clock for the cache (ms); default Date.now. */
  now?: () => number;
}

export type UnavailableReason = 'timeout' | 'http-error' | 'bad-answer' | 'network';
export type Unavailable = { kind: 'unavailable'; reason: UnavailableReason };

export type IdLookup = { kind: 'id'; id: string; cached: boolean } | { kind: 'none' } | Unavailable;
export type NumberLookup = { kind: 'number'; e164: string; cached: boolean } | { kind: 'none' } | Unavailable;

export interface CustomerIdClientStats {
  /** Look-ups answered from the cache. */
  hits: number;
  /** Look-ups not in the cache (each made a request or joined one in flight). */
  misses: number;
  /** HTTP requests made. */
  requests: number;
  /** Look-ups that joined a request already in flight for the same key. */
  shared: number;
  /** Requests that ran out of time. */
  timeouts: number;
  /** Requests that ended `unavailable` for another reason. */
  errors: number;
  /** Look-ups refused without a request (an id outside the pattern, a number that is not E.164). */
  refused: number;
  /** Entries now in the two caches. */
  cached: number;
}

export interface CustomerIdClient {
  /** The customer ID of a number (E.164). */
  idFor(e164: string): Promise<IdLookup>;
  /** The number of a customer ID (reverse look-up, for "call by customer ID"). */
  numberFor(id: string): Promise<NumberLookup>;
  stats(): CustomerIdClientStats;
}

const E164 = /^\+[1-9][0-9]{1,14}$/;

const optionsSchema = z.object({
  url: z
    .url({ protocol: /^https?$/, message: 'must be an http(s) URL' })
    .refine((u) => {
      if (!URL.canParse(u)) return true; // z.url has said so already
      const parsed = new URL(u);
      return parsed.username === '' && parsed.password === '';
    }, 'must not hold credentials (send them in headers)'),
  headers: z.record(z.string(), z.string()).optional(),
  timeoutMs: z.number().int().min(1).max(600_000),
  cacheTtlMs: z.number().int().min(0),
  negativeTtlMs: z.number().int().min(0).optional(),
  cacheMax: z.number().int().min(1).optional(),
  now: z.custom<() => number>((f) => typeof f === 'function', 'must be a function').optional(),
});

const idAnswer = z.object({ customerId: z.string().regex(CUSTOMER_ID_PATTERN).nullable() });
const numberAnswer = z.object({
  number: z
    .string()
    .refine((n) => canonicalValidE164(n), 'not a valid E.164 number')
    .nullable(),
});

/** Throws a TypeError naming the option for bad options (a configuration error, at start-up); never echoes values. */
export function createCustomerIdClient(options: CustomerIdClientOptions): CustomerIdClient {
  const checked = optionsSchema.safeParse(options);
  if (!checked.success) {
    const problems = checked.error.issues.map((i) => `options.${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new TypeError(`createCustomerIdClient: ${problems.join('; ')}`);
  }
  let headers: Headers;
  try {
    headers = new Headers(options.headers ?? {});
  } catch {
    throw new TypeError('createCustomerIdClient: options.headers: not valid HTTP header names and values');
  }
  if (!headers.has('accept')) headers.set('accept', 'application/json');

  const now = options.now ?? Date.now;
  const ttl = options.cacheTtlMs;
  const negativeTtl = options.negativeTtlMs ?? Math.min(ttl, DEFAULT_NEGATIVE_TTL_CAP_MS);
  const cacheMax = options.cacheMax ?? DEFAULT_CACHE_MAX;
  const counts = { hits: 0, misses: 0, requests: 0, shared: 0, timeouts: 0, errors: 0, refused: 0 };

  type Found<T> = { kind: 'found'; value: T } | { kind: 'none' } | Unavailable;
  interface Direction<T> {
    cache: Map<string, { answer: Found<T>; expires: number }>;
    inflight: Map<string, Promise<Found<T>>>;
  }
  const byNumber: Direction<string> = { cache: new Map(), inflight: new Map() };
  const byId: Direction<string> = { cache: new Map(), inflight: new Map() };

  /** The cached answer, or one request shared by everyone asking for `key` meanwhile. */
  async function lookUp<T>(dir: Direction<T>, key: string, ask: () => Promise<Found<T>>): Promise<{ answer: Found<T>; cached: boolean }> {
    const entry = dir.cache.get(key);
    if (entry) {
      if (now() < entry.expires) {
        counts.hits++;
        return { answer: entry.answer, cached: true };
      }
      dir.cache.delete(key);
    }
    counts.misses++;
    let pending = dir.inflight.get(key);
    if (pending) {
      counts.shared++;
    } else {
      pending = ask()
        .catch((): Found<T> => {
          counts.errors++;
          return { kind: 'unavailable', reason: 'network' };
        })
        .then((answer) => {
          dir.inflight.delete(key);
          remember(dir, key, answer);
          return answer;
        });
      dir.inflight.set(key, pending);
    }
    return { answer: await pending, cached: false };
  }

  function remember<T>(dir: Direction<T>, key: string, answer: Found<T>): void {
    if (answer.kind === 'unavailable') return;
    const keep = answer.kind === 'none' ? negativeTtl : ttl;
    if (keep <= 0) return;
    dir.cache.delete(key);
    while (dir.cache.size >= cacheMax) dir.cache.delete(dir.cache.keys().next().value!);
    dir.cache.set(key, { answer, expires: now() + keep });
  }

  /** One GET with `param=value` added to the URL's query; the parsed JSON body, none, or why not. */
  async function get(param: 'number' | 'customerId', value: string): Promise<{ kind: 'body'; body: unknown } | { kind: 'none' } | Unavailable> {
    counts.requests++;
    const target = new URL(options.url);
    const query = new URLSearchParams(target.search);
    query.set(param, value);
    target.search = query.toString();
    const signal = AbortSignal.timeout(options.timeoutMs);
    const failed = (reason: UnavailableReason): Unavailable => {
      if (reason === 'timeout') counts.timeouts++;
      else counts.errors++;
      return { kind: 'unavailable', reason };
    };
    try {
      const res = await fetch(target, { method: 'GET', headers, redirect: 'manual', signal });
      if (res.status === 404) {
        discard(res);
        return { kind: 'none' };
      }
      if (res.status !== 200) {
        discard(res);
        return failed('http-error');
      }
      const text = await readCapped(res);
      if (text === undefined) return failed('bad-answer');
      try {
        return { kind: 'body', body: JSON.parse(text) as unknown };
      } catch {
        return failed('bad-answer');
      }
    } catch {
      return failed(signal.aborted ? 'timeout' : 'network');
    }
  }

  function badAnswer(): Unavailable {
    counts.errors++;
    return { kind: 'unavailable', reason: 'bad-answer' };
  }

  return {
    async idFor(e164) {
      if (typeof e164 !== 'string' || !E164.test(e164)) {
        counts.refused++;
        return { kind: 'none' };
      }
      const { answer, cached } = await lookUp(byNumber, e164, async () => {
        const got = await get('number', e164);
        if (got.kind !== 'body') return got;
        const parsed = idAnswer.safeParse(got.body);
        if (!parsed.success) return badAnswer();
        const id = parsed.data.customerId;
        if (id === null) return { kind: 'none' };
        // An "id" that spells the number out would show agents what protection hides.
        if (id.replace(/[^0-9]/g, '').includes(nationalDigits(e164))) return badAnswer();
        return { kind: 'found', value: id };
      });
      return answer.kind === 'found' ? { kind: 'id', id: answer.value, cached } : answer;
    },

    async numberFor(id) {
      if (typeof id !== 'string' || !CUSTOMER_ID_PATTERN.test(id)) {
        counts.refused++;
        return { kind: 'none' };
      }
      const { answer, cached } = await lookUp(byId, id, async () => {
        const got = await get('customerId', id);
        if (got.kind !== 'body') return got;
        const parsed = numberAnswer.safeParse(got.body);
        if (!parsed.success) return badAnswer();
        const e164 = parsed.data.number;
        return e164 === null ? { kind: 'none' } : { kind: 'found', value: e164 };
      });
      return answer.kind === 'found' ? { kind: 'number', e164: answer.value, cached } : answer;
    },

    stats() {
      return { ...counts, cached: byNumber.cache.size + byId.cache.size };
    },
  };
}

/** The body as UTF-8 text, or undefined when it is over MAX_ANSWER_BYTES or not UTF-8. Throws on abort. */
async function readCapped(res: Response): Promise<string | undefined> {
  const declared = Number(res.headers.get('content-length') ?? '0');
  if (declared > MAX_ANSWER_BYTES) {
    discard(res);
    return undefined;
  }
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_ANSWER_BYTES) {
      reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/** Drops an unread body so the connection is released; nothing in it matters. */
function discard(res: Response): void {
  res.body?.cancel().catch(() => {});
}

function canonicalValidE164(n: string): boolean {
  if (!E164.test(n)) return false;
  const parsed = parsePhoneNumberFromString(n, { extract: false });
  return parsed !== undefined && parsed.number === n && parsed.isValid();
}

/** The national significant number of an E.164 string (digits after the country code). */
function nationalDigits(e164: string): string {
  return parsePhoneNumberFromString(e164, { extract: false })?.nationalNumber ?? e164.slice(1);
}
