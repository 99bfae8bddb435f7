// The survey: section of the policy file: defaults, each setting, and errors that name line and field.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'vitest';
import { parsePolicyFile } from '../../src/config/policy-file.js';
import { policyProblems } from '../support/policy-problems.js';

const base = `
callerId: { strategy: group }
groups: [vip, sales]
agents:
  - { id: alice, endpoint: PJSIP/1001, groups: [vip] }
`;
// The line of the first line after `base` (base starts with a newline).
const L = base.split('\n').length;

const problems = policyProblems;

const keys = `      keys:
        "1": { label: satisfied, score: 3 }
`;

describe('policy file: survey', () => {
  test('absent: no survey section', () => {
    assert.equal(parsePolicyFile(base, 'p.yaml').survey, undefined);
  });

  test('present and empty: outbound only, the built-in en template', () => {
    assert.deepEqual(parsePolicyFile(`${base}survey: {}\n`, 'p.yaml').survey, { outbound: true, inbound: false, defaultTemplate: 'en', rules: [], templates: {} });
  });

  test('every setting is read, each prompt kind in its own form', () => {
    const survey = parsePolicyFile(
      `${base}survey:
  outbound: false
  inbound: true
  defaultTemplate: zh
  rules:
    - { direction: inbound, group: vip, template: vip }
    - { template: en }
  templates:
    vip:
      intro: { text: "Press 1", voice: en-us }
      closing: { sound: custom/thanks }
      invalid: { file: /srv/prompts/invalid.wav }
      keys:
        "1": { label: satisfied, score: 3 }
        "*": { label: 不满意, score: -100 }
        "#": { label: neutral, score: 0 }
      tries: 5
      timeoutSeconds: 60
    short:
      intro: { text: "Rate us" }
      closing: { sound: vm-goodbye }
      invalid: { sound: invalid }
${keys}`,
      'p.yaml',
    ).survey;
    assert.deepEqual(survey, {
      outbound: false,
      inbound: true,
      defaultTemplate: 'zh',
      rules: [{ direction: 'inbound', group: 'vip', template: 'vip' }, { template: 'en' }],
      templates: {
        vip: {
          intro: { text: 'Press 1', voice: 'en-us' },
          closing: { sound: 'custom/thanks' },
          invalid: { file: '/srv/prompts/invalid.wav' },
          keys: { '1': { label: 'satisfied', score: 3 }, '*': { label: '不满意', score: -100 }, '#': { label: 'neutral', score: 0 } },
          tries: 5,
          timeoutSeconds: 60,
        },
        short: {
          intro: { text: 'Rate us', voice: 'en' },
          closing: { sound: 'vm-goodbye' },
          invalid: { sound: 'invalid' },
          keys: { '1': { label: 'satisfied', score: 3 } },
          tries: 2,
          timeoutSeconds: 5,
        },
      },
    });
  });

  test('a template of the file may replace a built-in', () => {
    const survey = parsePolicyFile(
      `${base}survey:
  templates:
    en:
      intro: { sound: custom/intro }
      closing: { sound: custom/bye }
      invalid: { sound: custom/bad }
${keys}`,
      'p.yaml',
    ).survey;
    assert.equal(survey?.defaultTemplate, 'en');
    assert.deepEqual(survey?.templates.en?.intro, { sound: 'custom/intro' });
  });

  test('an unknown template in a rule or as default, and an undeclared group, are named with line and path', () => {
    const found = problems(`${base}survey:
  defaultTemplate: fr
  rules:
    - { template: vip }
    - { group: nobody, template: zh }
`);
    assert.equal(found.length, 3, found.join('\n'));
    assert.match(found[0]!, new RegExp(`^line ${L + 1}: survey\\.defaultTemplate: unknown template 'fr'`));
    assert.match(found[1]!, new RegExp(`^line ${L + 3}: survey\\.rules\\[0\\]\\.template: unknown template 'vip' .*built-in: en, zh`));
    assert.match(found[2]!, new RegExp(`^line ${L + 4}: survey\\.rules\\[1\\]\\.group: unknown group 'nobody' \\(declare it under groups:\\)`));
  });

  test('an unquoted key is named on its own line: YAML reads it as a number', () => {
    const found = problems(`${base}survey:
  templates:
    t:
      intro: { sound: a }
      closing: { sound: b }
      invalid: { sound: c }
      keys:
        "1": { label: satisfied, score: 3 }
        2: { label: neutral, score: 2 }
`);
    assert.deepEqual(found, [`line ${L + 8}: survey.templates.t.keys.2: a survey key must be quoted, like "2" (unquoted, YAML reads it as a number)`]);
  });

  test('bad values: line and path of each', () => {
    const found = problems(`${base}survey:
  inbound: yes
  rules:
    - { direction: sideways, template: en }
  templates:
    t:
      intro: { sound: "../../etc/passwd" }
      closing: { text: "Bye", sound: bye }
      invalid: { file: relative/x.wav }
      keys: {}
      tries: 6
      timeoutSeconds: 0
    u:
      intro: { text: "", voice: "English" }
      closing: { sound: "/abs" }
      invalid: { sound: ok, voice: en }
      keys:
        "12": { label: satisfied, score: 3 }
        "3": { label: "", score: 1.5 }
`);
    const expect: [number, string][] = [
      [L + 1, 'survey.inbound: '],
      [L + 3, 'survey.rules[0].direction: '],
      [L + 6, 'survey.templates.t.intro.sound: must be a PBX sound name like custom/thanks'],
      [L + 7, 'survey.templates.t.closing: a prompt is exactly one of { text, voice? }, { sound } or { file } (this one has text and sound)'],
      [L + 8, 'survey.templates.t.invalid.file: must be an absolute path'],
      [L + 9, 'survey.templates.t.keys: a template needs at least one key'],
      [L + 10, 'survey.templates.t.tries: '],
      [L + 11, 'survey.templates.t.timeoutSeconds: '],
      [L + 13, 'survey.templates.u.intro.text: the text is empty'],
      [L + 13, 'survey.templates.u.intro.voice: must be an espeak-ng voice'],
      [L + 14, 'survey.templates.u.closing.sound: must be a PBX sound name'],
      [L + 15, 'survey.templates.u.invalid.voice: voice goes with text only'],
      [L + 17, `survey.templates.u.keys.12: '12' is not a DTMF key`],
      [L + 18, 'survey.templates.u.keys.3.label: 1 to 40 printable characters'],
      [L + 18, 'survey.templates.u.keys.3.score: '],
    ];
    for (const [line, start] of expect) {
      assert.ok(
        found.some((p) => p.startsWith(`line ${line}: ${start}`)),
        `expected "line ${line}: ${start}..." in:\n${found.join('\n')}`,
      );
    }
    assert.equal(found.length, expect.length, found.join('\n'));
  });

  test('a prompt of no kind, an unknown field, and too long a label', () => {
    const found = problems(`${base}survey:
  colour: blue
  templates:
    t:
      intro: {}
      closing: { sound: b }
      invalid: { sound: c }
      keys:
        "1": { label: "${'x'.repeat(41)}", score: 3 }
`);
    assert.equal(found.length, 3, found.join('\n'));
    for (const re of [
      new RegExp(`^line ${L + 1}: survey: .*colour`),
      new RegExp(`^line ${L + 4}: survey\\.templates\\.t\\.intro: a prompt is exactly one of .*\\(this one has none\\)`),
      new RegExp(`^line ${L + 8}: survey\\.templates\\.t\\.keys\\.1\\.label: 1 to 40`),
    ]) {
      assert.ok(found.some((p) => re.test(p)), `${re} in:\n${found.join('\n')}`);
    }
  });

  test('the sample policy: valid as shipped (no survey), and its commented survey section is valid when uncommented', () => {
    const text = readFileSync(new URL('../../examples/policy.yaml', import.meta.url), 'utf8');
    assert.equal(parsePolicyFile(text, 'examples/policy.yaml').survey, undefined);
    const lines = text.split('\n');
    const start = lines.indexOf('# survey:');
    assert.ok(start > 0, 'the sample has a commented survey: section');
    let end = start + 1;
    while (lines[end]?.startsWith('#   ')) end++;
    const uncommented = [...lines.slice(0, start), ...lines.slice(start, end).map((l) => l.slice(2)), ...lines.slice(end)].join('\n');
    const survey = parsePolicyFile(uncommented, 'examples/policy.yaml').survey;
    assert.ok(survey);
    assert.deepEqual({ outbound: survey.outbound, inbound: survey.inbound, defaultTemplate: survey.defaultTemplate, rules: survey.rules.length }, { outbound: true, inbound: false, defaultTemplate: 'en', rules: 1 });
    const [t] = Object.values(survey.templates);
    assert.ok(t && 'text' in t.intro && 'sound' in t.closing && 'file' in t.invalid, 'one prompt of each kind');
  });
});
