// Survey prompts rendered at apply time, with the real espeak-ng and sox: what the PBX gets is an
// 8 kHz mono 16-bit WAV named by what it says, rendered once; every failure names its prompt.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, test } from 'vitest';
import { PolicyFileError, parsePolicyFile } from '../../src/config/policy-file.js';
import { SURVEY_OFF } from '../../src/policy/survey.js';
import { BUILTIN_SURVEY_TEMPLATES } from '../../src/policy/survey-defaults.js';
import { EMPTY_POLICY_ROWS, buildRuntimePolicy } from '../../src/store/load-policy.js';
import { resolveSurveySettings } from '../../src/survey/render-prompts.js';

const root = mkdtempSync(path.join(tmpdir(), 'callpolicy-prompts-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
/** A fresh, not yet existing prompt folder (resolveSurveySettings creates it). */
const freshDir = () => path.join(root, `prompts-${++n}`, 'callpolicy');
const PBX_DIR = '/var/lib/asterisk/sounds/callpolicy';

const policy = (survey: string) => parsePolicyFile(`callerId: { strategy: group }\ngroups: [vip]\n${survey}`, 'p.yaml');
const template = (name: string, prompts: { intro: string; closing?: string; invalid?: string }) => `    ${name}:
      intro: ${prompts.intro}
      closing: ${prompts.closing ?? '{ sound: vm-goodbye }'}
      invalid: ${prompts.invalid ?? '{ sound: invalid }'}
      keys: { "1": { label: satisfied, score: 3 } }
`;
/** A survey whose only template is `t` (the default template). */
const oneTemplate = (prompts: { intro: string; closing?: string; invalid?: string }) =>
  policy(`survey:\n  defaultTemplate: t\n  templates:\n${template('t', prompts)}`);

interface Wav {
  format: number;
  channels: number;
  sampleRate: number;
  bits: number;
  samples: Int16Array;
}

/** Reads a RIFF WAVE file's fmt and data chunks. */
function readWav(file: string): Wav {
  const b = readFileSync(file);
  assert.equal(b.toString('ascii', 0, 4), 'RIFF');
  assert.equal(b.toString('ascii', 8, 12), 'WAVE');
  let fmt: Omit<Wav, 'samples'> | undefined;
  for (let at = 12; at + 8 <= b.length; ) {
    const id = b.toString('ascii', at, at + 4);
    const size = b.readUInt32LE(at + 4);
    const body = at + 8;
    if (id === 'fmt ') fmt = { format: b.readUInt16LE(body), channels: b.readUInt16LE(body + 2), sampleRate: b.readUInt32LE(body + 4), bits: b.readUInt16LE(body + 14) };
    if (id === 'data') {
      assert.ok(fmt, 'fmt before data');
      const data = b.subarray(body, body + size);
      return { ...fmt, samples: new Int16Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.length - (data.length % 2))) };
    }
    at = body + size + (size % 2);
  }
  assert.fail(`${file}: no data chunk`);
}

/** The file behind a ref, checked to be what Asterisk's format_wav plays, and not silence. */
function assertPlayable(dir: string, ref: string): string {
  assert.ok(ref.startsWith(`${PBX_DIR}/`), ref);
  assert.equal(path.extname(ref), '', 'the ref has no extension');
  const file = path.join(dir, `${path.posix.basename(ref)}.wav`);
  const wav = readWav(file);
  assert.deepEqual({ format: wav.format, channels: wav.channels, sampleRate: wav.sampleRate, bits: wav.bits }, { format: 1, channels: 1, sampleRate: 8000, bits: 16 });
  assert.ok(wav.samples.length > 8000 * 0.3, `at least 0.3 s of audio (${wav.samples.length} samples)`);
  const loud = wav.samples.filter((x) => Math.abs(x) > 1000).length;
  assert.ok(loud > 100, `not silent (${loud} samples above 1000)`);
  assert.equal(statSync(file).mode & 0o777, 0o644);
  return file;
}

const sha20 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex').slice(0, 20);

function rejection(p: Promise<unknown>): Promise<PolicyFileError> {
  return p.then(
    () => assert.fail('expected a PolicyFileError'),
    (err: unknown) => {
      assert.ok(err instanceof PolicyFileError, String(err));
      return err;
    },
  );
}

describe('survey prompts', () => {
  test('no survey section: SURVEY_OFF, nothing rendered', async () => {
    const dir = freshDir();
    assert.equal(await resolveSurveySettings(policy(''), { dir, pbxDir: PBX_DIR }), SURVEY_OFF);
    assert.throws(() => readdirSync(dir), /ENOENT/);
  });

  test('a text prompt becomes an 8 kHz mono 16-bit WAV named by its hash; the ref is the PBX folder and that name', async () => {
    const dir = freshDir();
    const s = await resolveSurveySettings(oneTemplate({ intro: '{ text: "Please rate our service. Press 1 if you were satisfied." }' }), { dir, pbxDir: PBX_DIR });
    const t = s.templates.t!;
    assert.equal(t.intro, `${PBX_DIR}/tts-${sha20('en\nPlease rate our service. Press 1 if you were satisfied.')}`);
    assertPlayable(dir, t.intro);
    assert.equal(t.closing, 'vm-goodbye', 'a sound is played as it is named');
    assert.equal(t.invalid, 'invalid');
    assert.deepEqual(t.keys, { '1': { label: 'satisfied', score: 3 } });
    assert.deepEqual({ tries: t.tries, timeoutSeconds: t.timeoutSeconds }, { tries: 2, timeoutSeconds: 5 });
    assert.deepEqual(readdirSync(dir), [`${path.posix.basename(t.intro)}.wav`], 'no temporary file is left');
    assert.equal(statSync(dir).mode & 0o777, 0o755);
    assert.deepEqual({ enabled: s.enabled, outbound: s.outbound, inbound: s.inbound, defaultTemplate: s.defaultTemplate }, { enabled: true, outbound: true, inbound: false, defaultTemplate: 't' });
  });

  test('the same text again is not rendered again; another text or voice is another file', async () => {
    const dir = freshDir();
    const opts = { dir, pbxDir: PBX_DIR };
    const first = (await resolveSurveySettings(oneTemplate({ intro: '{ text: "Thank you." }' }), opts)).templates.t!.intro;
    const file = path.join(dir, `${path.posix.basename(first)}.wav`);
    const before = statSync(file);
    await new Promise((r) => setTimeout(r, 20));
    const again = (await resolveSurveySettings(oneTemplate({ intro: '{ text: "Thank you." }' }), opts)).templates.t!.intro;
    assert.equal(again, first);
    const after = statSync(file);
    assert.deepEqual([after.ino, after.mtimeMs], [before.ino, before.mtimeMs], 'the file was not written again');

    const s = await resolveSurveySettings(oneTemplate({ intro: '{ text: "Thank you.", voice: en-us }', closing: '{ text: "Thank you very much." }', invalid: '{ text: "Thank you." }' }), opts);
    const t = s.templates.t!;
    assert.notEqual(t.intro, first, 'another voice');
    assert.notEqual(t.closing, first, 'another text');
    assert.equal(t.invalid, first);
    assertPlayable(dir, t.intro);
    assertPlayable(dir, t.closing);
    assert.equal(readdirSync(dir).length, 3);
  });

  test('the built-ins: en by default, zh (Mandarin) when used; others not rendered', async () => {
    const dir = freshDir();
    const s = await resolveSurveySettings(policy('survey:\n  rules: [{ group: vip, template: zh }]\n'), { dir, pbxDir: PBX_DIR });
    assert.deepEqual(Object.keys(s.templates).sort(), ['en', 'zh']);
    for (const name of ['en', 'zh'] as const) {
      const t = s.templates[name]!;
      for (const field of ['intro', 'closing', 'invalid'] as const) assertPlayable(dir, t[field]);
      assert.deepEqual(t.keys, BUILTIN_SURVEY_TEMPLATES[name].keys);
      assert.equal(t.keys['3']?.label, 'dissatisfied');
    }
    const zhIntro = BUILTIN_SURVEY_TEMPLATES.zh.intro as { text: string; voice: string };
    assert.equal(s.templates.zh!.intro, `${PBX_DIR}/tts-${sha20(`${zhIntro.voice}\n${zhIntro.text}`)}`);
    // Mandarin phonemes, not the pinyin spelled out in English (what espeak-ng 1.51's `cmn` voice does).
    const phonemes = execFileSync('espeak-ng', ['-v', zhIntro.voice, '-q', '-x', '--', zhIntro.text], { encoding: 'utf8' });
    assert.doesNotMatch(phonemes, /\(en\)/, phonemes);
    assert.equal(readdirSync(dir).length, 6);

    const only = await resolveSurveySettings(policy('survey: {}\n'), { dir, pbxDir: PBX_DIR });
    assert.deepEqual(Object.keys(only.templates), ['en'], 'an unused built-in is left out');
  });

  test('a template of the file replaces the built-in of its name', async () => {
    const s = await resolveSurveySettings(policy(`survey:\n  templates:\n${template('en', { intro: '{ sound: custom/intro }' })}`), { dir: freshDir(), pbxDir: PBX_DIR });
    assert.deepEqual(s.templates, { en: { intro: 'custom/intro', closing: 'vm-goodbye', invalid: 'invalid', keys: { '1': { label: 'satisfied', score: 3 } }, tries: 2, timeoutSeconds: 5 } });
  });

  test('an audio file (44.1 kHz stereo) is converted once, named by the hash of its bytes', async () => {
    const dir = freshDir();
    const src = path.join(root, 'thanks.wav');
    execFileSync('sox', ['-n', '-r', '44100', '-c', '2', '-b', '16', src, 'synth', '1', 'sine', '440', 'gain', '-6']);
    const s = await resolveSurveySettings(oneTemplate({ intro: `{ file: ${src} }`, closing: `{ file: ${src} }` }), { dir, pbxDir: PBX_DIR });
    const t = s.templates.t!;
    assert.equal(t.intro, `${PBX_DIR}/file-${sha20(readFileSync(src))}`);
    assert.equal(t.closing, t.intro);
    const out = assertPlayable(dir, t.intro);
    assert.ok(Math.abs(readWav(out).samples.length - 8000) < 50, 'one second at 8 kHz');
    assert.deepEqual(readdirSync(dir), [path.basename(out)]);
  });

  test('a missing file, a file that is not audio and a missing espeak-ng are named by prompt; nothing is written', async () => {
    const dir = freshDir();
    const junk = path.join(root, 'junk.wav');
    writeFileSync(junk, 'not audio at all');
    const err = await rejection(
      resolveSurveySettings(oneTemplate({ intro: '{ text: "Hello" }', closing: `{ file: ${junk} }`, invalid: `{ file: ${root}/none.wav }` }), {
        dir,
        pbxDir: PBX_DIR,
        espeakBin: '/nonexistent/espeak-ng',
        source: 'policy.yaml',
      }),
    );
    assert.equal(err.file, 'policy.yaml');
    assert.equal(err.problems.length, 3, err.problems.join('\n'));
    assert.equal(err.problems[0], 'survey.templates.t.intro: espeak-ng is not installed (apt-get install espeak-ng)');
    assert.match(err.problems[1]!, new RegExp(`^survey\\.templates\\.t\\.closing: sox failed: .*${junk.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
    assert.equal(err.problems[2], `survey.templates.t.invalid: cannot read ${root}/none.wav: ENOENT`);
    assert.deepEqual(readdirSync(dir), [], 'no file, not even a temporary one');
  });

  test('a missing sox is named too', async () => {
    const err = await rejection(resolveSurveySettings(oneTemplate({ intro: '{ text: "Hello there" }' }), { dir: freshDir(), pbxDir: PBX_DIR, soxBin: '/nonexistent/sox' }));
    assert.deepEqual(err.problems, ['survey.templates.t.intro: sox is not installed (apt-get install sox)']);
  });

  test('an espeak-ng voice that does not exist: espeak-ng failed, with its message', async () => {
    const err = await rejection(resolveSurveySettings(oneTemplate({ intro: '{ text: "Hello", voice: xq }' }), { dir: freshDir(), pbxDir: PBX_DIR }));
    assert.match(err.problems[0]!, /^survey\.templates\.t\.intro: espeak-ng failed: .*voice/);
  });

  test('the resolved settings are what load-policy reads back; a hand-edited row is refused', async () => {
    const s = await resolveSurveySettings(policy(`survey:\n  inbound: true\n  rules: [{ direction: inbound, group: vip, template: t }]\n  defaultTemplate: t\n  templates:\n${template('t', { intro: '{ sound: custom/intro }' })}`), {
      dir: freshDir(),
      pbxDir: PBX_DIR,
    });
    const stored = JSON.parse(JSON.stringify(s)) as unknown;
    assert.deepEqual(buildRuntimePolicy({ ...EMPTY_POLICY_ROWS, settings: { survey: stored } }).survey, s);
    assert.equal(buildRuntimePolicy(EMPTY_POLICY_ROWS).survey, SURVEY_OFF);
    assert.deepEqual(buildRuntimePolicy({ ...EMPTY_POLICY_ROWS, settings: { survey: JSON.parse(JSON.stringify(SURVEY_OFF)) } }).survey, SURVEY_OFF);
    const edited = { ...s, defaultTemplate: 'gone' };
    assert.throws(() => buildRuntimePolicy({ ...EMPTY_POLICY_ROWS, settings: { survey: edited } }), /gone/);
    assert.throws(() => buildRuntimePolicy({ ...EMPTY_POLICY_ROWS, settings: { survey: { ...s, templates: { t: { ...s.templates.t, tries: 0 } } } } }));
    assert.throws(() => buildRuntimePolicy({ ...EMPTY_POLICY_ROWS, settings: { survey: { ...s, templates: { t: { ...s.templates.t, intro: 'a b; rm' } } } } }));
  });
});
