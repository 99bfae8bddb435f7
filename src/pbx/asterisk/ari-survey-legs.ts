import { randomBytes } from 'node:crypto';
import { assertSafePrompt, type SurveyCall, type SurveyLegEvent } from '../call-control.js';
import type { AriRest } from './ari-rest.js';

/** Set by the shipped dialplan's [callpolicy-survey] before Stasis(): <direction>*<call id>*<agent endpoint>. Re-adoption knows a survey leg by it. */
export const SURVEY_MARK = 'CALLPOLICY_SURVEY';
/** Set on the leg once its outcome is recorded: a re-adopting adapter hangs up instead of asking again. */
export const SURVEY_DONE_MARK = 'CALLPOLICY_SURVEY_DONE';

/** The events of a survey leg, as ARI sends them (only the fields used). */
export interface AriSurveyEvent {
  type: string;
  channel?: { id: string };
  digit?: string;
  playback?: { id: string };
}

export interface SurveyLegs {
  /** A leg entered the app for its survey: the SurveyCall the flow drives. */
  open(channelId: string, fields: { direction: 'outbound' | 'inbound'; callId: string; agentEndpoint: string }, resumed: boolean, outcomeRecorded: boolean): SurveyCall;
  has(channelId: string): boolean;
  /** Feeds an ARI event; true when it belonged to a survey leg. */
  onEvent(event: AriSurveyEvent): boolean;
  /** Legs are swept after this long whatever happened (a missed StasisEnd). */
  sweep(maxAgeMs: number): void;
}

interface Leg {
  listener?: (e: SurveyLegEvent) => void;
  buffered: SurveyLegEvent[];
  /** The playback whose end is reported as 'played'; null when nothing plays for the flow. */
  playback: string | null;
  openedAt: number;
}

/** The Stasis arguments of a survey leg after 'survey': direction, call id, agent endpoint; null when malformed. */
export function parseSurveyArgs(args: readonly string[]): { direction: 'outbound' | 'inbound'; callId: string; agentEndpoint: string } | null {
  const [direction, callId, agentEndpoint] = args;
  if (direction !== 'outbound' && direction !== 'inbound') return null;
  if (!callId || !/^[A-Za-z0-9_.:-]{1,80}$/.test(callId)) return null;
  return { direction, callId, agentEndpoint: agentEndpoint && /^[A-Za-z0-9]+\/[A-Za-z0-9_.@-]{1,64}$/.test(agentEndpoint) ? agentEndpoint : '' };
}

/**
 * The survey legs held in the Stasis app, and what their ARI events mean for the flow: DTMF as
 * keys, the end of the current playback as 'played', a hang-up request (or StasisEnd) as 'gone'.
 * Each playback gets an id of ours, so the end of one that a newer play() replaced is not taken
 * for the end of the newer one.
 */
export function createSurveyLegs(rest: () => AriRest, now: () => number = Date.now): SurveyLegs {
  const legs = new Map<string, Leg>();
  /** Playback id -> the leg it plays on. */
  const playbacks = new Map<string, Leg>();

  const emit = (leg: Leg, e: SurveyLegEvent) => {
    if (leg.listener) leg.listener(e);
    else leg.buffered.push(e);
  };
  /** Forgets a leg's current playback (its end is no 'played' any more); returns its id for a stop request. */
  const detach = (leg: Leg): string | null => {
    const playing = leg.playback;
    leg.playback = null;
    if (playing) playbacks.delete(playing);
    return playing;
  };
  /** Forgets a leg: nothing more of it reaches its flow. */
  const forget = (channelId: string, leg: Leg) => {
    if (legs.get(channelId) === leg) legs.delete(channelId);
    detach(leg);
  };
  const goneLeg = (channelId: string) => {
    const leg = legs.get(channelId);
    if (!leg) return;
    forget(channelId, leg);
    emit(leg, { kind: 'gone' });
  };

  return {
    open(channelId, fields, resumed, outcomeRecorded) {
      const leg: Leg = { buffered: [], playback: null, openedAt: now() };
      legs.set(channelId, leg);
      // A leg's requests go one after the other, in the order the flow made them: a variable set
      // while a prompt plays waits for the channel's thread (the prompt's end), so it must come
      // after the stop of that prompt, not race it on another connection.
      let chain: Promise<unknown> = Promise.resolve();
      const inOrder = <T>(fn: () => Promise<T>): Promise<T> => {
        const run = chain.then(fn);
        chain = run.catch(() => undefined);
        return run;
      };
      const stop = (playing: string | null) => (playing ? rest().stopPlayback(playing).catch(() => undefined) : Promise.resolve());
      return {
        id: channelId,
        callId: fields.callId,
        direction: fields.direction,
        agentEndpoint: fields.agentEndpoint,
        resumed,
        outcomeRecorded,
        onEvent(listener) {
          leg.listener = listener;
          for (const e of leg.buffered.splice(0)) listener(e);
        },
        play(prompts) {
          prompts.forEach(assertSafePrompt);
          const playing = detach(leg);
          const id = `cp-survey-${randomBytes(6).toString('hex')}`;
          leg.playback = id;
          playbacks.set(id, leg);
          return inOrder(async () => {
            await stop(playing);
            await rest().play(channelId, id, prompts.map((p) => `sound:${p}`));
          });
        },
        stopPlaying() {
          const playing = detach(leg);
          return inOrder(() => stop(playing));
        },
        markOutcomeRecorded: () => inOrder(() => rest().setChannelVar(channelId, SURVEY_DONE_MARK, '1')),
        async hangup() {
          // Ours, not the customer's: the flow gets no 'gone' for it. Not queued behind the leg's
          // other requests: a hang-up needs nothing from the channel's thread.
          forget(channelId, leg);
          await rest().hangup(channelId);
        },
      };
    },
    has: (channelId) => legs.has(channelId),
    onEvent(event) {
      const channelId = event.channel?.id;
      if (event.type === 'PlaybackFinished') {
        const leg = event.playback?.id ? playbacks.get(event.playback.id) : undefined;
        if (!leg) return false;
        detach(leg);
        emit(leg, { kind: 'played' });
        return true;
      }
      if (!channelId) return false;
      const leg = legs.get(channelId);
      if (!leg) return false;
      if (event.type === 'ChannelDtmfReceived' && event.digit) emit(leg, { kind: 'key', digit: event.digit });
      else if (event.type === 'StasisEnd' || event.type === 'ChannelHangupRequest') goneLeg(channelId);
      return true;
    },
    sweep(maxAgeMs) {
      const t = now();
      for (const [id, leg] of legs) if (t - leg.openedAt > maxAgeMs) goneLeg(id);
    },
  };
}
