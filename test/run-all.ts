// `npm test`: typecheck, unit tests, then integration tests (real Asterisk, sipp, PostgreSQL).
// Every stage runs even when an earlier one failed, so one report covers everything; the last
// line is the runners' own counts, "N passed, N failed", and the exit code is non-zero when
// anything failed or a stage could not run.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS_DIR = path.join(REPO, 'test', '.results');

interface VitestJson {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  success: boolean;
}

function run(title: string, cmd: string, args: string[]): number {
  process.stderr.write(`\n[npm test] ${title}: ${cmd} ${args.join(' ')}\n`);
  const r = spawnSync(cmd, args, { cwd: REPO, stdio: 'inherit', env: process.env });
  return r.status ?? 1;
}

function counts(file: string): VitestJson | undefined {
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as VitestJson;
}

rmSync(RESULTS_DIR, { recursive: true, force: true });
mkdirSync(RESULTS_DIR, { recursive: true });
const npx = path.join(REPO, 'node_modules', '.bin');
const typecheck = run('typecheck', path.join(npx, 'tsc'), ['-p', 'tsconfig.json', '--noEmit']);
const unit = run('unit', path.join(npx, 'vitest'), ['run', '--dir', 'test/unit', '--reporter=default', '--reporter=json', `--outputFile.json=${path.join(RESULTS_DIR, 'unit.json')}`]);
const integration = run('integration', path.join(npx, 'tsx'), ['test/integration/run.ts']);

let passed = 0;
let failed = 0;
let skipped = 0;
const problems: string[] = [];
if (typecheck !== 0) problems.push('typecheck failed');
for (const [stage, code] of [['unit', unit], ['integration', integration]] as const) {
  const c = counts(path.join(RESULTS_DIR, `${stage}.json`));
  if (!c) {
    problems.push(`${stage}: the runner wrote no results (exit ${code})`);
    continue;
  }
  passed += c.numPassedTests;
  failed += c.numFailedTests;
  skipped += c.numPendingTests + c.numTodoTests;
  if (code !== 0 && c.numFailedTests === 0) problems.push(`${stage}: exit ${code} with no failed test (a file failed to load or a hook failed)`);
}
if (skipped > 0) problems.push(`${skipped} test(s) skipped: nothing may be skipped`);
for (const p of problems) process.stderr.write(`[npm test] ${p}\n`);
process.stdout.write(`${passed} passed, ${failed} failed\n`);
process.exit(typecheck !== 0 || unit !== 0 || integration !== 0 || failed > 0 || problems.length > 0 ? 1 : 0);
