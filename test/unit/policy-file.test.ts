import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import { PolicyFileError, parsePolicyFile } from '../../src/config/policy-file.js';

const good = `
defaultCountry: US
callerId:
  strategy: area
  selection: lru
  chains:
    area: [area, region, country, pool]
trunks:
  trunk: { callerIdFormat: national, displayName: "ACME Support" }
groups: [sales, support]
numbers:
  - number: "+14155550100"
    groups: [sales]
  - number: "+12125550100"
    enabled: false
    location: { area: "212", region: NY }
agents:
  - id: alice
    endpoint: PJSIP/1001
    groups: [sales]
    numbers: ["+14155550100"]
    chosen: "+14155550100"
`;

function problems(text: string): string[] {
  try {
    parsePolicyFile(text, 'policy.yaml');
  } catch (err) {
    assert.ok(err instanceof PolicyFileError, `expected PolicyFileError, got ${err}`);
    assert.match(err.message, /^policy\.yaml: \d+ problems?, nothing applied/);
    return err.problems;
  }
  assert.fail('expected the file to be rejected');
}

describe('policy file', () => {
  test('a good file parses with defaults filled in', () => {
    const p = parsePolicyFile(good, 'policy.yaml');
    assert.equal(p.callerId.strategy, 'area');
    assert.equal(p.callerId.onInvalidNumber, 'reject');
    assert.deepEqual(p.callerId.chains.area, ['area', 'region', 'country', 'pool']);
    assert.deepEqual(p.trunks.trunk, { callerIdFormat: 'national', calleeFormat: 'e164', displayName: 'ACME Support' });
    assert.equal(p.numbers[0]!.enabled, true);
    assert.equal(p.privacy.maskNumbersInLogs, true);
  });

  test('an unknown group names the line and the field', () => {
    const ps = problems(good.replace('groups: [sales]\n    numbers', 'groups: [slaes]\n    numbers'));
    assert.deepEqual(ps, ["line 20: agents[0].groups[0]: unknown group 'slaes' (declare it under groups:)"]);
  });

  test('a bad strategy and a bad number are both reported', () => {
    const ps = problems(good.replace('strategy: area', 'strategy: nearest').replace('"+12125550100"', '"2125550100"'));
    assert.equal(ps.length, 2);
    assert.match(ps[0]!, /^line 4: callerId\.strategy: /);
    assert.match(ps[1]!, /^line 14: numbers\[1\]\.number: must be an E\.164 number/);
  });

  test('an E.164-shaped but invalid number is rejected', () => {
    const ps = problems(good.replace('"+12125550100"', '"+10005550100"'));
    assert.deepEqual(ps, ["line 14: numbers[1].number: '+10005550100' is not a valid phone number"]);
  });

  test('a chosen number outside the agent numbers is rejected', () => {
    const ps = problems(good.replace('chosen: "+14155550100"', 'chosen: "+12125550100"'));
    assert.match(ps[0]!, /agents\[0\]\.chosen: chosen number \+12125550100 is not one of this agent's numbers/);
  });

  test('unknown keys, duplicates and unsafe display names are rejected', () => {
    assert.match(problems(good.replace('selection: lru', 'selection: lru\n  colour: red'))[0]!, /callerId: Unrecognized key/);
    assert.match(problems(good + '  - id: alice\n    endpoint: PJSIP/1002\n')[0]!, /agents\[1\]\.id: duplicate agent id 'alice'/);
    assert.match(problems(good.replace('"ACME Support"', '"ACME <sip:evil>"'))[0]!, /trunks\.trunk\.displayName: letters, digits/);
    assert.match(problems(good.replace('PJSIP/1001', 'PJSIP/1001&SIP/evil'))[0]!, /agents\[0\]\.endpoint: must be a PBX endpoint/);
  });

  test('a YAML syntax error names its line', () => {
    const ps = problems('callerId:\n  strategy: [area\n');
    assert.match(ps[0]!, /^line \d+: /);
  });

  test('an empty chain is rejected', () => {
    assert.match(problems(good.replace('area: [area, region, country, pool]', 'area: []'))[0]!, /callerId\.chains\.area: a chain needs at least one tier/);
  });
});
