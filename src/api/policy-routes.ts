// Changing the policy: the whole of it (as `callpolicy apply`), or one number, group, agent or
// settings section at a time. Every change goes through the policy editor: the edited policy is
// checked as a file is and applied in one transaction, or nothing changes.
import type { FastifyInstance } from 'fastify';
import { stringify as stringifyYaml } from 'yaml';
import { z } from 'zod';
import { AdminError } from '../admin/admin-error.js';
import { findAgent, SETTINGS_SECTIONS } from '../admin/policy-edits.js';
import { e164Schema, nameSchema, policyFileSchema } from '../config/policy-file.js';
import { listAgentPauses, setAgentPaused, setChosenNumber } from '../store/load-policy.js';
import { LARGE_BODY, type ApiDeps } from './api-server.js';
import { defineRoute } from './route.js';

const shape = policyFileSchema.shape;
const numberSchema = shape.numbers.unwrap().element;
const agentSchema = shape.agents.unwrap().element;
const e164Param = z.strictObject({ number: z.string().regex(/^\+[1-9][0-9]{6,14}$/, 'must be an E.164 number like +14155550123 (write + as %2B in a URL)') });
const nameParam = z.strictObject({ name: nameSchema });
const idParam = z.strictObject({ id: nameSchema });
const sectionParam = z.strictObject({ section: z.enum(SETTINGS_SECTIONS) });
const numbersQuery = z.strictObject({
  enabled: z.enum(['true', 'false']).optional(),
  group: z.string().min(1).max(64).optional(),
  limit: z.coerce.number().int().min(1).max(5000).default(500),
  after: z.string().max(16).optional().describe('paging: the last number of the previous page'),
});
const numberPatch = z.strictObject({
  enabled: z.boolean().optional(),
  groups: numberSchema.shape.groups.unwrap().optional(),
  location: numberSchema.shape.location.unwrap().nullable().optional().describe('a location set by hand; null: computed from the number'),
  dailyCap: numberSchema.shape.dailyCap.unwrap().nullable().optional().describe("calls per day; null: the policy's callerId.dailyCap"),
});
const agentBody = agentSchema.omit({ id: true, chosen: true });
export const chosenBody = z.strictObject({ number: e164Schema.nullable() });
export const pauseBody = z.strictObject({ paused: z.boolean(), note: z.string().max(200).optional() });
const importQuery = z.strictObject({ dryRun: z.enum(['true', 'false']).default('false') });
const formatQuery = z.strictObject({ format: z.enum(['json', 'yaml']).default('json') });

/** What a change did, for the reply. */
const applied = (s: { changes: number }) => ({ changes: s.changes });

export function registerPolicyRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const { policies } = deps;
  const source = (what: string) => `API ${what}`;

  defineRoute(app, { method: 'GET', url: '/api/v1/policy', access: 'admin', summary: 'The applied policy, as a policy file would say it', query: formatQuery }, async ({ query, reply }) => {
    const { policy, fingerprint } = await policies.read();
    reply.header('ETag', `"${fingerprint}"`);
    if (query.format === 'yaml') return reply.type('application/yaml').send(stringifyYaml(policy));
    return policy;
  });

  defineRoute(
    app,
    { method: 'PUT', url: '/api/v1/policy', access: 'admin', summary: 'Apply a whole policy (YAML or JSON): exactly what `callpolicy apply` does', textBody: 'application/yaml', bodyLimit: LARGE_BODY },
    async ({ req }) => {
      // Parsed as a file is, so that every problem names its line and field.
      const header = req.headers['x-policy-file'];
      const name = typeof header === 'string' && header ? header.replace(/[^\x20-\x7e]/g, '').slice(0, 200) : 'PUT /api/v1/policy';
      const s = await policies.replaceText(req.body as string, name);
      return { numbers: s.numbers, groups: s.groups, agents: s.agents, changes: s.changes };
    },
  );

  // Numbers
  defineRoute(app, { method: 'GET', url: '/api/v1/numbers', access: 'admin', summary: 'The caller-ID pool, by number', query: numbersQuery }, async ({ query }) => {
    const { policy } = await policies.read();
    const runtime = deps.policy();
    const list = policy.numbers.filter(
      (n) => (query.enabled === undefined || String(n.enabled) === query.enabled) && (query.group === undefined || n.groups.includes(query.group)) && (query.after === undefined || n.number > query.after),
    );
    const page = list.slice(0, query.limit);
    return {
      numbers: page.map((n) => {
        const live = runtime.inventory.get(n.number);
        return {
          ...n,
          location: live?.location ?? null,
          locationSetByHand: n.location !== undefined,
          lastUsedAt: live?.lastUsedAt ? new Date(live.lastUsedAt).toISOString() : null,
          agents: policy.agents.filter((a) => a.numbers.includes(n.number)).map((a) => a.id),
        };
      }),
      total: list.length,
      next: list.length > page.length ? { after: page.at(-1)!.number } : null,
    };
  });

  defineRoute(app, { method: 'POST', url: '/api/v1/numbers', access: 'admin', summary: 'Add a number to the pool', body: numberSchema, status: 201 }, async ({ body }) => {
    const { summary } = await policies.change(source('POST /api/v1/numbers'), { kind: 'add-number', number: stripDefaults(body) });
    return { number: body.number, ...applied(summary) };
  });

  defineRoute(app, { method: 'PATCH', url: '/api/v1/numbers/{number}', access: 'admin', summary: 'Enable or disable a number, or change its groups or location', params: e164Param, body: numberPatch }, async ({ params, body }) => {
    const { summary } = await policies.change(source(`PATCH /api/v1/numbers/${params.number}`), { kind: 'update-number', number: params.number, change: body });
    return { number: params.number, ...applied(summary) };
  });

  defineRoute(app, { method: 'DELETE', url: '/api/v1/numbers/{number}', access: 'admin', summary: 'Remove a number from the pool (refused while an agent may choose it)', params: e164Param }, async ({ params }) => {
    const { summary } = await policies.change(source(`DELETE /api/v1/numbers/${params.number}`), { kind: 'remove-number', number: params.number });
    return { number: params.number, ...applied(summary) };
  });

  defineRoute(
    app,
    {
      method: 'POST',
      url: '/api/v1/numbers/import',
      access: 'admin',
      summary: 'Import numbers from CSV (columns number, enabled, groups, area, region, dailyCap): all rows or none, with a report per row',
      query: importQuery,
      textBody: 'text/csv',
      bodyLimit: LARGE_BODY,
    },
    async ({ query, req }) => policies.importCsv(source('POST /api/v1/numbers/import'), req.body as string, query.dryRun === 'true'),
  );

  // Groups
  defineRoute(app, { method: 'GET', url: '/api/v1/groups', access: 'admin', summary: 'Groups with their numbers and agents' }, async () => {
    const { policy } = await policies.read();
    return {
      groups: policy.groups.map((g) => ({
        name: g,
        numbers: policy.numbers.filter((n) => n.groups.includes(g)).length,
        agents: policy.agents.filter((a) => a.groups.includes(g)).map((a) => a.id),
      })),
    };
  });
  defineRoute(app, { method: 'POST', url: '/api/v1/groups', access: 'admin', summary: 'Create a group', body: nameParam, status: 201 }, async ({ body }) => {
    const { summary } = await policies.change(source('POST /api/v1/groups'), { kind: 'add-group', name: body.name });
    return { name: body.name, ...applied(summary) };
  });
  defineRoute(app, { method: 'DELETE', url: '/api/v1/groups/{name}', access: 'admin', summary: 'Remove a group (refused while a number, agent or survey rule uses it)', params: nameParam }, async ({ params }) => {
    const { summary } = await policies.change(source(`DELETE /api/v1/groups/${params.name}`), { kind: 'remove-group', name: params.name });
    return { name: params.name, ...applied(summary) };
  });

  // Agents
  const agentView = async (id?: string) => {
    const { policy } = await policies.read();
    const runtime = deps.policy();
    const paused = new Map((await listAgentPauses(deps.db)).map((p) => [p.agentId, p]));
    const view = (a: (typeof policy.agents)[number]) => ({
      ...a,
      chosenNumber: runtime.inventory.agentById(a.id)?.chosenNumber ?? null,
      paused: paused.has(a.id),
      pausedAt: paused.get(a.id)?.pausedAt.toISOString() ?? null,
      pauseNote: paused.get(a.id)?.note ?? null,
    });
    if (id === undefined) return { agents: policy.agents.map(view) };
    return view(findAgent(policy, id));
  };
  defineRoute(app, { method: 'GET', url: '/api/v1/agents', access: 'admin', summary: 'Agents: endpoint, groups, allowed and chosen numbers, pause' }, async () => agentView());
  defineRoute(app, { method: 'GET', url: '/api/v1/agents/{id}', access: 'admin', summary: 'One agent', params: idParam }, async ({ params }) => agentView(params.id));
  defineRoute(app, { method: 'PUT', url: '/api/v1/agents/{id}', access: 'admin', summary: 'Create or replace an agent (its chosen number is kept while still allowed)', params: idParam, body: agentBody }, async ({ params, body }) => {
    const { result, summary } = await policies.change(source(`PUT /api/v1/agents/${params.id}`), { kind: 'put-agent', agent: { id: params.id, endpoint: body.endpoint, groups: body.groups, numbers: body.numbers } });
    return { id: params.id, result, ...applied(summary) };
  });
  defineRoute(app, { method: 'DELETE', url: '/api/v1/agents/{id}', access: 'admin', summary: 'Remove an agent', params: idParam }, async ({ params }) => {
    const { summary } = await policies.change(source(`DELETE /api/v1/agents/${params.id}`), { kind: 'remove-agent', id: params.id });
    return { id: params.id, ...applied(summary) };
  });
  defineRoute(app, { method: 'PUT', url: '/api/v1/agents/{id}/chosen-number', access: 'admin', summary: "Set the number an agent chose (one of the agent's numbers; null: none)", params: idParam, body: chosenBody }, async ({ params, body }) => {
    await chooseNumber(deps, params.id, body.number);
    return { id: params.id, chosenNumber: body.number };
  });
  defineRoute(app, { method: 'PUT', url: '/api/v1/agents/{id}/pause', access: 'admin', summary: 'Pause an agent (call memory treats them as unavailable) or end the pause', params: idParam, body: pauseBody }, async ({ params, body }) => {
    await pauseAgent(deps, params.id, body);
    return { id: params.id, paused: body.paused };
  });
  defineRoute(app, { method: 'GET', url: '/api/v1/pauses', access: 'admin', summary: 'Paused agents, oldest pause first' }, async () => ({
    pauses: (await listAgentPauses(deps.db)).map((p) => ({ agentId: p.agentId, pausedAt: p.pausedAt.toISOString(), note: p.note })),
  }));

  // Settings
  defineRoute(app, { method: 'GET', url: '/api/v1/settings', access: 'admin', summary: 'Every settings section as applied' }, async () => {
    const { policy } = await policies.read();
    return Object.fromEntries(SETTINGS_SECTIONS.map((s) => [s, policy[s] ?? null]));
  });
  defineRoute(
    app,
    { method: 'PUT', url: '/api/v1/settings/{section}', access: 'admin', summary: 'Replace one settings section (checked as in a policy file; null: the defaults, for survey: no survey)', params: sectionParam },
    async ({ params, req }) => {
      const value = req.body as unknown;
      if (value === undefined) throw new AdminError(400, 'bad-request', 'body: the section as JSON', 'body');
      const { summary } = await policies.change(source(`PUT /api/v1/settings/${params.section}`), { kind: 'set-settings', section: params.section, value });
      return { section: params.section, ...applied(summary) };
    },
  );
}

/** The schema's defaults are what an exported policy also leaves out. */
function stripDefaults(n: z.infer<typeof numberSchema>) {
  return { number: n.number, enabled: n.enabled, groups: n.groups, ...(n.location ? { location: n.location } : {}), ...(n.dailyCap !== undefined ? { dailyCap: n.dailyCap } : {}) };
}


/** The store refuses an unknown agent (404) or a number not theirs (400) with an AdminError. */
export async function chooseNumber(deps: ApiDeps, agentId: string, number: string | null): Promise<void> {
  await setChosenNumber(deps.db, agentId, number);
  await deps.policies.changedElsewhere();
}

export async function pauseAgent(deps: ApiDeps, agentId: string, body: z.infer<typeof pauseBody>): Promise<void> {
  await setAgentPaused(deps.db, agentId, body.paused, body.note ?? null);
  await deps.policies.changedElsewhere();
}
