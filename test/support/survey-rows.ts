// One survey result row for tests, as the survey flow records it (NewSurveyResult) or as the
// report reads it back (SurveyResult). The defaults are plain: a test passes what it asserts.
import type { NewSurveyResult } from '../../src/store/call-records.js';
import type { SurveyResult } from '../../src/store/survey-report.js';

const STARTED_AT = '2026-11-01T10:00:00Z';
/** endedAt, when not given: this long after startedAt. */
const SURVEY_MS = 8000;

/** Every column but the id: an outbound survey on Asterisk, rated 1 (satisfied, score 5), asked once. */
function defaults(channelId: string, startedAt = new Date(STARTED_AT)): Omit<SurveyResult, 'id'> {
  return {
    pbx: 'asterisk',
    channelId,
    callChannelId: `call-${channelId}`,
    direction: 'outbound',
    agentId: 'alice',
    agentGroups: ['sales'],
    customerE164: '+14155550123',
    template: 'default',
    outcome: 'rated',
    dtmfKey: '1',
    label: 'satisfied',
    score: 5,
    attempts: 1,
    startedAt,
    endedAt: new Date(startedAt.getTime() + SURVEY_MS),
  };
}

/** A row to record; endedAt is 8 s after startedAt unless given. */
export function surveyRow(channelId: string, over: Partial<NewSurveyResult> = {}): NewSurveyResult {
  return { ...defaults(channelId, over.startedAt), ...over };
}

/** A row as read back from survey_results (with an id); endedAt is 8 s after startedAt unless given. */
export function surveyResult(channelId: string, over: Partial<SurveyResult> = {}): SurveyResult {
  return { id: `id-${channelId}`, ...defaults(channelId, over.startedAt), ...over };
}
