// The FreeSWITCH settings of the environment: the published passwords are refused at start.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'vitest';
import { loadEnv } from '../../src/config/env.js';

const base = { CALLPOLICY_PBX: 'freeswitch', DATABASE_URL: 'postgres://x@127.0.0.1/x' };

describe('FREESWITCH_ESL_PASSWORD', () => {
  test("the secrets sample's placeholder and FreeSWITCH's default are refused, naming the setting", () => {
    for (const pw of ['REPLACE-WITH-A-LONG-RANDOM-SECRET', 'ClueCon']) {
      assert.throws(() => loadEnv({ ...base, FREESWITCH_ESL_PASSWORD: pw }), (err: Error) => /FREESWITCH_ESL_PASSWORD: .*published/.test(err.message));
    }
  });

  test('from a file too, and the message names the file setting', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'cp-env-')), 'esl');
    writeFileSync(file, 'ClueCon\n');
    assert.throws(() => loadEnv({ ...base, FREESWITCH_ESL_PASSWORD_FILE: file }), /FREESWITCH_ESL_PASSWORD_FILE: .*published/);
  });

  test('a real secret is taken', () => {
    assert.equal(loadEnv({ ...base, FREESWITCH_ESL_PASSWORD: 'a1b2c3d4e5f6a7b8' }).freeswitch.eslPassword, 'a1b2c3d4e5f6a7b8');
  });
});
