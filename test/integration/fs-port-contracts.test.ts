// The call-control contracts (test/contract: outbound, inbound, survey) against the real
// FreeSWITCH through the shipped dialplan: the same suites the fake and Asterisk pass. An agent's
// sipp phone (digest auth), the sipp trunk, a customer's sipp through the carrier profile, the IVR
// and voicemail phones; the FreeSWITCH driver in this process on the sandbox's event socket.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach } from 'vitest';
import { createLogger } from '../../src/log.js';
import { createFreeswitchCallControl } from '../../src/pbx/freeswitch/fs-call-control.js';
import { inboundPortContract } from '../contract/inbound-port-contract.js';
import { placeInboundThrough } from './inbound-contract-harness.js';
import { outboundPortContract } from '../contract/outbound-port-contract.js';
import { surveyPortContract } from '../contract/survey-port-contract.js';
import { surveyContractHarness } from './survey-contract-harness.js';
import { startAgentPhone, startTrunk } from '../sandbox/sipp.js';
import { assertNoFsChannelsLeft, fsApi, fsCallThrough, fsEnv, fsPlaceCall } from './fs-harness.js';
import { FS_AGENT_ONE, FS_CUSTOMER_PORT, FS_DEFAULT_NUMBER, FS_IVR_PHONE, FS_OUTSIDE_LINE, FS_TRUNK_PORT, FS_VOICEMAIL_PHONE } from './fs-topology.js';

afterEach(() => assertNoFsChannelsLeft(5000));

function fsPort() {
  const env = fsEnv();
  return createFreeswitchCallControl({
    eslHost: '127.0.0.1',
    eslPort: env.eslPort,
    eslPassword: env.eslPassword,
    listenHost: '127.0.0.1',
    listenPort: env.decisionPort,
    requestTimeoutMs: 1000,
    logger: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
  });
}

/**
 * Hangs up the agent's channel from the switch, as if the agent gave up while undecided: waits for
 * the channel first (the phone's sipp starts and answers the digest challenge before it exists).
 */
async function hangUpAgentChannel(user: string): Promise<void> {
  for (let i = 0; i < 60; i++) {
    const rows = JSON.parse((await fsApi('show channels as json')).trim() || '{}') as { rows?: { uuid: string; name: string }[] };
    const mine = (rows.rows ?? []).filter((r) => r.name.includes(`/${user}@`));
    for (const r of mine) await fsApi(`uuid_kill ${r.uuid}`);
    if (mine.length > 0) return;
    await sleep(50);
  }
  throw new Error(`no channel of agent ${user} to hang up`);
}

outboundPortContract('FreeSWITCH over ESL (real 1.10.12)', async () => {
  const trunk = await startTrunk({ port: FS_TRUNK_PORT });
  return {
    port: fsPort(),
    agentEndpoint: `user/${FS_AGENT_ONE.user}`,
    // No default name set: the default route sends the number as the name.
    defaultCallerId: { number: FS_DEFAULT_NUMBER, name: FS_DEFAULT_NUMBER },
    async placeCall(dialed, opts) {
      if (opts?.cancelAfterMs === undefined) return (await fsCallThrough(trunk, FS_AGENT_ONE, dialed)).view;
      await trunk.takeInvites();
      const call = fsPlaceCall(FS_AGENT_ONE, `${FS_OUTSIDE_LINE}${dialed}`);
      await sleep(opts.cancelAfterMs);
      await hangUpAgentChannel(FS_AGENT_ONE.user);
      await call;
      const invites = await trunk.takeInvites();
      return invites[0] ? { destination: decodeURIComponent(invites[0].toUser), callerIdNumber: decodeURIComponent(invites[0].fromUser), callerIdName: invites[0].fromName } : null;
    },
    close: () => trunk.stop(),
  };
});

inboundPortContract('FreeSWITCH over ESL (real 1.10.12)', async () => {
  const ivr = await startAgentPhone({ port: FS_IVR_PHONE.port, holdMs: 60_000 });
  const voicemail = await startAgentPhone({ port: FS_VOICEMAIL_PHONE.port, holdMs: 60_000 });
  // The IVR or voicemail took the call: the switch ends the customer's call.
  const hangUpCustomer = async () => void (await fsApi('hupall NORMAL_CLEARING'));
  return {
    port: fsPort(),
    agentEndpoint: `user/${FS_AGENT_ONE.user}`,
    placeInbound: (callerNumber, opts) => placeInboundThrough({ agentPort: FS_AGENT_ONE.port, customerPort: FS_CUSTOMER_PORT, server: fsEnv().carrierSipServer, ivr, voicemail, hangUpCustomer }, callerNumber, opts),
    close: async () => {
      await Promise.all([ivr.stop(), voicemail.stop()]);
    },
  };
});

surveyPortContract('FreeSWITCH over ESL (real 1.10.12)', async () =>
  surveyContractHarness({
    port: fsPort(),
    agentEndpoint: `user/${FS_AGENT_ONE.user}`,
    agentPort: FS_AGENT_ONE.port,
    trunkPort: FS_TRUNK_PORT,
    customerPort: FS_CUSTOMER_PORT,
    customerServer: fsEnv().carrierSipServer,
    rtpPortBase: 24_600,
    agentCallsOut: (holdMs) => fsPlaceCall(FS_AGENT_ONE, `${FS_OUTSIDE_LINE}+14155550123`, { holdMs, timeoutMs: 30_000 }),
  }),
);
