// The operator dashboard against the real PostgreSQL, in Debian's headless Chromium: a bare
// fastify with only registerDashboard, a policy applied, calls and survey results seeded on the
// last days. The page is opened through its login form; its tables are read as printed, its charts
// screenshotted and their pixels counted; agent tokens are refused; no request leaves 127.0.0.1.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import Fastify, { type FastifyInstance } from 'fastify';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import pngjs from 'pngjs';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { createAuthenticator } from '../../src/api/auth.js';
import { registerDashboard } from '../../src/api/dashboard.js';
import { parsePolicyFile } from '../../src/config/policy-file.js';
import { createLocator } from '../../src/phone/index.js';
import { applyPolicy } from '../../src/store/apply-policy.js';
import type { NewCallRecord } from '../../src/store/call-records.js';
import { addDays, localDay } from '../../src/store/dashboard-report.js';
import { calls, surveyResults } from '../../src/store/schema/index.js';
import { surveyRow } from '../support/survey-rows.js';
import { openTestDatabase, type TestDatabase } from '../support/test-database.js';

const CHROMIUM = '/usr/bin/chromium';
// Never skipped: CI installs Chromium through scripts/bootstrap.sh. Without it every browser test
// fails with this message (the HTTP-only tests still run).
const NO_CHROMIUM = existsSync(CHROMIUM) ? null : `${CHROMIUM} is missing: the dashboard test needs Debian's chromium (scripts/bootstrap.sh installs it: apt-get install chromium)`;
const ADMIN = 'dashboard-admin-token-0123456789';
const AGENT = 'dashboard-agent-token-0123456789';
const POLICY = `
defaultCountry: US
callerId: { strategy: group }
groups: [sales, support]
numbers:
  - { number: "+14155550100", groups: [sales] }
  - { number: "+14155550101", groups: [sales] }
  - { number: "+14155550102", groups: [support] }
agents:
  - { id: alice, endpoint: PJSIP/1001, groups: [sales] }
  - { id: bob, endpoint: PJSIP/1002, groups: [support] }
`;

// Seeded at noon UTC one, two and three days ago: inside the default 14 days, never today.
const today = localDay(new Date(), 'UTC');
const [d1, d2, d3] = [1, 2, 3].map((n) => addDays(today, -n)) as [string, string, string];
const at = (day: string, minute = 0) => new Date(`${day}T12:${String(minute).padStart(2, '0')}:00Z`);

let seq = 0;
function outbound(day: string, callerId: string | null, tier: string | null, fallback = false): NewCallRecord {
  seq++;
  return {
    direction: 'outbound',
    pbx: 'asterisk',
    channelId: `out-${seq}`,
    agentId: 'alice',
    customerE164: `+1212555${String(1000 + seq)}`,
    callerId,
    action: callerId ? 'dial' : 'default',
    strategy: 'group',
    tier,
    fallback,
    reason: callerId ? 'decided' : 'no_number',
    decidedAt: at(day, seq),
  };
}
function inbound(day: string, reason: string, customer: boolean, agentId: string | null = null): NewCallRecord {
  seq++;
  return {
    direction: 'inbound',
    pbx: 'asterisk',
    channelId: `in-${seq}`,
    agentId,
    customerE164: customer ? `+1312555${String(1000 + seq)}` : null,
    action: agentId ? 'dial' : 'default',
    reason,
    decidedAt: at(day, seq),
  };
}

const CALLS: NewCallRecord[] = [
  ...[d1, d1, d1, d2, d2].map((d) => outbound(d, '+14155550100', 'group')),
  ...[d1, d3].map((d) => outbound(d, '+14155550101', 'pool', true)),
  outbound(d2, null, null),
  // d1: 2 of 3 known callers went to the remembered agent (one rung, one held); one withheld.
  inbound(d1, 'memory_hit', true, 'alice'),
  inbound(d1, 'memory_hit_wait:busy', true, 'bob'),
  inbound(d1, 'memory_miss:no_outbound_call', true),
  inbound(d1, 'memory_miss:withheld', false),
  // d2: 1 of 2.
  inbound(d2, 'memory_hit', true, 'alice'),
  inbound(d2, 'memory_miss:outside_window', true),
];
const SURVEYS = [
  surveyRow('s1', { agentId: 'alice', agentGroups: ['sales'], score: 5, startedAt: at(d1) }),
  surveyRow('s2', { agentId: 'alice', agentGroups: ['sales'], dtmfKey: '2', label: 'good', score: 4, startedAt: at(d2) }),
  surveyRow('s3', { agentId: 'bob', agentGroups: ['support'], dtmfKey: '3', label: 'poor', score: 2, startedAt: at(d1, 5) }),
  surveyRow('s4', { agentId: 'bob', agentGroups: ['support'], outcome: 'no_input', dtmfKey: null, label: null, score: null, startedAt: at(d1, 6) }),
];

type Rgb = [number, number, number];
const hex = (h: string): Rgb => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16)) as Rgb;

/** Pixel counts of a chart element's screenshot: per series colour, saturated, and not white. */
async function chartPixels(page: Page, selector: string) {
  const el = page.locator(selector);
  const colors = ((await el.getAttribute('data-colors')) ?? '').split(',').filter(Boolean).map(hex);
  const png = pngjs.PNG.sync.read(await el.screenshot());
  const perColor = colors.map(() => 0);
  let saturated = 0;
  let ink = 0;
  for (let i = 0; i < png.data.length; i += 4) {
    const [r, g, b] = [png.data[i]!, png.data[i + 1]!, png.data[i + 2]!];
    if (Math.max(r, g, b) - Math.min(r, g, b) > 60) saturated++;
    if (r < 245 || g < 245 || b < 245) ink++;
    colors.forEach(([cr, cg, cb], k) => {
      if (Math.abs(r - cr) <= 24 && Math.abs(g - cg) <= 24 && Math.abs(b - cb) <= 24) perColor[k]!++;
    });
  }
  return { perColor, saturated, ink, pixels: png.width * png.height };
}

/** The texts of a table's body rows, as the page prints them. */
const tableRows = (page: Page, id: string) => page.$$eval(`#${id} tbody tr`, (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));

describe('operator dashboard (real PostgreSQL, headless Chromium)', () => {
  let tdb: TestDatabase;
  let app: FastifyInstance;
  let browser: Browser | undefined;
  let origin: string;
  /** The admin's browser page, shared by the tests (a new page costs Chromium about a second here). */
  let admin: { context: BrowserContext; page: Page } | undefined;
  const requested: string[] = [];
  const browserProblems: string[] = [];

  const theBrowser = (): Browser => {
    if (NO_CHROMIUM || !browser) throw new Error(NO_CHROMIUM ?? 'Chromium did not start');
    return browser;
  };
  /** The page the login test signed in on (later tests go on from where it is). */
  const adminPage = () => {
    theBrowser();
    if (!admin) throw new Error('the login test did not open the page');
    return admin;
  };
  const newPage = async (): Promise<{ context: BrowserContext; page: Page }> => {
    const context = await theBrowser().newContext({ timezoneId: 'UTC', deviceScaleFactor: 1, viewport: { width: 1200, height: 900 } });
    context.on('request', (r) => requested.push(r.url()));
    const page = await context.newPage();
    page.on('pageerror', (e) => browserProblems.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && !/status of 40[13]/.test(m.text())) browserProblems.push(`console: ${m.text()}`);
    });
    return { context, page };
  };
  const api = (url: string, headers: Record<string, string> = {}) => fetch(`${origin}${url}`, { headers, redirect: 'manual' });
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  beforeAll(async () => {
    const [db, b] = await Promise.all([openTestDatabase('postgres'), NO_CHROMIUM ? undefined : chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })]);
    tdb = db;
    browser = b;
    await applyPolicy(tdb.database.db, parsePolicyFile(POLICY, 'dashboard.yaml'), (n) => createLocator().locate(n));
    await tdb.database.db.insert(calls).values(CALLS);
    await tdb.database.db.insert(surveyResults).values(SURVEYS);

    app = Fastify({ logger: false });
    await registerDashboard(app, {
      db: tdb.database.db,
      authenticate: createAuthenticator({ adminToken: ADMIN, agentTokens: new Map([[AGENT, 'alice']]) }),
      live: () => ({ pbxLink: 'up', database: 'up', recordQueue: 3, policyConfigured: true }),
    });
    // Another route of the same server: JSON bodies still parse, forms are the dashboard's only.
    app.post('/echo', async (req) => req.body);
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    assert.ok(address && typeof address === 'object');
    origin = `http://127.0.0.1:${address.port}`;
  }, 15_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await tdb?.cleanup();
  });

  test('the admin token typed into the login form opens the page, which prints the seeded figures', async () => {
    admin = await newPage();
    const { context, page } = admin;
    const first = await page.goto(`${origin}/dashboard`);
    assert.equal(first?.status(), 401);
    await page.fill('input[name="token"]', ADMIN);
    await Promise.all([page.waitForURL(`${origin}/dashboard`), page.click('button[type="submit"]')]);
    const cookie = (await context.cookies()).find((c) => c.name === 'callpolicy_token');
    assert.ok(cookie?.httpOnly && cookie.sameSite === 'Strict', 'the token cookie is HttpOnly and SameSite=Strict');
    await page.waitForSelector('body[data-loaded="true"]', { timeout: 5000 });

    assert.deepEqual(await tableRows(page, 'table-agents'), [
      ['alice', '2', '2', '100.0 %', '4.50'],
      ['bob', '2', '1', '50.0 %', '2.00'],
    ]);
    assert.deepEqual(await tableRows(page, 'table-groups'), [
      ['sales', '2', '2', '100.0 %', '4.50'],
      ['support', '2', '1', '50.0 %', '2.00'],
    ]);
    assert.deepEqual(await tableRows(page, 'table-tiers'), [
      ['group', '5', '0'],
      ['pool', '2', '2'],
      ['(none)', '1', '0'],
    ]);
    assert.deepEqual(await tableRows(page, 'table-busiest'), [
      ['+14155550100', '5', '2', `${d1} (3)`, 'yes'],
      ['+14155550101', '2', '2', `${d3} (1)`, 'yes'],
    ]);
    assert.deepEqual(await page.$$eval('#unused-list li', (lis) => lis.map((li) => li.textContent)), ['+14155550102']);
    assert.deepEqual(await tableRows(page, 'table-memory'), [
      [d2, '2', '1', '0', '50.0 %'],
      [d1, '3', '1', '1', '66.7 %'],
    ]);
    assert.deepEqual(await tableRows(page, 'table-misses'), [
      ['no outbound call', '1'],
      ['outside window', '1'],
    ]);
    assert.match((await page.textContent('#memory-summary')) ?? '', /^3 of 5 inbound calls .*\(60\.0 %: 2 rung, 1 held.*; 1 came from a withheld/);
    assert.equal(await page.textContent('#live-queue'), '3');
    assert.equal(await page.textContent('#live-pbx'), 'up');
    // Customers' numbers (seeded +1212555..., +1312555...) appear nowhere on the page.
    const text = (await page.textContent('body')) ?? '';
    assert.doesNotMatch(text, /212555|312555/);
  }, 10_000);

  test('the charts really draw: series colours in their screenshots; a chart with no data draws none', async () => {
    const { page } = adminPage();
    for (const chart of ['satisfaction', 'numbers', 'memory']) {
      const px = await chartPixels(page, `[data-chart="${chart}"]`);
      assert.ok(px.perColor.length > 0, `${chart}: has series`);
      px.perColor.forEach((n, k) => assert.ok(n >= 40, `${chart}: series ${k} drew ${n} pixels of its colour`));
      assert.ok(px.ink > 2000, `${chart}: ${px.ink} non-white pixels`);
    }

    // Today only: nothing was seeded today, so the same charts frame an empty plot.
    await page.goto(`${origin}/dashboard?days=1`);
    await page.waitForSelector('body[data-loaded="true"]', { timeout: 5000 });
    for (const chart of ['satisfaction', 'numbers', 'memory']) {
      const px = await chartPixels(page, `[data-chart="${chart}"]`);
      assert.ok(px.perColor.every((n) => n === 0) && px.saturated === 0, `${chart}: empty, yet ${px.perColor.join('/')} series / ${px.saturated} coloured pixels`);
      assert.ok(px.ink > 0 && px.ink < px.pixels, `${chart}: the frame is drawn`);
    }
  }, 10_000);

  test('an agent token cannot open the dashboard, and the data never reaches its page', async () => {
    const { context, page } = await newPage();
    const before = requested.length;
    await page.goto(`${origin}/dashboard`);
    await page.fill('input[name="token"]', AGENT);
    const [res] = await Promise.all([page.waitForResponse((r) => r.url() === `${origin}/dashboard/login`), page.click('button[type="submit"]')]);
    assert.equal(res.status(), 403);
    assert.match((await page.textContent('body')) ?? '', /Agent tokens cannot open the dashboard/);
    assert.equal(await page.$('#table-agents'), null);
    assert.equal((await context.cookies()).length, 0, 'no cookie for an agent');
    assert.ok(!requested.slice(before).some((u) => u.includes('/api/v1/')), 'the refused page asked for no data');
    await context.close();

    // Nor with the agent token as a cookie or a Bearer header.
    assert.equal((await api('/dashboard', bearer(AGENT))).status, 403);
    for (const headers of [bearer(AGENT), { cookie: `callpolicy_token=${AGENT}` }]) {
      const r = await api('/api/v1/dashboard', headers);
      assert.equal(r.status, 403);
      assert.equal(((await r.json()) as { error: string }).error, 'forbidden');
    }
    for (const headers of [{}, bearer('not-a-token-0123456789')]) {
      const r = await api('/api/v1/dashboard', headers);
      assert.equal(r.status, 401);
      assert.equal(((await r.json()) as { error: string }).error, 'unauthorized');
    }
    assert.equal((await api('/api/v1/dashboard/live', bearer(AGENT))).status, 403);
  }, 10_000);

  test('signing out clears the cookie; a wrong token then gets the login form again', async () => {
    const { context, page } = adminPage();
    await Promise.all([page.waitForResponse((r) => r.url() === `${origin}/dashboard` && r.status() === 401), page.click('text=Sign out')]);
    assert.equal((await context.cookies()).length, 0);
    await page.fill('input[name="token"]', 'wrong-token-0123456789');
    const [res] = await Promise.all([page.waitForResponse((r) => r.url() === `${origin}/dashboard/login`), page.click('button[type="submit"]')]);
    assert.equal(res.status(), 401);
    assert.match((await page.textContent('.notice')) ?? '', /not accepted/);
    assert.equal((await context.cookies()).length, 0);
    await context.close();
  }, 10_000);

  test('no request of the page left 127.0.0.1, and the page ran under its CSP without an error', () => {
    theBrowser();
    assert.ok(requested.length > 10, `${requested.length} requests recorded`);
    const foreign = requested.filter((u) => !u.startsWith(`${origin}/`));
    assert.deepEqual(foreign, []);
    assert.ok(requested.some((u) => u.endsWith('/dashboard/assets/uPlot.iife.min.js')));
    assert.deepEqual(browserProblems, []);
  });

  test('headers: a strict CSP, no inline script; assets from a fixed list with types and caching', async () => {
    const page = await api('/dashboard', bearer(ADMIN));
    assert.equal(page.status, 200);
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    const html = await page.text();
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'every script is a file');
    assert.doesNotMatch(html, /https?:\/\//, 'nothing from elsewhere');

    const js = await api('/dashboard/assets/uPlot.iife.min.js');
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type') ?? '', /^text\/javascript/);
    assert.match(js.headers.get('cache-control') ?? '', /max-age=\d+/);
    assert.equal((await api('/dashboard/assets/uPlot.iife.min.js', { 'if-none-match': js.headers.get('etag')! })).status, 304);
    assert.match((await api('/dashboard/assets/dashboard.css')).headers.get('content-type') ?? '', /^text\/css/);
    for (const bad of ['..%2Fdashboard.ts', '%2e%2e%2f%2e%2e%2f%2e%2e%2fpackage.json', 'index.html', 'uPlot.cjs.js']) {
      assert.equal((await api(`/dashboard/assets/${bad}`)).status, 404, bad);
    }
  });

  test('bad query parameters: 400 naming the field; other routes still take JSON bodies', async () => {
    for (const [query, field] of [
      ['days=0', 'days'],
      ['days=367', 'days'],
      ['days=abc', 'days'],
      ['days=1.5', 'days'],
      ['tz=Mars/Olympus', 'tz'],
      ['tz=%2B01:00', 'tz'],
      ['colour=red', 'colour'],
    ] as const) {
      const res = await api(`/api/v1/dashboard?${query}`, bearer(ADMIN));
      assert.equal(res.status, 400, query);
      const body = (await res.json()) as { error: string; message: string; field: string };
      assert.equal(body.error, 'bad-request');
      assert.equal(body.field, field, `${query}: ${body.message}`);
      assert.match(body.message, new RegExp(`^${field}: `));
    }
    const ok = (await (await api('/api/v1/dashboard?days=7&tz=America/New_York', bearer(ADMIN))).json()) as { days: string[]; memory: { total: unknown } };
    assert.equal(ok.days.length, 7);
    assert.deepEqual(ok.memory.total, { known: 5, rung: 2, held: 1, hitRate: 0.6 });

    const echo = await fetch(`${origin}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    assert.deepEqual(await echo.json(), { a: 1 });
    const form = await fetch(`${origin}/echo`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1' });
    assert.equal(form.status, 415, 'forms are parsed for the dashboard routes only');
  });
});
