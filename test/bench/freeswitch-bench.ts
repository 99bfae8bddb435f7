// (8) FreeSWITCH: how long a call is held in the `socket` application for the adapter's decision,
// the whole adapter (policy, flows, PostgreSQL records) behind the ESL driver, at a steady rate,
// against the same call with nothing listening (the `socket` application fails at once: FreeSWITCH's
// path with the adapter down), interleaved A B A B, timed with the high-resolution clock.
// The FreeSWITCH is the recorded-protocol fake (test/support/fake-freeswitch): this measures the
// driver and the adapter, not FreeSWITCH's own cost (measured on a real 1.10.12 in ../shared/DESIGN.md:
// +1.2 ms p50 for a sync-mode socket decision).
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startAdapter } from '../../src/adapter.js';
import { loadEnv } from '../../src/config/env.js';
import { parsePolicyFile } from '../../src/config/policy-file.js';
import { createLogger } from '../../src/log.js';
import { createLocator } from '../../src/phone/index.js';
import { applyPolicy } from '../../src/store/apply-policy.js';
import { resolveSurveySettings } from '../../src/survey/render-prompts.js';
import { FAKE_ESL_PASSWORD, FS_GROUP_POLICY as POLICY } from '../support/fake-freeswitch/driver-on-fake.js';
import { startFakeFreeswitch } from '../support/fake-freeswitch/fake-freeswitch.js';
import { createTempDatabase } from '../support/temp-database.js';
import { percentile } from './decision-bench.js';


/** A port with nothing listening on it (taken, then closed). */
async function deadPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export async function benchFreeswitch(opts: { rate: number; calls: number }): Promise<string[]> {
  const db = await createTempDatabase();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'callpolicy-fsbench-'));
  let target = 0;
  const fs = await startFakeFreeswitch({ password: FAKE_ESL_PASSWORD, decisionPort: () => target, defaultCallerId: { number: '+15550000000', name: '' } });
  const env = loadEnv({ CALLPOLICY_PBX: 'freeswitch', FREESWITCH_ESL_PORT: String(fs.eslPort), FREESWITCH_ESL_PASSWORD: FAKE_ESL_PASSWORD, CALLPOLICY_SOCKET_PORT: '0', DATABASE_URL: db.url, CALLPOLICY_DATA_DIR: dataDir, CALLPOLICY_PROMPT_DIR: dataDir });
  const adapter = await startAdapter(env, createLogger('silent'), { http: false });
  const lines: string[] = [];
  try {
    await adapter.connected;
    const file = parsePolicyFile(POLICY, 'bench.yaml');
    await applyPolicy(adapter.db.db, file, (n) => createLocator().locate(n), { survey: await resolveSurveySettings(file, { dir: dataDir, pbxDir: dataDir, source: 'bench.yaml' }) });
    await adapter.reload();
    const adapterPort = (adapter.port as unknown as { decisionPort(): number }).decisionPort();
    const nothing = await deadPort();
    let failed = 0;
    const run = async (port: number, calls: number, expect: string): Promise<number[]> => {
      target = port;
      const held: Promise<number>[] = [];
      for (let i = 0; i < calls; i++) {
        held.push(
          fs.placeCall({ user: '1001', dialed: `+1212555${String(1000 + (i % 9000)).padStart(4, '0')}`, talkMs: 50 }).then((r) => {
            if (r.outcome !== expect) failed++;
            return r.decisionMs;
          }),
        );
        await new Promise((r) => setTimeout(r, 1000 / opts.rate));
      }
      return Promise.all(held);
    };
    await run(adapterPort, 50, 'dial'); // warm-up
    const a: number[] = [];
    const b: number[] = [];
    for (let round = 0; round < 2; round++) {
      a.push(...(await run(adapterPort, opts.calls / 2, 'dial')));
      b.push(...(await run(nothing, opts.calls / 2, 'default-down')));
    }
    a.sort((x, y) => x - y);
    b.sort((x, y) => x - y);
    const f = (n: number) => n.toFixed(2);
    lines.push(`  through the adapter (decided, group caller ID):  p50 ${f(percentile(a, 50))} ms  p99 ${f(percentile(a, 99))} ms  max ${f(a.at(-1)!)} ms`);
    lines.push(`  nothing listening (FreeSWITCH's adapter-down path): p50 ${f(percentile(b, 50))} ms  p99 ${f(percentile(b, 99))} ms  max ${f(b.at(-1)!)} ms`);
    lines.push(`  added by the adapter: p50 ${f(percentile(a, 50) - percentile(b, 50))} ms, p99 ${f(percentile(a, 99) - percentile(b, 99))} ms; calls not as expected: ${failed}`);
  } finally {
    await adapter.stop();
    await fs.stop();
    await db.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return lines;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const rate = Number(process.env.BENCH_RATE ?? 20);
  const calls = Number(process.env.BENCH_CALLS ?? 1000);
  console.log(`== (8) FreeSWITCH (recorded-protocol fake): time held in the socket application, ${rate} calls/s, ${calls} calls per path`);
  benchFreeswitch({ rate, calls })
    .then((lines) => {
      for (const l of lines) console.log(l);
      process.exit(0);
    })
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
