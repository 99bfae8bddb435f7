// Bench section (5): the delay call memory adds to a customer's call, side by side in one run.
// Delay = the customer's INVITE to the first 180/200, timed by sipp's gettimeofday (microseconds).
//  - miss: through [callpolicy-inbound] (Stasis, look-up, no memory: the IVR) vs straight to the IVR;
//  - hit:  through [callpolicy-inbound] to the remembered agent vs a plain Dial of the agent's phone.
import pg from 'pg';
import { runLoad, startAgentPhone } from '../sandbox/sipp.js';
import { AGENT_ONE, CUSTOMER_PORT, IVR_PHONE } from '../integration/topology.js';
import { percentile } from './decision-bench.js';

export interface InboundBenchRow {
  name: string;
  sorted: number[];
  failed: number;
}

/** A customer number no agent called, and one that alice (PJSIP/1001, examples/policy.yaml) called an hour ago. */
const STRANGER = '+14155550901';
const REMEMBERED = '+14155550902';

export async function benchInbound(opts: { databaseUrl: string; rate: number; calls: number }): Promise<InboundBenchRow[][]> {
  const db = new pg.Client({ connectionString: opts.databaseUrl });
  await db.connect();
  try {
    await db.query(
      `INSERT INTO calls (direction, pbx, channel_id, agent_id, agent_endpoint, customer_e164, action, reason, decided_at, answered_at)
       VALUES ('outbound', 'asterisk', 'bench-remembered', 'alice', 'PJSIP/1001', $1, 'dial', 'bench', now() - interval '1 hour', now() - interval '1 hour')
       ON CONFLICT DO NOTHING`,
      [REMEMBERED],
    );
  } finally {
    await db.end();
  }

  const ivr = await startAgentPhone({ port: IVR_PHONE.port, traceMessages: false, holdMs: 60_000 });
  const agent = await startAgentPhone({ port: AGENT_ONE.port, traceMessages: false, holdMs: 60_000 });
  try {
    const call = (from: string, to: string, calls: number) => runLoad({ fromPort: CUSTOMER_PORT, fromUser: from, to, rate: opts.rate, calls, holdMs: 500 });
    const half = Math.ceil(opts.calls / 2);
    const paths = {
      straightIvr: () => call(STRANGER, 'direct-1000', half),
      miss: () => call(STRANGER, '+15550001000', half),
      plainAgent: () => call(REMEMBERED, `agent-${AGENT_ONE.endpoint}`, half),
      hit: () => call(REMEMBERED, '+15550001000', half),
    };
    // Warm-up: JIT, the prepared look-up, the pool.
    await call(STRANGER, '+15550001000', 30);
    await call(REMEMBERED, '+15550001000', 30);

    const pairs: [string, () => ReturnType<typeof call>, string, () => ReturnType<typeof call>][] = [
      ['straight to the IVR', paths.straightIvr, 'adapter, no memory: IVR', paths.miss],
      ['plain Dial of the agent', paths.plainAgent, 'adapter, memory: agent', paths.hit],
    ];
    const out: InboundBenchRow[][] = [];
    for (const [aName, a, bName, b] of pairs) {
      const rows: [InboundBenchRow, InboundBenchRow] = [
        { name: aName, sorted: [], failed: 0 },
        { name: bName, sorted: [], failed: 0 },
      ];
      // A B A B
      for (let round = 0; round < 2; round++) {
        for (const [i, run] of [a, b].entries()) {
          const r = await run();
          rows[i]!.sorted.push(...r.pddMs);
          rows[i]!.failed += r.failed;
        }
      }
      for (const row of rows) row.sorted.sort((x, y) => x - y);
      out.push(rows);
    }
    return out;
  } finally {
    await agent.stop();
    await ivr.stop();
  }
}

export function addedLine(base: InboundBenchRow, through: InboundBenchRow): string {
  const d = (p: number) => (percentile(through.sorted, p) - percentile(base.sorted, p)).toFixed(2);
  return `added: p50 ${d(50)} ms, p99 ${d(99)} ms; failed calls ${base.failed + through.failed}`;
}
