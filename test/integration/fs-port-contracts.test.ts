// The call-control contracts (test/contract: outbound, inbound, survey) against the real
// FreeSWITCH through the shipped dialplan: the same suites the fake and Asterisk pass. An agent's
// sipp phone (digest auth), the sipp trunk, a customer's sipp through the carrier profile, the IVR
// and voicemail phones; the FreeSWITCH driver in this process on the sandbox's event socket.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach } from 'vitest';
import { createLogger } from '../../src/log.js';
import { createFreeswitchCallControl } from '../../src/pbx/freeswitch/fs-call-control.js';
import { inboundPortContract, type InboundOutcome } from '../contract/inbound-port-contract.js';
import { outboundPortContract } from '../contract/outbound-port-contract.js';
import { surveyPortContract, type SurveyedCallView } from '../contract/survey-port-contract.js';
import { placeSurveyCall, startSurveyTrunk, type CustomerStep, type SurveyCustomerResult } from '../sandbox/sipp-survey.js';
import { placeCall, startAgentPhone, startTrunk, type Trunk } from '../sandbox/sipp.js';
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
  const phones: Trunk[] = [ivr, voicemail];
  return {
    port: fsPort(),
    agentEndpoint: `user/${FS_AGENT_ONE.user}`,
    async placeInbound(callerNumber, { agentAnswers }): Promise<InboundOutcome> {
      const agent = await startAgentPhone({ port: FS_AGENT_ONE.port, mode: agentAnswers ? 'answer' : 'ring', holdMs: 60_000 });
      try {
        await Promise.all(phones.map((p) => p.takeInvites()));
        const call = placeCall({ fromPort: FS_CUSTOMER_PORT, fromUser: callerNumber, to: '+15550001000', server: fsEnv().carrierSipServer, holdMs: agentAnswers ? 300 : 20_000, timeoutMs: 40_000 });
        let done = false;
        void call.finally(() => (done = true)).catch(() => undefined);
        let taken: { by: 'ivr' | 'voicemail'; name: string } | undefined;
        while (!done && !taken) {
          await sleep(100);
          const [atIvr, atVoicemail] = await Promise.all(phones.map((p) => p.takeInvites()));
          if (atIvr!.length > 0) taken = { by: 'ivr', name: atIvr![0]!.fromName };
          else if (atVoicemail!.length > 0) taken = { by: 'voicemail', name: atVoicemail![0]!.fromName };
        }
        if (taken) {
          // The IVR or voicemail took it: nothing more to see; the switch ends the customer's call.
          await sleep(200);
          await fsApi('hupall NORMAL_CLEARING');
        }
        const result = await call;
        const agentRang = (await agent.takeInvites()).length > 0;
        if (taken?.by === 'ivr') return { reached: 'ivr', agentRang };
        if (taken?.by === 'voicemail') return { reached: 'voicemail', agentRang, mailbox: taken.name.replace(/^voicemail /, '') };
        if (result.finalStatus !== 200) throw new Error(`the customer's call failed: ${result.finalStatus}`);
        return agentAnswers && agentRang && result.hungUpBy === 'agent' ? { reached: 'agent', agentRang } : { reached: 'goodbye', agentRang };
      } finally {
        await agent.stop();
      }
    },
    close: async () => {
      await Promise.all(phones.map((p) => p.stop()));
    },
  };
});

const AGENT_HOLD_MS = 600;
const LEAD_MS = AGENT_HOLD_MS + 600;
let rtpPort = 24_600;

function view(r: SurveyCustomerResult): SurveyedCallView {
  if (r.finalStatus !== 200) throw new Error(`the customer's call was not answered: ${r.finalStatus}`);
  return { endedBy: r.byeBy === 'asterisk' ? 'pbx' : 'customer', heardAudio: r.audio.loudPackets >= 5 };
}

async function outbound(steps: CustomerStep[], agentHoldMs = AGENT_HOLD_MS): Promise<SurveyCustomerResult> {
  const trunk = await startSurveyTrunk({ port: FS_TRUNK_PORT, rtpPort: rtpPort++, steps, endTimeoutMs: 15_000 });
  try {
    const agent = fsPlaceCall(FS_AGENT_ONE, `${FS_OUTSIDE_LINE}+14155550123`, { holdMs: agentHoldMs, timeoutMs: 30_000 });
    const [, result] = await Promise.all([agent, trunk.done(40_000)]);
    return result;
  } finally {
    await trunk.stop();
  }
}

async function inbound(steps: CustomerStep[], agentHoldMs = AGENT_HOLD_MS): Promise<SurveyCustomerResult> {
  const phone = await startAgentPhone({ port: FS_AGENT_ONE.port, holdMs: agentHoldMs });
  try {
    return await placeSurveyCall({ fromPort: FS_CUSTOMER_PORT, fromUser: '+14155550123', to: '+15550001000', server: fsEnv().carrierSipServer, rtpPort: rtpPort++, steps, endTimeoutMs: 15_000 });
  } finally {
    await phone.stop();
  }
}

surveyPortContract('FreeSWITCH over ESL (real 1.10.12)', async () => ({
  port: fsPort(),
  agentEndpoint: `user/${FS_AGENT_ONE.user}`,
  async surveyedCall(direction, steps) {
    const all: CustomerStep[] = [{ pauseMs: LEAD_MS }, ...steps];
    return view(direction === 'outbound' ? await outbound(all) : await inbound(all));
  },
  async customerHangsUpFirst(direction) {
    const steps: CustomerStep[] = [{ pauseMs: 300 }, { hangup: true }];
    const r = direction === 'outbound' ? await outbound(steps, 5000) : await inbound(steps, 5000);
    if (r.byeBy !== 'customer') throw new Error(`the customer should have hung up first (BYE by ${r.byeBy})`);
  },
  close: async () => undefined,
}));
