import { execFile, type ExecFileException } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PolicyFileError, type PolicyFile } from '../config/policy-file.js';
import { SURVEY_OFF, type PromptRef, type SurveySettings, type SurveyTemplate } from '../policy/survey.js';
import { BUILTIN_SURVEY_TEMPLATES, SURVEY_PROMPT_FIELDS, type SurveyPromptSource, type SurveyTemplateSource } from '../policy/survey-defaults.js';
import { surveySettingsSchema } from './survey-settings-schema.js';

export { surveySettingsSchema } from './survey-settings-schema.js';

export interface PromptOptions {
  /** Where this process writes rendered prompts (CALLPOLICY_PROMPT_DIR); created if missing. */
  dir: string;
  /** The same folder as the PBX names it (CALLPOLICY_PROMPT_PBX_DIR; differs when Asterisk runs in a chroot). */
  pbxDir: string;
  espeakBin?: string;
  soxBin?: string;
  /** The policy file's name in a PolicyFileError (default "policy file"). */
  source?: string;
}

/** Each espeak-ng or sox run is killed after this. */
const RUN_TIMEOUT_MS = 30_000;
/** An administrator's audio file larger than this is refused (a prompt is seconds long). */
const FILE_MAX_BYTES = 100 * 1024 * 1024;
/** Renders at most this many prompts at a time. */
const PARALLEL = 4;
/** What Asterisk's format_wav plays: 8 kHz, mono, 16-bit signed PCM. */
const SOX_OUTPUT = ['-t', 'wav', '-r', '8000', '-c', '1', '-b', '16', '-e', 'signed-integer'];

class PromptError extends Error {}

/**
 * The survey section of a policy file as the adapter uses it: every prompt of every template
 * that can be used resolved to a PromptRef the PBX plays. Text is spoken by espeak-ng and audio
 * files are converted by sox, each once: a rendered file is named by the hash of what it says
 * (`tts-<hash>.wav`, `file-<hash>.wav` in opts.dir) and reused while it exists. Writes nothing
 * but those files; any bad prompt throws a PolicyFileError with one line per prompt, so the
 * caller renders before its transaction and a failure applies nothing.
 */
export async function resolveSurveySettings(file: PolicyFile, opts: PromptOptions): Promise<SurveySettings> {
  const survey = file.survey;
  if (!survey) return SURVEY_OFF;

  // The file's templates, and the built-ins it uses (a file template of the same name wins).
  const sources: Record<string, SurveyTemplateSource> = {};
  for (const used of [survey.defaultTemplate, ...survey.rules.map((r) => r.template)]) {
    const builtin = (BUILTIN_SURVEY_TEMPLATES as Record<string, SurveyTemplateSource>)[used];
    if (builtin && !Object.hasOwn(survey.templates, used)) sources[used] = builtin;
  }
  Object.assign(sources, survey.templates);

  const render = createRenderer(opts);
  const resolved = await Promise.all(
    Object.entries(sources).map(async ([name, t]) => {
      const problems: string[] = [];
      const [intro, closing, invalid] = (await Promise.all(
        SURVEY_PROMPT_FIELDS.map((field) =>
          render(t[field]).catch((err: unknown) => {
            const why = err instanceof PromptError ? err.message : `cannot write the prompt into ${opts.dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
            problems.push(`survey.templates.${name}.${field}: ${why}`);
            return '';
          }),
        ),
      )) as [PromptRef, PromptRef, PromptRef];
      const template: SurveyTemplate = { intro, closing, invalid, keys: t.keys, tries: t.tries, timeoutSeconds: t.timeoutSeconds };
      return { name, template, problems: SURVEY_PROMPT_FIELDS.flatMap((f) => problems.filter((p) => p.startsWith(`survey.templates.${name}.${f}:`))) };
    }),
  );
  const problems = resolved.flatMap((r) => r.problems);
  if (problems.length > 0) throw new PolicyFileError(opts.source ?? 'policy file', problems);
  const templates = Object.fromEntries(resolved.map((r) => [r.name, r.template]));

  return surveySettingsSchema.parse({
    enabled: true,
    outbound: survey.outbound,
    inbound: survey.inbound,
    rules: survey.rules,
    defaultTemplate: survey.defaultTemplate,
    templates,
  });
}

/** Resolves one prompt; the same text or file asked twice is rendered once. */
function createRenderer(opts: PromptOptions): (p: SurveyPromptSource) => Promise<PromptRef> {
  const espeak = opts.espeakBin ?? 'espeak-ng';
  const sox = opts.soxBin ?? 'sox';
  const jobs = new Map<string, Promise<PromptRef>>();
  const limit = limiter(PARALLEL);
  const once = (key: string, work: () => Promise<PromptRef>) => {
    let job = jobs.get(key);
    if (!job) {
      job = limit(work);
      jobs.set(key, job);
    }
    return job;
  };

  /** Makes `<base>.wav` in opts.dir unless it exists: built in a scratch folder, written under a temporary name, renamed. */
  async function produce(base: string, make: (scratch: string, out: string) => Promise<void>): Promise<PromptRef> {
    const ref = path.posix.join(opts.pbxDir, base);
    const target = path.join(opts.dir, `${base}.wav`);
    if (await isFile(target)) return ref;
    await mkdir(opts.dir, { recursive: true, mode: 0o755 });
    const scratch = await mkdtemp(path.join(tmpdir(), 'callpolicy-prompt-'));
    const partial = path.join(opts.dir, `.${base}.${process.pid}.${randomBytes(4).toString('hex')}.partial`);
    try {
      await make(scratch, partial);
      await chmod(partial, 0o644);
      await rename(partial, target);
    } finally {
      await rm(scratch, { recursive: true, force: true });
      await rm(partial, { force: true });
    }
    return ref;
  }

  return (p) => {
    if ('sound' in p) return Promise.resolve(p.sound);
    if ('text' in p) {
      const base = `tts-${sha256(`${p.voice}\n${p.text}`)}`;
      return once(`text:${base}`, () =>
        produce(base, async (scratch, out) => {
          const spoken = path.join(scratch, 'espeak.wav');
          await run('espeak-ng', espeak, ['-v', p.voice, '-w', spoken, '--', p.text]);
          await run('sox', sox, ['-V1', spoken, ...SOX_OUTPUT, out]);
        }),
      );
    }
    const file = p.file;
    return once(`file:${file}`, async () => {
      let bytes: Buffer;
      try {
        const st = await stat(file);
        if (!st.isFile()) throw new PromptError(`cannot read ${file}: not a file`);
        if (st.size > FILE_MAX_BYTES) throw new PromptError(`cannot use ${file}: larger than ${FILE_MAX_BYTES / 1024 / 1024} MB`);
        bytes = await readFile(file);
      } catch (err) {
        if (err instanceof PromptError) throw err;
        throw new PromptError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      return produce(`file-${sha256(bytes)}`, async (scratch, out) => {
        // Convert the bytes just hashed (the file may change meanwhile); sox knows the type by the extension or the header.
        const copy = path.join(scratch, `source${path.extname(file).toLowerCase()}`);
        await writeFile(copy, bytes);
        await run('sox', sox, ['-V1', copy, ...SOX_OUTPUT, out], (msg) => msg.split(copy).join(file));
      });
    });
  };
}

/** Runs a tool without a shell, bounded by RUN_TIMEOUT_MS; failures become PromptErrors that say what to do. */
function run(tool: 'espeak-ng' | 'sox', bin: string, args: string[], clean: (stderr: string) => string = (s) => s): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(bin, args, { timeout: RUN_TIMEOUT_MS, killSignal: 'SIGKILL', encoding: 'utf8', maxBuffer: 1 << 20 }, (err: ExecFileException | null, _stdout, stderr) => {
      if (!err) return resolve();
      if (err.code === 'ENOENT') return reject(new PromptError(`${tool} is not installed (apt-get install ${tool})`));
      if (err.killed) return reject(new PromptError(`${tool} timed out after ${RUN_TIMEOUT_MS / 1000} s`));
      const first = clean(String(stderr)).split('\n').map((l) => l.trim()).find((l) => l.length > 0);
      reject(new PromptError(`${tool} failed: ${first ?? (err.signal ? `killed by ${err.signal}` : `exit code ${String(err.code)}`)}`));
    });
  });
}

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex').slice(0, 20);
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

function limiter(n: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(work: () => Promise<T>): Promise<T> => {
    while (active >= n) await new Promise<void>((r) => waiting.push(r));
    active++;
    try {
      return await work();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}
