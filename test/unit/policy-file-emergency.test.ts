import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'vitest';
import { PolicyFileError, parsePolicyFile } from '../../src/config/policy-file.js';

const head = 'defaultCountry: US\ncallerId: { strategy: area }\n';

function problems(text: string): string[] {
  try {
    parsePolicyFile(text, 'policy.yaml');
  } catch (err) {
    assert.ok(err instanceof PolicyFileError, `expected PolicyFileError, got ${err}`);
    return err.problems;
  }
  assert.fail('expected the file to be rejected');
}

describe('policy file: emergency section', () => {
  test('left out: no extra numbers and no callback number (the built-in lists still apply)', () => {
    const p = parsePolicyFile(head, 'policy.yaml');
    assert.deepEqual(p.emergency, { numbers: {} });
    assert.deepEqual(p.trunks.trunk, { callerIdFormat: 'e164', calleeFormat: 'e164', displayName: '' });
  });

  test('numbers per country and the site callback number', () => {
    const p = parsePolicyFile(`${head}emergency:\n  numbers:\n    US: ["922"]\n    CN: ["110", "12345"]\n  callerId: "+14155550100"\n`, 'policy.yaml');
    assert.deepEqual(p.emergency, { numbers: { US: ['922'], CN: ['110', '12345'] }, callerId: '+14155550100' });
  });

  test('an empty callerId is allowed and means the PBX default', () => {
    assert.equal(parsePolicyFile(`${head}emergency:\n  callerId:\n`, 'policy.yaml').emergency.callerId, null);
  });

  test('each bad number is named with its line and why', () => {
    const ps = problems(`${head}emergency:\n  numbers:\n    CN: [110, "11a", "1", "1234567", "+112", " 112"]\n`);
    assert.deepEqual(ps, [
      'line 5: emergency.numbers.CN[0]: an emergency number must be quoted, like "911" (unquoted, YAML reads it as a number)',
      'line 5: emergency.numbers.CN[1]: an emergency number must be 2 to 6 digits and nothing else, like "911"',
      'line 5: emergency.numbers.CN[2]: an emergency number must be 2 to 6 digits and nothing else, like "911"',
      'line 5: emergency.numbers.CN[3]: an emergency number must be 2 to 6 digits and nothing else, like "911"',
      'line 5: emergency.numbers.CN[4]: an emergency number must be 2 to 6 digits and nothing else, like "911"',
      'line 5: emergency.numbers.CN[5]: an emergency number must be 2 to 6 digits and nothing else, like "911"',
    ]);
  });

  test('unquoted 000 is refused rather than read as 0', () => {
    assert.match(problems(`${head}emergency:\n  numbers:\n    AU: [000]\n`)[0]!, /emergency\.numbers\.AU\[0\]: an emergency number must be quoted/);
  });

  test('countries must be ISO codes; unknown keys and duplicates are refused', () => {
    assert.deepEqual(problems(`${head}emergency:\n  numbers:\n    us: ["911"]\n    XX: ["911"]\n`), [
      "line 5: emergency.numbers.us: 'us' is not an ISO 3166 country code like US or CN",
      "line 6: emergency.numbers.XX: 'XX' is not an ISO 3166 country code like US or CN",
    ]);
    assert.match(problems(`${head}emergency:\n  callerID: "+14155550100"\n`)[0]!, /^line 4: emergency: Unrecognized key: "callerID"/);
    assert.deepEqual(problems(`${head}emergency:\n  numbers:\n    GB: ["999", "999"]\n`), ["line 5: emergency.numbers.GB[1]: duplicate emergency number for GB '999'"]);
  });

  test('callback numbers must be E.164 and real numbers', () => {
    assert.deepEqual(problems(`${head}emergency:\n  callerId: "911"\n`), ['line 4: emergency.callerId: must be an E.164 number like +14155550123']);
    assert.deepEqual(problems(`${head}emergency:\n  callerId: "+10005550100"\n`), ["line 4: emergency.callerId: '+10005550100' is not a valid phone number"]);
    assert.deepEqual(problems(`${head}trunks:\n  t1: { emergencyCallerId: "+10005550100" }\n`), ["line 4: trunks.t1.emergencyCallerId: '+10005550100' is not a valid phone number"]);
  });
});

describe('policy file: trunk country and international prefix', () => {
  test('a trunk abroad with its prefix and its own emergency callback number', () => {
    const p = parsePolicyFile(
      `${head}trunks:\n  cn: { country: CN, callerIdFormat: national, calleeFormat: national, internationalPrefix: "00", emergencyCallerId: "+861012345678" }\n`,
      'policy.yaml',
    );
    assert.deepEqual(p.trunks.cn, {
      country: 'CN', callerIdFormat: 'national', calleeFormat: 'national', displayName: '', internationalPrefix: '00', emergencyCallerId: '+861012345678',
    });
  });

  test('bad country and prefixes are named', () => {
    assert.deepEqual(problems(`${head}trunks:\n  t1: { country: uk, internationalPrefix: 11 }\n  t2: { internationalPrefix: "+00" }\n  t3: { internationalPrefix: "001122" }\n`), [
      'line 4: trunks.t1.country: must be an ISO 3166 country code like US or CN',
      'line 4: trunks.t1.internationalPrefix: the international prefix must be quoted, like "011" (unquoted, YAML reads it as a number)',
      'line 5: trunks.t2.internationalPrefix: the international prefix must be 2 to 5 digits and nothing else, like "011"',
      'line 6: trunks.t3.internationalPrefix: the international prefix must be 2 to 5 digits and nothing else, like "011"',
    ]);
  });
});

test('the sample policy shows the new fields and is valid', () => {
  const p = parsePolicyFile(readFileSync(new URL('../../examples/policy.yaml', import.meta.url), 'utf8'), 'examples/policy.yaml');
  assert.ok(p.emergency.callerId, 'the sample sets a site callback number');
  assert.ok(Object.keys(p.emergency.numbers).length > 0, 'the sample adds a number');
  assert.ok(Object.values(p.trunks).some((t) => t.country && t.internationalPrefix && t.emergencyCallerId), 'the sample has a trunk with country, prefix and callback number');
});
