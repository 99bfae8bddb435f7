// How the CLI prints what the API returns.

export interface CallView {
  direction: 'outbound' | 'inbound';
  agentId: string | null;
  agentEndpoint: string | null;
  customer: string | null;
  callerId: string | null;
  action: string;
  strategy: string | null;
  tier: string | null;
  fallback: boolean;
  reason: string;
  decidedAt: string;
  talkSeconds: number | null;
  dialStatus: string | null;
  finalAction: string | null;
  noAnswerRoute: string | null;
  hungUpBy: string | null;
}

/** Oldest first, one line per call: the decision, then what the PBX did. */
export function formatCalls(calls: CallView[]): string[] {
  return [...calls].reverse().map((r) => {
    const end = [
      r.dialStatus,
      r.talkSeconds !== null ? `${r.talkSeconds}s` : null,
      r.finalAction ? `PBX: ${r.finalAction}` : null,
      r.noAnswerRoute ? `no answer: ${r.noAnswerRoute}` : null,
      r.hungUpBy ? `${r.hungUpBy} hung up` : null,
    ];
    const fields =
      r.direction === 'inbound'
        ? [r.decidedAt, 'inbound', `from ${r.customer ?? '(withheld)'}`, r.action === 'dial' ? `to ${r.agentId}` : 'to the IVR', r.reason]
        : [
            r.decidedAt,
            r.agentId ?? r.agentEndpoint ?? '-',
            `to ${r.customer ?? '(invalid)'}`,
            `as ${r.callerId ?? '(default)'}`,
            r.action,
            r.strategy ? `${r.strategy}/${r.tier}${r.fallback ? ' (fallback)' : ''}` : r.reason,
          ];
    return [...fields, end.filter(Boolean).join(' ')].filter(Boolean).join('  ');
  });
}

export interface NumberView {
  number: string;
  enabled: boolean;
  groups: string[];
  location: { country: string; region: string | null; area: string | null } | null;
  locationSetByHand: boolean;
  lastUsedAt: string | null;
  agents: string[];
}

export function formatNumbers(numbers: NumberView[]): string[] {
  if (numbers.length === 0) return ['no numbers'];
  return numbers.map((n) =>
    [
      n.number,
      n.enabled ? 'enabled' : 'disabled',
      `groups: ${n.groups.join(',') || '-'}`,
      `location: ${[n.location?.area, n.location?.region, n.location?.country].filter(Boolean).join(' / ') || '-'}${n.locationSetByHand ? ' (set by hand)' : ''}`,
      `last used: ${n.lastUsedAt ?? 'never'}`,
      n.agents.length > 0 ? `agents: ${n.agents.join(',')}` : '',
    ]
      .filter(Boolean)
      .join('  '),
  );
}

export interface ImportReport {
  rows: { line: number; number: string; result: string; message?: string }[];
  counts: { added: number; updated: number; unchanged: number; error: number };
  applied?: boolean;
  dryRun?: boolean;
}

export function formatImport(file: string, r: ImportReport, ok: boolean): string[] {
  const c = r.counts;
  const total = `${c.added} added, ${c.updated} updated, ${c.unchanged} unchanged, ${c.error} bad`;
  const head = !ok ? `${file}: ${c.error} bad row(s), nothing imported (${total})` : r.dryRun ? `${file}: dry run, nothing changed (${total})` : `${file}: imported (${total})`;
  return [head, ...r.rows.map((row) => `  line ${row.line}: ${row.number || '(none)'}  ${row.result}${row.message ? `: ${row.message}` : ''}`)];
}
