// What the FreeSWITCH driver asks `playback` to play for the survey's prompt names.
import assert from 'node:assert/strict';
import { test } from 'vitest';
import { playbackArg } from '../../src/pbx/freeswitch/fs-survey-leg.js';

test('a sound named without an extension gets .wav (FreeSWITCH refuses a file without one)', () => {
  assert.equal(playbackArg(['ivr/ivr-thank_you']), 'ivr/ivr-thank_you.wav');
  assert.equal(playbackArg(['beep']), 'beep.wav');
});

test('a sound with its extension is kept; a rendered prompt (absolute path) gets .wav', () => {
  assert.equal(playbackArg(['ivr/ivr-thank_you.wav']), 'ivr/ivr-thank_you.wav');
  assert.equal(playbackArg(['/var/lib/callpolicy/prompts/quick-intro']), '/var/lib/callpolicy/prompts/quick-intro.wav');
});

test('several prompts play as one file_string', () => {
  assert.equal(playbackArg(['beep', '/p/x']), 'file_string://beep.wav!/p/x.wav');
});
