// The survey half of the call-control contract against the FreeSWITCH driver, over the event socket
// of a fake FreeSWITCH that replays the frames recorded from a real FreeSWITCH 1.10.12 (keys are the
// recorded DTMF event, prompts end with CHANNEL_EXECUTE_COMPLETE as recorded).
import { surveyPortContract } from '../contract/survey-port-contract.js';
import { startDriverOnFake } from '../support/fake-freeswitch/driver-on-fake.js';

surveyPortContract('FreeSWITCH over ESL (recorded-protocol fake)', async () => {
  const { fs, port } = await startDriverOnFake();
  return {
    port,
    agentEndpoint: 'user/1001',
    async surveyedCall(direction, steps) {
      const r =
        direction === 'outbound'
          ? await fs.placeCall({ user: '1001', dialed: '+14155550123', hangsUp: 'agent', surveySteps: steps })
          : await fs.placeInbound({ callerNumber: '+14155550123', agentAnswers: true, hangsUp: 'agent', surveySteps: steps });
      // Not offered: the call ended when the agent hung up (FreeSWITCH hung the customer up).
      return { endedBy: r.survey?.endedBy ?? 'pbx', heardAudio: null };
    },
    async customerHangsUpFirst(direction) {
      if (direction === 'outbound') await fs.placeCall({ user: '1001', dialed: '+14155550123', hangsUp: 'customer' });
      else await fs.placeInbound({ callerNumber: '+14155550123', agentAnswers: true, hangsUp: 'customer' });
    },
    close: () => fs.stop(),
  };
});
