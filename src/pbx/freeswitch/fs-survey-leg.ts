// A customer's leg at the survey point on FreeSWITCH: the shipped dialplan's [callpolicy-survey]
// hands it to the adapter with `socket ... async full` (async: keys and the ends of prompts come as
// events while a prompt plays). Prompts are `playback` applications named by an Event-UUID, so the
// CHANNEL_EXECUTE_COMPLETE of each says which prompt ended.
import { randomUUID } from 'node:crypto';
import { CallGoneError, assertSafePrompt, type SurveyCall, type SurveyLegEvent } from '../call-control.js';
import type { DecisionSocket, EslEvent } from './esl-link.js';

/** Set on the leg once its outcome is recorded (read by nothing on FreeSWITCH yet: a leg never outlives its socket). */
export const SURVEY_DONE_VAR = 'callpolicy_survey_done';

/**
 * What FreeSWITCH plays for our prompt names: rendered prompts are absolute paths of .wav files;
 * other names are FreeSWITCH sounds, named as on Asterisk without an extension ("ivr/ivr-thank_you"):
 * FreeSWITCH needs one ("Invalid file format" otherwise), so .wav is added, and the sound folder's
 * rate subfolder (ivr/8000/...) is FreeSWITCH's own lookup. A name with an extension is kept.
 */
export function playbackArg(prompts: readonly string[]): string {
  const files = prompts.map((p) => {
    assertSafePrompt(p);
    if (p.startsWith('/')) return `${p}.wav`;
    return /\.[A-Za-z0-9]{2,4}$/.test(p) ? p : `${p}.wav`;
  });
  return files.length === 1 ? files[0]! : `file_string://${files.join('!')}`;
}

export function surveyLegOf(sock: DecisionSocket, info: { direction: string; callId: string; agentEndpoint: string }): { call: SurveyCall; ready: Promise<void> } {
  const queue: SurveyLegEvent[] = [];
  let listener: ((e: SurveyLegEvent) => void) | undefined;
  let ended = false;
  /** The Event-UUID of the prompt whose end is reported; a prompt replaced or stopped is forgotten. */
  let playing: string | null = null;
  const deliver = (e: SurveyLegEvent) => {
    if (ended) return;
    if (e.kind === 'gone') ended = true;
    if (listener) listener(e);
    else queue.push(e);
  };
  const onEvent = (e: EslEvent) => {
    const name = e['Event-Name'];
    if (name === 'DTMF' && e['DTMF-Digit']) deliver({ kind: 'key', digit: e['DTMF-Digit'] });
    else if (name === 'CHANNEL_EXECUTE_COMPLETE' && e['Application'] === 'playback' && e['Application-UUID'] && e['Application-UUID'] === playing) {
      playing = null;
      deliver({ kind: 'played' });
    } else if (name === 'CHANNEL_HANGUP') deliver({ kind: 'gone' });
  };
  void sock.done.then(() => deliver({ kind: 'gone' }));
  const ready = sock.subscribe(['DTMF', 'CHANNEL_EXECUTE_COMPLETE', 'CHANNEL_HANGUP'], onEvent);
  const stop = async () => {
    if (playing === null) return;
    playing = null;
    // Breaks the prompt playing now and drops the ones queued behind it.
    await sock.api(`uuid_break ${sock.uuid} all`);
  };
  const call: SurveyCall = {
    id: sock.uuid,
    callId: info.callId || sock.uuid,
    direction: info.direction === 'inbound' ? 'inbound' : 'outbound',
    agentEndpoint: info.agentEndpoint,
    resumed: false,
    outcomeRecorded: false,
    onEvent(l) {
      listener = l;
      for (const e of queue.splice(0)) l(e);
    },
    async play(prompts) {
      const arg = playbackArg(prompts);
      if (sock.closed) throw new CallGoneError(sock.uuid);
      await stop();
      const id = randomUUID();
      playing = id;
      await sock.execute('playback', arg, id);
    },
    stopPlaying: stop,
    async markOutcomeRecorded() {
      // api, not `set`: a queued application would wait behind the prompt.
      await sock.api(`uuid_setvar ${sock.uuid} ${SURVEY_DONE_VAR} true`);
    },
    async hangup() {
      // Our own hang-up is not the customer leaving: nothing more is reported.
      ended = true;
      if (sock.closed) return;
      await sock.hangup().catch((err: unknown) => {
        if (!(err instanceof CallGoneError)) throw err;
      });
    },
  };
  return { call, ready };
}
