// Kills this process when its event loop has not run for `stallMs`. On FreeSWITCH a call waiting
// for a decision holds a TCP socket to us, and FreeSWITCH puts no time limit on it: a process that
// is alive but stuck would hold every such call. Killed, its sockets close, each call's dialplan goes
// on at once with the default route, and the supervisor starts the adapter again (records are
// journaled, nothing is lost). A worker thread does the watching: it runs while the main loop is stuck.
import { Worker } from 'node:worker_threads';

const WATCHER = `
const { workerData } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const beat = new BigInt64Array(workerData.beat);
setInterval(() => {
  const silentMs = Date.now() - Number(Atomics.load(beat, 0));
  if (silentMs > workerData.stallMs) {
    // Straight to fd 2: a worker's process.stderr goes through the main thread, which is stuck.
    writeSync(2, JSON.stringify({ level: 60, time: Date.now(), msg: 'event loop stuck: killing the adapter so that the calls it holds go on', silentMs }) + '\\n');
    process.kill(process.pid, 'SIGKILL');
  }
}, Math.max(20, Math.floor(workerData.stallMs / 5)));
`;

export interface StallWatchdog {
  stop(): Promise<void>;
}

export function startStallWatchdog(stallMs: number): StallWatchdog {
  const beat = new BigInt64Array(new SharedArrayBuffer(8));
  const tick = () => Atomics.store(beat, 0, BigInt(Date.now()));
  tick();
  const timer = setInterval(tick, Math.max(10, Math.floor(stallMs / 10)));
  timer.unref();
  const worker = new Worker(WATCHER, { eval: true, workerData: { beat: beat.buffer, stallMs } });
  worker.unref();
  return {
    async stop() {
      clearInterval(timer);
      await worker.terminate();
    },
  };
}
