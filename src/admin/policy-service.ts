// The policy's changes as data, and the service that carries them out. A change is data (not a
// function) so that it can be sent to the worker thread that does the heavy part (policy-worker.ts)
// as well as run in this thread (the CLI's own API, an embedded database).
import { parsePolicyFile } from '../config/policy-file.js';
import type { ApplySummary } from '../store/apply-policy.js';
import type { ExportedAgent, ExportedNumber, ExportedPolicy } from '../store/export-policy.js';
import { AdminError } from './admin-error.js';
import { parseNumbersCsv } from './numbers-csv.js';
import type { PolicyEditor } from './policy-editor.js';
import {
  addGroup,
  addNumber,
  importNumbers,
  putAgent,
  removeAgent,
  removeGroup,
  removeNumber,
  setSettings,
  updateNumber,
  type ImportRowReport,
  type PolicyData,
  type SettingsSection,
} from './policy-edits.js';

export type PolicyChange =
  | { kind: 'add-number'; number: ExportedNumber }
  | { kind: 'update-number'; number: string; change: Parameters<typeof updateNumber>[2] }
  | { kind: 'remove-number'; number: string }
  | { kind: 'add-group'; name: string }
  | { kind: 'remove-group'; name: string }
  | { kind: 'put-agent'; agent: ExportedAgent }
  | { kind: 'remove-agent'; id: string }
  | { kind: 'set-settings'; section: SettingsSection; value: unknown };

function applyChange(p: PolicyData, c: PolicyChange): unknown {
  switch (c.kind) {
    case 'add-number':
      return addNumber(p, c.number);
    case 'update-number':
      return updateNumber(p, c.number, c.change);
    case 'remove-number':
      return removeNumber(p, c.number);
    case 'add-group':
      return addGroup(p, c.name);
    case 'remove-group':
      return removeGroup(p, c.name);
    case 'put-agent':
      return putAgent(p, c.agent);
    case 'remove-agent':
      return removeAgent(p, c.id);
    case 'set-settings':
      return setSettings(p, c.section, c.value);
  }
}

export interface ImportOutcome {
  applied: boolean;
  dryRun?: boolean;
  rows: ImportRowReport[];
  counts: { added: number; updated: number; unchanged: number; error: number };
  changes: number;
}

export interface PolicyService {
  read(): Promise<ExportedPolicy>;
  /** A whole policy file's text, parsed and checked as `callpolicy apply` does, then applied. */
  replaceText(text: string, name: string): Promise<ApplySummary>;
  change(source: string, change: PolicyChange): Promise<{ result: unknown; summary: ApplySummary }>;
  /** A CSV of numbers: all rows or none (AdminError import-refused with the report), or a dry run. */
  importCsv(source: string, text: string, dryRun: boolean): Promise<ImportOutcome>;
  /** A change made outside an apply (a chosen number, a pause): running adapters reload. */
  changedElsewhere(): Promise<void>;
  close(): Promise<void>;
}

const NOT_APPLIED = Symbol('not applied');

/** The service on an editor in this thread. */
export function createPolicyService(editor: PolicyEditor): PolicyService {
  return {
    read: () => editor.read(),
    replaceText: async (text, name) => editor.replace(parsePolicyFile(text, name), name),
    change: (source, change) => editor.edit(source, (p) => applyChange(p, change), { touchesSurvey: change.kind === 'set-settings' && change.section === 'survey' }),
    async importCsv(source, text, dryRun) {
      const { policy } = await editor.read();
      const csv = parseNumbersCsv(text, typeof policy.defaultCountry === 'string' ? policy.defaultCountry : 'US');
      const report = (rows: ImportRowReport[]) => {
        const all = [...rows, ...csv.problems.map((p) => ({ line: p.line, number: p.input, result: 'error' as const, message: p.message }))].sort((a, b) => a.line - b.line);
        const counts = { added: 0, updated: 0, unchanged: 0, error: 0 };
        for (const r of all) counts[r.result]++;
        return { rows: all, counts };
      };
      const refuse = (r: ReturnType<typeof report>) => new AdminError(422, 'import-refused', `${r.counts.error} bad row(s): nothing imported`, 'body', r);
      if (csv.problems.length > 0 && csv.rows.length === 0) throw refuse(report([]));
      // A dry run and a refused import stop before the apply: the edit throws after the report is made.
      let rows: ImportRowReport[] = [];
      try {
        const { summary } = await editor.edit(source, (p) => {
          rows = importNumbers(p, csv.rows);
          if (csv.problems.length > 0 || rows.some((r) => r.result === 'error') || dryRun) throw NOT_APPLIED;
        });
        return { applied: true, ...report(rows), changes: summary.changes };
      } catch (err) {
        if (err !== NOT_APPLIED) throw err;
      }
      const r = report(rows);
      if (r.counts.error > 0) throw refuse(r);
      return { applied: false, dryRun: true, ...r, changes: 0 };
    },
    changedElsewhere: () => editor.changedElsewhere(),
    close: async () => undefined,
  };
}
