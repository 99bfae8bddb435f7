// REST over the ARI websocket: requests go out in call order, answers are matched by id,
// errors keep their HTTP status (so a gone channel is recognised), and a closed socket falls
// back to HTTP.
import assert from 'node:assert/strict';
import { test } from 'vitest';
import { AriHttpError, type AriRest } from '../../src/pbx/asterisk/ari-rest.js';
import { createWsRest } from '../../src/pbx/asterisk/ari-ws-rest.js';

function setup(open = true, timeoutMs = 200) {
  const sent: { request_id: string; method: string; uri: string }[] = [];
  const httpCalls: string[] = [];
  const fallback = {
    continueInDialplan: async (id: string) => void httpCalls.push(`continue ${id}`),
    setVarsAndContinue: async (id: string) => void httpCalls.push(`var+continue ${id}`),
  } as unknown as AriRest;
  /** Sends grouped by the write they left in: a send outside `together` is a write of its own. */
  const writes: number[] = [];
  let grouping = false;
  const socket = {
    isOpen: () => open,
    send: (text: string) => {
      sent.push(JSON.parse(text));
      if (grouping) writes[writes.length - 1]!++;
      else writes.push(1);
    },
    together: <T>(fn: () => T): T => {
      writes.push(0);
      grouping = true;
      try {
        return fn();
      } finally {
        grouping = false;
      }
    },
  };
  const rest = createWsRest(() => socket, fallback, timeoutMs);
  return { rest, sent, writes, httpCalls, setOpen: (o: boolean) => (open = o) };
}

test('requests leave in call order, each answered by its own response', async () => {
  const { rest, sent } = setup();
  const v = rest.setVarsAndContinue('c1', [['CALLPOLICY_DECISION', 'dial|+12125550100|+14155550123|ACME & Co']]);
  const other = rest.continueInDialplan('c2');
  assert.deepEqual(
    sent.map((m) => m.uri),
    [
      'channels/c1/variable?variable=CALLPOLICY_DECISION&value=dial%7C%2B12125550100%7C%2B14155550123%7CACME+%26+Co',
      'channels/c1/continue',
      'channels/c2/continue',
    ],
  );
  assert.equal(new Set(sent.map((m) => m.request_id)).size, 3);
  // Answers may come in any order.
  rest.onResponse({ request_id: sent[2]!.request_id, status_code: 204 });
  rest.onResponse({ request_id: sent[0]!.request_id, status_code: 204 });
  rest.onResponse({ request_id: sent[1]!.request_id, status_code: 204 });
  await Promise.all([v, other]);
});

test('an error answer keeps its status: 404 for a channel that is gone', async () => {
  const { rest, sent } = setup();
  const c = rest.continueInDialplan('gone');
  rest.onResponse({ request_id: sent[0]!.request_id, status_code: 404, reason_phrase: 'Not Found', message_body: '{"message":"Channel not found"}' });
  await assert.rejects(c, (err: unknown) => err instanceof AriHttpError && err.status === 404 && /Channel not found/.test(err.message));
});

test('no answer in time: a TimeoutError; the socket closing: the waiting requests fail at once', async () => {
  const { rest } = setup(true, 50);
  await assert.rejects(rest.continueInDialplan('slow'), (err: Error) => err.name === 'TimeoutError');
  const w = rest.setVarsAndContinue('c2', [['X', '1']]);
  rest.failAll('closed');
  await assert.rejects(w, /closed/);
});

test('while the websocket is not open the same calls go over HTTP', async () => {
  const { rest, sent, httpCalls } = setup(false);
  await rest.setVarsAndContinue('c3', [['X', '1']]);
  await rest.continueInDialplan('c3');
  assert.equal(sent.length, 0);
  assert.deepEqual(httpCalls, ['var+continue c3', 'continue c3']);
});

test('the decision: variable and continue written in one tick and one write, before either is answered', async () => {
  const { rest, sent, writes } = setup();
  let settled = false;
  const to = { context: 'callpolicy-decided', extension: '+12125550100*+14155550123', priority: 1 };
  const d = rest.setVarsAndContinue('c4', [['CALLPOLICY_NAME', 'ACME & Co']], to).then(() => (settled = true));
  assert.deepEqual(
    sent.map((m) => m.uri),
    [
      'channels/c4/variable?variable=CALLPOLICY_NAME&value=ACME+%26+Co',
      'channels/c4/continue?context=callpolicy-decided&extension=%2B12125550100*%2B14155550123&priority=1',
    ],
  );
  assert.deepEqual(writes, [2]);
  rest.onResponse({ request_id: sent[0]!.request_id, status_code: 204 });
  await new Promise((r) => setImmediate(r));
  assert.equal(settled, false, 'resolves only when the continue is answered too');
  rest.onResponse({ request_id: sent[1]!.request_id, status_code: 204 });
  await d;
});

test('the decision fails with the first error: a channel gone before its variable was set', async () => {
  const { rest, sent } = setup();
  const d = rest.setVarsAndContinue('gone', [['CALLPOLICY_DECISION', 'x']]);
  rest.onResponse({ request_id: sent[0]!.request_id, status_code: 404, message_body: '{"message":"Channel not found"}' });
  rest.onResponse({ request_id: sent[1]!.request_id, status_code: 404, message_body: '{"message":"Channel not found"}' });
  await assert.rejects(d, (err: unknown) => err instanceof AriHttpError && err.status === 404);
});

test('the decision goes over HTTP while the websocket is not open', async () => {
  const { rest, sent, httpCalls } = setup(false);
  await rest.setVarsAndContinue('c5', [['X', '1']]);
  assert.equal(sent.length, 0);
  assert.deepEqual(httpCalls, ['var+continue c5']);
});

test('a continue to a place in the dialplan carries context, extension and priority', async () => {
  const { rest, sent } = setup();
  const c = rest.continueInDialplan('c6', { context: 'callpolicy-decided', extension: '4155550100*2125550123', priority: 1 });
  assert.deepEqual(sent.map((m) => m.uri), ['channels/c6/continue?context=callpolicy-decided&extension=4155550100*2125550123&priority=1']);
  rest.onResponse({ request_id: sent[0]!.request_id, status_code: 204 });
  await c;
});

test("an agent's endpoint is read over the websocket; an unknown endpoint keeps its 404", async () => {
  const { rest, sent } = setup();
  const known = rest.getEndpoint('PJSIP', '1001');
  assert.deepEqual([sent[0]!.method, sent[0]!.uri], ['GET', 'endpoints/PJSIP/1001']);
  rest.onResponse({ request_id: sent[0]!.request_id, status_code: 200, message_body: '{"technology":"PJSIP","resource":"1001","state":"online","channel_ids":["c9"]}' });
  assert.deepEqual(await known, { technology: 'PJSIP', resource: '1001', state: 'online', channel_ids: ['c9'] });
  const unknown = rest.getEndpoint('PJSIP', 'x/../1002');
  assert.equal(sent[1]!.uri, 'endpoints/PJSIP/x%2F..%2F1002');
  rest.onResponse({ request_id: sent[1]!.request_id, status_code: 404, message_body: '{"message":"Endpoint not found"}' });
  await assert.rejects(unknown, (err: unknown) => err instanceof AriHttpError && err.status === 404);
});

test('several variables (number protection) and the continue leave in one write, in order', async () => {
  const { rest, sent, writes } = setup();
  const to = { context: 'callpolicy-agent', extension: 'ring*20*0*ivr', priority: 1 };
  const d = rest.setVarsAndContinue('c7', [['_CALLPOLICY_SHOWN_NUM', '138****8000'], ['_CALLPOLICY_SHOWN_NAME', '+86 138****8000'], ['CALLPOLICY_AGENT', 'PJSIP/1001']], to);
  assert.deepEqual(
    sent.map((m) => m.uri),
    [
      'channels/c7/variable?variable=_CALLPOLICY_SHOWN_NUM&value=138****8000',
      'channels/c7/variable?variable=_CALLPOLICY_SHOWN_NAME&value=%2B86+138****8000',
      'channels/c7/variable?variable=CALLPOLICY_AGENT&value=PJSIP%2F1001',
      'channels/c7/continue?context=callpolicy-agent&extension=ring*20*0*ivr&priority=1',
    ],
  );
  assert.deepEqual(writes, [4]);
  for (const m of sent) rest.onResponse({ request_id: m.request_id, status_code: 204 });
  await d;
});
