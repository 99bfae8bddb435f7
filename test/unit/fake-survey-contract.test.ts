import type { CallControlPort } from '../../src/pbx/call-control.js';
import { createFakeCallControl, type FakeCustomerAction } from '../../src/pbx/fake/fake-call-control.js';
import { surveyPortContract } from '../contract/survey-port-contract.js';
import type { CustomerStep } from '../sandbox/sipp-survey.js';

/** The customer's steps as the fake's timed actions. */
function actions(steps: CustomerStep[]): FakeCustomerAction[] {
  let at = 0;
  const out: FakeCustomerAction[] = [];
  for (const s of steps) {
    if ('pauseMs' in s) at += s.pauseMs;
    else if ('hangup' in s) out.push({ atMs: at, hangup: true });
    else out.push({ atMs: at, key: s.key });
  }
  return out;
}

// The fake's survey side must behave like the real PBX so that survey-flow tests over it mean something.
surveyPortContract('in-memory fake', async () => {
  const fake = createFakeCallControl();
  const AGENT = 'PJSIP/1001';
  // The id the port gave the last call of each direction: the survey leg names it.
  const last: Record<string, string> = {};
  const port: CallControlPort = {
    ...fake.port,
    start: (h) =>
      fake.port.start({
        ...h,
        outbound: async (call) => {
          last.outbound = call.id;
          await h.outbound(call);
        },
        inbound: async (call) => {
          last.inbound = call.id;
          await h.inbound!(call);
        },
      }),
  };
  const survey = async (direction: 'outbound' | 'inbound', offered: boolean, steps: CustomerStep[]) => {
    if (!offered) return { endedBy: 'pbx' as const, heardAudio: null };
    const r = await fake.placeSurvey({ direction, callId: last[direction], agentEndpoint: AGENT, customer: actions(steps), promptMs: 100, promptDurations: { 'silence/10': 10_000, beep: 250 }, maxMs: 15_000 });
    return { endedBy: r.endedBy === 'customer' ? ('customer' as const) : ('pbx' as const), heardAudio: null };
  };
  return {
    port,
    agentEndpoint: AGENT,
    async surveyedCall(direction, steps) {
      if (direction === 'outbound') {
        const r = await fake.placeCall({ endpoint: AGENT, dialed: '+14155550123' });
        return survey(direction, r.survey === true, steps);
      }
      const r = await fake.placeInbound({ callerNumber: '+14155550123' });
      return survey(direction, r.outcome !== 'ivr' && r.survey === true, steps);
    },
    async customerHangsUpFirst(direction) {
      // The PBX never brings such a leg to the survey point: nothing to place.
      if (direction === 'outbound') await fake.placeCall({ endpoint: AGENT, dialed: '+14155550123' });
      else await fake.placeInbound({ callerNumber: '+14155550123' });
    },
    close: async () => undefined,
  };
});
