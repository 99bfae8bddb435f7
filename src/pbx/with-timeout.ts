import { PbxTimeoutError } from './call-control.js';

/** Every awaited PBX request goes through here: none can hang a call forever. */
export function withTimeout<T>(promise: Promise<T>, ms: number, operation: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PbxTimeoutError(operation, ms)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Capped exponential back-off: 100 ms, 200 ms, ... up to capMs, for ever. */
export function backoffDelay(attempt: number, capMs = 10_000): number {
  return Math.min(capMs, 100 * 2 ** Math.min(attempt, 20));
}
