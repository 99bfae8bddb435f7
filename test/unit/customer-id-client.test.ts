// The customer-ID interface client against a real HTTP server on 127.0.0.1: answers, "no such
// customer", garbage, slowness, and the cache. The server counts the requests it gets.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, test } from 'vitest';

import { createCustomerIdClient, MAX_ANSWER_BYTES } from '../../src/protection/customer-id-client.js';
import type { CustomerIdClientOptions } from '../../src/protection/customer-id-client.js';

type Handler = (q: URLSearchParams, req: IncomingMessage, res: ServerResponse) => void;

const seen: Array<{ path: string; query: URLSearchParams; headers: IncomingMessage['headers'] }> = [];
let handler: Handler = (_q, _req, res) => json(res, 500, {});
let server: Server;
let base: string;

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function raw(res: ServerResponse, status: number, text: string, type = 'application/json'): void {
  res.writeHead(status, { 'content-type': type });
  res.end(text);
}

/** A CRM that knows two customers, both ways. */
const crm: Handler = (q, _req, res) => {
  const byNumber: Record<string, string> = { '+8613800138000': 'C-1001', '+14155550123': 'C-1002' };
  const number = q.get('number');
  const id = q.get('customerId');
  if (number !== null) {
    if (byNumber[number]) return json(res, 200, { customerId: byNumber[number] });
    return json(res, 404, { error: 'not found' });
  }
  if (id !== null) {
    const found = Object.entries(byNumber).find(([, v]) => v === id);
    return found ? json(res, 200, { number: found[0] }) : json(res, 200, { number: null });
  }
  json(res, 400, {});
};

const requests = () => seen.length;

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    seen.push({ path: url.pathname, query: url.searchParams, headers: req.headers });
    handler(url.searchParams, req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/customer-id`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  seen.length = 0;
  handler = crm;
});

function client(extra: Partial<CustomerIdClientOptions> = {}) {
  return createCustomerIdClient({ url: base, timeoutMs: 1000, cacheTtlMs: 60_000, ...extra });
}

describe('answers', () => {
  test('number -> id: found, with the query built from the E.164 number and the header sent', async () => {
    const c = client({ headers: { authorization: 'Bearer t0ken' } });
    assert.deepEqual(await c.idFor('+8613800138000'), { kind: 'id', id: 'C-1001', cached: false });
    assert.equal(requests(), 1);
    assert.equal(seen[0]!.path, '/api/customer-id');
    assert.equal(seen[0]!.query.get('number'), '+8613800138000');
    assert.equal(seen[0]!.headers.authorization, 'Bearer t0ken');
    assert.equal(seen[0]!.headers.accept, 'application/json');
  });

  test('id -> number: found', async () => {
    const c = client();
    assert.deepEqual(await c.numberFor('C-1002'), { kind: 'number', e164: '+14155550123', cached: false });
    assert.equal(seen[0]!.query.get('customerId'), 'C-1002');
  });

  test('a query already in the URL is kept', async () => {
    const c = client({ url: `${base}?tenant=a%20b&number=ignored` });
    await c.idFor('+8613800138000');
    assert.equal(seen[0]!.query.get('tenant'), 'a b');
    assert.deepEqual(seen[0]!.query.getAll('number'), ['+8613800138000']);
  });

  test('none: 404, and 200 with null, both ways', async () => {
    const c = client();
    assert.deepEqual(await c.idFor('+442079460000'), { kind: 'none' });
    assert.deepEqual(await c.numberFor('C-9999'), { kind: 'none' });
    handler = (_q, _req, res) => json(res, 200, { customerId: null, number: null });
    assert.deepEqual(await c.idFor('+493012345678'), { kind: 'none' });
    handler = (_q, _req, res) => json(res, 404, {});
    assert.deepEqual(await c.numberFor('C-9998'), { kind: 'none' });
    assert.equal(requests(), 4);
  });
});

describe('the interface failing', () => {
  test('slow headers: unavailable/timeout within timeoutMs + 100 ms', async () => {
    handler = (q, _req, res) => {
      setTimeout(() => json(res, 200, { customerId: 'C-1' }), 1500).unref();
    };
    const c = client({ timeoutMs: 200 });
    const t0 = performance.now();
    assert.deepEqual(await c.idFor('+8613800138000'), { kind: 'unavailable', reason: 'timeout' });
    const took = performance.now() - t0;
    assert.ok(took >= 190 && took < 300, `took ${took.toFixed(0)} ms`);
    assert.equal(c.stats().timeouts, 1);
  });

  test('headers at once, then a body that never ends: timeout too', async () => {
    handler = (_q, _req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"customerId": ');
    };
    const c = client({ timeoutMs: 200 });
    const t0 = performance.now();
    assert.deepEqual(await c.numberFor('C-1001'), { kind: 'unavailable', reason: 'timeout' });
    assert.ok(performance.now() - t0 < 300);
  });

  test('500, 503, 401, 204 and a redirect: http-error (the redirect is not followed)', async () => {
    const c = client();
    for (const status of [500, 503, 401, 204]) {
      handler = (_q, _req, res) => {
        res.writeHead(status);
        res.end();
      };
      assert.deepEqual(await c.idFor('+8613800138000'), { kind: 'unavailable', reason: 'http-error' }, `status ${status}`);
    }
    handler = (q, _req, res) => {
      if (q.get('redirected')) return json(res, 200, { customerId: 'C-EVIL' });
      res.writeHead(302, { location: `${base}?redirected=1&number=%2B8613800138000` });
      res.end();
    };
    assert.deepEqual(await c.idFor('+8613800138000'), { kind: 'unavailable', reason: 'http-error' });
    assert.equal(requests(), 5);
    assert.ok(seen.every((s) => s.query.get('redirected') === null));
  });

  test('nobody listening: network', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const c = client({ url: `http://127.0.0.1:${port}/x` });
    assert.deepEqual(await c.idFor('+8613800138000'), { kind: 'unavailable', reason: 'network' });
    assert.deepEqual(await c.numberFor('C-1'), { kind: 'unavailable', reason: 'network' });
    assert.equal(c.stats().errors, 2);
  });

  const garbage: Array<[string, Handler]> = [
    ['HTML', (_q, _req, res) => raw(res, 200, '<html><body>Service Unavailable</body></html>', 'text/html')],
    ['empty body', (_q, _req, res) => raw(res, 200, '')],
    ['JSON array', (_q, _req, res) => json(res, 200, ['C-1001'])],
    ['JSON string', (_q, _req, res) => json(res, 200, 'C-1001')],
    ['no customerId key', (_q, _req, res) => json(res, 200, { id: 'C-1001' })],
    ['customerId a number', (_q, _req, res) => json(res, 200, { customerId: 5 })],
    ['customerId markup', (_q, _req, res) => json(res, 200, { customerId: '<script>' })],
    ['customerId empty', (_q, _req, res) => json(res, 200, { customerId: '' })],
    ['customerId too long', (_q, _req, res) => json(res, 200, { customerId: 'C'.repeat(41) })],
    ['customerId with a newline', (_q, _req, res) => json(res, 200, { customerId: 'C-1\r\nX: y' })],
    ['customerId that is the number', (_q, _req, res) => json(res, 200, { customerId: '13800138000' })],
    ['customerId holding the number', (_q, _req, res) => json(res, 200, { customerId: 'C-138.0013.8000' })],
    ['not UTF-8', (_q, _req, res) => { res.writeHead(200); res.end(Buffer.concat([Buffer.from('{"customerId": "C-1", "note": "'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')])); }],
    ['huge body, with Content-Length', (_q, _req, res) => json(res, 200, { customerId: 'C-1', pad: 'x'.repeat(MAX_ANSWER_BYTES) })],
    ['huge body, chunked', (_q, _req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"customerId": "C-1", "pad": "');
      for (let i = 0; i < 64; i++) res.write('x'.repeat(1024));
      res.end('"}');
    }],
  ];
  for (const [name, h] of garbage) {
    test(`number -> id, garbage: ${name}`, async () => {
      handler = h;
      const c = client();
      const r = await c.idFor('+8613800138000');
      assert.deepEqual(r, { kind: 'unavailable', reason: 'bad-answer' });
      assert.ok(!JSON.stringify(r).includes('138'), 'nothing of the number in the result');
    });
  }

  const badNumbers: unknown[] = ['13800138000', '+86 138 0013 8000', '+8612345', '+999123456789', '+08613800138000', 8613800138000, '', { e164: '+8613800138000' }, '+8613800138000\n'];
  for (const number of badNumbers) {
    test(`id -> number, garbage: ${JSON.stringify(number)}`, async () => {
      handler = (_q, _req, res) => json(res, 200, { number });
      const c = client();
      const r = await c.numberFor('C-1001');
      assert.deepEqual(r, { kind: 'unavailable', reason: 'bad-answer' });
    });
  }
});

describe('cache', () => {
  test('an answer is kept for cacheTtlMs: no second request, then one after expiry', async () => {
    let t = 1_000_000;
    const c = client({ cacheTtlMs: 10_000, now: () => t });
    assert.deepEqual(await c.idFor('+8613800138000'), { kind: 'id', id: 'C-1001', cached: false });
    t += 9_999;
    assert.deepEqual(await c.idFor('+8613800138000'), { kind: 'id', id: 'C-1001', cached: true });
    assert.equal(requests(), 1);
    t += 1;
    assert.deepEqual(await c.idFor('+8613800138000'), { kind: 'id', id: 'C-1001', cached: false });
    assert.equal(requests(), 2);
    assert.deepEqual(await c.numberFor('C-1001'), { kind: 'number', e164: '+8613800138000', cached: false });
    assert.deepEqual(await c.numberFor('C-1001'), { kind: 'number', e164: '+8613800138000', cached: true });
    assert.equal(requests(), 3);
    const s = c.stats();
    assert.deepEqual([s.hits, s.misses, s.requests, s.cached], [2, 3, 3, 2]);
  });

  test('none is kept for min(cacheTtlMs, 60 s) by default', async () => {
    let t = 0;
    const c = client({ cacheTtlMs: 600_000, now: () => t });
    assert.deepEqual(await c.idFor('+442079460000'), { kind: 'none' });
    t = 59_999;
    assert.deepEqual(await c.idFor('+442079460000'), { kind: 'none' });
    assert.equal(requests(), 1);
    t = 60_000;
    await c.idFor('+442079460000');
    assert.equal(requests(), 2);
  });

  test('negativeTtlMs when given; 0 keeps no none at all', async () => {
    let t = 0;
    const c = client({ cacheTtlMs: 600_000, negativeTtlMs: 5_000, now: () => t });
    await c.numberFor('C-9999');
    t = 4_999;
    await c.numberFor('C-9999');
    assert.equal(requests(), 1);
    t = 5_000;
    await c.numberFor('C-9999');
    assert.equal(requests(), 2);

    const never = client({ cacheTtlMs: 600_000, negativeTtlMs: 0, now: () => t });
    await never.numberFor('C-9999');
    await never.numberFor('C-9999');
    assert.equal(requests(), 4);
  });

  test('unavailable is never kept: the next look-up asks again', async () => {
    const c = client();
    handler = (_q, _req, res) => json(res, 500, {});
    assert.deepEqual(await c.idFor('+8613800138000'), { kind: 'unavailable', reason: 'http-error' });
    handler = (_q, _req, res) => json(res, 200, { customerId: '<b>' });
    assert.deepEqual(await c.idFor('+8613800138000'), { kind: 'unavailable', reason: 'bad-answer' });
    handler = crm;
    assert.deepEqual(await c.idFor('+8613800138000'), { kind: 'id', id: 'C-1001', cached: false });
    assert.equal(requests(), 3);
    assert.equal(c.stats().cached, 1);
  });

  test('concurrent look-ups of one key share one request', async () => {
    handler = (q, req, res) => {
      setTimeout(() => crm(q, req, res), 100).unref();
    };
    const c = client();
    const results = await Promise.all([
      ...Array.from({ length: 5 }, () => c.idFor('+8613800138000')),
      c.idFor('+14155550123'),
      c.numberFor('C-1001'),
      c.numberFor('C-1001'),
    ]);
    for (const r of results.slice(0, 5)) assert.deepEqual(r, { kind: 'id', id: 'C-1001', cached: false });
    assert.deepEqual(results[5], { kind: 'id', id: 'C-1002', cached: false });
    assert.deepEqual(results[6], { kind: 'number', e164: '+8613800138000', cached: false });
    assert.deepEqual(results[7], results[6]);
    assert.equal(requests(), 3);
    assert.equal(c.stats().shared, 5);
  });

  test('a shared request that fails fails for all, and is not kept', async () => {
    handler = (_q, _req, res) => {
      setTimeout(() => json(res, 503, {}), 50).unref();
    };
    const c = client();
    const results = await Promise.all([c.idFor('+8613800138000'), c.idFor('+8613800138000')]);
    assert.deepEqual(results, [{ kind: 'unavailable', reason: 'http-error' }, { kind: 'unavailable', reason: 'http-error' }]);
    assert.equal(requests(), 1);
    handler = crm;
    assert.deepEqual(await c.idFor('+8613800138000'), { kind: 'id', id: 'C-1001', cached: false });
  });

  test('cacheMax entries per direction, oldest written out first', async () => {
    handler = (q, _req, res) => json(res, 200, { customerId: `C-${q.get('number')!.slice(-4)}` });
    const c = client({ cacheMax: 2 });
    const [a, b, d] = ['+8613800130001', '+8613800130002', '+8613800130003'];
    await c.idFor(a!);
    await c.idFor(b!);
    await c.idFor(d!); // a out
    assert.equal(requests(), 3);
    assert.deepEqual(await c.idFor(d!), { kind: 'id', id: 'C-0003', cached: true });
    assert.deepEqual(await c.idFor(b!), { kind: 'id', id: 'C-0002', cached: true });
    assert.equal(requests(), 3);
    assert.deepEqual(await c.idFor(a!), { kind: 'id', id: 'C-0001', cached: false }); // b out
    assert.equal(requests(), 4);
    assert.deepEqual(await c.idFor(d!), { kind: 'id', id: 'C-0003', cached: true });
    await c.idFor(b!);
    assert.equal(requests(), 5);
    assert.equal(c.stats().cached, 2);
  });
});

describe('refusals without a request', () => {
  test('numberFor: ids outside the pattern never reach the URL', async () => {
    const c = client();
    for (const id of ['', 'a b', '../admin', 'C-1&customerId=2', '<script>', 'C-1\r\n', 'x'.repeat(41), 'C-１', '%2B86', 5 as unknown as string]) {
      assert.deepEqual(await c.numberFor(id), { kind: 'none' }, JSON.stringify(id));
    }
    assert.equal(requests(), 0);
    assert.equal(c.stats().refused, 10);
  });

  test('idFor: a number that is not E.164 is not sent', async () => {
    const c = client();
    for (const n of ['13800138000', '+86 138 0013 8000', '+8613800138000&x=1', '']) {
      assert.deepEqual(await c.idFor(n), { kind: 'none' });
    }
    assert.equal(requests(), 0);
  });
});

describe('options', () => {
  test('bad options fail at creation, naming the option without its value', () => {
    const ok = { url: base, timeoutMs: 100, cacheTtlMs: 0 };
    assert.throws(() => createCustomerIdClient({ ...ok, url: 'ftp://crm.example/x' }), /options\.url/);
    assert.throws(() => createCustomerIdClient({ ...ok, url: 'not a url' }), /options\.url/);
    assert.throws(() => createCustomerIdClient({ ...ok, url: 'https://user:s3cret@crm.example/x' }), (e: Error) => /options\.url/.test(e.message) && !e.message.includes('s3cret'));
    assert.throws(() => createCustomerIdClient({ ...ok, timeoutMs: 0 }), /options\.timeoutMs/);
    assert.throws(() => createCustomerIdClient({ ...ok, cacheTtlMs: -1 }), /options\.cacheTtlMs/);
    assert.throws(() => createCustomerIdClient({ ...ok, cacheMax: 0 }), /options\.cacheMax/);
    assert.throws(() => createCustomerIdClient({ ...ok, headers: { 'bad header': 's3cret' } }), (e: Error) => /options\.headers/.test(e.message) && !e.message.includes('s3cret'));
  });
});
