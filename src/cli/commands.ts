import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { loadEnv } from '../config/env.js';
import { PolicyFileError, parsePolicyFile } from '../config/policy-file.js';
import { openDatabase } from '../store/database.js';
import { ApiRequestError, connectApi, type ApiClient } from './api-client.js';
import { describeInbound, type InboundExplanation } from './explain-inbound.js';
import { describeOutbound } from './explain-outbound.js';
import { formatCalls, formatImport, formatNumbers, type CallView, type ImportReport, type NumberView } from './formats.js';
import { formatSummary, formatSurveyList, parseSurveysOptions, type SurveysCliOptions } from './surveys-report.js';
import type { SurveyResult } from '../store/survey-report.js';

/**
 * Administration commands. Each one is a request to the HTTP API: the running adapter's when it
 * answers at CALLPOLICY_API_URL with CALLPOLICY_API_TOKEN, else the same API run in this process
 * on the database (DATABASE_URL or CALLPOLICY_DATA_DIR; an embedded folder the adapter holds is
 * refused with exit code 2). --local skips the adapter.
 */
export const program = new Command('callpolicy')
  .description('Contact-center call policies for Asterisk and FreeSWITCH')
  .option('--local', "use the database directly, even when a running adapter's API answers")
  .showHelpAfterError();

async function withApi<T>(work: (api: ApiClient) => Promise<T>): Promise<T> {
  const env = loadEnv(process.env, { requireAri: false });
  const api = await connectApi(env, { local: program.opts<{ local?: boolean }>().local });
  try {
    return await work(api);
  } finally {
    await api.close();
  }
}

/** One request; a refusal throws ApiRequestError (printed with its problems). */
async function send<T>(api: ApiClient, method: string, url: string, opts?: Parameters<ApiClient['request']>[2]): Promise<T> {
  const res = await api.request(method, url, opts);
  if (res.status >= 400) throw new ApiRequestError(res.status, (typeof res.body === 'object' && res.body !== null ? res.body : { message: String(res.body) }) as ApiRequestError['body']);
  return res.body as T;
}

const run =
  <A extends unknown[]>(work: (api: ApiClient, ...args: A) => Promise<void>) =>
  (...args: A) =>
    withApi((api) => work(api, ...args));

const path = (s: string) => encodeURIComponent(s);
const query = (q: Record<string, string | number | undefined>) => {
  const p = new URLSearchParams(Object.entries(q).flatMap(([k, v]) => (v === undefined ? [] : [[k, String(v)]])));
  return p.size > 0 ? `?${p}` : '';
};
const print = (value: unknown) => console.log(JSON.stringify(value, null, 2));
const collect = (v: string, all: string[] = []) => [...all, v];

async function readPolicyFile(file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new PolicyFileError(file, [`cannot read: ${(err as Error).message}`]);
  }
  parsePolicyFile(text, file);
  return text;
}

program
  .command('check')
  .argument('<file>', 'policy YAML file')
  .description('validate a policy file without applying it')
  .action(async (file: string) => {
    const policy = parsePolicyFile(await readPolicyFile(file), file);
    console.log(`${file}: OK (${policy.numbers.length} numbers, ${policy.groups.length} groups, ${policy.agents.length} agents)`);
  });

program
  .command('apply')
  .argument('<file>', 'policy YAML file')
  .description('apply a policy file: the database then holds exactly what it says (all or nothing)')
  .action(async (file: string) => {
    // Checked here first: a bad file is refused before any connection, naming its lines.
    const text = await readPolicyFile(file);
    await withApi(async (api) => {
      const s = await send<{ numbers: number; groups: number; agents: number; changes: number }>(api, 'PUT', '/api/v1/policy', { text, type: 'application/yaml', headers: { 'x-policy-file': file } });
      console.log(`${file}: applied ${s.numbers} numbers, ${s.groups} groups, ${s.agents} agents` + (s.changes > 0 ? ` (${s.changes} rows changed)` : ' (no change)'));
    });
  });

program
  .command('migrate')
  .description('apply pending database migrations (the adapter also does at start)')
  .action(async () => {
    const env = loadEnv(process.env, { requireAri: false });
    const db = await openDatabase({ url: env.databaseUrl, dataDir: env.dataDir, limits: env.database, role: 'cli' });
    try {
      await db.migrate();
      console.log('migrations applied');
    } finally {
      await db.close();
    }
  });

const policyCmd = program.command('policy').description('the applied policy as a whole');
policyCmd
  .command('export')
  .option('--json', 'as JSON instead of YAML')
  .description('print the applied policy as a policy file (applying it again changes nothing)')
  .action(
    run(async (api, opts: { json?: boolean }) => {
      const out = await send<unknown>(api, 'GET', `/api/v1/policy${opts.json ? '' : '?format=yaml'}`);
      if (opts.json) print(out);
      else process.stdout.write(String(out));
    }),
  );

// Numbers
const numbers = program.command('numbers').description('the caller-ID pool');
numbers
  .command('list')
  .option('--enabled', 'enabled numbers only')
  .option('--disabled', 'disabled numbers only')
  .option('--group <name>', 'numbers of this group only')
  .option('--json', 'print as JSON')
  .description('list the pool: groups, location, last use, agents who may choose each number')
  .action(
    run(async (api, opts: { enabled?: boolean; disabled?: boolean; group?: string; json?: boolean }) => {
      const all: NumberView[] = [];
      let after: string | undefined;
      do {
        const page = await send<{ numbers: NumberView[]; next: { after: string } | null }>(
          api,
          'GET',
          `/api/v1/numbers${query({ enabled: opts.enabled ? 'true' : opts.disabled ? 'false' : undefined, group: opts.group, after, limit: 5000 })}`,
        );
        all.push(...page.numbers);
        after = page.next?.after;
      } while (after);
      if (opts.json) print(all);
      else console.log(formatNumbers(all).join('\n'));
    }),
  );
numbers
  .command('add')
  .argument('<number>', 'E.164 number, like +14155550123')
  .option('--group <name>', 'a group of the number (repeat for more)', collect)
  .option('--disabled', 'add it disabled')
  .option('--area <text>', 'set its area by hand')
  .option('--region <text>', 'set its region by hand')
  .description('add a number to the pool')
  .action(
    run(async (api, number: string, opts: { group?: string[]; disabled?: boolean; area?: string; region?: string }) => {
      const location = opts.area !== undefined || opts.region !== undefined ? { ...(opts.area ? { area: opts.area } : {}), ...(opts.region ? { region: opts.region } : {}) } : undefined;
      const r = await send<{ changes: number }>(api, 'POST', '/api/v1/numbers', { json: { number, groups: opts.group ?? [], enabled: !opts.disabled, ...(location ? { location } : {}) } });
      console.log(`${number}: added (${r.changes} rows changed)`);
    }),
  );
for (const [name, enabled] of [
  ['enable', true],
  ['disable', false],
] as const) {
  numbers
    .command(name)
    .argument('<number>', 'E.164 number')
    .description(`${name} a number of the pool`)
    .action(
      run(async (api, number: string) => {
        const r = await send<{ changes: number }>(api, 'PATCH', `/api/v1/numbers/${path(number)}`, { json: { enabled } });
        console.log(`${number}: ${enabled ? 'enabled' : 'disabled'}${r.changes === 0 ? ' (no change)' : ''}`);
      }),
    );
}
numbers
  .command('remove')
  .argument('<number>', 'E.164 number')
  .description('remove a number from the pool (refused while an agent may choose it)')
  .action(
    run(async (api, number: string) => {
      await send(api, 'DELETE', `/api/v1/numbers/${path(number)}`);
      console.log(`${number}: removed`);
    }),
  );
numbers
  .command('import')
  .argument('<file>', 'CSV with a header: number (required), enabled, groups (a;b), area, region')
  .option('--dry-run', 'check and report only; change nothing')
  .option('--json', 'print the report as JSON')
  .description('add or change numbers from a CSV: every row or none; one line of report per row')
  .action(
    run(async (api, file: string, opts: { dryRun?: boolean; json?: boolean }) => {
      const text = await readFile(file, 'utf8');
      const res = await api.request('POST', `/api/v1/numbers/import${opts.dryRun ? '?dryRun=true' : ''}`, { text, type: 'text/csv' });
      const body = res.body as ImportReport & { error?: string; message?: string; details?: ImportReport };
      const report = res.status >= 400 ? body.details : body;
      if (!report?.rows) throw new ApiRequestError(res.status, body);
      if (opts.json) print(report);
      else console.log(formatImport(file, report, res.status < 400).join('\n'));
      if (res.status >= 400) process.exitCode = 2;
    }),
  );

// Groups
const groups = program.command('groups').description('groups of numbers and agents');
groups
  .command('list')
  .option('--json', 'print as JSON')
  .description('list groups with their number and agent counts')
  .action(
    run(async (api, opts: { json?: boolean }) => {
      const r = await send<{ groups: { name: string; numbers: number; agents: string[] }[] }>(api, 'GET', '/api/v1/groups');
      if (opts.json) return print(r.groups);
      if (r.groups.length === 0) console.log('no groups');
      for (const g of r.groups) console.log(`${g.name}  ${g.numbers} numbers  agents: ${g.agents.join(', ') || '-'}`);
    }),
  );
groups
  .command('add')
  .argument('<name>')
  .description('create a group')
  .action(
    run(async (api, name: string) => {
      await send(api, 'POST', '/api/v1/groups', { json: { name } });
      console.log(`group ${name}: created`);
    }),
  );
groups
  .command('remove')
  .argument('<name>')
  .description('remove a group (refused while a number, agent or survey rule uses it)')
  .action(
    run(async (api, name: string) => {
      await send(api, 'DELETE', `/api/v1/groups/${path(name)}`);
      console.log(`group ${name}: removed`);
    }),
  );

// Agents
interface AgentView {
  id: string;
  endpoint: string;
  groups: string[];
  numbers: string[];
  chosenNumber: string | null;
  paused: boolean;
  pauseNote: string | null;
}
const agentLine = (a: AgentView) =>
  [a.id, a.endpoint, `groups: ${a.groups.join(',') || '-'}`, `numbers: ${a.numbers.join(',') || '-'}`, `chosen: ${a.chosenNumber ?? '-'}`, a.paused ? `paused${a.pauseNote ? ` (${a.pauseNote})` : ''}` : ''].filter(Boolean).join('  ');
const agents = program.command('agents').description('agents: endpoint, groups, numbers they may choose');
agents
  .command('list')
  .option('--json', 'print as JSON')
  .description('list agents')
  .action(
    run(async (api, opts: { json?: boolean }) => {
      const r = await send<{ agents: AgentView[] }>(api, 'GET', '/api/v1/agents');
      if (opts.json) return print(r.agents);
      console.log(r.agents.length === 0 ? 'no agents' : r.agents.map(agentLine).join('\n'));
    }),
  );
agents
  .command('show')
  .argument('<id>')
  .option('--json', 'print as JSON')
  .description('one agent')
  .action(
    run(async (api, id: string, opts: { json?: boolean }) => {
      const a = await send<AgentView>(api, 'GET', `/api/v1/agents/${path(id)}`);
      if (opts.json) print(a);
      else console.log(agentLine(a));
    }),
  );
agents
  .command('set')
  .argument('<id>')
  .requiredOption('--endpoint <endpoint>', 'PBX endpoint, like PJSIP/1001 or user/1001')
  .option('--group <name>', 'a group of the agent (repeat for more)', collect)
  .option('--number <e164>', 'a number the agent may choose (repeat for more)', collect)
  .description('create an agent, or replace its endpoint, groups and numbers (the chosen number stays while allowed)')
  .action(
    run(async (api, id: string, opts: { endpoint: string; group?: string[]; number?: string[] }) => {
      const r = await send<{ result: string }>(api, 'PUT', `/api/v1/agents/${path(id)}`, { json: { endpoint: opts.endpoint, groups: opts.group ?? [], numbers: opts.number ?? [] } });
      console.log(`agent ${id}: ${r.result}`);
    }),
  );
agents
  .command('remove')
  .argument('<id>')
  .description('remove an agent')
  .action(
    run(async (api, id: string) => {
      await send(api, 'DELETE', `/api/v1/agents/${path(id)}`);
      console.log(`agent ${id}: removed`);
    }),
  );

program
  .command('choose')
  .argument('<agent>', 'agent id')
  .argument('<number>', "E.164 number from the agent's numbers, or 'none'")
  .description('set the number an agent chose (agent strategy)')
  .action(
    run(async (api, agent: string, number: string) => {
      await send(api, 'PUT', `/api/v1/agents/${path(agent)}/chosen-number`, { json: { number: number === 'none' ? null : number } });
      console.log(`${agent}: chosen number ${number}`);
    }),
  );

program
  .command('pause')
  .argument('<agent>', 'agent id')
  .option('--note <text>', 'why (shown by `callpolicy pauses`)')
  .description('pause an agent: call memory treats them as unavailable until `callpolicy unpause`')
  .action(
    run(async (api, agent: string, opts: { note?: string }) => {
      await send(api, 'PUT', `/api/v1/agents/${path(agent)}/pause`, { json: { paused: true, ...(opts.note ? { note: opts.note } : {}) } });
      console.log(`${agent}: paused`);
    }),
  );

program
  .command('unpause')
  .argument('<agent>', 'agent id')
  .description("end an agent's pause")
  .action(
    run(async (api, agent: string) => {
      await send(api, 'PUT', `/api/v1/agents/${path(agent)}/pause`, { json: { paused: false } });
      console.log(`${agent}: available`);
    }),
  );

program
  .command('pauses')
  .description('list paused agents')
  .action(
    run(async (api) => {
      const r = await send<{ pauses: { agentId: string; pausedAt: string; note: string | null }[] }>(api, 'GET', '/api/v1/pauses');
      if (r.pauses.length === 0) console.log('no agent is paused');
      for (const p of r.pauses) console.log([p.pausedAt, p.agentId, p.note ?? ''].filter(Boolean).join('  '));
    }),
  );

// Settings
const settings = program.command('settings').description('settings sections: defaultCountry, callerId, trunks, emergency, memory, survey, privacy, protection');
settings
  .command('show')
  .argument('[section]')
  .description('print the settings as applied (JSON)')
  .action(
    run(async (api, section?: string) => {
      const all = await send<Record<string, unknown>>(api, 'GET', '/api/v1/settings');
      if (section !== undefined && !(section in all)) throw new Error(`no settings section '${section}'; sections: ${Object.keys(all).join(', ')}`);
      print(section === undefined ? all : all[section]);
    }),
  );
settings
  .command('set')
  .argument('<section>')
  .argument('<file>', "the section's new value, YAML or JSON ('-': standard input)")
  .description('replace one settings section, checked as in a policy file')
  .action(
    run(async (api, section: string, file: string) => {
      const text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
      let value: unknown;
      try {
        value = parseYaml(text);
      } catch (err) {
        throw new Error(`${file}: not YAML or JSON: ${(err as Error).message.split('\n')[0]}`);
      }
      const r = await send<{ changes: number }>(api, 'PUT', `/api/v1/settings/${path(section)}`, { json: value ?? null });
      console.log(`${section}: ${r.changes > 0 ? `applied (${r.changes} rows changed)` : 'no change'}`);
    }),
  );

const explain = program.command('explain').description('say what the adapter would do with a call, and why, without placing one');

explain
  .command('inbound')
  .argument('<number>', "the caller ID a customer's call would present (any form the trunk sends)")
  .option('--trunk <name>', 'the trunk the call would come in on (its country reads the number)', 'trunk')
  .option('--json', 'print the decision as JSON')
  .description('where a call from this number would go now: the remembered agent, or the IVR, and why')
  .action(
    run(async (api, number: string, opts: { trunk: string; json?: boolean }) => {
      const x = await send<Omit<InboundExplanation, 'mask'> & { masked: boolean }>(api, 'GET', `/api/v1/explain/inbound${query({ caller: number, trunk: opts.trunk })}`);
      if (opts.json) return print(x);
      // The API masked the numbers already.
      console.log(describeInbound({ ...x, mask: false }).join('\n'));
    }),
  );

explain
  .command('outbound')
  .argument('<agent>', 'agent id')
  .argument('<number>', 'what the agent would dial')
  .option('--trunk <name>', 'the trunk the call would use', 'trunk')
  .option('--json', 'print the decision as JSON')
  .description('which caller ID the agent would get now for this number, and why')
  .action(
    run(async (api, agent: string, number: string, opts: { trunk: string; json?: boolean }) => {
      const x = await send<Parameters<typeof describeOutbound>[0]>(api, 'GET', `/api/v1/explain/outbound${query({ agent, callee: number, trunk: opts.trunk })}`);
      if (opts.json) return print(x);
      console.log(describeOutbound(x).join('\n'));
    }),
  );

program
  .command('calls')
  .option('-n, --limit <n>', 'how many', '10')
  .option('--agent <id>', "only this agent's calls")
  .option('--direction <dir>', 'outbound or inbound')
  .option('--json', 'print as JSON')
  .description('show the latest call decisions')
  .action(
    run(async (api, opts: { limit: string; agent?: string; direction?: string; json?: boolean }) => {
      const r = await send<{ calls: CallView[] }>(api, 'GET', `/api/v1/calls${query({ limit: Number(opts.limit) || 10, agent: opts.agent, direction: opts.direction })}`);
      if (opts.json) return print(r.calls);
      const lines = formatCalls(r.calls);
      if (lines.length > 0) console.log(lines.join('\n'));
    }),
  );

program
  .command('surveys')
  .description('satisfaction survey figures per agent, group or day (default: by agent, the last 7 days), or the latest results')
  .option('--by <what>', 'agent, group or day', 'agent')
  .option('--since <date>', 'from this day (YYYY-MM-DD, in --tz) or time (default: 7 days ago; --list: any time)')
  .option('--until <date>', 'up to this day, included, or before this time (default: now)')
  .option('--agent <id>', "only this agent's surveys")
  .option('--group <name>', "only surveys of agents in this group ('(none)': in no group)")
  .option('--direction <dir>', 'outbound or inbound calls only')
  .option('--tz <zone>', 'time zone of days and times (IANA name)', 'UTC')
  .option('--list [n]', 'the latest n results, one per line, instead of the figures (default 20)')
  .option('--json', 'print the rows as JSON')
  .action(async (opts: SurveysCliOptions) => {
    const req = parseSurveysOptions(opts, Date.now());
    const f = req.filter;
    const filter = { since: f.since?.toISOString(), until: f.until?.toISOString(), agent: f.agentId, group: f.group, direction: f.direction };
    await withApi(async (api) => {
      if (req.list !== null) {
        const r = await send<{ surveys: SurveyResult[] }>(api, 'GET', `/api/v1/surveys${query({ ...filter, limit: req.list })}`);
        // Numbers come masked by the API when they must be.
        console.log(req.json ? JSON.stringify(r.surveys, null, 2) : formatSurveyList(r.surveys.map(reviveDates), { mask: false, timeZone: req.timeZone }).join('\n'));
        return;
      }
      const r = await send<{ rows: Parameters<typeof formatSummary>[0] }>(api, 'GET', `/api/v1/surveys/summary${query({ ...filter, by: req.by, tz: req.timeZone })}`);
      console.log(req.json ? JSON.stringify(r.rows, null, 2) : formatSummary(r.rows, req).join('\n'));
    });
  });

function reviveDates<T extends object>(row: T): T {
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, k.endsWith('At') && typeof v === 'string' ? new Date(v) : v])) as T;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

