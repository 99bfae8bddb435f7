// The transcript reader of the fake FreeSWITCH (test/support/fake-freeswitch/transcript.ts) read
// against the recordings themselves (test/fixtures/freeswitch-esl/, FreeSWITCH 1.10.12), and the fake's
// URL encoding of plain-format values against what FreeSWITCH really encoded.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { unescape } from 'node:querystring';
import { describe, test } from 'vitest';
import { fsEncode } from '../support/fake-freeswitch/fake-freeswitch.js';
import { TRANSCRIPT_DIR, header, jsonEvents, parseHeaderBlock, plainEvents, readWire, serverFrames, splitFrames, type Frame } from '../support/fake-freeswitch/transcript.js';

const FILES = ['inbound-auth.txt', 'outbound-callerid-park.txt', 'outbound-socket-app.txt', 'errors.txt', 'dtmf-survey.txt'] as const;
/** This project's own calls on a real FreeSWITCH 1.10.12: the same format, read by the same rules. */
const REAL_FILES = readdirSync(path.join(TRANSCRIPT_DIR, 'real-1.10.12'))
  .filter((f) => f.endsWith('.txt'))
  .map((f) => `real-1.10.12/${f}`);

const lines = (file: string) => readFileSync(path.join(TRANSCRIPT_DIR, file), 'utf8').split('\n');

/**
 * The server's bytes straight from the README's rules, line by line (not through readWire): a `<< `
 * line is its text and an LF, a bare `<<` an LF alone, `#%%` takes back the LF of the wire line
 * before it; every other line is the client's or a note.
 */
function serverBytesByReadme(file: string): string {
  let out = '';
  let last: 'server' | 'client' | undefined;
  for (const line of lines(file)) {
    if (line.startsWith('#%%')) {
      if (last === 'server') {
        assert.ok(out.endsWith('\n'));
        out = out.slice(0, -1);
      }
    } else if (line === '<<' || line.startsWith('<< ')) {
      out += `${line.slice(3)}\n`;
      last = 'server';
    } else if (line === '>>' || line.startsWith('>> ')) last = 'client';
  }
  return out;
}

const contentType = (f: Frame) => header(f.headers, 'Content-Type');

describe.each([...FILES, ...REAL_FILES])('%s', (file) => {
  test('the frames split from each stretch of server bytes re-join to exactly those bytes', () => {
    const chunks = readWire(file).filter((c) => c.from === 'server');
    assert.ok(chunks.length > 0);
    for (const [i, chunk] of chunks.entries()) {
      assert.equal(
        splitFrames(chunk.bytes)
          .map((f) => f.raw)
          .join(''),
        chunk.bytes,
        `server chunk ${i}`,
      );
    }
    const all = chunks.map((c) => c.bytes).join('');
    assert.equal(
      serverFrames(file)
        .map((f) => f.raw)
        .join(''),
      all,
    );
    assert.equal(all, serverBytesByReadme(file), 'readWire follows the README (<<, bare <<, #%%)');
  });

  test("every frame's body is exactly its Content-Length in bytes, and a frame is its header block, an empty line and the body", () => {
    const frames = serverFrames(file);
    assert.ok(frames.length > 0);
    for (const [i, f] of frames.entries()) {
      const length = header(f.headers, 'Content-Length');
      if (length === undefined) assert.equal(f.body, '', `frame ${i} has no Content-Length and no body`);
      else assert.equal(Buffer.byteLength(f.body), Number(length), `frame ${i} (${contentType(f)})`);
      assert.ok(contentType(f), `frame ${i} has a Content-Type`);
      const block = f.raw.slice(0, f.raw.length - f.body.length);
      assert.ok(block.endsWith('\n\n'), `frame ${i}: header block ends with an empty line`);
      assert.deepEqual(parseHeaderBlock(block), f.headers);
    }
  });

  test('the bodies noted `#%%` (no LF at the end on the wire) are exactly the bodies that do not end with LF', () => {
    const all = lines(file);
    const noted = all.flatMap((l, i) => (l.startsWith('#%%') ? [all[i - 1]!] : []));
    // Every note follows a line FreeSWITCH sent (the client's commands always end with LF).
    for (const l of noted) assert.ok(l.startsWith('<< '), l.slice(0, 40));
    const withoutLf = serverFrames(file).filter((f) => f.body.length > 0 && !f.body.endsWith('\n'));
    assert.equal(withoutLf.length, noted.length);
    for (const [i, f] of withoutLf.entries()) assert.ok(f.body.endsWith(noted[i]!.slice(3)), `noted body ${i} is the one that ends with the noted line`);
  });
});

test('dtmf-survey.txt: every JSON event body parses whole, names its event, and jsonEvents returns them all in order', () => {
  const frames = serverFrames('dtmf-survey.txt').filter((f) => contentType(f) === 'text/event-json');
  assert.equal(frames.length, 33);
  const parsed = frames.map((f) => JSON.parse(f.body) as Record<string, string>);
  for (const [i, f] of frames.entries()) {
    assert.ok(f.body.startsWith('{') && f.body.endsWith('}'), `frame ${i}: the body is the JSON object and nothing else`);
    assert.equal(typeof parsed[i]!['Event-Name'], 'string');
  }
  assert.deepEqual(jsonEvents('dtmf-survey.txt'), parsed);
  // The README's story, in the recorded order.
  const names = parsed.map((e) => e['Event-Name']);
  assert.equal(names.filter((n) => n === 'CHANNEL_HANGUP_COMPLETE').length, 2);
  const dtmf = parsed.find((e) => e['Event-Name'] === 'DTMF')!;
  assert.deepEqual([dtmf['DTMF-Digit'], dtmf['DTMF-Source']], ['1', 'RTP']);
  assert.ok(parsed.some((e) => e['Event-Name'] === 'CHANNEL_EXECUTE_COMPLETE' && e.variable_survey_digit === '1'));
});

test('inbound-auth.txt: the JSON BACKGROUND_JOBs parse, with the job output in _body', () => {
  const jobs = jsonEvents('inbound-auth.txt');
  assert.equal(jobs.length, 2);
  for (const j of jobs) {
    assert.equal(j['Event-Name'], 'BACKGROUND_JOB');
    assert.equal(typeof j._body, 'string');
  }
});

test('splitFrames counts Content-Length in bytes, as FreeSWITCH does (a UTF-8 body)', () => {
  // "é" is two bytes: "Zoé Ab" is 6 characters and 7 bytes; the next frame starts right after it.
  const body = 'Zoé Ab';
  assert.equal(Buffer.byteLength(body), 7);
  const next = 'Content-Type: command/reply\nReply-Text: +OK\n\n';
  const frames = splitFrames(`Content-Type: api/response\nContent-Length: 7\n\n${body}${next}`);
  assert.equal(frames.length, 2);
  assert.equal(frames[0]!.body, body);
  assert.equal(frames[1]!.raw, next);
});

test("plainEvents: an event's headers are its own header block, not the lines of the body it carries (BACKGROUND_JOB)", () => {
  const jobs = plainEvents('inbound-auth.txt').filter((e) => e.name === 'BACKGROUND_JOB');
  assert.equal(jobs.length, 1);
  const names = jobs[0]!.headers.map(([k]) => k);
  // Header names are tokens; the job's output (`api status` text) is the event's body.
  assert.deepEqual(
    names.filter((k) => !/^[A-Za-z0-9_-]+$/.test(k)),
    [],
  );
});

// ---- fsEncode against FreeSWITCH's own encoding ----

/** The header block of a plain event's body (a BACKGROUND_JOB's own body left out), values as sent. */
const plainHeaderBlocks = (file: string) =>
  serverFrames(file)
    .filter((f) => contentType(f) === 'text/event-plain')
    .map((f) => parseHeaderBlock(f.body.split('\n\n')[0]!));

/** Headers of which the recorded value is not what fsEncode makes of its decoded value. */
const misencoded = (headers: [string, string][]) => headers.filter(([, v]) => fsEncode(unescape(v)) !== v).map(([k, v]) => `${k}: ${v} -> ${fsEncode(unescape(v))}`);

test("fsEncode: every header of outbound-callerid-park.txt's two CHANNEL_HANGUP_COMPLETEs, decoded and encoded again, is the recorded text", () => {
  const ends = plainEvents('outbound-callerid-park.txt').filter((e) => e.name === 'CHANNEL_HANGUP_COMPLETE');
  assert.deepEqual(
    ends.map((e) => e.uniqueId),
    ['c410f828-177d-4621-b9a9-2a5672036bc9', '64a74104-7b40-4c3e-910d-df32ede69845'],
  );
  for (const e of ends) {
    assert.ok(e.headers.length > 150, `${e.uniqueId}: the whole event (${e.headers.length} headers)`);
    assert.deepEqual(misencoded(e.headers), [], e.uniqueId);
    // Not vacuous: FreeSWITCH encoded many of these values, and the fake has to do the same.
    const encoded = e.headers.filter(([, v]) => unescape(v) !== v);
    assert.ok(encoded.length > 20, `${e.uniqueId}: ${encoded.length} encoded values`);
  }
  // What the recording shows of FreeSWITCH's set: '@' ':' ' ' '+' '<' '>' ';' '=' '"' encoded, '/' ',' '(' kept.
  const a = Object.fromEntries(ends[1]!.headers);
  assert.equal(a['Channel-Name'], 'sofia/internal/1001%40127.0.0.1%3A5081');
  assert.equal(fsEncode('sofia/internal/1001@127.0.0.1:5081'), 'sofia/internal/1001%40127.0.0.1%3A5081');
  assert.equal(a['variable_effective_caller_id_number'], '%2B14155550100');
  assert.equal(a['variable_effective_caller_id_name'], 'Acme%20Sales');
  assert.equal(a['Caller-Caller-ID-Name'], 'Agent%201001');
});

test('fsEncode: every header of every plain event in the transcripts, and the socket connect reply, come out as recorded', () => {
  let checked = 0;
  for (const file of FILES) {
    for (const [i, headers] of plainHeaderBlocks(file).entries()) {
      assert.deepEqual(misencoded(headers), [], `${file} plain event ${i}`);
      checked += headers.length;
    }
  }
  assert.ok(checked > 3000, `${checked} headers`);
  // The outbound socket's connect reply: the channel data as command/reply headers, encoded the same way.
  const connect = serverFrames('outbound-socket-app.txt')[0]!;
  assert.equal(header(connect.headers, 'Reply-Text'), '%2BOK%0A');
  assert.equal(header(connect.headers, 'Event-Name'), 'CHANNEL_DATA');
  assert.deepEqual(misencoded(connect.headers), []);
});

test('real-1.10.12: all 12 files are there, and every call socket\'s connect reply re-encodes as FreeSWITCH encoded it', () => {
  assert.equal(REAL_FILES.length, 12);
  let checked = 0;
  for (const file of REAL_FILES.filter((f) => /\/(0\d|10)-/.test(f))) {
    const connect = serverFrames(file)[0]!;
    assert.equal(header(connect.headers, 'Event-Name'), 'CHANNEL_DATA', file);
    assert.deepEqual(misencoded(connect.headers), [], file);
    checked += connect.headers.length;
  }
  assert.ok(checked > 1500, `${checked} headers`);
});

test('real-1.10.12: the sync decision sockets (01-05) say Socket-Mode: static, the survey sockets (06-10) async', () => {
  for (const file of REAL_FILES.filter((f) => /\/(0\d|10)-/.test(f))) {
    const mode = header(serverFrames(file)[0]!.headers, 'Socket-Mode');
    assert.equal(mode, /\/0[1-5]-/.test(file) ? 'static' : 'async', file);
  }
});
