import { isSupportedCountry, type CountryCode } from 'libphonenumber-js';
import { LineCounter, isMap, isScalar, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { TIERS } from '../policy/caller-id-types.js';
import { EMERGENCY_DIGITS_MAX, EMERGENCY_DIGITS_MIN } from '../policy/emergency.js';
import { SURVEY_DIGITS } from '../policy/survey.js';
import { BUILTIN_SURVEY_TEMPLATE_NAMES, type SurveyPromptSource } from '../policy/survey-defaults.js';
import { parseDialedNumber } from '../phone/index.js';
import { isTimeZone } from './time-zone.js';

/**
 * The policy file: settings and the whole inventory (groups, numbers, agents) as the
 * administrator wants it. Applying it replaces what the database holds, in one transaction.
 */

const name = z.string().regex(/^[A-Za-z0-9_.@-]{1,64}$/, 'use 1-64 letters, digits, or _ . @ -');
const e164 = z.string().regex(/^\+[1-9][0-9]{6,14}$/, 'must be an E.164 number like +14155550123');
/** A name as the policy writes it (group, agent id, trunk, template), and an E.164 number: the API's parameters use the same. */
export { name as nameSchema, e164 as e164Schema };
const chain = z.array(z.enum(TIERS)).min(1, 'a chain needs at least one tier');
// A display name reaches the trunk in a SIP header: keep it to plain printable text.
const displayName = z
  .string()
  .max(40)
  .regex(/^[\p{L}\p{N} .,'&()-]*$/u, 'letters, digits, spaces and . , \' & ( ) - only');
const numberFormat = z.enum(['e164', 'national']);
const dailyCap = z.number().int('a whole number').min(1).max(100_000);

const locationText = z.string().min(1).max(80);
const country = z.string().refine((c): boolean => isSupportedCountry(c), 'must be an ISO 3166 country code like US or CN');
// YAML reads 000 or 112 unquoted as integers (000 becomes 0): digit strings must be quoted.
const digits = (what: string, min: number, max: number, example: string) =>
  z
    .string({ error: (i) => (i.input === undefined ? 'required' : `${what} must be quoted, like "${example}" (unquoted, YAML reads it as a number)`) })
    .regex(new RegExp(`^[0-9]{${min},${max}}$`), `${what} must be ${min} to ${max} digits and nothing else, like "${example}"`);
const emergencyNumber = digits('an emergency number', EMERGENCY_DIGITS_MIN, EMERGENCY_DIGITS_MAX, '911');

const trunkSchema = z.strictObject({
  country: country.optional(),
  callerIdFormat: numberFormat.default('e164'),
  calleeFormat: numberFormat.default('e164'),
  displayName: displayName.default(''),
  internationalPrefix: digits('the international prefix', 2, 5, '011').nullable().optional(),
  emergencyCallerId: e164.nullable().optional(),
});

const emergencySchema = z.strictObject({
  numbers: z
    .record(country, z.array(emergencyNumber), { error: (i) => (i.code === 'invalid_key' ? `'${String(i.input)}' is not an ISO 3166 country code like US or CN` : undefined) })
    .default({}),
  callerId: e164.nullable().optional(),
});

/** Call memory: an inbound call from a customer an agent called recently goes to that agent. */
const memorySchema = z.strictObject({
  /** off; only-agent (the reference's mode 1); agent-first (mode 2: the agent, else the IVR). */
  mode: z.enum(['off', 'only-agent', 'agent-first']).default('off'),
  windowHours: z.number().positive().max(24 * 90, 'at most 2160 hours (90 days)').default(72),
  countUnanswered: z.boolean().default(true),
  ringSeconds: z.number().int().min(5).max(300).default(20),
  waitSeconds: z.number().int().min(5).max(3600).default(60),
  finalDestination: z
    .discriminatedUnion('kind', [
      z.strictObject({ kind: z.literal('goodbye') }),
      z.strictObject({ kind: z.literal('voicemail'), extension: digits('a voicemail extension', 1, 20, '2001') }),
    ])
    .default({ kind: 'goodbye' }),
});

/**
 * A survey prompt: exactly one of { text, voice? } (spoken by espeak-ng at apply time),
 * { sound } (a sound the PBX has), { file } (an audio file converted at apply time).
 */
const promptSchema = z
  .strictObject({
    text: z.string().min(1, 'the text is empty').max(500, 'at most 500 characters').optional(),
    voice: z
      .string()
      .regex(/^[a-z]{2,3}([-+][A-Za-z0-9-]+)?$/, 'must be an espeak-ng voice like en, en-us or cmn (espeak-ng --voices lists them)')
      .optional(),
    sound: z
      .string()
      .max(200)
      .regex(/^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/, 'must be a PBX sound name like custom/thanks: segments of letters, digits, _ and - joined by /, no "..", no leading /')
      .optional(),
    file: z
      .string()
      .max(1000)
      .regex(/^\/[^\0\n\r]*$/, 'must be an absolute path to an audio file, like /srv/prompts/thanks.wav')
      .optional(),
  })
  .check((ctx) => {
    const p = ctx.value;
    const kinds = (['text', 'sound', 'file'] as const).filter((k) => p[k] !== undefined);
    if (kinds.length !== 1) {
      ctx.issues.push({
        code: 'custom',
        input: p,
        message: `a prompt is exactly one of { text, voice? }, { sound } or { file } (${kinds.length === 0 ? 'this one has none' : `this one has ${kinds.join(' and ')}`})`,
      });
    } else if (p.voice !== undefined && kinds[0] !== 'text') {
      ctx.issues.push({ code: 'custom', input: p, path: ['voice'], message: 'voice goes with text only' });
    }
  })
  .transform((p): SurveyPromptSource => (p.text !== undefined ? { text: p.text, voice: p.voice ?? 'en' } : p.sound !== undefined ? { sound: p.sound } : { file: p.file! }));

const surveyTemplateSchema = z.strictObject({
  intro: promptSchema,
  closing: promptSchema,
  invalid: promptSchema,
  keys: z
    .record(
      z.string().regex(SURVEY_DIGITS),
      z.strictObject({
        label: z.string().regex(/^[^\p{C}]{1,40}$/u, '1 to 40 printable characters'),
        score: z.number().int('a whole number').min(-100).max(100),
      }),
      { error: (i) => (i.code === 'invalid_key' ? `'${String(i.input)}' is not a DTMF key: use one of 0-9, * or #, quoted, like "1"` : undefined) },
    )
    .refine((k) => Object.keys(k).length > 0, 'a template needs at least one key, like "1": { label: satisfied, score: 3 }'),
  tries: z.number().int().min(1).max(5).default(2),
  timeoutSeconds: z.number().int().min(1).max(60).default(5),
});

/** The post-call satisfaction survey; absent: no call is surveyed. */
const surveySchema = z.strictObject({
  outbound: z.boolean().default(true),
  inbound: z.boolean().default(false),
  /** Built-in templates: en, zh. */
  defaultTemplate: name.default('en'),
  /** Tried in order; the first match wins. */
  rules: z.array(z.strictObject({ direction: z.enum(['outbound', 'inbound']).optional(), group: name.optional(), template: name })).default([]),
  templates: z.record(name, surveyTemplateSchema).default({}),
});

/**
 * Number protection: what agents see of a customer's number. off; mask (the middle four digits
 * hidden); customer-id (an ID from the site's interface, the masked number when it has none or
 * fails). The interface's secret never sits here: the adapter reads its header value from
 * CALLPOLICY_CUSTOMER_ID_AUTH or CALLPOLICY_CUSTOMER_ID_AUTH_FILE.
 */
const protectionSchema = z
  .strictObject({
    mode: z.enum(['off', 'mask', 'customer-id']).default('off'),
    customerId: z
      .strictObject({
        url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL like https://crm.example/api/customer-id' }),
        /** The request header that carries the secret, e.g. Authorization; absent: no authentication. */
        authHeader: z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'a header name like Authorization').optional(),
        /** Each request's limit; the PBX's decision wait (2 s) must cover it. */
        timeoutMs: z.number().int().min(50).max(1500).default(800),
        cacheSeconds: z.number().int().min(0).max(86_400).default(600),
        negativeCacheSeconds: z.number().int().min(0).max(3600).default(60),
        /** What an agent dials before an ID to call that customer (the dialplan's pattern must match); absent: no calls by ID. */
        dialPrefix: z.string().regex(/^[*#0-9]{1,4}$/, '1 to 4 of 0-9, * and #, quoted, like "*9"').optional(),
      })
      .optional(),
  })
  .refine((p) => p.mode !== 'customer-id' || p.customerId !== undefined, {
    path: ['customerId'],
    message: 'mode customer-id needs customerId: { url: ... }',
  });

export const policyFileSchema = z.strictObject({
  defaultCountry: country.default('US'),
  callerId: z.strictObject({
    strategy: z.enum(['group', 'area', 'agent']),
    selection: z.enum(['random', 'lru']).default('random'),
    chains: z.strictObject({ group: chain.optional(), area: chain.optional(), agent: chain.optional() }).default({}),
    onInvalidNumber: z.enum(['reject', 'default']).default('reject'),
    /** At most this many calls present one number per day (a number's own dailyCap wins); absent: no cap. */
    dailyCap: dailyCap.optional(),
    /** The day of the caps: midnight in this IANA time zone. */
    capTimeZone: z
      .string()
      .refine((tz) => isTimeZone(tz), 'must be an IANA time zone like UTC, America/New_York or Asia/Shanghai')
      .default('UTC'),
  }),
  trunks: z.record(name, trunkSchema).default({ trunk: trunkSchema.parse({}) }),
  emergency: emergencySchema.default({ numbers: {} }),
  memory: memorySchema.default(memorySchema.parse({})),
  survey: surveySchema.optional(),
  privacy: z.strictObject({ maskNumbersInLogs: z.boolean().default(true) }).default({ maskNumbersInLogs: true }),
  protection: protectionSchema.default({ mode: 'off' }),
  groups: z.array(name).default([]),
  numbers: z
    .array(
      z.strictObject({
        number: e164,
        enabled: z.boolean().default(true),
        groups: z.array(name).default([]),
        location: z.strictObject({ area: locationText.nullable().optional(), region: locationText.nullable().optional() }).optional(),
        dailyCap: dailyCap.optional(),
      }),
    )
    .default([]),
  agents: z
    .array(
      z.strictObject({
        id: name,
        endpoint: z.string().regex(/^[A-Za-z0-9]+\/[A-Za-z0-9_.@-]+$/, 'must be a PBX endpoint like PJSIP/1001'),
        groups: z.array(name).default([]),
        numbers: z.array(e164).default([]),
        chosen: e164.nullable().optional(),
      }),
    )
    .default([]),
});

export type PolicyFile = z.infer<typeof policyFileSchema>;

type Issue = { path: (string | number)[]; message: string; /** When the path cannot find the node (a key, not a value). */ line?: number };

/** References across sections: every name used is declared once, every number exists. */
function crossCheck(file: PolicyFile): Issue[] {
  const issues: Issue[] = [];
  const dup = (list: string[], path: (i: number) => (string | number)[], what: string) => {
    const seen = new Set<string>();
    list.forEach((v, i) => {
      if (seen.has(v)) issues.push({ path: path(i), message: `duplicate ${what} '${v}'` });
      seen.add(v);
    });
  };
  dup(file.groups, (i) => ['groups', i], 'group');
  dup(file.numbers.map((n) => n.number), (i) => ['numbers', i, 'number'], 'number');
  dup(file.agents.map((a) => a.id), (i) => ['agents', i, 'id'], 'agent id');
  dup(file.agents.map((a) => a.endpoint), (i) => ['agents', i, 'endpoint'], 'endpoint');

  const groups = new Set(file.groups);
  const numbers = new Set(file.numbers.map((n) => n.number));
  file.numbers.forEach((n, i) => {
    if (!parseDialedNumber(n.number, file.defaultCountry as CountryCode).ok) {
      issues.push({ path: ['numbers', i, 'number'], message: `'${n.number}' is not a valid phone number` });
    }
    n.groups.forEach((g, j) => {
      if (!groups.has(g)) issues.push({ path: ['numbers', i, 'groups', j], message: `unknown group '${g}' (declare it under groups:)` });
    });
  });
  // Callback numbers reach emergency services: they must be real numbers.
  const callback = (n: string | null | undefined, path: (string | number)[]) => {
    if (n && !parseDialedNumber(n, file.defaultCountry as CountryCode).ok) issues.push({ path, message: `'${n}' is not a valid phone number` });
  };
  callback(file.emergency.callerId, ['emergency', 'callerId']);
  for (const [t, trunk] of Object.entries(file.trunks)) callback(trunk.emergencyCallerId, ['trunks', t, 'emergencyCallerId']);
  for (const [c, list] of Object.entries(file.emergency.numbers)) dup(list, (i) => ['emergency', 'numbers', c, i], `emergency number for ${c}`);
  file.agents.forEach((a, i) => {
    a.groups.forEach((g, j) => {
      if (!groups.has(g)) issues.push({ path: ['agents', i, 'groups', j], message: `unknown group '${g}' (declare it under groups:)` });
    });
    a.numbers.forEach((n, j) => {
      if (!numbers.has(n)) issues.push({ path: ['agents', i, 'numbers', j], message: `number ${n} is not in numbers:` });
    });
    if (a.chosen && !a.numbers.includes(a.chosen)) {
      issues.push({ path: ['agents', i, 'chosen'], message: `chosen number ${a.chosen} is not one of this agent's numbers:` });
    }
  });
  if (file.survey) {
    const survey = file.survey;
    const templates = new Set([...BUILTIN_SURVEY_TEMPLATE_NAMES, ...Object.keys(survey.templates)]);
    const known = (t: string, path: (string | number)[]) => {
      if (!templates.has(t)) issues.push({ path, message: `unknown template '${t}' (declare it under survey.templates:, or use a built-in: ${BUILTIN_SURVEY_TEMPLATE_NAMES.join(', ')})` });
    };
    known(survey.defaultTemplate, ['survey', 'defaultTemplate']);
    survey.rules.forEach((r, i) => {
      known(r.template, ['survey', 'rules', i, 'template']);
      if (r.group !== undefined && !groups.has(r.group)) issues.push({ path: ['survey', 'rules', i, 'group'], message: `unknown group '${r.group}' (declare it under groups:)` });
    });
  }
  return issues;
}

export class PolicyFileError extends Error {
  override name = 'PolicyFileError';
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}, nothing applied:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
}

/** Parses and checks a policy file's text; throws PolicyFileError naming file, line and field. */
export function parsePolicyFile(text: string, file: string): PolicyFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new PolicyFileError(
      file,
      doc.errors.map((e) => `line ${e.linePos?.[0]?.line ?? '?'}: ${e.message.split('\n')[0]}`),
    );
  }
  const where = (path: (string | number)[]) => {
    // Point at the deepest node of the path that exists in the document.
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n), true) as { range?: [number, number, number] } | undefined;
      if (node && typeof node === 'object' && node.range) return `line ${lineCounter.linePos(node.range[0]).line}: `;
    }
    return '';
  };
  const describe = (i: Issue) => `${i.line !== undefined ? `line ${i.line}: ` : where(i.path)}${formatPath(i.path)}: ${i.message}`;

  const parsed = policyFileSchema.safeParse(doc.toJS() ?? {});
  const unquoted = unquotedSurveyKeys(doc, lineCounter);
  if (!parsed.success || unquoted.length > 0) {
    const issues: Issue[] = [...(parsed.error?.issues.map((i) => ({ path: i.path as (string | number)[], message: i.message })) ?? []), ...unquoted];
    throw new PolicyFileError(file, issues.map(describe));
  }
  const cross = crossCheck(parsed.data);
  if (cross.length > 0) throw new PolicyFileError(file, cross.map(describe));
  return parsed.data;
}

/**
 * Checks a policy given as data (the API's JSON, an edit of the exported policy) exactly as a
 * file is checked; throws PolicyFileError naming each field by its path.
 */
export function checkPolicyObject(value: unknown, source: string): PolicyFile {
  const describe = (i: Issue) => `${formatPath(i.path)}: ${i.message}`;
  const parsed = policyFileSchema.safeParse(value ?? {});
  if (!parsed.success) throw new PolicyFileError(source, parsed.error.issues.map((i) => describe({ path: i.path as (string | number)[], message: i.message })));
  const cross = crossCheck(parsed.data);
  if (cross.length > 0) throw new PolicyFileError(source, cross.map(describe));
  return parsed.data;
}

/**
 * YAML reads an unquoted key like 1 as a number, which then arrives as the string "1": a survey
 * key must be a quoted DTMF character, so a number key is named here, with its own line.
 */
function unquotedSurveyKeys(doc: Document, lineCounter: LineCounter): Issue[] {
  const issues: Issue[] = [];
  const templates = doc.getIn(['survey', 'templates'], true);
  if (!isMap(templates)) return issues;
  for (const t of templates.items) {
    if (!isScalar(t.key) || !isMap(t.value)) continue;
    const keys = t.value.get('keys', true);
    if (!isMap(keys)) continue;
    for (const k of keys.items) {
      if (isScalar(k.key) && typeof k.key.value === 'number') {
        issues.push({
          path: ['survey', 'templates', String(t.key.value), 'keys', String(k.key.source ?? k.key.value)],
          line: k.key.range ? lineCounter.linePos(k.key.range[0]).line : undefined,
          message: `a survey key must be quoted, like "${String(k.key.value)}" (unquoted, YAML reads it as a number)`,
        });
      }
    }
  }
  return issues;
}

function formatPath(path: (string | number)[]): string {
  if (path.length === 0) return '(top level)';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}
