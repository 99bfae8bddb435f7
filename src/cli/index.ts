import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { desc } from 'drizzle-orm';
import { loadEnv } from '../config/env.js';
import { PolicyFileError, parsePolicyFile } from '../config/policy-file.js';
import { numberForLog } from '../log.js';
import { createLocator } from '../phone/index.js';
import { POLICY_CHANGED_CHANNEL, applyPolicy } from '../store/apply-policy.js';
import { DataDirLockedError } from '../store/data-dir-lock.js';
import { openDatabase, type Database } from '../store/database.js';
import { listAgentPauses, loadPolicy, numbersMasked, setAgentPaused, setChosenNumber } from '../store/load-policy.js';
import { calls } from '../store/schema/index.js';
import { decideInbound } from '../flows/inbound-flow.js';
import { createAriRest, endpointStatusOf } from '../pbx/asterisk/ari-rest.js';
import { createCallMemoryLookup, lastOutboundCallEver } from '../store/call-memory-lookup.js';
import { describeInbound } from './explain-inbound.js';
import { resolveSurveySettings } from '../survey/render-prompts.js';
import { listSurveyResults, summarizeSurveys } from '../store/survey-report.js';
import { formatSummary, formatSurveyList, parseSurveysOptions, surveyListJson, type SurveysCliOptions } from './surveys-report.js';

/**
 * Administration commands; the database comes from DATABASE_URL or CALLPOLICY_DATA_DIR. An
 * embedded (PGlite) folder is refused with exit code 2 while the adapter holds it.
 */
async function withDatabase<T>(work: (db: Database) => Promise<T>): Promise<T> {
  const env = loadEnv(process.env, { requireAri: false });
  const db = await openDatabase({ url: env.databaseUrl, dataDir: env.dataDir, limits: env.database, role: 'cli' });
  try {
    await db.migrate();
    return await work(db);
  } finally {
    await db.close();
  }
}

async function readPolicyFile(path: string) {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new PolicyFileError(path, [`cannot read: ${(err as Error).message}`]);
  }
  return parsePolicyFile(text, path);
}

const program = new Command('callpolicy').description('Contact-center call policies for Asterisk').showHelpAfterError();

program
  .command('check')
  .argument('<file>', 'policy YAML file')
  .description('validate a policy file without applying it')
  .action(async (file: string) => {
    const policy = await readPolicyFile(file);
    console.log(`${file}: OK (${policy.numbers.length} numbers, ${policy.groups.length} groups, ${policy.agents.length} agents)`);
  });

program
  .command('apply')
  .argument('<file>', 'policy YAML file')
  .description('apply a policy file: the database then holds exactly what it says (all or nothing)')
  .action(async (file: string) => {
    const policy = await readPolicyFile(file);
    // Prompts are rendered before the transaction: a prompt that cannot be made applies nothing.
    const survey = await resolveSurveySettings(policy, { ...loadEnv(process.env, { requireAri: false }).prompts, source: file });
    const locator = createLocator();
    await withDatabase(async (db) => {
      const summary = await applyPolicy(db.db, policy, (n) => locator.locate(n), { survey });
      // Nothing changed, nothing to reload (SIGHUP makes the adapter re-read anyway).
      if (summary.changes > 0) await db.notify(POLICY_CHANGED_CHANNEL);
      console.log(
        `${file}: applied ${summary.numbers} numbers, ${summary.groups} groups, ${summary.agents} agents` +
          (summary.changes > 0 ? ` (${summary.changes} rows changed)` : ' (no change)'),
      );
    });
  });

program
  .command('migrate')
  .description('apply pending database migrations')
  .action(() => withDatabase(async () => console.log('migrations applied')));

program
  .command('choose')
  .argument('<agent>', 'agent id')
  .argument('<number>', "E.164 number from the agent's numbers, or 'none'")
  .description('set the number an agent chose (agent strategy)')
  .action((agent: string, number: string) =>
    withDatabase(async (db) => {
      await setChosenNumber(db.db, agent, number === 'none' ? null : number);
      await db.notify(POLICY_CHANGED_CHANNEL);
      console.log(`${agent}: chosen number ${number}`);
    }),
  );

program
  .command('pause')
  .argument('<agent>', 'agent id')
  .option('--note <text>', 'why (shown by `callpolicy pauses`)')
  .description('pause an agent: call memory treats them as unavailable until `callpolicy unpause`')
  .action((agent: string, opts: { note?: string }) =>
    withDatabase(async (db) => {
      await setAgentPaused(db.db, agent, true, opts.note ?? null);
      await db.notify(POLICY_CHANGED_CHANNEL);
      console.log(`${agent}: paused`);
    }),
  );

program
  .command('unpause')
  .argument('<agent>', 'agent id')
  .description('end an agent\'s pause')
  .action((agent: string) =>
    withDatabase(async (db) => {
      await setAgentPaused(db.db, agent, false);
      await db.notify(POLICY_CHANGED_CHANNEL);
      console.log(`${agent}: available`);
    }),
  );

program
  .command('pauses')
  .description('list paused agents')
  .action(() =>
    withDatabase(async (db) => {
      const rows = await listAgentPauses(db.db);
      if (rows.length === 0) console.log('no agent is paused');
      for (const r of rows) console.log([r.pausedAt.toISOString(), r.agentId, r.note ?? ''].filter(Boolean).join('  '));
    }),
  );

const explain = program.command('explain').description('say what the adapter would do with a call, and why, without placing one');

explain
  .command('inbound')
  .argument('<number>', 'the caller ID a customer\'s call would present (any form the trunk sends)')
  .option('--trunk <name>', 'the trunk the call would come in on (its country reads the number)', 'trunk')
  .option('--json', 'print the decision as JSON')
  .description('where a call from this number would go now: the remembered agent, or the IVR, and why')
  .action((number: string, opts: { trunk: string; json?: boolean }) =>
    withDatabase(async (db) => {
      const env = loadEnv(process.env, { requireAri: false });
      const policy = await loadPolicy(db.db);
      let pbxUnavailable: string | undefined;
      const rest = env.ari.password ? createAriRest(env.ari.url, env.ari.user, env.ari.password, env.ari.requestTimeoutMs) : undefined;
      const endpointStatus = async (endpoint: string) => {
        if (rest) {
          try {
            return await endpointStatusOf(rest, endpoint);
          } catch (err) {
            pbxUnavailable = `ARI at ${env.ari.url}: ${(err as Error).message}; the route assumes the agent is available`;
          }
        } else {
          pbxUnavailable = 'ARI_PASSWORD is not set; the route assumes the agent is available';
        }
        return { reachable: true, inCall: false };
      };
      const now = Date.now();
      const decision = await decideInbound({ policy: () => policy, lookUp: createCallMemoryLookup(db.db), endpointStatus }, { callerNumber: number, trunk: opts.trunk }, now);
      const lastEver = !decision.remembered && decision.customer ? await lastOutboundCallEver(db.db, decision.customer) : null;
      if (opts.json) {
        console.log(JSON.stringify({ caller: number, trunk: opts.trunk, decision, lastEver, pbxUnavailable }, null, 2));
        return;
      }
      const lines = describeInbound({ caller: number, trunk: opts.trunk, memory: policy.memory, decision, lastEver, pbxUnavailable, now, mask: numbersMasked(policy) });
      console.log(lines.join('\n'));
    }),
  );

program
  .command('calls')
  .option('-n, --limit <n>', 'how many', '10')
  .description('show the latest call decisions')
  .action((opts: { limit: string }) =>
    withDatabase(async (db) => {
      const mask = numbersMasked(await loadPolicy(db.db));
      const rows = await db.db.select().from(calls).orderBy(desc(calls.decidedAt)).limit(Number(opts.limit) || 10);
      for (const r of rows.reverse()) {
        // What the PBX did: its dial result and talk time, its own action when it differs, who hung up first.
        const end = [
          r.dialStatus,
          r.talkSeconds !== null ? `${r.talkSeconds}s` : null,
          r.finalAction ? `PBX: ${r.finalAction}` : null,
          r.noAnswerRoute ? `no answer: ${r.noAnswerRoute}` : null,
          r.hungUpBy ? `${r.hungUpBy} hung up` : null,
        ];
        const fields =
          r.direction === 'inbound'
            ? [r.decidedAt.toISOString(), 'inbound', `from ${numberForLog(r.customerE164, mask) ?? '(withheld)'}`, r.action === 'dial' ? `to ${r.agentId}` : 'to the IVR', r.reason]
            : [
                r.decidedAt.toISOString(),
                r.agentId ?? r.agentEndpoint ?? '-',
                `to ${numberForLog(r.customerE164, mask) ?? '(invalid)'}`,
                `as ${r.callerId ?? '(default)'}`,
                r.action,
                r.strategy ? `${r.strategy}/${r.tier}${r.fallback ? ' (fallback)' : ''}` : r.reason,
              ];
        console.log([...fields, end.filter(Boolean).join(' ')].filter(Boolean).join('  '));
      }
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
    await withDatabase(async (db) => {
      if (req.list !== null) {
        const mask = numbersMasked(await loadPolicy(db.db));
        const rows = await listSurveyResults(db.db, req.filter, req.list);
        console.log(req.json ? JSON.stringify(surveyListJson(rows, mask), null, 2) : formatSurveyList(rows, { mask, timeZone: req.timeZone }).join('\n'));
        return;
      }
      const rows = await summarizeSurveys(db.db, req.filter, req.by, { timeZone: req.timeZone });
      console.log(req.json ? JSON.stringify(rows, null, 2) : formatSummary(rows, req).join('\n'));
    });
  });

program.parseAsync().catch((err: Error) => {
  console.error(err instanceof PolicyFileError ? err.message : `callpolicy: ${err.message}`);
  process.exit(err instanceof PolicyFileError || err instanceof DataDirLockedError ? 2 : 1);
});
