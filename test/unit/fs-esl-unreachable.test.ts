// FreeSWITCH's event socket not reachable: said once at warn, naming the settings, not at every
// retry, and calls are not held (the decision socket still answers the dialplan).
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { test } from 'vitest';
import { createLogger } from '../../src/log.js';
import { createFreeswitchCallControl } from '../../src/pbx/freeswitch/fs-call-control.js';

test('an unreachable event socket is logged once, with the address and the settings to check', async () => {
  // A port with nothing listening: taken, then released.
  const free = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const logs: { level: number; msg: string; esl?: string; err?: string }[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(line));
      cb();
    },
  });
  const port = createFreeswitchCallControl({ eslHost: '127.0.0.1', eslPort: free, eslPassword: 'x', listenHost: '127.0.0.1', listenPort: 0, requestTimeoutMs: 500, logger: createLogger('debug', sink) });
  try {
    void port.start({ outbound: async () => undefined, inbound: async () => undefined, survey: async () => undefined, ended: () => undefined });
    await new Promise((r) => setTimeout(r, 1500));
    const said = logs.filter((l) => l.msg.startsWith('cannot reach the FreeSWITCH event socket'));
    assert.equal(said.length, 1, JSON.stringify(logs.map((l) => l.msg)));
    assert.equal(said[0]!.level, 40);
    assert.equal(said[0]!.esl, `127.0.0.1:${free}`);
    assert.equal(said[0]!.err, 'ECONNREFUSED');
    assert.notEqual(port.linkState(), 'up');
  } finally {
    await port.stop();
  }
});
