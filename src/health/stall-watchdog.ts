// Kills this process when it has not run for `stallMs`. On FreeSWITCH a call waiting for a
// decision holds a TCP socket to us, and FreeSWITCH puts no time limit on it (its sync `socket`
// application reads in the call's thread with no timeout): a process that is alive but stuck, or
// stopped from outside (SIGSTOP, a debugger), would hold every such call. Killed, its sockets close,
// each call's dialplan goes on at once with the default route, and the supervisor starts the
// adapter again (records are journaled, nothing is lost).
//
// The watching is done by a small separate process (a thread would be stopped with us): bash,
// a few MB where a second node would take about 40. We send it a byte every stallMs/10 over its
// stdin; when none comes for stallMs (bash's read -t), it kills us with SIGKILL (which also ends a
// stopped process). Our end of the pipe closing (we exited) ends it without a kill.
import { spawn } from 'node:child_process';

// $1: our pid; $2: the limit in seconds. read's status: 0 a byte, 1 the pipe closed, >128 timed out.
const GUARD = `
while :; do
  IFS= read -r -s -t "$2" -n 1 _
  s=$?
  [ "$s" -eq 0 ] && continue
  if [ "$s" -gt 128 ]; then
    printf '{"level":60,"time":%s000,"msg":"adapter stuck or stopped: killing it so that the calls it holds go on","pid":%s,"limitSeconds":%s}\\n' "$(date +%s)" "$1" "$2" >&2
    kill -KILL "$1" 2>/dev/null
  fi
  exit 0
done
`;

export interface StallWatchdog {
  stop(): Promise<void>;
}

export function startStallWatchdog(stallMs: number): StallWatchdog {
  const guard = spawn('/bin/bash', ['-c', GUARD, 'callpolicy-stall-guard', String(process.pid), (stallMs / 1000).toFixed(3)], { stdio: ['pipe', 'ignore', 'inherit'] });
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
