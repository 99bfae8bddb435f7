// What the adapter does on a call's decision socket (outbound ESL, sync mode), seen from the fake
// FreeSWITCH: only what the decision needs, and nothing held when the adapter goes away.
import assert from 'node:assert/strict';
import { test } from 'vitest';
import { startDriverOnFake } from '../support/fake-freeswitch/driver-on-fake.js';

test('a decision is connect, the variables and the route (one multiset) and exit: no event subscription on the call socket', async () => {
  const { fs, port } = await startDriverOnFake();
  await port.start({ outbound: (call) => call.dial({ number: '+12125550199', name: 'Acme' }, call.dialed, { survey: true }) });
  try {
    const r = await fs.placeCall({ user: '1001', dialed: '+14155550123' });
    assert.deepEqual(r.commands, ['connect', 'sendmsg', 'exit']);
    assert.equal(r.vars.get('effective_caller_id_number'), '+12125550199');
    assert.equal(r.vars.get('effective_caller_id_name'), 'Acme');
    assert.equal(r.vars.get('callpolicy_survey'), '1');
    assert.equal(r.outcome, 'dial');
  } finally {
    await port.stop();
    await fs.stop();
  }
});

test('the adapter stopped while deciding: the call is let go at once and leaves with the default caller ID', async () => {
  const { fs, port } = await startDriverOnFake();
  let deciding!: () => void;
  const arrived = new Promise<void>((r) => (deciding = r));
  await port.start({
    outbound: async () => {
      deciding();
      await new Promise(() => undefined); // never decides
    },
  });
  try {
    const placed = fs.placeCall({ user: '1001', dialed: '+14155550123' });
    await arrived;
    const stopAt = performance.now();
    await port.stop();
    const r = await placed;
    assert.equal(r.outcome, 'default-down');
    assert.equal(r.trunk?.callerIdNumber, '+15550000000');
    assert.ok(performance.now() - stopAt < 300, `released ${Math.round(performance.now() - stopAt)} ms after the stop`);
  } finally {
    await fs.stop();
  }
});
