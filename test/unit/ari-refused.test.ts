// A wrong ARI password must not end the adapter: ari-client's swagger loader throws a 401 from an
// HTTP callback (an uncaught exception, seen with ari-client 2.2.0); the port asks first, logs
// the refusal once as an error naming the settings, and keeps retrying. The fake ARI answers
// every request as Asterisk does for bad credentials.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, test } from 'vitest';
import { createLogger } from '../../src/log.js';
import { createAriCallControl } from '../../src/pbx/asterisk/ari-call-control.js';
import type { CallControlPort } from '../../src/pbx/call-control.js';

let server: Server | undefined;
let port: CallControlPort | undefined;
afterEach(async () => {
  await port?.stop();
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
});

test('a refused password: no crash, one error naming ARI_USER and ARI_PASSWORD, retries go on', async () => {
  let requests = 0;
  server = createServer((req, res) => {
    requests++;
    res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Basic realm="asterisk"' });
    res.end(JSON.stringify({ message: 'Authentication required' }));
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const lines: { level: number; msg: string; err?: string }[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  port = createAriCallControl({
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    user: 'callpolicy',
    password: 'wrong',
    app: 'callpolicy',
    requestTimeoutMs: 500,
    logger: createLogger('debug', sink),
  });
  void port.start({ outbound: async () => undefined, inbound: async () => undefined, survey: async () => undefined, ended: () => undefined });
  // The back-off starts at 100 ms: several attempts in 1.5 s.
  await new Promise((r) => setTimeout(r, 1500));
  assert.ok(requests >= 3, `${requests} attempts`);
  assert.notEqual(port.linkState(), 'up');
  const errors = lines.filter((l) => l.level >= 50);
  assert.equal(errors.length, 1, JSON.stringify(errors));
  assert.match(errors[0]!.err!, /refused user 'callpolicy' \(401\): check ARI_USER and ARI_PASSWORD/);
  assert.ok(!JSON.stringify(lines).includes('wrong'), 'the password is never logged');
});
