// The memory: section of the policy file: defaults, each setting, and errors that name line and field.
import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import { parsePolicyFile } from '../../src/config/policy-file.js';
import { policyProblems } from '../support/policy-problems.js';
import { DEFAULT_MEMORY } from '../../src/policy/call-memory.js';

const base = `
callerId: { strategy: group }
agents:
  - { id: alice, endpoint: PJSIP/1001 }
`;

const problems = policyProblems;

describe('policy file: memory', () => {
  test('absent: memory is off, with the documented defaults', () => {
    assert.deepEqual(parsePolicyFile(base, 'p.yaml').memory, DEFAULT_MEMORY);
  });

  test('every setting is read', () => {
    const memory = parsePolicyFile(
      `${base}memory:
  mode: only-agent
  windowHours: 48
  countUnanswered: false
  ringSeconds: 15
  waitSeconds: 120
  finalDestination: { kind: voicemail, extension: "2001" }
`,
      'p.yaml',
    ).memory;
    assert.deepEqual(memory, { mode: 'only-agent', windowHours: 48, countUnanswered: false, ringSeconds: 15, waitSeconds: 120, finalDestination: { kind: 'voicemail', extension: '2001' } });
  });

  test('bad values are named with their line and field, and nothing is applied', () => {
    const found = problems(`${base}memory:
  mode: agent-only
  ringSeconds: 2
  waitSeconds: 1.5
  finalDestination: { kind: voicemail, extension: 2001 }
`);
    assert.equal(found.length, 4, found.join('\n'));
    assert.match(found[0]!, /^line 6: memory\.mode: /);
    assert.match(found[1]!, /^line 7: memory\.ringSeconds: /);
    assert.match(found[2]!, /^line 8: memory\.waitSeconds: /);
    assert.match(found[3]!, /^line 9: memory\.finalDestination\.extension: a voicemail extension must be quoted/);
  });

  test('a voicemail extension that could reach a dial string is refused', () => {
    assert.match(problems(`${base}memory: { finalDestination: { kind: voicemail, extension: "2001&PJSIP/9" } }\n`)[0]!, /memory\.finalDestination\.extension: a voicemail extension must be 1 to 20 digits/);
  });
});
