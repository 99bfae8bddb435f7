// The README's administrator's guide names every setting: each environment variable the code
// reads (the keys of envSchema, and any process.env.X read elsewhere in src/) appears in its
// "Environment" section, and each field of the policy file (policyFileSchema, walked to its
// leaves) appears as a dotted path in its "Policy file" section. Both in backticks, so that a
// word in a sentence does not count. Record keys are written as any `<placeholder>`
// (`trunks.<endpoint>.country`), array elements as `[]` (`numbers[].number`).
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { envSchema } from '../../src/config/env.js';
import { policyFileSchema } from '../../src/config/policy-file.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const README = readFileSync(path.join(REPO, 'README.md'), 'utf8');

/** The text of the section under `heading` (a whole line), up to the next heading of the same or a higher level. */
function section(heading: string): string {
  const lines = README.split('\n');
  const start = lines.indexOf(heading);
  assert.notEqual(start, -1, `README.md has no "${heading}" heading`);
  const level = /^#+/.exec(heading)![0].length;
  const end = lines.findIndex((l, i) => i > start && /^#+ /.test(l) && /^#+/.exec(l)![0].length <= level);
  return lines.slice(start + 1, end === -1 ? undefined : end).join('\n');
}

/** Every `process.env.NAME` / `process.env['NAME']` read in src/ outside the env schema. */
function otherEnvReads(): string[] {
  const names = new Set<string>();
  const visit = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) visit(file);
      else if (/\.ts$/.test(entry.name)) {
        const text = readFileSync(file, 'utf8');
        for (const m of text.matchAll(/process\.env(?:\.([A-Za-z_][A-Za-z0-9_]*)|\[\s*['"`]([A-Za-z_][A-Za-z0-9_]*)['"`]\s*\])/g)) names.add(m[1] ?? m[2]!);
      }
    }
  };
  visit(path.join(REPO, 'src'));
  return [...names];
}

interface ZodDef {
  type: string;
  [key: string]: unknown;
}
const defOf = (schema: unknown): ZodDef => (schema as { _zod: { def: ZodDef } })._zod.def;

/**
 * The dotted paths of a zod 4 schema: an object's own path and each key's; wrappers (default,
 * optional, nullable, a transform's input) are looked through; a record's values are under
 * `<name>`, an array's elements under `[]` when they have fields. A record's value or an array's
 * element that is an object has no path of its own: its fields name it (a list or a record has).
 */
function paths(schema: unknown, at = '', out: string[] = [], own = true): string[] {
  const d = defOf(schema);
  const add = (always = false) => {
    if (at && (own || always) && !out.includes(at)) out.push(at);
  };
  switch (d.type) {
    case 'default':
    case 'prefault':
    case 'optional':
    case 'nullable':
    case 'nonoptional':
    case 'readonly':
    case 'catch':
      return paths(d['innerType'], at, out, own);
    case 'pipe':
      return paths(d['in'], at, out, own);
    case 'object':
      add();
      for (const [key, value] of Object.entries(d['shape'] as Record<string, unknown>)) paths(value, at ? `${at}.${key}` : key, out);
      return out;
    case 'record':
      add(true);
      return paths(d['valueType'], `${at}.<name>`, out, false);
    case 'array': {
      add(true);
      const element = defOf(d['element']).type;
      if (['object', 'record', 'union', 'pipe'].includes(element)) paths(d['element'], `${at}[]`, out, false);
      return out;
    }
    case 'union':
      for (const option of d['options'] as unknown[]) paths(option, at, out, own);
      return out;
    default:
      // A leaf (string, number, enum, literal, boolean, ...): a record's or an array's leaf values count too.
      if (at && !out.includes(at)) out.push(at);
      return out;
  }
}

/** `path` in backticks, each `<name>` standing for any `<placeholder>`. */
function quotedPathPattern(p: string): RegExp {
  const escaped = p
    .split('<name>')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('<[^<>`\\s]+>');
  return new RegExp('`' + escaped + '`');
}

test('the walk of the policy file schema finds its nested fields', () => {
  const all = paths(policyFileSchema);
  for (const p of ['callerId.strategy', 'trunks.<name>.country', 'memory.ringSeconds', 'memory.finalDestination.extension', 'survey.templates.<name>.keys.<name>.score', 'numbers[].location.area', 'agents[].chosen', 'emergency.numbers.<name>']) {
    assert.ok(all.includes(p), `walk finds ${p}`);
  }
  assert.ok(!all.includes('trunks.<name>'), 'a record of objects is named by its fields');
});

test('README "Environment" names every environment variable the code reads', () => {
  const text = section('### Environment');
  const keys = [...Object.keys(envSchema.shape), ...otherEnvReads()];
  assert.ok(keys.length >= 30, `env schema has ${keys.length} keys`);
  const missing = [...new Set(keys)].filter((k) => !text.includes('`' + k + '`'));
  assert.deepEqual(missing, [], `README.md "### Environment" misses: ${missing.join(', ')}`);
});

test('README "Policy file" names every field of the policy file as a dotted path', () => {
  const text = section('### Policy file');
  const missing = paths(policyFileSchema).filter((p) => !quotedPathPattern(p).test(text));
  assert.deepEqual(missing, [], `README.md "### Policy file" misses: ${missing.join(', ')}`);
});
