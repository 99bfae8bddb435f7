import { pino, type Logger } from 'pino';

export type { Logger };

/** Structured JSON logs on stdout; one child logger per call carries the call's ids. */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino({ level, base: { app: 'callpolicy' } }, destination as never);
}

/** A customer number as it may appear in logs: middle digits hidden unless allowed. */
export function numberForLog(e164: string | null | undefined, mask: boolean): string | null {
  if (!e164) return null;
  if (!mask || e164.length < 8) return mask ? '***' : e164;
  const keepEnd = 3;
  const keepStart = e164.length - keepEnd - 4;
  return `${e164.slice(0, keepStart)}****${e164.slice(-keepEnd)}`;
}
