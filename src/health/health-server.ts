import { createServer, type Server } from 'node:http';
import type { LinkState } from '../pbx/call-control.js';

export interface HealthSource {
  pbxLink(): LinkState;
  policyConfigured(): boolean;
}

/**
 * GET /healthz: 200 when calls can get decisions, else 503 with a stable error code.
 * GET /status: the same plus process memory, for operators and the benchmark.
 */
export function startHealthServer(host: string, port: number, source: HealthSource): Promise<Server> {
  const server = createServer((req, res) => {
    const link = source.pbxLink();
    const ready = link === 'up';
    const body: Record<string, unknown> = ready
      ? { status: 'ready', pbx: link, policyConfigured: source.policyConfigured() }
      : { status: 'not-ready', error: 'pbx-link-down', message: `PBX link is ${link}`, pbx: link };
    if (req.url === '/status') {
      const m = process.memoryUsage();
      body.memory = { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external };
    } else if (req.url !== '/healthz') {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'not-found', message: 'try /healthz or /status' }));
      return;
    }
    res.writeHead(ready ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
