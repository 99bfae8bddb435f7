/**
 * Survey templates as the policy file writes them (prompts not yet rendered), and the two
 * built-in templates every policy has: `en` and `zh` (Mandarin). A template of the file with the
 * same name replaces the built-in. Pure data.
 *
 * The zh voice is `cmn-latn-pinyin`, not `cmn`: espeak-ng 1.51 (Debian 12) turns characters into
 * pinyin with tone digits that `cmn` then reads as English ("hao two"); `cmn-latn-pinyin` speaks
 * them as Mandarin there and in later versions.
 *
 * The built-ins use the same labels in both languages (satisfied, neutral, dissatisfied), so a
 * report sums ratings across templates without a translation table.
 */

/** Something to say: text spoken by espeak-ng, a sound the PBX has, or an audio file to convert. */
export type SurveyPromptSource = { text: string; voice: string } | { sound: string } | { file: string };

export interface SurveyTemplateSource {
  intro: SurveyPromptSource;
  closing: SurveyPromptSource;
  invalid: SurveyPromptSource;
  keys: Record<string, { label: string; score: number }>;
  tries: number;
  timeoutSeconds: number;
}

export const SURVEY_PROMPT_FIELDS = ['intro', 'closing', 'invalid'] as const;

const ZH_VOICE = 'cmn-latn-pinyin';

const keys = {
  '1': { label: 'satisfied', score: 3 },
  '2': { label: 'neutral', score: 2 },
  '3': { label: 'dissatisfied', score: 1 },
};

export const BUILTIN_SURVEY_TEMPLATES: Readonly<Record<'en' | 'zh', SurveyTemplateSource>> = Object.freeze({
  en: {
    intro: {
      text: 'Please rate our service. Press 1 if you were satisfied, 2 if it was acceptable, or 3 if you were not satisfied.',
      voice: 'en',
    },
    closing: { text: 'Thank you for your feedback. Goodbye.', voice: 'en' },
    invalid: { text: 'Sorry, that key is not valid.', voice: 'en' },
    keys,
    tries: 2,
    timeoutSeconds: 5,
  },
  zh: {
    intro: { text: '请对我们的服务进行评价。满意请按1，一般请按2，不满意请按3。', voice: ZH_VOICE },
    closing: { text: '感谢您的评价，再见。', voice: ZH_VOICE },
    invalid: { text: '对不起，您按的键无效。', voice: ZH_VOICE },
    keys,
    tries: 2,
    timeoutSeconds: 5,
  },
});

export const BUILTIN_SURVEY_TEMPLATE_NAMES: readonly string[] = Object.keys(BUILTIN_SURVEY_TEMPLATES);
