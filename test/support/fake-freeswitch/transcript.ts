// Reads the ESL wire transcripts recorded from a real FreeSWITCH 1.10.12 (test/fixtures/freeswitch-esl/,
// a copy of the team's ../shared/freeswitch-esl/ kept in the repository so a clean clone has them)
// back into the bytes that crossed the wire, split into ESL frames. The fake FreeSWITCH sends
// these frames (with a call's own ids and numbers put in), so what the driver is tested on is
// what FreeSWITCH really sent, not a hand-written approximation.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const TRANSCRIPT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/freeswitch-esl');

export type Direction = 'client' | 'server';

/** One stretch of bytes sent one way, as recorded (LFs included exactly). */
export interface WireChunk {
  from: Direction;
  bytes: string;
}

/** One ESL frame: a header block (up to the empty line), then Content-Length bytes of body. */
export interface Frame {
  /** Headers in wire order, values as sent (URL-encoded where FreeSWITCH encodes them). */
  headers: [string, string][];
  body: string;
  /** The frame's bytes exactly as they crossed the wire. */
  raw: string;
}

/** Rebuilds the byte streams of a transcript: `>> ` is the client, `<< ` FreeSWITCH, `#%%` drops the LF before it. */
export function readWire(file: string): WireChunk[] {
  const text = readFileSync(path.join(TRANSCRIPT_DIR, file), 'utf8');
  const chunks: WireChunk[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#%%')) {
      const last = chunks.at(-1);
      if (last?.bytes.endsWith('\n')) last.bytes = last.bytes.slice(0, -1);
      continue;
    }
    let from: Direction | undefined;
    let data = '';
    if (line === '>>' || line.startsWith('>> ')) [from, data] = ['client', line.slice(3)];
    else if (line === '<<' || line.startsWith('<< ')) [from, data] = ['server', line.slice(3)];
    if (!from) continue; // a recorder note, or the end of the file
    const last = chunks.at(-1);
    if (last && last.from === from) last.bytes += `${data}\n`;
    else chunks.push({ from, bytes: `${data}\n` });
  }
  return chunks;
}

/** Splits a byte stream into ESL frames by the protocol's own rule (headers, empty line, Content-Length body). */
export function splitFrames(bytes: string): Frame[] {
  // Content-Length counts bytes (UTF-8), as FreeSWITCH reads them.
  const buf = Buffer.from(bytes, 'utf8');
  const frames: Frame[] = [];
  let at = 0;
  while (at < buf.length) {
    // FreeSWITCH's reader skips stray line feeds between frames; so do we.
    if (buf[at] === 0x0a) {
      at++;
      continue;
    }
    const end = buf.indexOf('\n\n', at);
    if (end < 0) throw new Error(`unterminated header block at byte ${at}: ${JSON.stringify(buf.subarray(at, at + 60).toString())}`);
    const headers = parseHeaderBlock(buf.subarray(at, end).toString('utf8'));
    const length = Number(headers.find(([k]) => k.toLowerCase() === 'content-length')?.[1] ?? 0);
    const bodyStart = end + 2;
    if (bodyStart + length > buf.length) throw new Error(`short body at byte ${bodyStart}: wanted ${length}`);
    const body = buf.subarray(bodyStart, bodyStart + length).toString('utf8');
    frames.push({ headers, body, raw: buf.subarray(at, bodyStart + length).toString('utf8') });
    at = bodyStart + length;
  }
  return frames;
}

export function parseHeaderBlock(block: string): [string, string][] {
  return block
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => {
      const colon = l.indexOf(':');
      return [l.slice(0, colon), l.slice(colon + 1).replace(/^ /, '')] as [string, string];
    });
}

export function header(headers: [string, string][], name: string): string | undefined {
  return headers.find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
}

/** Every frame FreeSWITCH sent in a transcript, in order. */
export function serverFrames(file: string): Frame[] {
  return readWire(file)
    .filter((c) => c.from === 'server')
    .flatMap((c) => splitFrames(c.bytes));
}

/** A recorded channel event: its headers in order (plain events: the body's header block, URL-encoded values). */
export interface RecordedEvent {
  name: string;
  uniqueId: string;
  headers: [string, string][];
}

/** The plain-format channel events of a transcript, in the order FreeSWITCH sent them. */
export function plainEvents(file: string): RecordedEvent[] {
  return serverFrames(file)
    .filter((f) => header(f.headers, 'Content-Type') === 'text/event-plain')
    .map((f) => {
      // The event's own header block: a BACKGROUND_JOB carries a body of its own after it.
      const headers = parseHeaderBlock(f.body.split('\n\n')[0]!);
      return { name: header(headers, 'Event-Name') ?? '', uniqueId: decodeURIComponent(header(headers, 'Unique-ID') ?? ''), headers };
    });
}

/** The JSON-format events of a transcript, as FreeSWITCH sent them (key order kept). */
export function jsonEvents(file: string): Record<string, string>[] {
  return serverFrames(file)
    .filter((f) => header(f.headers, 'Content-Type') === 'text/event-json')
    .map((f) => JSON.parse(f.body) as Record<string, string>);
}
