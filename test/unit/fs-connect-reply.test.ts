// The connect reply of a call's socket, read by the driver itself: the real frames of
// FreeSWITCH 1.10.12 (sync and async mode), whole or in pieces, and the refusals.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'vitest';
import { connectCall, parseConnectHeaders } from '../../src/pbx/freeswitch/esl-connect-reply.js';
import { serverFrames } from '../support/fake-freeswitch/transcript.js';

/** A server that answers `connect` with `reply`, written in pieces of `chunk` bytes; the client's view. */
async function exchange(reply: string, chunk = Infinity) {
  const server = net.createServer((s) => {
    s.once('data', async () => {
      for (let i = 0; i < reply.length; i += chunk) {
        s.write(reply.slice(i, i + chunk));
        await new Promise((r) => setTimeout(r, 1));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const sock = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  try {
    return await connectCall(sock, 2000);
  } finally {
    sock.destroy();
    server.close();
  }
}

const connectReplyOf = (file: string) => serverFrames(file)[0]!.raw;

test('the real sync-mode reply: the channel data, values decoded', async () => {
  const { data, rest } = await exchange(connectReplyOf('real-1.10.12/01-outbound-decision-sync-socket.txt'));
  assert.equal(data['Socket-Mode'], 'static');
  assert.equal(data['Reply-Text'], '+OK\n');
  assert.match(data['Unique-ID']!, /^[0-9a-f-]{36}$/);
  assert.equal(data['variable_callpolicy_dest'], '+12125551234');
  assert.equal(data['variable_callpolicy_kind'], 'outbound');
  assert.equal(data['variable_sip_from_display'], 'Agent 1003');
  assert.equal(rest.length, 0);
});

test('the real async-mode reply (a survey leg), in 7-byte pieces', async () => {
  const { data } = await exchange(connectReplyOf('real-1.10.12/07-survey-outbound-rfc2833-key1.txt'), 7);
  assert.equal(data['Socket-Mode'], 'async');
  assert.equal(data['variable_callpolicy_kind'], 'survey');
});

test('anything but +OK is refused, naming what came', async () => {
  await assert.rejects(exchange('Content-Type: command/reply\nReply-Text: -ERR no\n\n'), /connect refused: command\/reply -ERR no/);
  await assert.rejects(exchange('Content-Type: text/disconnect-notice\nContent-Length: 3\n\nbye'), /connect refused/);
});

test('a value with a stray "%" is kept as sent', () => {
  assert.deepEqual(parseConnectHeaders('A: 100%\nB: x%20y'), { A: '100%', B: 'x y' });
});
