// Prometheus metrics (GET /metrics), one registry per adapter. Counters move where the facts are
// produced: a call's decision record, its end, a survey's result, the flows' timings; gauges are
// read when Prometheus scrapes (PBX link, database, record queue, the customer-ID interface).
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { LinkState } from '../pbx/call-control.js';
import type { CallEnd, NewCallRecord, NewSurveyResult } from '../store/call-records.js';

/** Seconds: from 100 us (a decision in memory) to 2 s (the PBX's wait). */
const TIME_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2];

export interface MetricsSource {
  pbx: string;
  pbxLink(): LinkState;
  database(): 'up' | 'down';
  records(): { queued: number; dropped: number; retrying: boolean };
  /** The customer-ID interface's counters (number protection, customer-id mode); null when not in use. */
  customerIdInterface(): { hits: number; misses: number; requests: number; timeouts: number; errors: number } | null;
  /** The call memory mode in force (off, agent-first, only-agent). */
  memoryMode(): string;
}

export interface Metrics {
  readonly contentType: string;
  /** A decision record (outbound or inbound), as the flows write it. */
  decided(row: NewCallRecord): void;
  /** Time the adapter added to a call: its decision plus the PBX taking it (outbound: the release; inbound: the route). */
  added(direction: 'outbound' | 'inbound', micros: number): void;
  ended(end: CallEnd): void;
  surveyed(row: NewSurveyResult): void;
  /** The PBX link came up (first connect or a reconnect). */
  linked(): void;
  text(): Promise<string>;
}

export function createMetrics(source: MetricsSource): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ pbx: source.pbx });
  const calls = new Counter({
    name: 'callpolicy_calls_total',
    help: 'Calls decided, by direction, caller-ID strategy, tier matched and action (dial, default, reject)',
    labelNames: ['direction', 'strategy', 'tier', 'action'],
    registers: [registry],
  });
  const fallbacks = new Counter({ name: 'callpolicy_fallbacks_total', help: 'Outbound calls whose caller ID came from a fallback tier', labelNames: ['strategy', 'tier'], registers: [registry] });
  const decision = new Histogram({ name: 'callpolicy_decision_seconds', help: 'Time to decide a call, in the adapter', labelNames: ['direction'], buckets: TIME_BUCKETS, registers: [registry] });
  const added = new Histogram({
    name: 'callpolicy_added_delay_seconds',
    help: 'Post-dial time the adapter added to a call: its decision plus the PBX taking it',
    labelNames: ['direction'],
    buckets: TIME_BUCKETS,
    registers: [registry],
  });
  const memory = new Counter({
    name: 'callpolicy_memory_lookups_total',
    help: 'Inbound calls by call-memory result (hit: to the remembered agent, or waiting for them; miss: the IVR) and mode',
    labelNames: ['mode', 'result', 'reason'],
    registers: [registry],
  });
  const ends = new Counter({
    name: 'callpolicy_call_ends_total',
    help: 'Ends of decided calls: answered or not, and whether the PBX did otherwise than decided (final action)',
    labelNames: ['answered', 'final_action'],
    registers: [registry],
  });
  const surveys = new Counter({ name: 'callpolicy_surveys_total', help: 'Survey outcomes (rated, no_input, invalid, hung_up)', labelNames: ['direction', 'outcome'], registers: [registry] });
  const links = new Counter({ name: 'callpolicy_pbx_link_ups_total', help: 'Times the PBX link came up (the first connect and every reconnect)', registers: [registry] });
  new Gauge({
    name: 'callpolicy_pbx_link_up',
    help: 'PBX link: 1 up, 0 connecting or down',
    registers: [registry],
    collect() {
      this.set(source.pbxLink() === 'up' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'callpolicy_database_up',
    help: 'Database: 1 up, 0 down (calls are still decided; records queue)',
    registers: [registry],
    collect() {
      this.set(source.database() === 'up' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'callpolicy_record_queue_depth',
    help: 'Call and survey records waiting to be written',
    registers: [registry],
    collect() {
      this.set(source.records().queued);
    },
  });
  new Gauge({
    name: 'callpolicy_records_dropped',
    help: 'Records dropped since start because the queue was full (the database away too long)',
    registers: [registry],
    collect() {
      this.set(source.records().dropped);
    },
  });
  new Gauge({
    name: 'callpolicy_customer_id_lookups',
    help: 'Number protection: look-ups of the customer-ID interface since it was configured, by result',
    labelNames: ['result'],
    registers: [registry],
    collect() {
      const s = source.customerIdInterface();
      this.reset();
      if (!s) return;
      for (const result of ['hits', 'misses', 'requests', 'timeouts', 'errors'] as const) this.set({ result }, s[result]);
    },
  });

  const label = (v: string | null | undefined) => v ?? 'none';
  return {
    contentType: registry.contentType,
    decided(row) {
      calls.inc({ direction: row.direction, strategy: label(row.strategy), tier: label(row.tier), action: row.action });
      if (row.fallback) fallbacks.inc({ strategy: label(row.strategy), tier: label(row.tier) });
      if (typeof row.decisionMicros === 'number') decision.observe({ direction: row.direction }, row.decisionMicros / 1e6);
      if (row.direction === 'inbound') {
        const [result, reason] = row.reason.startsWith('memory_hit') ? ['hit', row.reason] : ['miss', row.reason.replace(/^memory_miss:/, '')];
        memory.inc({ mode: source.memoryMode(), result, reason });
      }
    },
    added(direction, micros) {
      added.observe({ direction }, micros / 1e6);
    },
    ended(end) {
      ends.inc({ answered: end.answeredAt ? 'yes' : 'no', final_action: label(end.finalAction) });
    },
    surveyed(row) {
      surveys.inc({ direction: row.direction, outcome: row.outcome });
    },
    linked() {
      links.inc();
    },
    text: () => registry.metrics(),
  };
}
