// Small ARI look-ups for assertions (fetch + basic auth), independent of the adapter's client.
import { setTimeout as sleep } from 'node:timers/promises';
import { integrationEnv } from './env.js';

export async function ariGet<T = unknown>(path: string): Promise<T> {
  const env = integrationEnv();
  const res = await fetch(`${env.ariUrl}/ari${path}`, {
    headers: { authorization: `Basic ${Buffer.from(`${env.ariUser}:${env.ariPassword}`).toString('base64')}` },
    signal: AbortSignal.timeout(5000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`ARI GET ${path}: HTTP ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

export interface AriChannel {
  id: string;
  name: string;
  state: string;
  caller: { name: string; number: string };
  dialplan: { context: string; exten: string; priority: number };
}

export interface AriBridge {
  id: string;
  bridge_type: string;
  channels: string[];
}

/**
 * Waits (up to timeoutMs) until Asterisk has no channels and no bridges; throws listing what is
 * left. Run it after every test: a call that outlives its test is a bug.
 */
export async function assertNoChannelsLeft(timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let channels: AriChannel[] = [];
  let bridges: AriBridge[] = [];
  for (;;) {
    [channels, bridges] = await Promise.all([ariGet<AriChannel[]>('/channels'), ariGet<AriBridge[]>('/bridges')]);
    if (channels.length === 0 && bridges.length === 0) return;
    if (Date.now() >= deadline) break;
    await sleep(100);
  }
  const list = [
    ...channels.map((c) => `channel ${c.name} (${c.state}, ${c.dialplan.context},${c.dialplan.exten},${c.dialplan.priority})`),
    ...bridges.map((b) => `bridge ${b.id} (${b.bridge_type}, ${b.channels.length} channels)`),
  ];
  throw new Error(`left after ${timeoutMs} ms: ${list.join('; ')}`);
}
