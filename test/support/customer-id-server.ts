// A small real HTTP server playing the site's customer-ID interface (number protection, mode
// customer-id) for tests: GET ?number=<E.164> -> {"customerId": ...}, GET ?customerId=<id> ->
// {"number": ...}, 404 for unknown keys. Its behaviour can be switched while it runs: answer,
// answer slowly, answer garbage, or refuse connections (closed) to test every fallback.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type CustomerIdServerMode = 'ok' | 'slow' | 'garbage' | 'error';

export interface CustomerIdServer {
  /** The interface's URL (for the policy's protection.customerId.url). */
  url: string;
  /** number (E.164) -> customer ID */
  customers: Map<string, string>;
  mode: CustomerIdServerMode;
  /** How long 'slow' waits before answering. */
  slowMs: number;
  /** Requests received, in order, as "number=..." / "customerId=..." with the auth header seen. */
  requests: { query: string; auth: string | undefined }[];
  /** Stops listening: connections are refused from now on (the interface is down). */
  close(): Promise<void>;
}

export async function startCustomerIdServer(customers: Record<string, string>, opts: { authHeader?: string } = {}): Promise<CustomerIdServer> {
  const header = (opts.authHeader ?? 'authorization').toLowerCase();
  const state: Omit<CustomerIdServer, 'url' | 'close'> = { customers: new Map(Object.entries(customers)), mode: 'ok', slowMs: 3000, requests: [] };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const auth = req.headers[header];
    state.requests.push({ query: url.searchParams.toString(), auth: Array.isArray(auth) ? auth[0] : auth });
    const answer = () => {
      if (state.mode === 'error') {
        res.writeHead(500).end('{"error":"internal"}');
        return;
      }
      if (state.mode === 'garbage') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"customerId": 12, "number": ["+1"], <html>');
        return;
      }
      const number = url.searchParams.get('number');
      const id = url.searchParams.get('customerId');
      if (number !== null) {
        const found = state.customers.get(number);
        if (found === undefined) res.writeHead(404).end();
        else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ customerId: found }));
        return;
      }
      if (id !== null) {
        const found = [...state.customers].find(([, v]) => v === id)?.[0];
        if (found === undefined) res.writeHead(404).end();
        else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ number: found }));
        return;
      }
      res.writeHead(400).end();
    };
    if (state.mode === 'slow') setTimeout(answer, state.slowMs).unref();
    else answer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const api = state as CustomerIdServer;
  api.url = `http://127.0.0.1:${port}/customer-id`;
  api.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return api;
}
