// The adapter's side of the policy worker (policy-worker.ts): a PolicyService whose calls are
// messages to the worker thread. After a change the adapter reloads before the caller hears back,
// so the API's reply means "calls are decided by it now".
import { Worker } from 'node:worker_threads';
import type { DatabaseLimits } from '../config/env.js';
import { PolicyFileError } from '../config/policy-file.js';
import type { Logger } from '../log.js';
import { PolicyConflictError } from '../store/apply-policy.js';
import type { PromptOptions } from '../survey/render-prompts.js';
import { AdminError } from './admin-error.js';
import type { PolicyService } from './policy-service.js';

export interface PolicyWorkerData {
  databaseUrl: string;
  limits: DatabaseLimits;
  prompts: PromptOptions;
  /** The payload of the worker's NOTIFY after a change: the adapter's name for its own changes. */
  notifyPayload: string;
}

type Method = Exclude<keyof PolicyService, 'close' | 'changedElsewhere'>;
export type WorkerRequest = { id: number; method: Method; args: unknown[] } | { id: number; method: 'close' };
export interface WorkerReply {
  id: number;
  result?: unknown;
  error?:
    | { type: 'AdminError'; status: number; code: string; message: string; field?: string; details?: unknown }
    | { type: 'PolicyFileError'; file: string; problems: string[]; message: string }
    | { type: 'PolicyConflictError'; message: string }
    | { type: 'Error'; message: string };
}

function revive(e: NonNullable<WorkerReply['error']>): Error {
  switch (e.type) {
    case 'AdminError':
      return new AdminError(e.status, e.code, e.message, e.field, e.details);
    case 'PolicyFileError':
      return new PolicyFileError(e.file, e.problems);
    case 'PolicyConflictError':
      return new PolicyConflictError();
    default:
      return new Error(e.message);
  }
}

/** Under tsx (src/*.ts) the worker needs tsx too; built (dist/*.js) it does not. */
const ENTRY = new URL(import.meta.url.endsWith('.ts') ? './policy-worker.ts' : './policy-worker.js', import.meta.url);

export function startPolicyWorker(opts: PolicyWorkerData & { logger: Logger; afterChange(): Promise<void>; changedElsewhere(): Promise<void> }): PolicyService {
  let worker: Worker | undefined;
  let ready: Promise<void> | undefined;
  let seq = 0;
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();

  /** Started on first use, and again after it died (its calls then fail, none hangs). */
  function ensure(): Promise<void> {
    if (worker && ready) return ready;
    const { logger, afterChange: _a, changedElsewhere: _c, ...data } = opts;
    // From source, the worker registers tsx's loader itself before importing the entry.
    const w = ENTRY.pathname.endsWith('.ts')
      ? new Worker(`import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(ENTRY.href)}); })`, { eval: true, workerData: data })
      : new Worker(ENTRY, { workerData: data });
    worker = w;
    ready = new Promise<void>((resolve, reject) => {
      pending.set(0, { resolve: () => resolve(), reject });
    });
    ready.catch(() => undefined);
    w.on('message', (reply: WorkerReply) => {
      const p = pending.get(reply.id);
      if (!p) return;
      pending.delete(reply.id);
      if (reply.error) p.reject(revive(reply.error));
      else p.resolve(reply.result);
    });
    const fail = (why: string) => {
      if (worker === w) {
        worker = undefined;
        ready = undefined;
      }
      for (const p of pending.values()) p.reject(new Error(`the policy worker ${why}`));
      pending.clear();
    };
    w.on('error', (err) => {
      logger.error({ err: err.message }, 'policy worker failed; it starts again on the next request');
      fail(`failed: ${err.message}`);
    });
    w.on('exit', (code) => fail(`exited (code ${code})`));
    return ready;
  }

  async function call<T>(method: Method, ...args: unknown[]): Promise<T> {
    await ensure();
    const id = ++seq;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      worker!.postMessage({ id, method, args } satisfies WorkerRequest);
    });
  }

  const changed = async <T extends { changes: number }>(p: Promise<T>): Promise<T> => {
    const r = await p;
    if (r.changes > 0) await opts.afterChange();
    return r;
  };

  return {
    read: () => call('read'),
    replaceText: (text, name) => changed(call('replaceText', text, name)),
    async change(source, change) {
      const r = await call<Awaited<ReturnType<PolicyService['change']>>>('change', source, change);
      if (r.summary.changes > 0) await opts.afterChange();
      return r;
    },
    importCsv: (source, text, dryRun) => changed(call('importCsv', source, text, dryRun)),
    changedElsewhere: () => opts.changedElsewhere(),
    async close() {
      const w = worker;
      if (!w) return;
      const id = ++seq;
      await Promise.race([
        new Promise((resolve) => {
          pending.set(id, { resolve, reject: resolve });
          w.postMessage({ id, method: 'close' } satisfies WorkerRequest);
        }),
        new Promise((r) => setTimeout(r, 3000)),
      ]);
      await w.terminate();
    },
  };
}
