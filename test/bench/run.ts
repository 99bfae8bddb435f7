// npm run bench: prints, in one run,
//  (1) the caller-ID decision time in process: 100,000 numbers over 1,000 areas, 10,000 agents;
//  (2) the post-dial delay the adapter adds: sipp agent -> Asterisk -> sipp trunk through the
//      adapter's dialplan (Stasis + decision) against a plain Dial with a fixed caller ID on the
//      same Asterisk, interleaved, at a steady call rate. PDD is INVITE to the first 180/200 at the
//      agent's phone, timed by sipp's own gettimeofday (microseconds), not its 4 ms response timers;
//  (2b) the same with number protection (mask) on, against it off and plain Dial, A B C A B C:
//      what protecting the agent's phone adds (three more variables in the decision's write, a
//      Gosub and a connected-line update interception in the dialplan);
//  (3) the adapter process's memory, run as shipped (`node dist/src/main.js`): at rest, then after
//      every 10,000 calls up to 100,000;
//  (4) the ceiling: call rate raised in steps for both paths (A B at each step, 1 s talk); the
//      highest rate with 0 failed calls and p99 under 100 ms, per path, and their ratio;
//  (5) inbound calls (call memory): the customer's INVITE to the first 180/200, through the adapter
//      against the same call without it (straight to the IVR; a plain Dial of the agent), A B A B;
//  (6) the floor: the adapter stopped, a raw websocket Stasis app (no ari-client, no policy) sends the
//      same requests; its added delay against plain Dial is what Stasis itself costs here;
//  (7) call memory's look-up with BENCH_LOOKUP_ROWS (10,000,000) outbound call rows in PostgreSQL;
//  after (8): apply of 200,000 numbers, and one change through the API's policy editor at that size;
//  (8) FreeSWITCH: time a call is held in the `socket` application for the adapter's decision, through
//      the ESL driver and a fake FreeSWITCH replaying recorded frames, against nothing listening
//      (freeswitch-bench.ts; also runs alone: `npx tsx test/bench/freeswitch-bench.ts`);
//  (8b) FreeSWITCH, the real 1.10.12 sandbox: post-dial delay of plain `bridge`, a bare socket
//      decision and the adapter, interleaved, and FreeSWITCH's CPU per call
//      (freeswitch-real-bench.ts; also runs alone: `npx tsx test/bench/freeswitch-real-bench.ts`).
// Options (environment): BENCH_RATE (20 calls/s), BENCH_CALLS (1000 per path), BENCH_MEMORY_CALLS
// (100000), BENCH_MEMORY_RATE (200 calls/s), BENCH_CEILING_STEPS (50,100,150,200,250,300; empty:
// skip), BENCH_CEILING_SECONDS (20 per step and path), BENCH_LOOKUP_ROWS (10000000).
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runLoad, startTrunk } from '../sandbox/sipp.js';
import { createTempDatabase } from '../support/temp-database.js';
import { REPO, adapterMemory, startLocalStack } from '../support/local-stack.js';
import { AGENT_ONE, OUTSIDE_LINE, PLAIN_AGENT, TRUNK_PORT } from '../integration/topology.js';
import { benchApply, benchEdit, generatePolicy } from './apply-bench.js';
import { addedLine, benchInbound } from './inbound-bench.js';
import { percentile, runDecisionBench } from './decision-bench.js';
import { benchFreeswitch } from './freeswitch-bench.js';
import { benchFreeswitchReal } from './freeswitch-real-bench.js';
import { benchMemoryLookup } from './memory-lookup-bench.js';
import { startRawStasisApp } from './raw-stasis-app.js';

const RATE = Number(process.env.BENCH_RATE ?? 20);
const CALLS = Number(process.env.BENCH_CALLS ?? 1000);
const MEMORY_CALLS = Number(process.env.BENCH_MEMORY_CALLS ?? 100_000);
const MEMORY_RATE = Number(process.env.BENCH_MEMORY_RATE ?? 200);
const MEMORY_CHUNK = 10_000;
const CALLEE = '+12125550123';

const fmt = (n: number, d = 2) => n.toFixed(d);
const mb = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

async function main() {
  console.log('== (1) caller-ID decision in process (100,000 numbers, 1,000 areas, 10,000 agents)');
  for (const f of runDecisionBench()) {
    console.log(`  ${f.label.padEnd(14)} ${f.decisions} decisions  p50 ${fmt(f.p50us)} us  p99 ${fmt(f.p99us)} us  max ${fmt(f.maxUs, 0)} us`);
  }

  console.log(`\n== (8) FreeSWITCH (recorded-protocol fake, in this process): time held in the socket application, ${RATE} calls/s, ${CALLS} calls per path`);
  for (const line of await benchFreeswitch({ rate: RATE, calls: CALLS })) console.log(line);

  console.log('\n== (8b) FreeSWITCH (real, sandbox): post-dial delay, plain bridge / bare socket / adapter, interleaved');
  for (const line of await benchFreeswitchReal()) console.log(line);

  const applyDb = await createTempDatabase();
  try {
    const file = generatePolicy(200_000);
    console.log(`\napply 200,000 numbers: ${await benchApply(applyDb.url, file)} ms`);
    const edit = await benchEdit(applyDb.url, file);
    console.log(`one change through the API (a number disabled/enabled), 200,000 numbers: ${edit.editMs.join(', ')} ms; re-apply of the same file: ${edit.reapplyMs} ms`);
  } finally {
    await applyDb.drop();
  }

  const db = await createTempDatabase();
  const stack = await startLocalStack({ workDir: path.join(REPO, '.data', 'bench'), policyFile: path.join(REPO, 'examples', 'policy.yaml'), databaseUrl: db.url, httpPort: 8098, shipped: true });
  const trunk = await startTrunk({ port: TRUNK_PORT, traceMessages: false, holdMs: 60_000 });
  try {
    const atRest = await adapterMemory(stack.statusUrl);
    const load = (agent: typeof AGENT_ONE | typeof PLAIN_AGENT, calls: number, rate: number) =>
      runLoad({ fromPort: agent.port, fromUser: agent.endpoint, to: agent === AGENT_ONE ? `${OUTSIDE_LINE}${CALLEE}` : CALLEE, rate, calls, holdMs: 1000 });

    console.log(`\n== (2) post-dial delay, INVITE to first 180/200 at the agent phone, ${RATE} calls/s, ${CALLS} calls per path`);
    await load(AGENT_ONE, 50, RATE); // warm-up: JIT, database pool, location cache
    await load(PLAIN_AGENT, 50, RATE);
    let failed = 0;
    /** Plain Dial, then AGENT_ONE's path, twice (A B A B), CALLS per path: each path's PDDs, sorted. */
    const interleaved = async (): Promise<[number[], number[]]> => {
      const out: [number[], number[]] = [[], []];
      for (let round = 0; round < 2; round++) {
        for (const [i, agent] of [PLAIN_AGENT, AGENT_ONE].entries()) {
          const r = await load(agent, Math.ceil(CALLS / 2), RATE);
          out[i]!.push(...r.pddMs);
          failed += r.failed;
        }
      }
      for (const xs of out) xs.sort((a, b) => a - b);
      return out;
    };
    const [plain, adapter] = await interleaved();
    const row = (name: string, xs: number[]) =>
      `  ${name.padEnd(28)} n=${xs.length}  p50 ${fmt(percentile(xs, 50))} ms  p90 ${fmt(percentile(xs, 90))} ms  p99 ${fmt(percentile(xs, 99))} ms  max ${fmt(xs[xs.length - 1] ?? NaN)} ms`;
    console.log(row('plain Dial, fixed caller ID', plain));
    console.log(row('through the adapter', adapter));
    console.log(
      `  added by the adapter: p50 ${fmt(percentile(adapter, 50) - percentile(plain, 50))} ms, p99 ${fmt(percentile(adapter, 99) - percentile(plain, 99))} ms;` +
        ` ratio p50 ${fmt(percentile(adapter, 50) / percentile(plain, 50))}, p99 ${fmt(percentile(adapter, 99) / percentile(plain, 99))}; failed calls ${failed}`,
    );

    const addedP50 = percentile(adapter, 50) - percentile(plain, 50);
    const addedP99 = percentile(adapter, 99) - percentile(plain, 99);

    console.log(`\n== (2b) number protection (mask), outbound, ${RATE} calls/s, ${Math.ceil(CALLS / 2)} calls per path and round, plain / off / mask, twice`);
    const basePolicy = readFileSync(path.join(REPO, 'examples', 'policy.yaml'), 'utf8');
    const useProtection = async (mode: 'off' | 'mask') => {
      const file = path.join(REPO, '.data', 'bench', `policy-${mode}.yaml`);
      writeFileSync(file, basePolicy.replace(/^protection:\n  mode: off$/m, `protection:\n  mode: ${mode}`));
      stack.cli('apply', file);
      await new Promise((r) => setTimeout(r, 1500)); // the adapter reloads on NOTIFY
    };
    const paths: Record<'plain' | 'off' | 'mask', number[]> = { plain: [], off: [], mask: [] };
    for (let round = 0; round < 2; round++) {
      for (const name of ['plain', 'off', 'mask'] as const) {
        if (name !== 'plain') await useProtection(name);
        const r = await load(name === 'plain' ? PLAIN_AGENT : AGENT_ONE, Math.ceil(CALLS / 2), RATE);
        paths[name].push(...r.pddMs);
        failed += r.failed;
      }
    }
    await useProtection('off');
    for (const xs of Object.values(paths)) xs.sort((a, b) => a - b);
    console.log(row('plain Dial, fixed caller ID', paths.plain));
    console.log(row('adapter, protection off', paths.off));
    console.log(row('adapter, protection mask', paths.mask));
    console.log(
      `  added by protection (mask - off): p50 ${fmt(percentile(paths.mask, 50) - percentile(paths.off, 50))} ms, p99 ${fmt(percentile(paths.mask, 99) - percentile(paths.off, 99))} ms;` +
        ` mask - plain: p50 ${fmt(percentile(paths.mask, 50) - percentile(paths.plain, 50))} ms, p99 ${fmt(percentile(paths.mask, 99) - percentile(paths.plain, 99))} ms`,
    );

    console.log(`\n== (3) adapter memory, as shipped (node dist/src/main.js; /status after a 3 s pause)`);
    console.log(`  at rest:                  rss ${mb(atRest.rss)}, heap used ${mb(atRest.heapUsed)}`);
    let calls = adapter.length + 50;
    let rssMin = Infinity;
    let rssMax = 0;
    console.log(`  after ${calls} calls (the PDD runs):  ${await memoryLine()}`);
    while (calls < MEMORY_CALLS) {
      const n = Math.min(MEMORY_CHUNK - (calls % MEMORY_CHUNK), MEMORY_CALLS - calls);
      const r = await load(AGENT_ONE, n, MEMORY_RATE);
      calls += n;
      failed += r.failed;
      console.log(`  after ${String(calls).padStart(6)} calls (${MEMORY_RATE}/s, ${r.failed} failed): ${await memoryLine()}`);
    }
    if (calls > MEMORY_CHUNK) console.log(`  rss over the chunks: min ${mb(rssMin)}, max ${mb(rssMax)}`);
    console.log(`  last recorded decision: ${stack.cli('calls', '-n', '1')}`);
    async function memoryLine(): Promise<string> {
      await new Promise((r) => setTimeout(r, 3000));
      const m = await adapterMemory(stack.statusUrl);
      if (calls >= MEMORY_CHUNK) {
        rssMin = Math.min(rssMin, m.rss);
        rssMax = Math.max(rssMax, m.rss);
      }
      return `rss ${mb(m.rss)}, heap used ${mb(m.heapUsed)}`;
    }

    const steps = (process.env.BENCH_CEILING_STEPS ?? '50,100,150,200,250,300').split(',').filter(Boolean).map(Number);
    if (steps.length > 0) {
      const seconds = Number(process.env.BENCH_CEILING_SECONDS ?? 20);
      console.log(`\n== (4) ceiling: ${seconds} s per step and path, 1 s talk; a step holds with 0 failed and p99 < 100 ms`);
      const best = { plain: 0, adapter: 0 };
      for (const rate of steps) {
        for (const [name, agent] of [['plain', PLAIN_AGENT], ['adapter', AGENT_ONE]] as const) {
          const r = await load(agent, rate * seconds, rate);
          const xs = [...r.pddMs].sort((a, b) => a - b);
          const p99 = xs.length ? percentile(xs, 99) : Infinity;
          const holds = r.failed === 0 && p99 < 100;
          if (holds) best[name] = Math.max(best[name], rate);
          console.log(
            `  ${String(rate).padStart(3)} calls/s  ${name.padEnd(7)}  ${r.succeeded} ok, ${r.failed} failed  p50 ${fmt(xs.length ? percentile(xs, 50) : NaN)} ms  p90 ${fmt(xs.length ? percentile(xs, 90) : NaN)} ms  p99 ${fmt(p99)} ms  max ${fmt(xs.length ? xs[xs.length - 1]! : NaN)} ms  ${holds ? 'holds' : 'FAILS'}`,
          );
        }
      }
      console.log(`  highest rate that holds: plain Dial ${best.plain} calls/s, adapter ${best.adapter} calls/s, ratio ${best.plain ? fmt(best.adapter / best.plain) : 'n/a'}`);
    }

    console.log(`\n== (5) inbound calls, the customer's INVITE to the first 180/200, ${RATE} calls/s, ${CALLS} calls per path, A B A B`);
    for (const [base, through] of await benchInbound({ databaseUrl: db.url, rate: RATE, calls: CALLS })) {
      console.log(row(base!.name, base!.sorted));
      console.log(row(through!.name, through!.sorted));
      console.log(`  ${addedLine(base!, through!)}`);
      failed += base!.failed + through!.failed;
    }

    console.log(`\n== (6) the floor: a raw websocket Stasis app instead of the adapter (same dialplan, same requests), ${RATE} calls/s`);
    await stack.stopAdapter();
    const raw = await startRawStasisApp({ ariUrl: stack.sandbox.ariUrl, user: stack.sandbox.ariUser, password: stack.sandbox.ariPassword, app: stack.sandbox.appName, callerId: '+12125550100', callerName: 'ACME Support' });
    try {
      await load(AGENT_ONE, 50, RATE);
      const [plain2, floor] = await interleaved();
      console.log(row('plain Dial, fixed caller ID', plain2));
      console.log(row('raw Stasis app', floor));
      const floorP50 = percentile(floor, 50) - percentile(plain2, 50);
      const floorP99 = percentile(floor, 99) - percentile(plain2, 99);
      console.log(`  added by Stasis alone: p50 ${fmt(floorP50)} ms, p99 ${fmt(floorP99)} ms`);
      console.log(`  added by the adapter beyond that floor: p50 ${fmt(addedP50 - floorP50)} ms, p99 ${fmt(addedP99 - floorP99)} ms`);
    } finally {
      await raw.stop();
    }
    console.log(`\nfailed calls in all: ${failed}`);

    const memoryRows = Number(process.env.BENCH_LOOKUP_ROWS ?? 10_000_000);
    console.log(`\n== (7) call memory look-up, ${memoryRows.toLocaleString('en')} outbound call rows, 1,000,000 customers, half the look-ups for numbers never called`);
    const m = await benchMemoryLookup(memoryRows);
    console.log(`  rows loaded in ${fmt(m.loadMs / 1000, 1)} s; 10,000 look-ups (${m.hit} found a call in the 72 h window): p50 ${fmt(m.p50us)} us  p99 ${fmt(m.p99us)} us  max ${fmt(m.maxUs, 0)} us`);
    console.log(`  interleaved, a prepared SELECT 1 on the same pool (this machine's floor): p50 ${fmt(m.floor.p50us)} us  p99 ${fmt(m.floor.p99us)} us  max ${fmt(m.floor.maxUs, 0)} us`);
  } finally {
    await trunk.stop();
    await stack.stop();
    await db.drop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
