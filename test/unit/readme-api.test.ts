// The README's API reference lists every route the API declares, and its CLI reference every
// command the CLI has: a route or command added without its line fails here.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'vitest';
import { buildApi, type ApiDeps } from '../../src/api/api-server.js';
import { ROUTES } from '../../src/api/route.js';
import { program } from '../../src/cli/commands.js';

const REPO = path.resolve(import.meta.dirname, '..', '..');
const readme = readFileSync(path.join(REPO, 'README.md'), 'utf8');
const section = (title: string) => {
  const start = readme.indexOf(`## ${title}\n`);
  assert.ok(start >= 0, `README has no "## ${title}"`);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
};

test('every API route is in "API reference"', async () => {
  const app = await buildApi({ authenticate: () => null, masked: () => false } as unknown as ApiDeps);
  await app.close();
  const text = section('API reference');
  assert.ok(ROUTES.size >= 25, `${ROUTES.size} routes`);
  const missing = [...ROUTES.keys()].filter((r) => !text.includes(`\`${r}\``));
  assert.deepEqual(missing, []);
});

test('every CLI command is in "CLI reference"', () => {
  const text = section('CLI reference');
  const names: string[] = [];
  for (const c of program.commands) {
    if (c.commands.length === 0) names.push(c.name());
    for (const sub of c.commands) names.push(`${c.name()} ${sub.name()}`);
  }
  assert.ok(names.length >= 25, names.join(', '));
  assert.deepEqual(names.filter((n) => !text.includes(`\`${n}`)), []);
});
