// GET /metrics moves when real calls go through Asterisk: sipp agent phones and trunk, the adapter in
// this process over ARI, real PostgreSQL. Read as Prometheus reads it (text exposition format).
import assert from 'node:assert/strict';
import { afterAll, afterEach, beforeAll, test } from 'vitest';
import { placeCall, startAgentPhone, startTrunk, type Trunk } from '../sandbox/sipp.js';
import { assertNoChannelsLeft } from './ari-checks.js';
import { callThrough, startInProcessAdapter, type InProcessAdapter } from './asterisk-harness.js';
import { integrationEnv } from './env.js';
import { parseSamples, sampleSum } from '../support/prom-text.js';
import { AGENT_ONE, CUSTOMER_PORT, IVR_PHONE, TRUNK_PORT } from './topology.js';

const POLICY = `
defaultCountry: US
callerId: { strategy: group }
memory: { mode: agent-first, ringSeconds: 5 }
groups: [sales]
numbers:
  - { number: "+14155550100", groups: [sales] }
agents:
  - { id: alice, endpoint: PJSIP/${AGENT_ONE.endpoint}, groups: [sales] }
`;

let running: InProcessAdapter;
let trunk: Trunk;

beforeAll(async () => {
  running = await startInProcessAdapter({ http: true });
  await running.apply(POLICY);
  trunk = await startTrunk({ port: TRUNK_PORT });
});
afterAll(async () => {
  await trunk?.stop();
  await running?.stop();
});
afterEach(() => assertNoChannelsLeft(3000));

/** One sample's value from the exposition text (0 when the series is absent). */
async function scrape(): Promise<(name: string, labels?: Record<string, string>) => number> {
  const res = await fetch(`http://127.0.0.1:${running.adapter.httpPort}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  const samples = parseSamples(await res.text());
  return (name, labels = {}) => sampleSum(samples, name, labels);
}

test('outbound calls, an inbound call and the link: the counters, histograms and gauges move', async () => {
  const before = await scrape();
  for (let i = 0; i < 3; i++) {
    const { view } = await callThrough(trunk, AGENT_ONE, '+12125550123');
    assert.equal(view?.callerIdNumber, '+14155550100');
  }
  // A stranger calls in: call memory misses, the IVR answers.
  const ivr = await startAgentPhone({ port: IVR_PHONE.port, holdMs: 60_000 });
  try {
    const r = await placeCall({ fromPort: CUSTOMER_PORT, fromUser: '+13125550177', to: '+15550001000', server: integrationEnv().sipServer, holdMs: 300, timeoutMs: 20_000 });
    assert.equal(r.finalStatus, 200);
  } finally {
    await ivr.stop();
  }
  await running.adapter.flushRecords();
  const after = await scrape();
  const moved = (name: string, labels?: Record<string, string>) => after(name, labels) - before(name, labels);

  assert.equal(moved('callpolicy_calls_total', { direction: 'outbound', strategy: 'group', action: 'dial' }), 3);
  assert.equal(moved('callpolicy_calls_total', { direction: 'inbound', action: 'default' }), 1);
  assert.equal(moved('callpolicy_decision_seconds_count', { direction: 'outbound' }), 3);
  assert.equal(moved('callpolicy_added_delay_seconds_count', { direction: 'outbound' }), 3);
  assert.equal(moved('callpolicy_added_delay_seconds_count', { direction: 'inbound' }), 1);
  assert.ok(moved('callpolicy_added_delay_seconds_sum', { direction: 'outbound' }) > 0);
  assert.equal(moved('callpolicy_memory_lookups_total', { mode: 'agent-first', result: 'miss' }), 1);
  assert.equal(moved('callpolicy_call_ends_total', { answered: 'yes' }), 4, 'three outbound calls and the IVR call ended, answered');
  assert.equal(after('callpolicy_pbx_link_up', { pbx: 'asterisk' }), 1);
  assert.ok(after('callpolicy_pbx_link_ups_total') >= 1);
  assert.equal(after('callpolicy_database_up'), 1);
  assert.equal(after('callpolicy_record_queue_depth'), 0);
  assert.equal(after('callpolicy_records_dropped'), 0);
});
