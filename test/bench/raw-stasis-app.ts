// The floor of any Stasis-based decision on this Asterisk: a raw websocket app (no ari-client, no
// policy, no database) that answers each outbound StasisStart with the same requests the adapter
// sends (the caller ID name, then continue to [callpolicy-decided], in one TCP write) and lets the
// h extension's StasisStart go on.
import WebSocket from 'ws';

export interface RawStasisApp {
  stop(): Promise<void>;
}

export async function startRawStasisApp(opts: { ariUrl: string; user: string; password: string; app: string; callerId: string; callerName: string }): Promise<RawStasisApp> {
  const u = new URL(opts.ariUrl);
  const ws = new WebSocket(`ws://${u.host}/ari/events?app=${encodeURIComponent(opts.app)}&api_key=${encodeURIComponent(`${opts.user}:${opts.password}`)}`);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let seq = 0;
  const send = (uri: string) => ws.send(JSON.stringify({ type: 'RESTRequest', request_id: `raw${++seq}`, method: 'POST', uri }));
  ws.on('message', (data) => {
    const e = JSON.parse(String(data)) as { type: string; args?: string[]; channel?: { id: string; dialplan?: { exten: string } } };
    if (e.type !== 'StasisStart' || !e.channel) return;
    const id = encodeURIComponent(e.channel.id);
    if (e.args?.[0] !== 'outbound') {
      send(`channels/${id}/continue`);
      return;
    }
    const tcp = (ws as unknown as { _socket: { cork(): void; uncork(): void } })._socket;
    tcp.cork();
    if (opts.callerName) send(`channels/${id}/variable?variable=CALLPOLICY_NAME&value=${encodeURIComponent(opts.callerName)}`);
    const extension = encodeURIComponent(`${opts.callerId}*${e.channel.dialplan?.exten ?? ''}`);
    send(`channels/${id}/continue?context=callpolicy-decided&extension=${extension}&priority=1`);
    tcp.uncork();
  });
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        ws.once('close', () => resolve());
        ws.close();
      }),
  };
}
