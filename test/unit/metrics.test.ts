// The metrics module on its own: what each recorded fact adds, and the gauges read at scrape time.
import assert from 'node:assert/strict';
import { test } from 'vitest';
import { createMetrics } from '../../src/health/metrics.js';
import type { NewCallRecord } from '../../src/store/call-records.js';
import { parseSamples } from '../support/prom-text.js';

const row = (over: Partial<NewCallRecord>): NewCallRecord => ({ direction: 'outbound', pbx: 'asterisk', channelId: 'c1', action: 'dial', reason: 'ok', decidedAt: new Date(), ...over });

test('decisions, fallbacks, memory results, survey outcomes and the scrape-time gauges', async () => {
  let link: 'up' | 'down' = 'up';
  let cid: { hits: number; misses: number; requests: number; timeouts: number; errors: number } | null = null;
  const m = createMetrics({ pbx: 'freeswitch', pbxLink: () => link, database: () => 'down', records: () => ({ queued: 7, dropped: 2, retrying: true }), customerIdInterface: () => cid, memoryMode: () => 'only-agent' });
  m.decided(row({ strategy: 'area', tier: 'region', fallback: true, decisionMicros: 1500 }));
  m.decided(row({ strategy: 'area', tier: 'area', decisionMicros: 300 }));
  m.decided(row({ direction: 'inbound', action: 'dial', reason: 'memory_hit' }));
  m.decided(row({ direction: 'inbound', action: 'default', reason: 'memory_miss:no_recent_call' }));
  m.surveyed({ direction: 'outbound', outcome: 'rated' } as never);
  m.added('outbound', 2500);
  m.linked();
  let text = await m.text();
  // A sample as written here (name{labels} value): present with exactly those labels and that value.
  const has = (sample: string) => {
    const [want] = parseSamples(sample);
    const found = parseSamples(text).some((s) => s.name === want!.name && s.value === want!.value && JSON.stringify(Object.entries(s.labels).sort()) === JSON.stringify(Object.entries(want!.labels).sort()));
    assert.ok(found, `missing: ${sample}\n${text}`);
  };
  has('callpolicy_calls_total{direction="outbound",strategy="area",tier="region",action="dial",pbx="freeswitch"} 1');
  has('callpolicy_fallbacks_total{strategy="area",tier="region",pbx="freeswitch"} 1');
  has('callpolicy_decision_seconds_count{direction="outbound",pbx="freeswitch"} 2');
  has('callpolicy_memory_lookups_total{mode="only-agent",result="hit",reason="memory_hit",pbx="freeswitch"} 1');
  has('callpolicy_memory_lookups_total{mode="only-agent",result="miss",reason="no_recent_call",pbx="freeswitch"} 1');
  has('callpolicy_surveys_total{direction="outbound",outcome="rated",pbx="freeswitch"} 1');
  has('callpolicy_added_delay_seconds_sum{direction="outbound",pbx="freeswitch"} 0.0025');
  has('callpolicy_pbx_link_up{pbx="freeswitch"} 1');
  has('callpolicy_pbx_link_ups_total{pbx="freeswitch"} 1');
  has('callpolicy_database_up{pbx="freeswitch"} 0');
  has('callpolicy_record_queue_depth{pbx="freeswitch"} 7');
  has('callpolicy_records_dropped{pbx="freeswitch"} 2');
  assert.ok(!text.includes('callpolicy_customer_id_lookups{'), 'no interface, no series');
  link = 'down';
  cid = { hits: 5, misses: 1, requests: 6, timeouts: 2, errors: 0 };
  text = await m.text();
  has('callpolicy_pbx_link_up{pbx="freeswitch"} 0');
  has('callpolicy_customer_id_lookups{result="timeouts",pbx="freeswitch"} 2');
  has('callpolicy_customer_id_lookups{result="hits",pbx="freeswitch"} 5');
});
