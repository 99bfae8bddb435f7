// The port's endpoint state on the real Asterisk (call memory asks it before ringing an agent):
// an idle agent phone, the same phone while it has a call up, an endpoint Asterisk does not know,
// and a name that is not an endpoint at all.
import assert from 'node:assert/strict';
import { afterAll, beforeAll, test } from 'vitest';
import type { OutboundCall } from '../../src/pbx/call-control.js';
import { startTrunk, type Trunk } from '../sandbox/sipp.js';
import { assertNoChannelsLeft } from './ari-checks.js';
import { ariPort, callThrough } from './asterisk-harness.js';
import { AGENT_ONE, TRUNK_PORT } from './topology.js';

const port = ariPort();
let trunk: Trunk;
let held: ((call: OutboundCall) => void) | undefined;

beforeAll(async () => {
  trunk = await startTrunk({ port: TRUNK_PORT });
  await port.start({
    outbound: async (call) => {
      if (held) held(call);
      else await call.useDefault();
    },
  });
});

afterAll(async () => {
  await port.stop();
  await trunk.stop();
  await assertNoChannelsLeft(3000);
});

test('an idle agent phone (static contact, as the sandbox has) is reachable and not in a call', async () => {
  assert.deepEqual(await port.endpointStatus(`PJSIP/${AGENT_ONE.endpoint}`), { reachable: true, inCall: false });
});

test('while the agent has a call up, the endpoint is in a call; after it, idle again', async () => {
  const atDecision = new Promise<OutboundCall>((resolve) => (held = resolve));
  const call = callThrough(trunk, AGENT_ONE, '+12125550123');
  const outbound = await atDecision;
  held = undefined;
  try {
    assert.deepEqual(await port.endpointStatus(`PJSIP/${AGENT_ONE.endpoint}`), { reachable: true, inCall: true });
  } finally {
    await outbound.useDefault();
    await call;
  }
  for (let i = 0; i < 50; i++) {
    if (!(await port.endpointStatus(`PJSIP/${AGENT_ONE.endpoint}`)).inCall) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail('the agent endpoint still shows a call 5 s after it ended');
});

test('an endpoint Asterisk does not know is offline, not an error', async () => {
  assert.deepEqual(await port.endpointStatus('PJSIP/no-such-agent'), { reachable: false, inCall: false });
});

test('a name that is not TECH/resource is refused with a clear error', async () => {
  await assert.rejects(port.endpointStatus('1001'), /not a PBX endpoint like PJSIP\/1001: "1001"/);
  await assert.rejects(port.endpointStatus('PJSIP/'), /not a PBX endpoint/);
});
