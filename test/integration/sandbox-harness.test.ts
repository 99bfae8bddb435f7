// The test harness itself, through the real Asterisk: an answering agent phone, customers'
// calls from the trunk side, and a load run. Other integration tests build on these.
import { afterAll, afterEach, beforeAll, test } from 'vitest';
import assert from 'node:assert/strict';
import { placeCall, runLoad, startAgentPhone, startTrunk, type Trunk } from '../sandbox/sipp.js';
import { assertNoChannelsLeft } from './ari-checks.js';
import { integrationEnv } from './env.js';
import { AGENT_TWO, CUSTOMER_PORT, DEFAULT_NUMBER, PLAIN_AGENT, TRUNK_PORT } from './topology.js';

const env = integrationEnv();

afterEach(async () => {
  await assertNoChannelsLeft(3000);
});

test('a call from the trunk side rings an answering agent phone, with the customer caller ID', async () => {
  const phone = await startAgentPhone({ port: AGENT_TWO.port });
  try {
    const call = await placeCall({
      fromPort: CUSTOMER_PORT,
      fromUser: '+14155550123',
      to: `agent-${AGENT_TWO.endpoint}`,
      server: env.sipServer,
      holdMs: 200,
    });
    assert.equal(call.finalStatus, 200);
    assert.equal(call.hungUpBy, 'agent'); // the customer's side sent the BYE
    const invite = await phone.nextInvite(2000);
    assert.equal(invite.toUser, AGENT_TWO.endpoint);
    assert.equal(invite.fromUser, '+14155550123');
  } finally {
    await phone.stop();
  }
});

test('a busy agent phone gives the caller 486', async () => {
  const phone = await startAgentPhone({ port: AGENT_TWO.port, mode: 'busy' });
  try {
    const call = await placeCall({ fromPort: CUSTOMER_PORT, fromUser: '+14155550123', to: `agent-${AGENT_TWO.endpoint}`, server: env.sipServer });
    assert.equal(call.finalStatus, 486);
  } finally {
    await phone.stop();
  }
});

test('a load run finishes by itself and reports post-dial delay per answered call', async () => {
  let trunk: Trunk | undefined;
  try {
    trunk = await startTrunk({ port: TRUNK_PORT, traceMessages: false });
    const result = await runLoad({
      fromPort: PLAIN_AGENT.port,
      fromUser: PLAIN_AGENT.endpoint,
      to: '+14155550123',
      rate: 20,
      calls: 20,
      holdMs: 100,
      server: env.sipServer,
    });
    console.log(`load: ${JSON.stringify({ ...result, pddMs: undefined })}, pdd max ${Math.max(...result.pddMs)} ms`);
    assert.equal(result.succeeded, 20);
    assert.equal(result.failed, 0);
    assert.equal(result.pddMs.length, 20);
    assert.ok(result.pddMs.every((ms) => ms > 0 && ms < 2000));
    const invites = await trunk.takeInvites();
    assert.equal(invites.length, 20);
    assert.ok(invites.every((i) => i.fromUser === DEFAULT_NUMBER));
  } finally {
    await trunk?.stop();
  }
});
