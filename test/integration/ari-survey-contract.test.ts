// The survey half of the call-control contract (test/contract) against the real Asterisk over ARI:
// an agent's sipp phone and a customer's sipp (the trunk for outbound calls, a caller through the
// trunk for inbound ones); the agent hangs up first, the customer presses keys (RFC 2833 from
// sip-tester's pcap files, or SIP INFO) or hangs up, and a UDP listener on the customer's audio
// port tells whether Asterisk played the prompts to them.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, test } from 'vitest';
import { placeCall, startTrunk } from '../sandbox/sipp.js';
import { surveyPortContract } from '../contract/survey-port-contract.js';
import { surveyContractHarness } from './survey-contract-harness.js';
import { waitFor } from '../contract/outbound-port-contract.js';
import { assertNoChannelsLeft } from './ari-checks.js';
import { ariPort } from './asterisk-harness.js';
import { integrationEnv } from './env.js';
import { AGENT_ONE, AGENT_TWO, CUSTOMER_PORT, OUTSIDE_LINE, TRUNK_PORT } from './topology.js';

const env = integrationEnv();

afterEach(() => assertNoChannelsLeft(5000));

surveyPortContract('Asterisk over ARI', async () =>
  surveyContractHarness({
    port: ariPort(),
    agentEndpoint: `PJSIP/${AGENT_ONE.endpoint}`,
    agentPort: AGENT_ONE.port,
    trunkPort: TRUNK_PORT,
    customerPort: CUSTOMER_PORT,
    customerServer: env.sipServer,
    rtpPortBase: 42_000,
    agentCallsOut: (holdMs) => placeCall({ fromPort: AGENT_ONE.port, fromUser: AGENT_ONE.endpoint, fromName: AGENT_ONE.name, to: `${OUTSIDE_LINE}+14155550123`, server: env.sipServer, holdMs, timeoutMs: 30_000 }),
  }),
);

// Asterisk runs the requests of one ARI websocket one after the other, and a variable set on a
// channel that plays a prompt waits for the prompt's end: a survey leg's requests must never sit
// on the websocket that carries every other call's decision.
test("a survey request that waits for the customer's channel does not hold another call's decision", async () => {
  const port = ariPort();
  const trunk = await startTrunk({ port: TRUNK_PORT });
  let noted: Promise<unknown> | undefined;
  let release = () => undefined as void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let surveyDone: Promise<void> | undefined;
  try {
    let first = true;
    await port.start({
      outbound: async (call) => {
        await call.dial({ number: '+14155550100', name: '' }, call.dialed, { survey: first });
        first = false;
      },
      survey: (leg) =>
        (surveyDone = (async () => {
          await leg.play(['silence/10']);
          await sleep(300);
          // Not stopped first: Asterisk answers this only when the 10 s prompt ends (or it times out).
          noted = leg.markOutcomeRecorded().catch((err: Error) => err);
          await released;
          await leg.hangup();
        })()),
    });
    const surveyed = placeCall({ fromPort: AGENT_ONE.port, fromUser: AGENT_ONE.endpoint, to: `${OUTSIDE_LINE}+14155550123`, server: env.sipServer, holdMs: 500, timeoutMs: 30_000 });
    await waitFor(() => noted !== undefined, 10_000);
    const other = await placeCall({ fromPort: AGENT_TWO.port, fromUser: AGENT_TWO.endpoint, to: `${OUTSIDE_LINE}+14155550124`, server: env.sipServer, holdMs: 200 });
    assert.equal(other.finalStatus, 200);
    assert.ok(other.pddMs !== null && other.pddMs < 500, `the other call was decided at once (post-dial delay ${other.pddMs} ms)`);
    const atTrunk = (await trunk.takeInvites()).map((i) => i.fromUser);
    assert.ok(atTrunk.filter((u) => u === '+14155550100').length >= 2, `both calls went out with the adapter's caller ID: ${atTrunk.join(', ')}`);
    assert.equal((await surveyed).finalStatus, 200);
  } finally {
    release();
    await surveyDone;
    await port.stop();
    await trunk.stop();
  }
});
