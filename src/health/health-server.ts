import { createServer, type Server } from 'node:http';
import type { LinkState } from '../pbx/call-control.js';

export interface HealthSource {
  pbxLink(): LinkState;
  policyConfigured(): boolean;
  /** Whether the database answers; calls are decided either way. */
  database(): 'up' | 'down';
  /** The call-record queue (for /status). */
  records(): { queued: number; dropped: number; retrying: boolean };
  /** Where the policy in use came from (for /status). */
  policySource(): { kind: 'database' | 'snapshot' | 'empty'; at: Date | null };
  /** Number protection's mode and, in customer-id mode, the interface's counters (for /status); absent: not reported. */
  protection?(): { mode: string; customerIdInterface: object | null };
  /** GET /metrics (Prometheus text format); absent: 404. */
  metrics?: { contentType: string; text(): Promise<string> };
}

/**
 * GET /healthz: 200 when calls get decisions, else 503 with a stable error code:
 * - PBX link down: 503 `pbx-link-down` (a supervisor may restart the adapter for it);
 * - PBX link up, database down: 200 `degraded` / `database-down`: calls are still decided from
 *   the policy in memory, so restarting the adapter would only make things worse.
 * GET /status: the same plus the record queue, the policy's origin, number protection (the
 * customer-ID interface's hits, misses, timeouts, errors) and process memory.
 */
export function startHealthServer(host: string, port: number, source: HealthSource): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url === '/metrics' && source.metrics) {
      const m = source.metrics;
      m.text().then(
        (text) => res.writeHead(200, { 'content-type': m.contentType }).end(text),
        (err: Error) => res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'metrics-failed', message: err.message })),
      );
      return;
    }
    const link = source.pbxLink();
    const database = source.database();
    let code = 200;
    let body: Record<string, unknown>;
    if (link !== 'up') {
      code = 503;
      body = { status: 'not-ready', error: 'pbx-link-down', message: `PBX link is ${link}`, pbx: link, database };
    } else if (database === 'down') {
      body = {
        status: 'degraded',
        error: 'database-down',
        message: 'database unreachable: calls are decided from the policy in memory; call records wait in memory',
        pbx: link,
        database,
        policyConfigured: source.policyConfigured(),
      };
    } else {
      body = { status: 'ready', pbx: link, database, policyConfigured: source.policyConfigured() };
    }
    if (req.url === '/status') {
      const m = process.memoryUsage();
      const policy = source.policySource();
      body.records = source.records();
      body.policy = { source: policy.kind, at: policy.at?.toISOString() ?? null, configured: source.policyConfigured() };
      if (source.protection) body.protection = source.protection();
      body.memory = { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external };
    } else if (req.url !== '/healthz') {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'not-found', message: 'try /healthz, /status or /metrics' }));
      return;
    }
    res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
