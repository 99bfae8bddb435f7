// Number protection: the policy file's protection: section (defaults, errors that name line and
// field) and the protection module (mask, customer ID with its fallbacks, call by customer ID),
// the interface being a real HTTP server on loopback.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { parsePolicyFile } from '../../src/config/policy-file.js';
import { policyProblems } from '../support/policy-problems.js';
import { loadEnv } from '../../src/config/env.js';
import { createNumberProtection, protectionForPolicy } from '../../src/protection/number-protection.js';
import { numberForLog } from '../../src/log.js';
import { assertSafeShown } from '../../src/pbx/call-control.js';

const base = `
callerId: { strategy: group }
`;

const problems = policyProblems;

describe('policy file: protection', () => {
  test('absent: off; mask needs nothing else', () => {
    assert.deepEqual(parsePolicyFile(base, 'p.yaml').protection, { mode: 'off' });
    assert.deepEqual(parsePolicyFile(`${base}protection: { mode: mask }\n`, 'p.yaml').protection, { mode: 'mask' });
  });

  test('customer-id: the interface settings with their defaults', () => {
    const p = parsePolicyFile(`${base}protection:\n  mode: customer-id\n  customerId: { url: "https://crm.example/api/id", authHeader: Authorization, dialPrefix: "*9" }\n`, 'p.yaml').protection;
    assert.deepEqual(p, {
      mode: 'customer-id',
      customerId: { url: 'https://crm.example/api/id', authHeader: 'Authorization', timeoutMs: 800, cacheSeconds: 600, negativeCacheSeconds: 60, dialPrefix: '*9' },
    });
  });

  test('errors name the line and the field', () => {
    assert.deepEqual(problems(`${base}protection: { mode: customer-id }\n`), ["line 3: protection.customerId: mode customer-id needs customerId: { url: ... }"]);
    const bad = problems(`${base}protection:\n  mode: customer-id\n  customerId:\n    url: "ftp://x"\n    timeoutMs: 5000\n    dialPrefix: "9a"\n    secret: x\n`);
    assert.equal(bad.length, 4, bad.join('\n'));
    assert.ok(bad.some((b) => /^line 6: protection\.customerId\.url: must be an http\(s\) URL/.test(b)), bad.join('\n'));
    assert.ok(bad.some((b) => /^line 7: protection\.customerId\.timeoutMs: /.test(b)), bad.join('\n'));
    assert.ok(bad.some((b) => /^line 8: protection\.customerId\.dialPrefix: 1 to 4 of 0-9/.test(b)), bad.join('\n'));
    assert.ok(bad.some((b) => /protection\.customerId: .*secret/.test(b)), `an unknown key (a secret in the policy file) is refused: ${bad.join('\n')}`);
    assert.match(problems(`${base}protection: { mode: hide }\n`)[0]!, /^line 3: protection\.mode: /);
  });
});

describe('the interface secret comes from the environment or a file', () => {
  test('both set is an error naming them', () => {
    assert.throws(() => loadEnv({ CALLPOLICY_CUSTOMER_ID_AUTH: 'a', CALLPOLICY_CUSTOMER_ID_AUTH_FILE: '/x' }, { requireAri: false }), /CALLPOLICY_CUSTOMER_ID_AUTH or CALLPOLICY_CUSTOMER_ID_AUTH_FILE/);
    assert.throws(() => loadEnv({ CALLPOLICY_CUSTOMER_ID_AUTH_FILE: '/nonexistent/secret' }, { requireAri: false }), /CALLPOLICY_CUSTOMER_ID_AUTH_FILE: cannot read/);
    assert.equal(loadEnv({ CALLPOLICY_CUSTOMER_ID_AUTH: 'Bearer s' }, { requireAri: false }).customerIdAuth, 'Bearer s');
  });
});

describe('mask mode', () => {
  const p = createNumberProtection({ mode: 'mask' });
  test('the masked national number and its display; withheld and unreadable callers', async () => {
    assert.deepEqual(await p.shownFor('+8613800138000'), { number: '138****8000', name: '+86 138****8000', source: 'mask' });
    assert.deepEqual(await p.shownFor('+14155550123'), { number: '415****123', name: '+1 415****123', source: 'mask' });
    assert.deepEqual(await p.shownFor(null, 'anonymous'), { number: 'anonymous', name: 'Anonymous', source: 'withheld' });
    assert.deepEqual(await p.shownFor(null, ''), { number: 'anonymous', name: 'Anonymous', source: 'withheld' });
    assert.deepEqual(await p.shownFor(null, '12<script>'), { number: '****', name: '****', source: 'mask' });
    for (const n of ['+8613800138000', '+14155550123', '+442071838750', '+35312345']) assertSafeShown((await p.shownFor(n))!);
  });
  test('off: nothing shown is set', async () => {
    assert.equal(await createNumberProtection({ mode: 'off' }).shownFor('+8613800138000'), null);
    assert.equal(createNumberProtection({ mode: 'off' }).maskedFor('+8613800138000'), null);
  });
  test('calls by customer ID are refused (no interface)', async () => {
    assert.equal((await p.resolveDialed('*9C-1')).kind, 'refused');
  });
  test('logs: the same masked form', () => {
    assert.equal(numberForLog('+8613800138000', true), '+86 138****8000');
    assert.equal(numberForLog('+8613800138000', false), '+8613800138000');
    assert.equal(numberForLog('garbage', true), '****');
  });
});

describe('customer-id mode against a real HTTP interface', () => {
  let server: Server;
  let url: string;
  let mode: 'ok' | 'slow' | 'garbage' = 'ok';
  const seen: (string | undefined)[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req.headers['x-api-key'] as string | undefined);
      const q = new URL(req.url!, 'http://x').searchParams;
      const reply = () => {
        if (mode === 'garbage') return res.writeHead(200).end('not json');
        if (q.get('number') === '+8613800138000') return res.writeHead(200, { 'content-type': 'application/json' }).end('{"customerId":"C-1001"}');
        if (q.get('customerId') === 'C-1001') return res.writeHead(200, { 'content-type': 'application/json' }).end('{"number":"+8613800138000"}');
        res.writeHead(404).end();
      };
      if (mode === 'slow') setTimeout(reply, 500);
      else reply();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/id`;
  });
  afterAll(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));

  const make = (over: Partial<{ dialPrefix: string; url: string }> = {}) =>
    createNumberProtection(
      { mode: 'customer-id', customerId: { url: over.url ?? url, authHeader: 'X-Api-Key', timeoutMs: 150, cacheSeconds: 0, negativeCacheSeconds: 0, dialPrefix: 'dialPrefix' in over ? over.dialPrefix : '*9' } },
      { customerIdAuth: 'k-123' },
    );

  test('an ID: shown with the dial prefix as the number (calling back calls that customer), the secret sent', async () => {
    assert.deepEqual(await make().shownFor('+8613800138000'), { number: '*9C-1001', name: 'C-1001', source: 'customer-id' });
    assert.equal(seen.at(-1), 'k-123');
  });
  test('no such customer, slow, garbage, down: the masked number, with the reason', async () => {
    assert.deepEqual(await make().shownFor('+8613912345678'), { number: '139****5678', name: '+86 139****5678', source: 'mask', fallback: 'none' });
    for (const [m, reason] of [['slow', 'timeout'], ['garbage', 'bad-answer']] as const) {
      mode = m;
      try {
        const started = Date.now();
        const shown = await make().shownFor('+8613800138000');
        assert.deepEqual(shown, { number: '138****8000', name: '+86 138****8000', source: 'mask', fallback: reason }, m);
        assert.ok(Date.now() - started < 400, `${m}: within the time limit`);
      } finally {
        mode = 'ok';
      }
    }
    assert.equal((await make({ url: 'http://127.0.0.1:9/id' }).shownFor('+8613800138000'))?.fallback, 'network');
  });
  test('call by customer ID: resolved, unknown, unavailable, wrong prefix, no prefix configured, not an ID', async () => {
    assert.deepEqual(await make().resolveDialed('*9C-1001'), { kind: 'number', e164: '+8613800138000', id: 'C-1001', shown: { number: '*9C-1001', name: 'C-1001' } });
    assert.deepEqual(await make().resolveDialed('*9C-9999'), { kind: 'refused', why: 'unknown-id', reason: 'no such customer', id: 'C-9999' });
    mode = 'garbage';
    try {
      assert.deepEqual(await make().resolveDialed('*9C-1001'), { kind: 'refused', why: 'id-unavailable', reason: 'customer-ID interface: bad-answer', id: 'C-1001' });
    } finally {
      mode = 'ok';
    }
    const wrong = await make().resolveDialed('*8C-1001');
    assert.ok(wrong.kind === 'refused' && wrong.why === 'unknown-id' && /its pattern and protection.customerId.dialPrefix differ/.test(wrong.reason));
    const off = await make({ dialPrefix: undefined }).resolveDialed('*9C-1001');
    assert.ok(off.kind === 'refused' && /dialPrefix is not set/.test(off.reason));
    const notId = await make().resolveDialed('*9C 1001<');
    assert.ok(notId.kind === 'refused' && notId.why === 'unknown-id' && notId.id === null);
  });
  test('the protection is rebuilt only when its settings change (the cache survives other reloads)', () => {
    const forPolicy = protectionForPolicy({});
    const a = forPolicy({ mode: 'mask' });
    assert.equal(forPolicy({ mode: 'mask' }), a);
    assert.notEqual(forPolicy({ mode: 'off' }), a);
  });
});
