// One call rate, both paths, printed side by side: `RATE=200 npx tsx test/bench/rate-probe.ts` (needs the
// sandbox root; 20 s of calls per path, 1 s talk). Add ADAPTER_NODE_ARGS=--cpu-prof to profile the adapter.
import path from 'node:path';
import { runLoad, startTrunk } from '../sandbox/sipp.js';
import { createTempDatabase } from '../support/temp-database.js';
import { REPO, startLocalStack } from '../support/local-stack.js';
import { AGENT_ONE, PLAIN_AGENT, OUTSIDE_LINE, TRUNK_PORT } from '../integration/topology.js';
const rate = Number(process.env.RATE ?? 200);
const db = await createTempDatabase();
const stack = await startLocalStack({ workDir: path.join(REPO, '.data', 'rate-probe'), policyFile: path.join(REPO, 'examples', 'policy.yaml'), databaseUrl: db.url, httpPort: 8096, shipped: true });
const trunk = await startTrunk({ port: TRUNK_PORT, traceMessages: false, holdMs: 60_000 });
const pct = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]; };
try {
  await runLoad({ fromPort: AGENT_ONE.port, fromUser: AGENT_ONE.endpoint, to: `${OUTSIDE_LINE}+12125550123`, rate: 20, calls: 50, holdMs: 1000 });
  for (const [name, agent, to] of [['plain', PLAIN_AGENT, '+12125550123'], ['adapter', AGENT_ONE, `${OUTSIDE_LINE}+12125550123`]] as const) {
    const r = await runLoad({ fromPort: agent.port, fromUser: agent.endpoint, to, rate, calls: rate * 20, holdMs: 1000 });
    console.log(name, rate, 'cps', 'ok', r.succeeded, 'failed', r.failed, 'p50', pct(r.pddMs, 50), 'p90', pct(r.pddMs, 90), 'p99', pct(r.pddMs, 99), 'max', Math.max(...r.pddMs));
  }
} finally {
  await trunk.stop(); await stack.stop(); await db.drop();
}
