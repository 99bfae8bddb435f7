// A restarted adapter follows the FreeSWITCH calls it had decided before (port.follow): live ones
// are reported when they end, ended ones are gone at once (api uuid_exists, as recorded).
import assert from 'node:assert/strict';
import { test } from 'vitest';
import type { CallEnded } from '../../src/pbx/call-control.js';
import { waitFor } from '../contract/outbound-port-contract.js';
import { createLogger } from '../../src/log.js';
import { createFreeswitchCallControl } from '../../src/pbx/freeswitch/fs-call-control.js';
import { FAKE_ESL_PASSWORD, startDriverOnFake } from '../support/fake-freeswitch/driver-on-fake.js';

test('a call decided before a restart is followed after it: its end is reported; a call that ended meanwhile is gone', async () => {
  const { fs, port } = await startDriverOnFake();
  await port.start({ outbound: (call) => call.dial({ number: '+12125550199', name: '' }, call.dialed) });
  const ended: CallEnded[] = [];
  try {
    const short = await fs.placeCall({ user: '1001', dialed: '+14155550123', talkMs: 10 });
    const long = fs.placeCall({ user: '1001', dialed: '+14155550124', talkMs: 1500 });
    await waitFor(() => fs.liveChannels().length === 1, 2000);
    const liveId = fs.liveChannels()[0]!;
    // Decided (a few ms), and talking: then the adapter goes away.
    await new Promise((r) => setTimeout(r, 300));
    await port.stop();

    // The adapter comes back: a new port on the same FreeSWITCH.
    const again = createFreeswitchCallControl({ eslHost: '127.0.0.1', eslPort: fs.eslPort, eslPassword: FAKE_ESL_PASSWORD, listenHost: '127.0.0.1', listenPort: 0, requestTimeoutMs: 1000, logger: createLogger('silent') });
    await again.start({ outbound: (call) => call.useDefault(), ended: (e) => ended.push(e) });
    try {
      const r = await again.follow([liveId, short.uuid]);
      assert.deepEqual(r, { following: [liveId], gone: [short.uuid] });
      await long;
      await waitFor(() => ended.some((e) => e.id === liveId), 3000);
      const end = ended.find((e) => e.id === liveId)!;
      assert.equal(end.finalAction, 'dial');
      assert.ok(end.answeredAt instanceof Date);
      assert.equal(ended.filter((e) => e.id === short.uuid).length, 0, 'the call that ended before is not reported again');
    } finally {
      await again.stop();
    }
  } finally {
    await fs.stop();
  }
});
