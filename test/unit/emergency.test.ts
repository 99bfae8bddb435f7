import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import {
  BUILTIN_EMERGENCY_NUMBERS,
  NO_EXTRA_EMERGENCY_NUMBERS,
  decideEmergency,
  emergencyNumbersOf,
  isEmergencyNumber,
  type EmergencySettings,
} from '../../src/policy/emergency.js';
import { resolveTrunk } from '../../src/policy/trunk.js';
import { parseDialedNumber } from '../../src/phone/index.js';

const none = NO_EXTRA_EMERGENCY_NUMBERS;
const us = { country: 'US', emergencyCallerId: null };

describe('emergency numbers by country', () => {
  test('the built-in lists the issue names', () => {
    for (const n of ['911', '933', '112']) assert.ok(isEmergencyNumber(n, 'US', none), `US ${n}`);
    for (const n of ['911', '933', '112']) assert.ok(isEmergencyNumber(n, 'CA', none), `CA ${n}`);
    for (const n of ['999', '112']) assert.ok(isEmergencyNumber(n, 'GB', none), `GB ${n}`);
    for (const n of ['000', '112']) assert.ok(isEmergencyNumber(n, 'AU', none), `AU ${n}`);
    for (const n of ['110', '119', '120', '122', '112']) assert.ok(isEmergencyNumber(n, 'CN', none), `CN ${n}`);
    for (const c of ['DE', 'FR', 'NL', 'SE', 'PL', 'IT', 'ES', 'PT', 'KE', 'AR']) assert.ok(isEmergencyNumber('112', c, none), `${c} 112`);
  });

  test('a country\'s own numbers do not leak into another country', () => {
    assert.equal(isEmergencyNumber('999', 'US', none), false);
    assert.equal(isEmergencyNumber('000', 'GB', none), false);
    assert.equal(isEmergencyNumber('110', 'US', none), false);
    assert.equal(isEmergencyNumber('120', 'GB', none), false);
    assert.equal(isEmergencyNumber('933', 'CN', none), false);
  });

  test('the policy adds numbers to a country, and never removes the built-in ones', () => {
    const extra: EmergencySettings = { numbers: { US: ['922'], CN: ['12345'] } };
    assert.ok(isEmergencyNumber('922', 'US', extra));
    assert.ok(isEmergencyNumber('911', 'US', extra));
    assert.ok(isEmergencyNumber('12345', 'CN', extra));
    assert.equal(isEmergencyNumber('922', 'CN', extra), false);
    assert.deepEqual(emergencyNumbersOf('US', extra), ['112', '911', '933', '988', '922']);
    assert.deepEqual(emergencyNumbersOf('CN', none), ['112', '911', '110', '119', '120', '122']);
  });

  test('the match is exact on the dialled string: nothing around the digits, no + and no prefix', () => {
    for (const dialed of ['+911', ' 911', '911 ', '9 11', '0911', '9110', '91', '+112', '112#', '911\u0000', '９１１', '', '1', '9112345']) {
      assert.equal(isEmergencyNumber(dialed, 'US', none), false, JSON.stringify(dialed));
    }
  });

  test('every built-in number is 2 to 6 digits and none is an ordinary number there', () => {
    for (const [country, list] of Object.entries(BUILTIN_EMERGENCY_NUMBERS)) {
      for (const n of list) {
        assert.match(n, /^[0-9]{2,6}$/, `${country} ${n}`);
        // If the gate accepted it as a full number, an emergency match would shadow a real subscriber.
        assert.equal(parseDialedNumber(n, country as never).ok, false, `${country} ${n} is a valid ordinary number`);
      }
    }
  });

  test('a country missing from the policy, or a prototype key, is not an error', () => {
    assert.equal(isEmergencyNumber('911', 'constructor', { numbers: {} }), true);
    assert.equal(isEmergencyNumber('110', 'constructor', { numbers: {} }), false);
    assert.equal(isEmergencyNumber('110', 'toString', none), false);
  });
});

describe('the emergency decision', () => {
  test('not an emergency number: no decision', () => {
    assert.equal(decideEmergency('4155550123', us, none), null);
    assert.equal(decideEmergency('+14155550123', us, none), null);
  });

  test('the digits go out as dialled, with the trunk\'s callback number first', () => {
    const settings: EmergencySettings = { numbers: {}, callerId: '+14155550100' };
    assert.deepEqual(decideEmergency('911', { country: 'US', emergencyCallerId: '+14155550199' }, settings), { destination: '911', callerId: '+14155550199' });
    assert.deepEqual(decideEmergency('911', us, settings), { destination: '911', callerId: '+14155550100' });
  });

  test('no callback number anywhere: the PBX default (never a pool number)', () => {
    assert.deepEqual(decideEmergency('112', us, none), { destination: '112', callerId: null });
    assert.deepEqual(decideEmergency('112', us, { numbers: {}, callerId: null }), { destination: '112', callerId: null });
  });

  test('the trunk\'s country chooses the list', () => {
    assert.deepEqual(decideEmergency('110', { country: 'CN', emergencyCallerId: null }, none), { destination: '110', callerId: null });
    assert.equal(decideEmergency('110', us, none), null);
    assert.deepEqual(decideEmergency('000', { country: 'AU', emergencyCallerId: null }, none)?.destination, '000');
  });
});

describe('trunk resolution', () => {
  const trunks = {
    cn: { country: 'CN', callerIdFormat: 'national', calleeFormat: 'national', displayName: 'ACME', internationalPrefix: '00', emergencyCallerId: '+861012345678' },
    plain: { callerIdFormat: 'e164', calleeFormat: 'national', displayName: '' },
  } as const;

  test('a configured trunk keeps its settings; its country defaults to the policy\'s', () => {
    assert.deepEqual(resolveTrunk(trunks, 'cn', 'US'), { known: true, ...trunks.cn });
    assert.deepEqual(resolveTrunk(trunks, 'plain', 'GB'), {
      known: true, country: 'GB', callerIdFormat: 'e164', calleeFormat: 'national', displayName: '', internationalPrefix: null, emergencyCallerId: null,
    });
  });

  test('an unknown trunk (even one named like an Object property) gets the defaults', () => {
    for (const name of ['other', 'constructor', '__proto__', 'toString']) {
      assert.deepEqual(resolveTrunk(trunks, name, 'US'), {
        known: false, country: 'US', callerIdFormat: 'e164', calleeFormat: 'e164', displayName: '', internationalPrefix: null, emergencyCallerId: null,
      }, name);
    }
  });
});
