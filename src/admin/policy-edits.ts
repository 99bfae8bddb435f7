// Edits of the exported policy (plain data): each changes a copy in place and returns what it did,
// or throws an AdminError; the editor then checks the result like a policy file and applies it.
import type { ExportedAgent, ExportedNumber, ExportedPolicy } from '../store/export-policy.js';
import { AdminError, notFound } from './admin-error.js';
import type { CsvNumberRow } from './numbers-csv.js';

export type PolicyData = ExportedPolicy['policy'];

export function findNumber(p: PolicyData, e164: string): ExportedNumber {
  const n = p.numbers.find((x) => x.number === e164);
  if (!n) throw notFound(`no number ${e164} in the pool`, 'number');
  return n;
}

export function findAgent(p: PolicyData, id: string): ExportedAgent {
  const a = p.agents.find((x) => x.id === id);
  if (!a) throw notFound(`no agent '${id}'`, 'agent');
  return a;
}

export function addNumber(p: PolicyData, n: ExportedNumber): void {
  if (p.numbers.some((x) => x.number === n.number)) throw new AdminError(409, 'exists', `${n.number} is already in the pool`, 'number');
  p.numbers.push(n);
}

export function updateNumber(p: PolicyData, e164: string, change: { enabled?: boolean; groups?: string[]; location?: ExportedNumber['location'] | null; dailyCap?: number | null }): void {
  const n = findNumber(p, e164);
  if (change.dailyCap === null) delete n.dailyCap;
  else if (change.dailyCap !== undefined) n.dailyCap = change.dailyCap;
  if (change.enabled !== undefined) n.enabled = change.enabled;
  if (change.groups !== undefined) n.groups = change.groups;
  if (change.location === null) delete n.location;
  else if (change.location !== undefined) n.location = change.location;
}

/** A number an agent may choose cannot go without saying which agents lose it. */
export function removeNumber(p: PolicyData, e164: string): void {
  findNumber(p, e164);
  const users = p.agents.filter((a) => a.numbers.includes(e164)).map((a) => a.id);
  if (users.length > 0) throw new AdminError(409, 'in-use', `${e164} is one of the numbers of agent${users.length > 1 ? 's' : ''} ${users.join(', ')}: take it from them first`, 'number');
  p.numbers = p.numbers.filter((x) => x.number !== e164);
}

export function addGroup(p: PolicyData, name: string): void {
  if (p.groups.includes(name)) throw new AdminError(409, 'exists', `group '${name}' exists`, 'name');
  p.groups.push(name);
}

export function removeGroup(p: PolicyData, name: string): void {
  if (!p.groups.includes(name)) throw notFound(`no group '${name}'`, 'name');
  const survey = p.survey as { rules?: { group?: string }[] } | undefined;
  const users = [
    ...p.numbers.filter((n) => n.groups.includes(name)).map((n) => `number ${n.number}`),
    ...p.agents.filter((a) => a.groups.includes(name)).map((a) => `agent ${a.id}`),
    ...(survey?.rules ?? []).flatMap((r, i) => (r.group === name ? [`survey rule ${i + 1}`] : [])),
  ];
  if (users.length > 0) {
    const shown = users.slice(0, 5).join(', ') + (users.length > 5 ? ` and ${users.length - 5} more` : '');
    throw new AdminError(409, 'in-use', `group '${name}' is used by ${shown}`, 'name');
  }
  p.groups = p.groups.filter((g) => g !== name);
}

/** Creates or replaces an agent. */
export function putAgent(p: PolicyData, agent: ExportedAgent): 'created' | 'updated' {
  const at = p.agents.findIndex((a) => a.id === agent.id);
  if (at < 0) {
    p.agents.push(agent);
    return 'created';
  }
  p.agents[at] = agent;
  return 'updated';
}

export function removeAgent(p: PolicyData, id: string): void {
  findAgent(p, id);
  p.agents = p.agents.filter((a) => a.id !== id);
}

export const SETTINGS_SECTIONS = ['defaultCountry', 'callerId', 'trunks', 'emergency', 'memory', 'survey', 'privacy', 'protection'] as const;
export type SettingsSection = (typeof SETTINGS_SECTIONS)[number];

/** Replaces one settings section (null removes it: its defaults apply; for survey: no survey). */
export function setSettings(p: PolicyData, section: SettingsSection, value: unknown): void {
  if (value === null) delete p[section];
  else p[section] = value;
}

export interface ImportRowReport {
  line: number;
  number: string;
  result: 'added' | 'updated' | 'unchanged' | 'error';
  message?: string;
}

/**
 * Merges CSV rows into the pool: new numbers are added, listed ones changed by the columns the
 * file has, numbers not in the file are kept. Returns one report row per CSV row; an unknown
 * group is an error of its row.
 */
export function importNumbers(p: PolicyData, rows: CsvNumberRow[]): ImportRowReport[] {
  const groups = new Set(p.groups);
  const byNumber = new Map(p.numbers.map((n) => [n.number, n]));
  return rows.map((row): ImportRowReport => {
    const unknown = (row.groups ?? []).filter((g) => !groups.has(g));
    if (unknown.length > 0) return { line: row.line, number: row.number, result: 'error', message: `unknown group ${unknown.map((g) => `'${g}'`).join(', ')} (create it first)` };
    const existing = byNumber.get(row.number);
    const next: ExportedNumber = existing ? structuredClone(existing) : { number: row.number, enabled: true, groups: [] };
    if (row.enabled !== undefined) next.enabled = row.enabled;
    if (row.dailyCap === null) delete next.dailyCap;
    else if (row.dailyCap !== undefined) next.dailyCap = row.dailyCap;
    if (row.groups !== undefined) next.groups = [...new Set(row.groups)].sort();
    if (row.location) {
      const loc: { area?: string | null; region?: string | null } = { ...next.location };
      for (const key of ['area', 'region'] as const) {
        const v = row.location[key];
        if (v === undefined) continue;
        if (v === '') delete loc[key];
        else loc[key] = v;
      }
      if (Object.keys(loc).length === 0) delete next.location;
      else next.location = loc;
    }
    if (!existing) {
      p.numbers.push(next);
      byNumber.set(next.number, next);
      return { line: row.line, number: row.number, result: 'added' };
    }
    if (JSON.stringify(existing) === JSON.stringify(next)) return { line: row.line, number: row.number, result: 'unchanged' };
    Object.assign(existing, next);
    if (!next.location) delete existing.location;
    return { line: row.line, number: row.number, result: 'updated' };
  });
}
