import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import { parseNumbersCsv } from '../../src/admin/numbers-csv.js';
import { importNumbers, type PolicyData } from '../../src/admin/policy-edits.js';

describe('numbers CSV', () => {
  test('national and formatted numbers become E.164; columns absent leave the number alone', () => {
    const { rows, problems } = parseNumbersCsv('\uFEFFNumber,Groups\n"(415) 555-0100","sales; support"\n+44 20 7946 0958,\n', 'US');
    assert.deepEqual(problems, []);
    assert.deepEqual(rows, [
      { line: 2, number: '+14155550100', groups: ['sales', 'support'] },
      { line: 3, number: '+442079460958', groups: [] },
    ]);
  });

  test('each bad row is reported with its line and what was wrong', () => {
    const { problems } = parseNumbersCsv('number,enabled,area\n12,,\n+14155550100,perhaps,\n+14155550101,,' + 'x'.repeat(81) + '\n+14155550102,,,extra\n4155550100,,\n', 'US');
    assert.deepEqual(
      problems.map((p) => [p.line, p.message.split(' (')[0]]),
      [
        [2, 'not a valid phone number'],
        [3, "enabled: 'perhaps' is not true/false, yes/no or 1/0"],
        [4, 'area: at most 80 characters'],
        [5, '4 fields; the header has 3'],
        [6, '+14155550100 is already on line 3'],
      ],
    );
  });

  test('a header without number, or with unknown columns, refuses the whole file', () => {
    assert.match(parseNumbersCsv('phone\n+14155550100\n', 'US').problems[0]!.message, /unknown column 'phone'/);
    assert.match(parseNumbersCsv('', 'US').problems[0]!.message, /empty/);
    assert.match(parseNumbersCsv('number,"unclosed\n', 'US').problems[0]!.message, /not CSV/);
  });

  test('merge: added, updated, unchanged; an empty area cell goes back to the computed location', () => {
    const policy: PolicyData = {
      groups: ['sales'],
      numbers: [
        { number: '+14155550100', enabled: true, groups: ['sales'] },
        { number: '+14155550101', enabled: true, groups: [], location: { area: 'Oakland' } },
      ],
      agents: [],
    };
    const { rows } = parseNumbersCsv('number,enabled,area\n+14155550100,,\n+14155550101,no,\n+14155550102,,Berkeley\n', 'US');
    const report = importNumbers(policy, rows);
    assert.deepEqual(report.map((r) => r.result), ['unchanged', 'updated', 'added']);
    assert.deepEqual(policy.numbers[1], { number: '+14155550101', enabled: false, groups: [] });
    assert.deepEqual(policy.numbers[2], { number: '+14155550102', enabled: true, groups: [], location: { area: 'Berkeley' } });
  });
});
