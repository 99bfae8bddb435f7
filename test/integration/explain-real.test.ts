// `explain` against what real calls then do: for each case the API says which caller ID an agent
// would get (or where an inbound call would go), then a real call through Asterisk (sipp phones,
// sipp trunk, real PostgreSQL) must do exactly that. Selection is lru, so the explained number is
// the one the next call gets.
import assert from 'node:assert/strict';
import { afterAll, afterEach, beforeAll, describe, test } from 'vitest';
import type { OutboundExplanation } from '../../src/flows/explain-outbound.js';
import type { SandboxAgent } from '../sandbox/asterisk-sandbox.js';
import { placeCall, startAgentPhone, startTrunk, type Trunk } from '../sandbox/sipp.js';
import { assertNoChannelsLeft } from './ari-checks.js';
import { callThrough, startInProcessAdapter, type InProcessAdapter } from './asterisk-harness.js';
import { integrationEnv } from './env.js';
import { AGENT_ONE, AGENT_THREE, CUSTOMER_PORT, IVR_PHONE, TRUNK_PORT } from './topology.js';

const TOKEN = 'explain-token-0123456789abcdef';
const POLICY = `
defaultCountry: US
callerId:
  strategy: area
  selection: lru
  chains: { area: [area, region, pool] }
trunks:
  trunk: { callerIdFormat: e164 }
memory: { mode: agent-first, ringSeconds: 5 }
privacy: { maskNumbersInLogs: false }
groups: [sales]
numbers:
  - { number: "+14155550100", groups: [sales] }
  - { number: "+14155550101", groups: [sales] }
  - { number: "+12125550100" }
  - { number: "+13105550100" }
agents:
  - { id: alice, endpoint: PJSIP/${AGENT_ONE.endpoint}, groups: [sales] }
  - { id: carol, endpoint: PJSIP/${AGENT_THREE.endpoint} }
`;

let running: InProcessAdapter;
let trunk: Trunk;
const ienv = integrationEnv();

async function explain<T>(path: string): Promise<T> {
  const res = await fetch(`http://127.0.0.1:${running.adapter.apiPort}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as T;
}

beforeAll(async () => {
  running = await startInProcessAdapter({ http: true, env: { API_PORT: '0', CALLPOLICY_API_TOKEN: TOKEN } });
  trunk = await startTrunk({ port: TRUNK_PORT, holdMs: 200 });
  await running.apply(POLICY);
});
afterAll(async () => {
  await trunk?.stop();
  await running?.stop();
});
afterEach(() => assertNoChannelsLeft(5000));

describe('explain outbound = the caller ID the trunk then receives', () => {
  // Area hit, the same area twice (lru moves on), a region fallback, a pool fallback, an agent with no group.
  const cases: [string, SandboxAgent, string, string][] = [
    ['alice', AGENT_ONE, '+12125550123', 'area'],
    ['alice', AGENT_ONE, '+14155550123', 'area'],
    ['alice', AGENT_ONE, '+14155550124', 'area'],
    ['alice', AGENT_ONE, '+16195550123', 'region'],
    ['carol', AGENT_THREE, '+4930123456', 'pool'],
  ];
  for (const [agent, phone, callee, tier] of cases) {
    test(`${agent} calling ${callee}: tier ${tier}`, async () => {
      const x = await explain<OutboundExplanation>(`/api/v1/explain/outbound?agent=${agent}&callee=${encodeURIComponent(callee)}`);
      assert.equal(x.tier, tier);
      assert.ok(x.callerId, JSON.stringify(x));
      const { view } = await callThrough(trunk, phone, callee);
      assert.equal(view?.callerIdNumber, x.trunk.callerId);
      assert.equal(view?.destination, x.trunk.destination);
    });
  }

  test('an emergency number: explain says straight out with the default caller ID, and so it goes', async () => {
    const x = await explain<OutboundExplanation>('/api/v1/explain/outbound?agent=alice&callee=911');
    assert.deepEqual([x.tier, x.action, x.callerId], ['emergency', 'default', null]);
    const { view } = await callThrough(trunk, AGENT_ONE, '911');
    assert.equal(view?.destination, '911');
    assert.ok(!['+14155550100', '+14155550101', '+12125550100', '+13105550100'].includes(view!.callerIdNumber), view!.callerIdNumber);
  });
});

describe('daily caps: a number at its cap is skipped by explain and by the real call alike', () => {
  test('the New York number, used once today and capped at 1, gives way to the pool', async () => {
    await running.adapter.flushRecords();
    // Re-applied with a cap: the load counts today's records, where the New York number is already used once.
    await running.apply(POLICY.replace('- { number: "+12125550100" }', '- { number: "+12125550100", dailyCap: 1 }'));
    const x = await explain<OutboundExplanation>(`/api/v1/explain/outbound?agent=alice&callee=${encodeURIComponent('+12125550188')}`);
    assert.deepEqual([x.chain[0]!.tier, x.chain[0]!.candidates, x.chain[0]!.atCap], ['area', 0, 1]);
    assert.equal(x.tier, 'pool');
    const { view } = await callThrough(trunk, AGENT_ONE, '+12125550188');
    assert.equal(view?.callerIdNumber, x.trunk.callerId);
    assert.notEqual(view?.callerIdNumber, '+12125550100');
    await running.apply(POLICY);
  });
});

describe('explain inbound = the phone that then rings', () => {
  test('a customer alice called goes to alice; a stranger to the IVR', async () => {
    await callThrough(trunk, AGENT_ONE, '+14155550177');
    await running.adapter.flushRecords();
    const phone = await startAgentPhone({ port: AGENT_ONE.port });
    const ivr = await startAgentPhone({ port: IVR_PHONE.port, holdMs: 60_000 });
    try {
      const known = await explain<{ decision: { kind: string; agentId: string | null } }>('/api/v1/explain/inbound?caller=%2B14155550177');
      assert.deepEqual([known.decision.kind, known.decision.agentId], ['agent', 'alice']);
      const call = await placeCall({ fromPort: CUSTOMER_PORT, fromUser: '+14155550177', to: '+15550001000', server: ienv.sipServer, holdMs: 300 });
      assert.equal(call.finalStatus, 200);
      assert.equal((await phone.nextInvite(3000)).toUser, AGENT_ONE.endpoint);

      const stranger = await explain<{ decision: { kind: string; reason: string } }>('/api/v1/explain/inbound?caller=%2B14155550188');
      assert.deepEqual([stranger.decision.kind, stranger.decision.reason], ['ivr', 'no_outbound_call']);
      const other = await placeCall({ fromPort: CUSTOMER_PORT, fromUser: '+14155550188', to: '+15550001000', server: ienv.sipServer, holdMs: 300 });
      assert.equal(other.finalStatus, 200);
      assert.equal((await ivr.nextInvite(3000)).fromUser, '+14155550188');
      await phone.expectNoInvite(300);
    } finally {
      await ivr.stop();
      await phone.stop();
    }
  });
});
