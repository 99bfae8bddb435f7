// Kills this process when it has not run for `stallMs`. On FreeSWITCH a call waiting for a
// decision holds a TCP socket to us, and FreeSWITCH puts no time limit on it (its sync `socket`
// application reads in the call's thread with no timeout): a process that is alive but stuck, or
// stopped from outside (SIGSTOP, a debugger), would hold every such call. Killed, its sockets close,
// each call's dialplan goes on at once with the default route, and the supervisor starts the
// adapter again (records are journaled, nothing is lost).
//
// The watching is done by a small separate process (a thread would be stopped with us): we send it
// a byte every stallMs/10 over its stdin; silent for stallMs, it kills us with SIGKILL (which also
// ends a stopped process). Our end of the pipe closing (we exited) ends it.
import { spawn } from 'node:child_process';

const GUARD = `
const [parent, stallMs] = process.argv.slice(1).map(Number);
let last = Date.now();
process.stdin.on('data', () => { last = Date.now(); });
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.on('SIGINT', () => undefined);
setInterval(() => {
  const silentMs = Date.now() - last;
  if (silentMs <= stallMs) return;
  process.stderr.write(JSON.stringify({ level: 60, time: Date.now(), msg: 'adapter stuck or stopped: killing it so that the calls it holds go on', silentMs, pid: parent }) + '\\n');
  try { process.kill(parent, 'SIGKILL'); } catch {}
  process.exit(0);
}, Math.max(20, Math.floor(stallMs / 10)));
`;

export interface StallWatchdog {
  stop(): Promise<void>;
}

export function startStallWatchdog(stallMs: number): StallWatchdog {
  const guard = spawn(process.execPath, ['-e', GUARD, String(process.pid), String(stallMs)], { stdio: ['pipe', 'ignore', 'inherit'] });
  const stdin = guard.stdin!;
  stdin.on('error', () => undefined); // the guard gone: nothing to do
  const beat = () => {
    if (!stdin.destroyed) stdin.write('.');
  };
  const timer = setInterval(beat, Math.max(10, Math.floor(stallMs / 10)));
  timer.unref();
  guard.unref();
  (stdin as unknown as { unref?: () => void }).unref?.();
  return {
    async stop() {
      clearInterval(timer);
      const gone = new Promise<void>((resolve) => (guard.exitCode !== null || guard.signalCode !== null ? resolve() : guard.once('exit', () => resolve())));
      stdin.end();
      await gone;
    },
  };
}
