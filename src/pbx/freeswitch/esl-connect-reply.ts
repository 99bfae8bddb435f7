// The first exchange on a call's socket (outbound ESL), read by us rather than by `esl`: the
// `connect` reply carries the whole channel (about 175 URL-encoded headers), and esl's parser,
// which decodes every value through querystring, cost about 0.5 ms of the adapter's time per call
// on this machine, on the call's path. Here a value is decoded only when it holds a "%". Once the
// reply is read, the socket is handed to esl for the rest (small replies, events).
import type net from 'node:net';

export interface ConnectReply {
  /** The channel's data: every header of the reply, values decoded. */
  data: Record<string, string>;
  /** Bytes that came after the reply (none expected: FreeSWITCH waits for our next command). */
  rest: Buffer;
}

const decode = (v: string): string => {
  if (!v.includes('%')) return v;
  try {
    return decodeURIComponent(v);
  } catch {
    return v; // a stray "%": kept as sent
  }
};

/** Parses one header block ("Name: value" lines); values are URL-decoded. */
export function parseConnectHeaders(block: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of block.split('\n')) {
    const i = line.indexOf(': ');
    if (i > 0) out[line.slice(0, i)] = decode(line.slice(i + 2));
  }
  return out;
}

/**
 * Sends `connect` and reads FreeSWITCH's reply: a `command/reply` whose headers are the channel's
 * data and whose Reply-Text is +OK. Rejects on anything else, on the socket's end, or after timeoutMs.
 */
export function connectCall(sock: net.Socket, timeoutMs: number): Promise<ConnectReply> {
  return new Promise((resolve, reject) => {
    let buf: Buffer = Buffer.alloc(0);
    const finish = (err: Error | null, reply?: ConnectReply) => {
      clearTimeout(timer);
      // Held until the next reader (esl) attaches and resumes it: no byte is emitted to no one.
      sock.pause();
      sock.off('data', onData);
      sock.off('close', onClose);
      sock.off('error', onError);
      if (err) reject(err);
      else resolve(reply!);
    };
    const onData = (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\n\n');
      if (end < 0) return;
      const headers = parseConnectHeaders(buf.subarray(0, end).toString('utf8'));
      let rest = buf.subarray(end + 2);
      // A reply with a body (never seen for connect): its bytes are skipped, never taken for the next frame.
      const length = Number(headers['Content-Length'] ?? 0);
      if (length > 0) {
        if (rest.length < length) return;
        rest = rest.subarray(length);
      }
      if (headers['Content-Type'] !== 'command/reply' || !(headers['Reply-Text'] ?? '').startsWith('+OK')) {
        return finish(new Error(`connect refused: ${headers['Content-Type'] ?? 'no Content-Type'} ${headers['Reply-Text'] ?? ''}`.trim()));
      }
      finish(null, { data: headers, rest: Buffer.from(rest) });
    };
    const onClose = () => finish(new Error('the socket closed before the connect reply'));
    const onError = (err: Error) => finish(err);
    const timer = setTimeout(() => finish(new Error(`no connect reply in ${timeoutMs} ms`)), timeoutMs);
    sock.on('data', onData);
    sock.once('close', onClose);
    sock.once('error', onError);
    sock.write('connect\n\n');
  });
}
