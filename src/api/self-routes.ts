// What an agent's own token may do: read their profile and calls (customers' numbers masked),
// set their chosen number and pause themselves. Nothing else.
import type { FastifyInstance } from 'fastify';
import { AdminError } from '../admin/admin-error.js';
import { listAgentPauses } from '../store/load-policy.js';
import { agentOf, type ApiDeps } from './api-server.js';
import { chooseNumber, chosenBody, pauseAgent, pauseBody } from './policy-routes.js';
import { defineRoute } from './route.js';

export function registerSelfRoutes(app: FastifyInstance, deps: ApiDeps): void {
  defineRoute(app, { method: 'GET', url: '/api/v1/me', access: 'agent', summary: "The agent's profile: groups, allowed and chosen numbers, pause" }, async ({ req }) => {
    const id = agentOf(req);
    const agent = deps.policy().inventory.agentById(id);
    if (!agent) throw new AdminError(403, 'forbidden', `agent '${id}' of this token is not in the applied policy`);
    const pause = (await listAgentPauses(deps.db)).find((p) => p.agentId === id);
    return { id, endpoint: agent.endpoint, groups: agent.groups, numbers: agent.allowedNumbers, chosenNumber: agent.chosenNumber, paused: pause !== undefined, pauseNote: pause?.note ?? null };
  });
  defineRoute(app, { method: 'PUT', url: '/api/v1/me/chosen-number', access: 'agent', summary: 'Choose one of my numbers (null: none)', body: chosenBody }, async ({ req, body }) => {
    const id = agentOf(req);
    await chooseNumber(deps, id, body.number);
    return { id, chosenNumber: body.number };
  });
  defineRoute(app, { method: 'PUT', url: '/api/v1/me/pause', access: 'agent', summary: 'Pause myself or end my pause', body: pauseBody }, async ({ req, body }) => {
    const id = agentOf(req);
    await pauseAgent(deps, id, body);
    return { id, paused: body.paused };
  });
}
