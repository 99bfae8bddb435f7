import { pino, type Logger } from 'pino';
import { maskNumber } from './phone/mask-number.js';

export type { Logger };

/**
 * Structured JSON logs on stdout; one child logger per call carries the call's ids.
 *
 * Written asynchronously: pino's default (a synchronous write per line) was a seventh of the
 * adapter's CPU at 300 calls/s (profile: sonic-boom's fs.writeSync under the per-call line), time
 * taken from Asterisk on the same cores. Lines queued at exit are flushed by pino (also on an
 * uncaught error); only a SIGKILL can lose the last few, and call records have their own journal.
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino({ level, base: { app: 'callpolicy' } }, (destination ?? pino.destination({ dest: 1, sync: false })) as never);
}

/**
 * A customer number as it may appear in logs and the CLI: with masking on, the same masked form
 * agents see under number protection (`+86 138****8000`, `****` for anything unreadable).
 */
export function numberForLog(e164: string | null | undefined, mask: boolean): string | null {
  if (!e164) return null;
  return mask ? maskNumber(e164).display : e164;
}
