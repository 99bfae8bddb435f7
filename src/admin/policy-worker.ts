// The policy service's worker thread: reading, checking and applying a policy of 200,000
// numbers keeps a thread busy for seconds (parsing, zod, locating each number, the export),
// and in the adapter's own thread that would hold every call waiting for a decision. Here it
// runs on its own connection to PostgreSQL; the adapter's thread only passes messages.
import { parentPort, workerData } from 'node:worker_threads';
import { PolicyFileError } from '../config/policy-file.js';
import { createLocator } from '../phone/index.js';
import { POLICY_CHANGED_CHANNEL, PolicyConflictError } from '../store/apply-policy.js';
import { openDatabase } from '../store/database.js';
import { AdminError } from './admin-error.js';
import { createPolicyEditor } from './policy-editor.js';
import { createPolicyService, type PolicyService } from './policy-service.js';
import type { PolicyWorkerData, WorkerReply, WorkerRequest } from './policy-worker-client.js';

const data = workerData as PolicyWorkerData;
const db = await openDatabase({ url: data.databaseUrl, dataDir: '', limits: data.limits, role: 'cli' });
const locator = createLocator();
const service: PolicyService = createPolicyService(
  createPolicyEditor({ db: db.db, locate: (n) => locator.locate(n), prompts: data.prompts, changed: () => db.notify(POLICY_CHANGED_CHANNEL, data.notifyPayload) }),
);

function serialize(err: unknown): WorkerReply['error'] {
  if (err instanceof AdminError) return { type: 'AdminError', status: err.status, code: err.code, message: err.message, field: err.field, details: err.details };
  if (err instanceof PolicyFileError) return { type: 'PolicyFileError', file: err.file, problems: err.problems, message: err.message };
  if (err instanceof PolicyConflictError) return { type: 'PolicyConflictError', message: err.message };
  return { type: 'Error', message: err instanceof Error ? err.message : String(err) };
}

parentPort!.on('message', (req: WorkerRequest) => {
  if (req.method === 'close') {
    void db.close().finally(() => parentPort!.postMessage({ id: req.id, result: null } satisfies WorkerReply));
    return;
  }
  const run = service[req.method] as (...args: unknown[]) => Promise<unknown>;
  // A synchronous throw (a file that does not parse) is a refusal like any other, not a crash.
  Promise.resolve()
    .then(() => run(...req.args))
    .then(
    (result) => parentPort!.postMessage({ id: req.id, result } satisfies WorkerReply),
    (err: unknown) => parentPort!.postMessage({ id: req.id, error: serialize(err) } satisfies WorkerReply),
  );
});
parentPort!.postMessage({ id: 0, result: 'ready' } satisfies WorkerReply);
