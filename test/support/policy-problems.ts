// What a policy file that must be refused is refused for: the problems PolicyFileError lists.
import assert from 'node:assert/strict';
import { PolicyFileError, parsePolicyFile } from '../../src/config/policy-file.js';

export function policyProblems(text: string): string[] {
  try {
    parsePolicyFile(text, 'policy.yaml');
  } catch (err) {
    assert.ok(err instanceof PolicyFileError);
    return err.problems;
  }
  assert.fail('expected the file to be rejected');
}
