import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { PolicyRows } from './load-policy.js';

/**
 * The last policy read from the database, kept in a file so that an adapter started while the
 * database is down decides from it instead of sending every call out with the default caller ID.
 */
export interface PolicySnapshot {
  version: 1;
  /** When the rows were read from the database (ISO). */
  savedAt: string;
  /** Which database they came from (host:port/name or the PGlite folder). */
  source: string;
  rows: PolicyRows;
}

/**
 * Writes atomically: a temporary file in the same folder, flushed to disk, then renamed over the
 * old one. A crash leaves either the old snapshot or the new one, never half of one.
 */
export async function writePolicySnapshot(file: string, rows: PolicyRows, source: string, savedAt = new Date()): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  const snapshot: PolicySnapshot = { version: 1, savedAt: savedAt.toISOString(), source, rows };
  const handle = await open(tmp, 'w', 0o600);
  try {
    await handle.writeFile(JSON.stringify(snapshot));
    await handle.sync();
  } catch (err) {
    await handle.close();
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await handle.close();
  await rename(tmp, file);
}

export class SnapshotError extends Error {
  override name = 'SnapshotError';
}

/** The snapshot in `file`; null when there is none; SnapshotError when it cannot be used. */
export async function readPolicySnapshot(file: string): Promise<PolicySnapshot | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new SnapshotError(`cannot read ${file}: ${(err as Error).message}`);
  }
  let parsed: Partial<PolicySnapshot>;
  try {
    parsed = JSON.parse(text) as Partial<PolicySnapshot>;
  } catch (err) {
    throw new SnapshotError(`${file} is not JSON: ${(err as Error).message}`);
  }
  const rows = parsed.rows as Partial<PolicyRows> | undefined;
  const lists = ['numbers', 'numberGroups', 'agents', 'agentGroups', 'agentNumbers'] as const;
  if (
    parsed.version !== 1 ||
    typeof parsed.savedAt !== 'string' ||
    !Number.isFinite(Date.parse(parsed.savedAt)) ||
    !rows ||
    typeof rows.settings !== 'object' ||
    rows.settings === null ||
    lists.some((k) => !Array.isArray(rows[k]))
  ) {
    throw new SnapshotError(`${file} is not a policy snapshot this version can read`);
  }
  return { version: 1, savedAt: parsed.savedAt, source: String(parsed.source ?? ''), rows: rows as PolicyRows };
}
