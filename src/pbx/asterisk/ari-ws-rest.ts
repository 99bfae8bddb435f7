import { AriHttpError, continueQuery, type AriRest, type DialplanTarget } from './ari-rest.js';

/**
 * The calls on the decision path (continue, a variable and continue, an agent's endpoint) as REST requests over
 * the ARI websocket itself (Asterisk 22: a `RESTRequest` message, answered by a `RESTResponse`
 * event with the same request_id). No HTTP request, no new connection: Asterisk reads the
 * websocket's messages one after the other (res/ari/ari_websockets.c: one loop reads a message,
 * runs it, answers it, reads the next), so requests sent back to back are handled in order: the
 * decision's variable and its "continue" go together, one round trip instead of two.
 * While the websocket is not open, the same calls go over HTTP (`fallback`).
 */
export interface WsSocket {
  isOpen(): boolean;
  send(text: string): void;
  /** Runs `fn`, whose sends leave in one write to the network (one system call, one wake-up of Asterisk). */
  together?<T>(fn: () => T): T;
}

export interface RestResponseEvent {
  request_id?: string;
  status_code?: number;
  reason_phrase?: string;
  message_body?: string;
}

export interface WsRest extends AriRest {
  /** Feed every RESTResponse event here. */
  onResponse(event: RestResponseEvent): void;
  /** The websocket is gone: what waits for an answer on it fails now (the caller may retry). */
  failAll(reason: string): void;
}

export function createWsRest(socket: () => WsSocket | undefined, fallback: AriRest, timeoutMs: number): WsRest {
  let seq = 0;
  const pending = new Map<string, { resolve(body: string): void; reject(err: Error): void; timer: NodeJS.Timeout; what: string }>();

  /** Sends one request now (synchronously) and resolves with its body, or null when no socket is open. */
  function send(method: 'POST' | 'GET' | 'DELETE', uri: string): Promise<string> | null {
    const ws = socket();
    if (!ws?.isOpen()) return null;
    const id = `cp${++seq}`;
    const what = `${method} ${uri.split('?')[0]}`;
    const answer = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        const err = new Error(`${what}: no answer on the ARI websocket within ${timeoutMs} ms`);
        err.name = 'TimeoutError';
        reject(err);
      }, timeoutMs);
      pending.set(id, { resolve, reject, timer, what });
    });
    try {
      ws.send(JSON.stringify({ type: 'RESTRequest', transaction_id: id, request_id: id, method, uri }));
    } catch (err) {
      clearTimeout(pending.get(id)!.timer);
      pending.delete(id);
      throw err;
    }
    return answer;
  }

  const ch = (id: string) => `channels/${encodeURIComponent(id)}`;
  const qs = (q: Record<string, string>) => new URLSearchParams(q).toString();
  const continueUri = (channelId: string, to?: DialplanTarget) => (to ? `${ch(channelId)}/continue?${qs(continueQuery(to))}` : `${ch(channelId)}/continue`);

  return {
    ...fallback,
    continueInDialplan(channelId, to) {
      const sent = send('POST', continueUri(channelId, to));
      return sent ? sent.then(() => undefined) : fallback.continueInDialplan(channelId, to);
    },
    setVarsAndContinue(channelId, vars, to) {
      const all = () => {
        const sets: Promise<string>[] = [];
        for (const [variable, value] of vars) {
          const set = send('POST', `${ch(channelId)}/variable?${qs({ variable, value })}`);
          if (!set) return sets.length === 0 ? null : { sets, go: null };
          sets.push(set);
        }
        // Sent in the same tick as the variables, on the same socket: Asterisk runs it last.
        return { sets, go: send('POST', continueUri(channelId, to)) };
      };
      const ws = socket();
      const sent = ws?.together ? ws.together(all) : all();
      if (!sent) return fallback.setVarsAndContinue(channelId, vars, to);
      if (!sent.go) {
        for (const set of sent.sets) set.catch(() => undefined);
        return Promise.reject(new Error(`POST ${ch(channelId)}/continue: the ARI websocket closed between two writes`));
      }
      return Promise.all([...sent.sets, sent.go]).then(() => undefined);
    },
    // Call memory asks for the remembered agent's state while the customer's call waits.
    getEndpoint(technology, resource) {
      const sent = send('GET', `endpoints/${encodeURIComponent(technology)}/${encodeURIComponent(resource)}`);
      return sent ? sent.then((body) => JSON.parse(body) as { state?: string; channel_ids?: string[] }) : fallback.getEndpoint(technology, resource);
    },
    onResponse(event) {
      const waiting = event.request_id ? pending.get(event.request_id) : undefined;
      if (!waiting) return;
      pending.delete(event.request_id!);
      clearTimeout(waiting.timer);
      const status = event.status_code ?? 0;
      if (status >= 200 && status < 300) {
        waiting.resolve(event.message_body ?? '');
        return;
      }
      let message = event.message_body || event.reason_phrase || '';
      try {
        message = (JSON.parse(message) as { message?: string }).message ?? message;
      } catch {
        // not JSON: keep the text
      }
      waiting.reject(new AriHttpError(status, `${waiting.what}: ${status} ${message}`));
    },
    failAll(reason) {
      for (const [id, waiting] of pending) {
        pending.delete(id);
        clearTimeout(waiting.timer);
        waiting.reject(new Error(`${waiting.what}: ${reason}`));
      }
    },
  };
}
