import { createSocket } from 'node:dgram';
import { createConnection, createServer } from 'node:net';
// Child-process helpers shared by the Asterisk sandbox and the SIPp harness.
// Every wait has a deadline and a message that says what was awaited.
import type { ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export class SandboxTimeoutError extends Error {
  override readonly name = 'SandboxTimeoutError';
}

/** Rejects with a SandboxTimeoutError naming `what` if `promise` is not settled within `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SandboxTimeoutError(`timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `check` every `intervalMs` until it returns a value other than undefined, or times out. */
export async function pollUntil<T>(
  check: () => Promise<T | undefined> | T | undefined,
  opts: { timeoutMs: number; intervalMs?: number; what: string },
): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) {
      throw new SandboxTimeoutError(`timed out after ${opts.timeoutMs} ms: ${opts.what}`);
    }
    await sleep(opts.intervalMs ?? 100);
  }
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Resolves when the child has exited (at once if it already has). Never rejects. */
export function exited(child: ChildProcess): Promise<ExitInfo> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/**
 * Stops a child: SIGTERM, then SIGKILL after `graceMs`, then waits up to `graceMs` again.
 * Throws if the process survives SIGKILL (that would be a leak the caller must hear about).
 */
export async function terminate(child: ChildProcess, what: string, graceMs = 3000): Promise<ExitInfo> {
  if (hasExited(child)) return exited(child);
  child.kill('SIGTERM');
  try {
    return await withTimeout(exited(child), graceMs, `${what} to exit after SIGTERM`);
  } catch {
    child.kill('SIGKILL');
    return withTimeout(exited(child), graceMs, `${what} (pid ${child.pid}) to exit after SIGKILL`);
  }
}

// Children still alive when this process exits (normal exit, uncaught error, test failure)
// get SIGKILL so that no sipp or asterisk outlives the test run.
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

export function killOnExit(child: ChildProcess): void {
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const c of liveChildren) {
        try {
          c.kill('SIGKILL');
        } catch {
          // already gone
        }
      }
    });
  }
}

/** The last `maxLines` lines of a text file, or a note that it cannot be read. */
export async function tailFile(path: string, maxLines = 40): Promise<string> {
  try {
    const text = await fs.readFile(path, 'utf8');
    const lines = text.split('\n');
    return lines.slice(Math.max(0, lines.length - maxLines - 1)).join('\n');
  } catch (err) {
    return `(cannot read ${path}: ${(err as Error).message})`;
  }
}

/** Why 127.0.0.1:<port>/udp cannot be bound (it is taken), or null when it is free. */
export async function udpPortBusy(port: number, host = '127.0.0.1'): Promise<string | null> {
  const socket = createSocket('udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, host, () => resolve());
    });
    return null;
  } catch (err) {
    return (err as Error).message;
  } finally {
    await new Promise<void>((resolve) => {
      try {
        socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}

/** One TCP connection attempt to 127.0.0.1:<port>: 'open', 'closed' (refused) or 'no-answer' (timed out). */
export function probeTcp(port: number, timeoutMs = 1000): Promise<'open' | 'closed' | 'no-answer'> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.setTimeout(timeoutMs);
    socket.once('connect', () => {
      socket.destroy();
      resolve('open');
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve('no-answer');
    });
    socket.once('error', () => resolve('closed'));
  });
}

/** A TCP port on 127.0.0.1 that nothing listens on now (the kernel's choice). */
export function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}
