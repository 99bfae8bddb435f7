// The leak search of the number protection tests (test/support/sip-leaks.ts): reading what a sipp
// phone received from its message file, and finding a customer's number in SIP messages in every
// form it can be written in, or its hidden digits next to the mask.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'vitest';
import { maskNumber } from '../../src/phone/mask-number.js';
import {
  assertNoLeaks,
  findLeaks,
  hiddenDigitPatterns,
  numberForms,
  parseMessageFile,
  partialMaskPatterns,
  readAllMessages,
  readReceivedMessages,
} from '../support/sip-leaks.js';

/**
 * Real output of sipp 3.6.1 on this machine (-trace_msg -message_file): an agent phone
 * (agent-call-tolerant.xml, 127.0.0.1:6602) calling +8613800138000 through a trunk
 * (uas-answer-identity.xml, 127.0.0.1:6601) that presented "Forwarded" +8613722334455 in its 180
 * and 200 and +8618655667788 in a mid-call UPDATE, run by test/sandbox/sipp.ts (startTrunk,
 * placeCall) without Asterisk.
 */
const FIXTURE = fileURLToPath(new URL('./fixtures/sipp-messages.log', import.meta.url));

const CUSTOMER = '+8613800138000';
const MASKED = '138****8000';

/** A SIP message from lines, CRLF line ends, as on the wire. */
const sip = (...lines: string[]) => `${lines.join('\r\n')}\r\n`;

/** A sipp message-file entry, in the format sipp 3.x writes (see the fixture). */
function entry(direction: 'received' | 'sent', text: string, time = '2026-12-01 21:38:15.303174', announced = Buffer.byteLength(text)): string {
  const title = direction === 'received' ? `UDP message received [${announced}] bytes :` : `UDP message sent (${announced} bytes):`;
  return `${'-'.repeat(47)} ${time}\n${title}\n\n${text}\n`;
}

describe('reading a sipp message file', () => {
  test('the real file: every entry, both directions, each message exactly the bytes sipp announced', async () => {
    const all = await readAllMessages(FIXTURE);
    assert.deepEqual(
      all.map((m) => `${m.direction} ${m.text.split('\r\n')[0]}`),
      [
        'sent INVITE sip:+8613800138000@127.0.0.1:6601 SIP/2.0',
        'received SIP/2.0 180 Ringing',
        'received SIP/2.0 200 OK',
        'sent ACK sip:+8613800138000@127.0.0.1:6601 SIP/2.0',
        'received UPDATE sip:agent1@127.0.0.1:6602;transport=UDP SIP/2.0',
        'sent SIP/2.0 200 OK',
        'sent BYE sip:+8613800138000@127.0.0.1:6601 SIP/2.0',
        'received SIP/2.0 200 OK',
      ],
    );
    const raw = await fs.readFile(FIXTURE, 'latin1');
    const announced = [...raw.matchAll(/message (?:received \[(\d+)\] bytes :|sent \((\d+) bytes\):)/g)].map((m) => Number(m[1] ?? m[2]));
    assert.deepEqual(all.map((m) => Buffer.byteLength(m.text)), announced);
    for (const m of all) {
      assert.equal(m.complete, true);
      assert.equal(m.transport, 'UDP');
      assert.equal(m.control, false);
      assert.match(m.time ?? '', /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/);
      // Whole messages: CRLF line ends, the blank line after the headers, nothing of the file format.
      assert.match(m.text, /\r\n\r\n/);
      assert.doesNotMatch(m.text, /-{47}|message (received|sent)/);
    }
  });

  test('readReceivedMessages: only what the phone received, headers and SDP included', async () => {
    const received = await readReceivedMessages(FIXTURE);
    assert.equal(received.length, 4);
    assert.ok(received.every((m) => !m.startsWith('INVITE ') && !m.startsWith('ACK ') && !m.startsWith('BYE ')), 'none of the requests the phone sent');
    const ok = received[1]!;
    assert.match(ok, /^SIP\/2\.0 200 OK\r\n/);
    assert.match(ok, /\r\nP-Asserted-Identity: "Forwarded" <sip:\+8613722334455@127\.0\.0\.1>\r\n/);
    assert.match(ok, /\r\n\r\nv=0\r\no=trunk .*\r\na=rtpmap:0 PCMU\/8000\r\n$/s);
    assert.match(received[2]!, /\r\nRemote-Party-ID: "Forwarded" <sip:\+8618655667788@127\.0\.0\.1>;party=called/);
  });

  test('the search on the real file: the trunk identities in PAI and RPID; the dialled number only in the echoes of To and From', async () => {
    const received = await readReceivedMessages(FIXTURE);
    const at = (n: string) => findLeaks(received, n).map((l) => `${l.messageIndex} ${l.where} ${l.form}`);
    assert.deepEqual(at('+8613722334455'), ['0 P-Asserted-Identity E.164', '0 Remote-Party-ID E.164', '1 P-Asserted-Identity E.164', '1 Remote-Party-ID E.164']);
    assert.deepEqual(at('+8618655667788'), ['2 P-Asserted-Identity E.164', '2 Remote-Party-ID E.164']);
    // The trunk's UPDATE has the call's To as its From (it is the UAS's own address).
    assert.deepEqual(at(CUSTOMER), ['0 To E.164', '1 To E.164', '2 From E.164', '3 To E.164']);
  });

  test('a file read while sipp writes: the entries so far, the last one marked incomplete', async () => {
    const raw = await fs.readFile(FIXTURE);
    const cut = raw.subarray(0, raw.indexOf('P-Asserted-Identity', raw.indexOf('UPDATE sip:')));
    const all = parseMessageFile(cut);
    assert.equal(all.length, 5);
    assert.deepEqual(all.map((m) => m.complete), [true, true, true, true, false]);
    assert.match(all[4]!.text, /^UPDATE sip:agent1@127\.0\.0\.1:6602;transport=UDP SIP\/2\.0\r\n[\s\S]*Allow: INVITE, ACK, BYE, CANCEL, UPDATE\r\n$/);
    assert.deepEqual(parseMessageFile(Buffer.alloc(0)), []);
  });

  test("sipp's notes (no time, not a message line) are skipped: they repeat a message already logged", () => {
    const invite = sip('INVITE sip:1@127.0.0.1 SIP/2.0', 'Call-ID: a', '', '');
    const file =
      entry('received', invite) +
      `${'-'.repeat(47)}\nUnexpected UDP message received:\n\n${invite}\n` +
      `${'-'.repeat(47)}\nDead call a received a UDP message:\n\n${invite}\n` +
      entry('sent', sip('SIP/2.0 481 Call/Transaction Does Not Exist', 'Call-ID: a', '', ''));
    const all = parseMessageFile(Buffer.from(file, 'latin1'));
    assert.deepEqual(all.map((m) => [m.direction, m.text.split('\r\n')[0], m.complete]), [
      ['received', 'INVITE sip:1@127.0.0.1 SIP/2.0', true],
      ['sent', 'SIP/2.0 481 Call/Transaction Does Not Exist', true],
    ]);
  });

  test('byte counts, not characters: a UTF-8 display name; a message shorter than announced; control sockets', () => {
    const utf8 = sip('SIP/2.0 180 Ringing', 'From: "José Müller" <sip:+8613800138000@h>;tag=1', 'Content-Length: 0', '', '');
    const short = sip('SIP/2.0 200 OK', 'Content-Length: 0', '', '');
    const file = Buffer.concat([
      Buffer.from(entry('received', utf8), 'utf8'),
      // sipp prints received messages with %s: a NUL byte would cut the text short of the count.
      Buffer.from(entry('received', short, undefined, Buffer.byteLength(short) + 7), 'utf8'),
      Buffer.from(`${'-'.repeat(47)} 2026-12-01 21:38:15.303174\nUDP control message sent (3 bytes):\n\nabc\n`, 'utf8'),
    ]);
    const all = parseMessageFile(file);
    assert.deepEqual(all.map((m) => [m.text, m.complete, m.control]), [
      [utf8, true, false],
      [short, false, false],
      ['abc', true, true],
    ]);
    assert.equal(findLeaks([all[0]!.text], CUSTOMER)[0]?.where, 'From');
  });
});

describe('the forms of a number', () => {
  const texts = (e164: string) => numberForms(e164).map((f) => f.text);

  test('E.164 with and without +, 00 and 011, national, national with trunk prefix', () => {
    for (const t of ['+8613800138000', '8613800138000', '008613800138000', '0118613800138000', '13800138000', '013800138000']) {
      assert.ok(texts(CUSTOMER).includes(t), t);
    }
    assert.ok(texts('+442071838750').includes('02071838750'));
    assert.ok(texts('+79161234567').includes('89161234567'), 'RU trunk prefix 8 from the metadata');
    const us = numberForms('+14155550123');
    assert.ok(us.some((f) => f.text === '14155550123' && /E\.164 without \+/.test(f.form) && /trunk prefix 1/.test(f.form)), 'NANP: 1 + NSN is one form with both names');
    assert.ok(us.some((f) => f.text === '4155550123'));
  });

  test('each form is found as written, with separators and escapes', () => {
    const cases: [string, string[]][] = [
      [CUSTOMER, ['+86 138 0013 8000', '+86-138-0013-8000', '%2B8613800138000', '%2b86%20138%200013%208000', '0086 138 0013 8000', '011 86 138.0013.8000', '(0138) 0013-8000', '138%2D0013%2D8000', '+ 86 (138) 0013 8000', '+86\t13800138000']],
      ['+14155550123', ['(415) 555-0123', '1-415-555-0123', '+1 415 555 0123', '011 1 415 555 0123', '415.555.0123']],
      ['+442071838750', ['020 7183 8750', '+44 (0)20 7183 8750', '+44 20 7183 8750', '00442071838750']],
    ];
    for (const [e164, written] of cases) {
      for (const w of written) assert.equal(findLeaks([`X-Note: ${w}\r\n`], e164).length, 1, `${e164} as ${JSON.stringify(w)}`);
    }
  });

  test('digits on two lines do not make a number (line breaks are not separators)', () => {
    assert.deepEqual(findLeaks([sip('a=x:138', '00138000')], CUSTOMER), []);
  });

  test("the SDP origin's random session id and version are not read as a number; the rest of the SDP is", () => {
    const sdp = (origin: string, extra = '') => `SIP/2.0 200 OK\r\nContent-Type: application/sdp\r\n\r\nv=0\r\no=- ${origin} IN IP4 127.0.0.1\r\ns=Asterisk\r\n${extra}`;
    // The origin a CI run got from Asterisk: 1385186900 holds "00138" (the hidden digits with a neighbour).
    assert.deepEqual(findLeaks([sdp('1385186900 1385186900')], CUSTOMER, MASKED), []);
    assert.equal(findLeaks([sdp('1 1', 'i=13800138000\r\n')], CUSTOMER, MASKED).length, 1);
  });

  test('only canonical E.164 is accepted', () => {
    for (const bad of ['13800138000', '+86 138 0013 8000', '+0123', '']) assert.throws(() => numberForms(bad), /not canonical E\.164/);
  });
});

describe('the hidden digits', () => {
  test('the 4 hidden digits with the visible neighbour on each side', () => {
    assert.deepEqual(hiddenDigitPatterns(CUSTOMER, MASKED).map((p) => p.text), ['80013', '00138']);
    assert.deepEqual(hiddenDigitPatterns(CUSTOMER, '+86 138****8000').map((p) => p.text), ['80013', '00138'], 'the display form works too');
    assert.deepEqual(hiddenDigitPatterns('+14155550123', '415****123').map((p) => p.text), ['55550', '55501']);
    const m = maskNumber('+442071838750').national;
    assert.deepEqual(hiddenDigitPatterns('+442071838750', m).map((p) => p.text), ['71838', '18387']);
  });

  test('from maskNumber for any length: 5 digits have a neighbour on one side; 4 or fewer none', () => {
    assert.deepEqual(hiddenDigitPatterns('+8613800', maskNumber('+8613800').national).map((p) => p.text), ['13800'], 'NSN 13800 as ****0: the hidden 1380 and the 0 after');
    assert.deepEqual(hiddenDigitPatterns('+6831234', maskNumber('+6831234').national), []);
    assert.deepEqual(partialMaskPatterns('+6831234', '****'), []);
  });

  test('a mask that does not fit the number is an error in the test, not a silent pass', () => {
    assert.throws(() => hiddenDigitPatterns(CUSTOMER, '139****8000'), /does not have/);
    assert.throws(() => hiddenDigitPatterns(CUSTOMER, '138***8000'), /not a mask/);
    assert.throws(() => hiddenDigitPatterns(CUSTOMER, '138-****-8000'), /digits and \*/);
  });

  test('the hidden run with a neighbour is found, also with separators', () => {
    const hit = (text: string) => findLeaks([`X-Note: ${text}\r\n`], CUSTOMER, MASKED).map((l) => l.form);
    assert.deepEqual(hit('ext 80013'), ['hidden digits 0013 with the visible 8 before them']);
    assert.deepEqual(hit('ext 8-0013'), ['hidden digits 0013 with the visible 8 before them']);
    assert.deepEqual(hit('code 00138'), ['hidden digits 0013 with the visible 8 after them']);
    assert.deepEqual(hit('0013 8'), ['hidden digits 0013 with the visible 8 after them']);
    // In the masked layout the wider masked-form hit names it (see the next test).
    assert.deepEqual(hit('13800138***'), ['masked form showing hidden digit 4 (0)']);
  });

  test('one more digit shown next to the mask (1380***8000): the neighbour patterns miss it, the masked-layout patterns find it', () => {
    for (const shown of ['1380***8000', '138***38000', '138*0**8000', '1380****000', '+86 1380***8000', 'sip:1380%2A%2A%2A8000@h']) {
      const text = `From: "x" <sip:${shown}@h>\r\n`;
      assert.ok(hiddenDigitPatterns(CUSTOMER, MASKED).every((p) => !new RegExp(p.regex.source).test(text)), `${shown}: no neighbour pattern`);
      const leaks = findLeaks([text], CUSTOMER, MASKED);
      assert.ok(leaks.length >= 1 && leaks.every((l) => /^masked form showing hidden digit/.test(l.form)), `${shown}: ${JSON.stringify(leaks.map((l) => l.form))}`);
    }
  });

  test('not caught: a lone run of the hidden digits without a visible neighbour (too common to search for)', () => {
    assert.deepEqual(findLeaks([`X-Note: ${MASKED} room 0013\r\n`], CUSTOMER, MASKED), []);
  });
});

describe('searching SIP messages', () => {
  // What a carrier or Asterisk may send an agent's phone with the number in it, one place each.
  const leaking: [string, string, string][] = [
    ['From display name', 'From', sip('INVITE sip:alice@127.0.0.1:5071 SIP/2.0', 'From: "013800138000" <sip:anonymous@anonymous.invalid>;tag=a1', 'To: <sip:alice@127.0.0.1:5071>', 'Content-Length: 0', '', '')],
    ['From user', 'From', sip('INVITE sip:alice@127.0.0.1:5071 SIP/2.0', 'From: "Customer" <sip:+8613800138000@127.0.0.1>;tag=a1', 'Content-Length: 0', '', '')],
    ['PAI as a tel: URI with dashes', 'P-Asserted-Identity', sip('INVITE sip:alice@127.0.0.1:5071 SIP/2.0', 'P-Asserted-Identity: <tel:+86-138-0013-8000>', 'Content-Length: 0', '', '')],
    ['Remote-Party-ID, 00 prefix', 'Remote-Party-ID', sip('SIP/2.0 180 Ringing', 'Remote-Party-ID: "Cust" <sip:008613800138000@127.0.0.1>;party=calling;privacy=off;screen=no', 'Content-Length: 0', '', '')],
    ['Diversion, national', 'Diversion', sip('INVITE sip:alice@127.0.0.1:5071 SIP/2.0', 'Diversion: <sip:13800138000@127.0.0.1>;reason=unconditional;counter=1', 'Content-Length: 0', '', '')],
    ['%2B in the URI', 'Contact', sip('SIP/2.0 200 OK', 'Contact: <sip:%2B8613800138000@127.0.0.1:5060>', 'Content-Length: 0', '', '')],
    ['%20 separators in the URI', 'To', sip('UPDATE sip:alice@127.0.0.1:5071 SIP/2.0', 'To: <sip:138%200013%208000@127.0.0.1>;tag=b2', 'Content-Length: 0', '', '')],
    ['folded PAI', 'P-Asserted-Identity', sip('UPDATE sip:alice@127.0.0.1:5071 SIP/2.0', 'P-Asserted-Identity: "Cust"', ' <sip:+8613800138000@127.0.0.1>', 'Content-Length: 0', '', '')],
    ['the Request-URI', 'start line', sip('INVITE sip:8613800138000@127.0.0.1:5071 SIP/2.0', 'Content-Length: 0', '', '')],
    [
      'the SDP o= line',
      'body (o=)',
      sip('SIP/2.0 200 OK', 'Content-Type: application/sdp', 'Content-Length: 97', '', 'v=0', 'o=13800138000 1817375290 1817375292 IN IP4 127.0.0.1', 's=Asterisk', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 10000 RTP/AVP 0'),
    ],
  ];

  test.each(leaking)('found: %s', (_name, where, message) => {
    const leaks = findLeaks(['SIP/2.0 100 Trying\r\nContent-Length: 0\r\n\r\n', message], CUSTOMER, MASKED);
    assert.equal(leaks.length, 1, JSON.stringify(leaks));
    assert.equal(leaks[0]!.messageIndex, 1);
    assert.equal(leaks[0]!.where, where);
    assert.equal(leaks[0]!.startLine, message.split('\r\n')[0]);
    assert.match(leaks[0]!.excerpt, /\[[^\]]+\]/, 'the match is marked in the excerpt');
    assert.doesNotMatch(leaks[0]!.excerpt, /[\r\n]/);
  });

  test('one hit per place, named by the widest form (E.164 rather than the national number inside it)', () => {
    const leaks = findLeaks(['From: <sip:+8613800138000@h>, <tel:+8613800138000>\r\n'], CUSTOMER, MASKED);
    assert.deepEqual(leaks.map((l) => [l.form, l.match]), [['E.164', '+8613800138000'], ['E.164', '+8613800138000']]);
  });

  // What the agent's phone should receive in mask mode: the masked number wherever the number was.
  const clean = [
    sip(
      'INVITE sip:alice@127.0.0.1:5071 SIP/2.0',
      'Via: SIP/2.0/UDP 127.0.0.1:5060;rport;branch=z9hG4bKPj5f6c1b7e-2b1d-4b0e-9a4f-3c2e1d0a9b8c',
      'From: "+86 138****8000" <sip:138****8000@127.0.0.1>;tag=8d0e9f2a-6b3c-4d5e-8f7a-1b2c3d4e5f60',
      'To: <sip:alice@127.0.0.1:5071>',
      'Contact: <sip:asterisk@127.0.0.1:5060>',
      'Call-ID: 0b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e',
      'CSeq: 27514 INVITE',
      'P-Asserted-Identity: "+86 138****8000" <sip:138****8000@127.0.0.1>',
      'Remote-Party-ID: "+86 138****8000" <sip:138****8000@127.0.0.1>;party=calling;privacy=off;screen=no',
      'Allow: OPTIONS, REGISTER, SUBSCRIBE, NOTIFY, PUBLISH, INVITE, ACK, BYE, CANCEL, UPDATE, PRACK, INFO, REFER',
      'Max-Forwards: 70',
      'User-Agent: Asterisk PBX 20.9.3',
      'Content-Type: application/sdp',
      'Content-Length:   229',
      '',
      'v=0',
      'o=- 1817375290 1817375292 IN IP4 127.0.0.1',
      's=Asterisk',
      'c=IN IP4 127.0.0.1',
      't=0 0',
      'm=audio 10046 RTP/AVP 0 8 101',
      'a=rtpmap:0 PCMU/8000',
      'a=rtpmap:8 PCMA/8000',
      'a=rtpmap:101 telephone-event/8000',
      'a=fmtp:101 0-16',
      'a=ptime:20',
      'a=maxptime:150',
      'a=sendrecv',
    ),
    sip('UPDATE sip:127.0.0.1:5071;transport=UDP SIP/2.0', 'P-Asserted-Identity: <sip:%2B86138%2A%2A%2A%2A8000@127.0.0.1>', 'Content-Length: 0', '', ''),
    sip('BYE sip:127.0.0.1:5071 SIP/2.0', 'Reason: Q.850;cause=16', 'Content-Length: 0', '', ''),
  ];

  test('clean: the masked number (138****8000, +86 138****8000, %2A escapes) is no hit', () => {
    assert.deepEqual(findLeaks(clean, CUSTOMER, MASKED), []);
    assert.doesNotThrow(() => assertNoLeaks(clean, CUSTOMER, MASKED, 'clean'));
  });

  test('assertNoLeaks names the message, the header, the form and shows the excerpt', () => {
    const leaked = [...clean, leaking[2]![2]];
    assert.throws(
      () => assertNoLeaks(leaked, CUSTOMER, MASKED, 'inbound, mask'),
      (err: Error) => {
        assert.match(err.message, /^inbound, mask: 1 hit\(s\) of \+8613800138000 \(masked 138\*\*\*\*8000\) in 4 message\(s\):/);
        assert.match(err.message, /message 3 \(INVITE sip:alice@127\.0\.0\.1:5071 SIP\/2\.0\), P-Asserted-Identity: E\.164: .*<tel:\[\+86-138-0013-8000\]>/);
        return true;
      },
    );
  });
});
