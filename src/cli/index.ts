// The `callpolicy` command: its commands are in commands.ts; here, the exit codes.
import { PolicyFileError } from '../config/policy-file.js';
import { DataDirLockedError } from '../store/data-dir-lock.js';
import { ApiRequestError } from './api-client.js';
import { program } from './commands.js';

/** Bad input (a file, a field) exits 2, as a bad policy file always has; other failures 1. */
const BAD_INPUT = new Set(['invalid-policy', 'bad-request', 'import-refused', 'not-allowed', 'exists', 'in-use', 'not-found', 'unsupported-media-type']);

program.parseAsync().catch((err: Error) => {
  if (err instanceof ApiRequestError) {
    const problems = Array.isArray(err.body.details) && err.body.error !== 'invalid-policy' ? err.body.details.map((p) => `  ${String(p)}`) : [];
    console.error([`callpolicy: ${err.message}`, ...problems].join('\n'));
    process.exit(BAD_INPUT.has(err.body.error ?? '') ? 2 : 1);
  }
  console.error(err instanceof PolicyFileError ? err.message : `callpolicy: ${err.message}`);
  process.exit(err instanceof PolicyFileError || err instanceof DataDirLockedError ? 2 : 1);
});
