/**
 * The ARI REST calls on the decision path, over Node's fetch (undici, keep-alive connections).
 * ari-client's own REST layer (swagger-client + request) opens a new connection per request and
 * added several milliseconds of post-dial delay per call; its websocket and events stay in use.
 */
export class AriHttpError extends Error {
  override name = 'AriHttpError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

import type { EndpointStatus } from '../call-control.js';

/** Where `continue` sends a channel. */
export interface DialplanTarget {
  context: string;
  extension: string;
  priority: number;
}

/** The query of a `continue` request. */
export function continueQuery(to?: DialplanTarget): Record<string, string> {
  return to ? { context: to.context, extension: to.extension, priority: String(to.priority) } : {};
}

export interface AriRest {
  getChannelVar(channelId: string, variable: string): Promise<string>;
  /** Continues the channel in the dialplan: at the next priority, or at `to`. */
  continueInDialplan(channelId: string, to?: DialplanTarget): Promise<void>;
  /** Sets the variables in order, then continues the channel in the dialplan (the decision). */
  setVarsAndContinue(channelId: string, vars: readonly (readonly [string, string])[], to?: DialplanTarget): Promise<void>;
  getChannel(channelId: string): Promise<{ id: string; name: string; dialplan?: { context: string; exten: string; priority: number } }>;
  applicationChannelIds(app: string): Promise<string[]>;
  /** GET /endpoints/{tech}/{resource}: its state and its channels. */
  getEndpoint(technology: string, resource: string): Promise<{ state?: string; channel_ids?: string[] }>;
  /** Only these event types reach the app's websocket. */
  allowEvents(app: string, types: string[]): Promise<void>;
  /** Plays the media (sound:<name or path>, ...) in order on the channel, as the playback `playbackId`. */
  play(channelId: string, playbackId: string, media: readonly string[]): Promise<void>;
  /** Stops a playback; one already finished answers 404. */
  stopPlayback(playbackId: string): Promise<void>;
  setChannelVar(channelId: string, variable: string, value: string): Promise<void>;
  /** Hangs the channel up (normal clearing). */
  hangup(channelId: string): Promise<void>;
}

/**
 * Asks ARI who we are before ari-client connects: ari-client (its swagger loader) throws a wrong
 * password's 401 from inside an HTTP callback, out of reach of any catch, which would end the
 * process. Here it is an AriHttpError naming the setting to fix.
 */
export async function checkAriAccess(baseUrl: string, user: string, password: string, timeoutMs: number): Promise<void> {
  const url = `${baseUrl.replace(/\/+$/, '')}/ari/asterisk/info`;
  const res = await fetch(url, { headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` }, signal: AbortSignal.timeout(timeoutMs) });
  await res.body?.cancel();
  if (res.status === 401 || res.status === 403) {
    throw new AriHttpError(res.status, `ARI at ${baseUrl} refused user '${user}' (${res.status}): check ARI_USER and ARI_PASSWORD against ari.conf`);
  }
  if (res.status === 404) throw new AriHttpError(404, `no ARI at ${baseUrl} (404): is ARI on (http.conf enabled=yes, ari.conf enabled=yes), and is ARI_URL the Asterisk HTTP server?`);
  if (!res.ok) throw new AriHttpError(res.status, `ARI at ${baseUrl} answered ${res.status}`);
}

export function createAriRest(baseUrl: string, user: string, password: string, timeoutMs: number): AriRest {
  const root = `${baseUrl.replace(/\/+$/, '')}/ari`;
  const authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

  async function call(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, query: Record<string, string> = {}, body?: unknown): Promise<unknown> {
    const qs = new URLSearchParams(query).toString();
    const headers: Record<string, string> = { authorization };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${root}${path}${qs ? `?${qs}` : ''}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    if (!res.ok) {
      let message = text;
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? text;
      } catch {
        // not JSON: keep the text
      }
      throw new AriHttpError(res.status, `${method} ${path}: ${res.status} ${message}`);
    }
    return text ? JSON.parse(text) : undefined;
  }
  const ch = (id: string) => `/channels/${encodeURIComponent(id)}`;

  return {
    async getChannelVar(channelId, variable) {
      return ((await call('GET', `${ch(channelId)}/variable`, { variable })) as { value: string }).value;
    },
    async continueInDialplan(channelId, to) {
      await call('POST', `${ch(channelId)}/continue`, continueQuery(to));
    },
    // Over HTTP the requests may take different connections, so each waits for the one before.
    async setVarsAndContinue(channelId, vars, to) {
      for (const [variable, value] of vars) await call('POST', `${ch(channelId)}/variable`, { variable, value });
      await call('POST', `${ch(channelId)}/continue`, continueQuery(to));
    },
    getChannel: (channelId) => call('GET', ch(channelId)) as ReturnType<AriRest['getChannel']>,
    getEndpoint: (technology, resource) =>
      call('GET', `/endpoints/${encodeURIComponent(technology)}/${encodeURIComponent(resource)}`) as ReturnType<AriRest['getEndpoint']>,
    async applicationChannelIds(app) {
      return ((await call('GET', `/applications/${encodeURIComponent(app)}`)) as { channel_ids: string[] }).channel_ids;
    },
    async allowEvents(app, types) {
      await call('PUT', `/applications/${encodeURIComponent(app)}/eventFilter`, {}, { allowed: types.map((type) => ({ type })) });
    },
    async play(channelId, playbackId, media) {
      await call('POST', `${ch(channelId)}/play/${encodeURIComponent(playbackId)}`, { media: media.join(',') });
    },
    async stopPlayback(playbackId) {
      await call('DELETE', `/playbacks/${encodeURIComponent(playbackId)}`);
    },
    async setChannelVar(channelId, variable, value) {
      await call('POST', `${ch(channelId)}/variable`, { variable, value });
    },
    async hangup(channelId) {
      await call('DELETE', ch(channelId), { reason: 'normal' });
    },
  };
}

/**
 * An agent's endpoint (PJSIP/1001) as ARI reports it: reachable when "online", in a call when it
 * has channels; an endpoint Asterisk does not know is offline. A name that is no endpoint throws.
 */
export async function endpointStatusOf(rest: Pick<AriRest, 'getEndpoint'>, endpoint: string): Promise<EndpointStatus> {
  const slash = endpoint.indexOf('/');
  if (slash <= 0 || slash === endpoint.length - 1) throw new Error(`not a PBX endpoint like PJSIP/1001: ${JSON.stringify(endpoint.slice(0, 40))}`);
  try {
    const e = await rest.getEndpoint(endpoint.slice(0, slash), endpoint.slice(slash + 1));
    return { reachable: e.state === 'online', inCall: (e.channel_ids?.length ?? 0) > 0 };
  } catch (err) {
    if (err instanceof AriHttpError && err.status === 404) return { reachable: false, inCall: false };
    throw err;
  }
}
