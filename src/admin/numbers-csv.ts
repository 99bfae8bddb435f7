import { parse } from 'csv-parse/sync';
import { nameSchema } from '../config/policy-file.js';
import { parseDialedNumber, type CountryCode } from '../phone/index.js';

/**
 * A CSV of pool numbers, one per row, under a header: `number` (required; E.164 or a national
 * number of the default country, spaces, dots, dashes and brackets allowed), and optionally
 * `enabled` (true/false, yes/no, 1/0; empty: true), `groups` (names separated by `;` or `|`),
 * `area`, `region` (a location set by hand; an empty cell: computed from the number), `dailyCap`
 * (calls per day; an empty cell: the policy's callerId.dailyCap). Header names ignore case. A column that is absent leaves what
 * the number already has; a present column sets it.
 */
export interface CsvNumberRow {
  line: number;
  number: string;
  enabled?: boolean;
  groups?: string[];
  /** The row's daily cap; null: an empty cell (the policy's callerId.dailyCap applies). */
  dailyCap?: number | null;
  /** The area and region cells the row has ('': computed again). */
  location?: { area?: string; region?: string };
}

export interface CsvProblem {
  line: number;
  /** The number as the row wrote it (empty when the row has none). */
  input: string;
  message: string;
}

const COLUMNS = new Set(['number', 'enabled', 'groups', 'area', 'region', 'dailycap']);
const TRUE = new Set(['true', 'yes', '1', 'y', '']);
const FALSE = new Set(['false', 'no', '0', 'n']);
/** More rows than this is refused whole: the import is applied in one transaction, in memory. */
export const CSV_MAX_ROWS = 250_000;

export function parseNumbersCsv(text: string, defaultCountry: string): { rows: CsvNumberRow[]; problems: CsvProblem[] } {
  let records: string[][];
  try {
    records = parse(text.replace(/^\uFEFF/, ''), { relax_column_count: true, skip_empty_lines: true, trim: true }) as string[][];
  } catch (err) {
    const e = err as Error & { lines?: number };
    return { rows: [], problems: [{ line: e.lines ?? 0, input: '', message: `not CSV: ${e.message}` }] };
  }
  const [header, ...body] = records;
  if (!header) return { rows: [], problems: [{ line: 1, input: '', message: 'empty: the first line is a header like number,enabled,groups' }] };
  const columns = header.map((h) => h.toLowerCase());
  const unknown = columns.filter((c) => !COLUMNS.has(c));
  const problems: CsvProblem[] = [];
  if (unknown.length > 0) problems.push({ line: 1, input: '', message: `unknown column ${unknown.map((c) => `'${c}'`).join(', ')}; columns are ${[...COLUMNS].join(', ')}` });
  if (!columns.includes('number')) problems.push({ line: 1, input: '', message: "the header has no 'number' column" });
  if (body.length > CSV_MAX_ROWS) problems.push({ line: 1, input: '', message: `${body.length} rows; at most ${CSV_MAX_ROWS} in one import` });
  if (problems.length > 0) return { rows: [], problems };

  const rows: CsvNumberRow[] = [];
  const seen = new Map<string, number>();
  body.forEach((cells, i) => {
    const line = i + 2;
    const cell = (name: string) => {
      const at = columns.indexOf(name);
      return at < 0 ? undefined : (cells[at] ?? '');
    };
    const input = cell('number') ?? '';
    const fail = (message: string) => problems.push({ line, input, message });
    if (cells.length > columns.length) return fail(`${cells.length} fields; the header has ${columns.length}`);
    const parsed = parseDialedNumber(input.replace(/[\s().-]/g, ''), defaultCountry as CountryCode);
    if (!parsed.ok) return fail(input === '' ? 'no number' : `not a valid phone number (${parsed.reason})`);
    const first = seen.get(parsed.e164);
    if (first !== undefined) return fail(`${parsed.e164} is already on line ${first}`);
    seen.set(parsed.e164, line);
    const row: CsvNumberRow = { line, number: parsed.e164 };
    const enabled = cell('enabled')?.toLowerCase();
    if (enabled !== undefined) {
      if (TRUE.has(enabled)) row.enabled = true;
      else if (FALSE.has(enabled)) row.enabled = false;
      else return fail(`enabled: '${enabled}' is not true/false, yes/no or 1/0`);
    }
    const groups = cell('groups');
    if (groups !== undefined) {
      row.groups = groups.split(/[;|]/).map((g) => g.trim()).filter(Boolean);
      const bad = row.groups.find((g) => !nameSchema.safeParse(g).success);
      if (bad !== undefined) return fail(`groups: '${bad}' is not a group name (1-64 letters, digits, _ . @ -)`);
    }
    const cap = cell('dailycap');
    if (cap !== undefined) {
      if (cap === '') row.dailyCap = null;
      else if (/^[0-9]{1,6}$/.test(cap) && Number(cap) >= 1 && Number(cap) <= 100_000) row.dailyCap = Number(cap);
      else return fail(`dailyCap: '${cap}' is not a whole number from 1 to 100000`);
    }
    for (const key of ['area', 'region'] as const) {
      const v = cell(key);
      if (v === undefined) continue;
      if (v.length > 80) return fail(`${key}: at most 80 characters`);
      row.location = { ...row.location, [key]: v };
    }
    rows.push(row);
  });
  return { rows, problems };
}
