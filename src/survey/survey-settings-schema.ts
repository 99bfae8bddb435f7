import { z } from 'zod';
import { SURVEY_DIGITS, type SurveySettings } from '../policy/survey.js';

/**
 * The survey settings as the database stores them (settings key `survey`): prompts already
 * resolved to what the PBX plays. Read back on every load, so a hand-edited row or snapshot is
 * refused here instead of reaching a call.
 */
const promptRef = z
  .string()
  .max(1000)
  .regex(/^(\/[^\0\r\n]+|[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*)$/, 'must be a PBX sound name or an absolute path without extension');

const templateSchema = z.strictObject({
  intro: promptRef,
  closing: promptRef,
  invalid: promptRef,
  keys: z
    .record(z.string().regex(SURVEY_DIGITS), z.strictObject({ label: z.string().min(1).max(40), score: z.number().int().min(-100).max(100) }))
    .refine((k) => Object.keys(k).length > 0, 'a template needs at least one key'),
  tries: z.number().int().min(1).max(5),
  timeoutSeconds: z.number().int().min(1).max(60),
});

export const surveySettingsSchema = z
  .strictObject({
    enabled: z.boolean(),
    outbound: z.boolean(),
    inbound: z.boolean(),
    rules: z.array(z.strictObject({ direction: z.enum(['outbound', 'inbound']).optional(), group: z.string().min(1).optional(), template: z.string().min(1) })),
    defaultTemplate: z.string(),
    templates: z.record(z.string().min(1), templateSchema),
  })
  .check((ctx) => {
    const s = ctx.value;
    if (!s.enabled) return;
    const missing = [s.defaultTemplate, ...s.rules.map((r) => r.template)].filter((t) => !Object.hasOwn(s.templates, t));
    if (missing.length > 0) ctx.issues.push({ code: 'custom', input: s, path: ['templates'], message: `templates used but not present: ${[...new Set(missing)].join(', ')}` });
  }) satisfies z.ZodType<SurveySettings>;
