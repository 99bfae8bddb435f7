// A deliberate stop of the FreeSWITCH port is not an outage: no "down; reconnecting" warning.
// The same link dropped by FreeSWITCH is one (the check can fail).
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'vitest';
import { createLogger } from '../../src/log.js';
import { startDriverOnFake } from '../support/fake-freeswitch/driver-on-fake.js';

function capture() {
  const msgs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n').filter(Boolean)) msgs.push((JSON.parse(line) as { msg: string }).msg);
      cb();
    },
  });
  return { msgs, logger: createLogger('info', sink) };
}

const handlers = { outbound: async () => undefined, ended: () => undefined };

test('stop() logs no event-socket outage', async () => {
  const { msgs, logger } = capture();
  const { fs, port } = await startDriverOnFake({ logger });
  await port.start(handlers);
  await port.stop();
  await new Promise((r) => setTimeout(r, 100));
  await fs.stop();
  assert.deepEqual(msgs.filter((m) => m.includes('event socket down')), []);
});

test('FreeSWITCH going away is logged as an outage', async () => {
  const { msgs, logger } = capture();
  const { fs, port } = await startDriverOnFake({ logger });
  await port.start(handlers);
  await fs.stop();
  for (let i = 0; i < 30 && !msgs.some((m) => m.includes('event socket down')); i++) await new Promise((r) => setTimeout(r, 50));
  await port.stop();
  assert.equal(msgs.filter((m) => m.includes('event socket down')).length, 1);
});
