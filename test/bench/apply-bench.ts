// `callpolicy apply` at scale: a generated policy with N numbers (200,000 by default) applied to
// a PostgreSQL database, timed. Used by test/bench/run.ts and test/integration/store-apply-200k.test.ts.
import { createPolicyEditor } from '../../src/admin/policy-editor.js';
import { updateNumber } from '../../src/admin/policy-edits.js';
import { policyFileSchema, type PolicyFile } from '../../src/config/policy-file.js';
import { createLocator } from '../../src/phone/index.js';
import { applyPolicy, type ApplySummary } from '../../src/store/apply-policy.js';
import { openDatabase } from '../../src/store/database.js';

/** NANP area codes whose exchanges 200-999 are valid numbers for libphonenumber. */
const AREAS = ['212', '415', '646', '718', '917', '312', '213', '305', '404', '617', '206', '303', '512', '602', '702', '713'];

/**
 * A valid policy with `count` distinct US numbers spread over areas and ten groups, and 100
 * agents (each in two groups, allowed five numbers). Built like the file parser builds it
 * (policyFileSchema fills the defaults), without YAML: the text of 200,000 numbers takes the
 * `yaml` package longer to read than the database takes to apply it.
 */
export function generatePolicy(count: number): PolicyFile {
  const groups = Array.from({ length: 10 }, (_, i) => `g${i}`);
  const numbers: { number: string; groups: string[]; enabled?: boolean }[] = [];
  outer: for (const area of AREAS) {
    for (let exchange = 230; exchange < 1000; exchange++) {
      for (let line = 0; line < 10_000; line++) {
        if (numbers.length >= count) break outer;
        const i = numbers.length;
        numbers.push({ number: `+1${area}${exchange}${String(line).padStart(4, '0')}`, groups: [groups[i % 10]!], ...(i % 97 === 0 ? { enabled: false } : {}) });
      }
    }
  }
  if (numbers.length < count) throw new Error(`generatePolicy: at most ${numbers.length} numbers`);
  const agents = Array.from({ length: 100 }, (_, i) => ({
    id: `agent${i}`,
    endpoint: `PJSIP/${1000 + i}`,
    groups: [groups[i % 10]!, groups[(i + 1) % 10]!],
    numbers: numbers.slice(i * 5, i * 5 + 5).map((n) => n.number),
  }));
  return policyFileSchema.parse({ callerId: { strategy: 'group', selection: 'lru' }, groups, numbers, agents });
}

/** Applies `file` (default: 200,000 generated numbers) to the database at `databaseUrl`; returns elapsed ms of the apply. */
export async function benchApply(databaseUrl: string, file: PolicyFile = generatePolicy(200_000)): Promise<number> {
  const { ms } = await timedApply(databaseUrl, file);
  return ms;
}

/** The same, with the apply's summary (tests check it). */
export async function timedApply(databaseUrl: string, file: PolicyFile): Promise<{ ms: number; summary: ApplySummary }> {
  const database = await openDatabase({ url: databaseUrl, dataDir: '' });
  try {
    await database.migrate();
    const locator = createLocator();
    const started = performance.now();
    const summary = await applyPolicy(database.db, file, (n) => locator.locate(n));
    return { ms: Math.round(performance.now() - started), summary };
  } finally {
    await database.close();
  }
}

/**
 * What one change through the API costs at this size: `edits` times, one number disabled and
 * enabled again through the policy editor (export, check, apply under the lock), against a
 * re-apply of the unchanged file (the YAML path) in the same run. Returns elapsed ms of each.
 */
export async function benchEdit(databaseUrl: string, file: PolicyFile, edits = 3): Promise<{ editMs: number[]; reapplyMs: number }> {
  const database = await openDatabase({ url: databaseUrl, dataDir: '' });
  try {
    await database.migrate();
    const locator = createLocator();
    const locate = (n: string) => locator.locate(n);
    await applyPolicy(database.db, file, locate);
    const editor = createPolicyEditor({ db: database.db, locate, prompts: { dir: '/nonexistent', pbxDir: '/nonexistent' }, changed: async () => undefined });
    const target = file.numbers[1]!.number;
    const editMs: number[] = [];
    for (let i = 0; i < edits; i++) {
      const started = performance.now();
      await editor.edit('bench', (p) => updateNumber(p, target, { enabled: i % 2 === 1 }));
      editMs.push(Math.round(performance.now() - started));
    }
    const started = performance.now();
    await applyPolicy(database.db, file, locate);
    return { editMs, reapplyMs: Math.round(performance.now() - started) };
  } finally {
    await database.close();
  }
}
