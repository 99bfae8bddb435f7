// `explain`: what the adapter would do with a call now, and why, decided by the same code as a
// real call, without placing one (nothing is reserved or recorded).
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { nameSchema } from '../config/policy-file.js';
import { decideInbound } from '../flows/inbound-flow.js';
import { explainOutbound } from '../flows/explain-outbound.js';
import { numberForLog } from '../log.js';
import { createCallMemoryLookup, lastOutboundCallEver } from '../store/call-memory-lookup.js';
import type { ApiDeps } from './api-server.js';
import { defineRoute } from './route.js';

const trunk = nameSchema.default('trunk').describe('the trunk the call would use (its country reads numbers)');
export const explainOutboundQuery = z.strictObject({
  agent: nameSchema.describe('agent id'),
  callee: z.string().min(1).max(64).describe('what the agent would dial'),
  trunk,
});
export const explainInboundQuery = z.strictObject({
  caller: z.string().min(1).max(64).describe('the caller ID the call would present'),
  trunk,
});

export function registerExplainRoutes(app: FastifyInstance, deps: ApiDeps): void {
  defineRoute(app, { method: 'GET', url: '/api/v1/explain/outbound', access: 'admin', summary: 'Which caller ID an agent would get now for a callee, and why', query: explainOutboundQuery }, async ({ query }) => {
    const x = await explainOutbound(deps.policy(), deps.locate, { agentId: query.agent, dialed: query.callee, trunk: query.trunk });
    const mask = deps.masked();
    return { ...x, callee: numberForLog(x.callee, mask), trunk: { ...x.trunk, destination: mask && x.tier !== 'emergency' ? numberForLog(x.trunk.destination, true) : x.trunk.destination }, masked: mask };
  });

  defineRoute(app, { method: 'GET', url: '/api/v1/explain/inbound', access: 'admin', summary: 'Where a call from a number would go now, and why', query: explainInboundQuery }, async ({ query }) => {
    const policy = deps.policy();
    let pbxUnavailable: string | undefined;
    const endpointStatus = async (endpoint: string) => {
      try {
        return await deps.endpointStatus(endpoint);
      } catch (err) {
        pbxUnavailable = `${(err as Error).message}; the route assumes the agent is available`;
        return { reachable: true, inCall: false };
      }
    };
    const now = Date.now();
    const decision = await decideInbound({ policy: () => policy, lookUp: createCallMemoryLookup(deps.db), endpointStatus, databaseUp: deps.databaseUp }, { callerNumber: query.caller, trunk: query.trunk }, now);
    const lastEver = !decision.remembered && decision.customer ? await lastOutboundCallEver(deps.db, decision.customer) : null;
    const mask = deps.masked();
    return {
      caller: mask ? (numberForLog(decision.customer, true) ?? '(not a number)') : query.caller,
      trunk: query.trunk,
      memory: policy.memory,
      decision: { ...decision, customer: numberForLog(decision.customer, mask) },
      lastEver,
      pbxUnavailable,
      now,
      masked: mask,
    };
  });
}
