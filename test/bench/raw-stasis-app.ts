// The floor of any Stasis-based decision on this Asterisk: a raw websocket app (no ari-client, no
// policy, no database) that answers each outbound StasisStart with the same two requests the adapter
// sends (the decision variable, then continue) and lets the h extension's StasisStart go on.
import WebSocket from 'ws';

export interface RawStasisApp {
  stop(): Promise<void>;
}

export async function startRawStasisApp(opts: { ariUrl: string; user: string; password: string; app: string; callerId: string }): Promise<RawStasisApp> {
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
    if (e.args?.[0] === 'outbound') {
      const decision = `dial|${opts.callerId}|${e.channel.dialplan?.exten ?? ''}|`;
      send(`channels/${id}/variable?variable=CALLPOLICY_DECISION&value=${encodeURIComponent(decision)}`);
    }
    send(`channels/${id}/continue`);
  });
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        ws.once('close', () => resolve());
        ws.close();
      }),
  };
}
