// Who is asking: the API and the dashboard accept an admin token and per-agent tokens. A token
// comes as `Authorization: Bearer <token>` or, for the dashboard in a browser, in the
// `callpolicy_token` cookie its login form sets. Tokens are compared in constant time.
import { createHash, timingSafeEqual } from 'node:crypto';
import { nameSchema } from '../config/policy-file.js';

export type Principal = { kind: 'admin' } | { kind: 'agent'; agentId: string };

export const TOKEN_COOKIE = 'callpolicy_token';
const TOKEN_CHARS = /^[A-Za-z0-9._~+/=-]{16,256}$/;

export class TokenFileError extends Error {
  override name = 'TokenFileError';
}

/**
 * Agent tokens as CALLPOLICY_AGENT_TOKENS or CALLPOLICY_AGENT_TOKENS_FILE write them: entries
 * `<agent id>:<token>`, separated by newlines, spaces or commas; `#` starts a comment. Every bad
 * entry is named with its line; a token given twice, or equal to the admin token, is refused.
 */
export function parseAgentTokens(text: string, source: string, adminToken?: string): Map<string, string> {
  const tokens = new Map<string, string>();
  const problems: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*/, '');
    for (const entry of line.split(/[\s,]+/).filter(Boolean)) {
      const at = `${source} line ${i + 1}`;
      const colon = entry.indexOf(':');
      const agentId = colon > 0 ? entry.slice(0, colon) : '';
      const token = colon > 0 ? entry.slice(colon + 1) : '';
      // Never echo a token: only its agent and position.
      if (!nameSchema.safeParse(agentId).success) problems.push(`${at}: an entry is <agent id>:<token>, and the agent id is 1-64 letters, digits, _ . @ -`);
      else if (!TOKEN_CHARS.test(token)) problems.push(`${at}: the token of agent '${agentId}' must be 16-256 of A-Z a-z 0-9 . _ ~ + / = -`);
      else if (tokens.has(token) || token === adminToken) problems.push(`${at}: the token of agent '${agentId}' is already used by ${token === adminToken ? 'the admin' : `agent '${tokens.get(token)}'`}`);
      else tokens.set(token, agentId);
    }
  });
  if (problems.length > 0) throw new TokenFileError(problems.join('\n'));
  return tokens;
}

export interface TokenSet {
  adminToken: string;
  /** token -> agent id */
  agentTokens: ReadonlyMap<string, string>;
}

// Tokens are compared as SHA-256 digests: equal length, so timingSafeEqual never leaks a length.
const digest = (s: string) => createHash('sha256').update(s).digest();

export function createAuthenticator(tokens: TokenSet): (token: string) => Principal | null {
  const admin = digest(tokens.adminToken);
  const agents = [...tokens.agentTokens].map(([token, agentId]) => ({ d: digest(token), agentId }));
  return (token) => {
    const d = digest(token);
    if (timingSafeEqual(d, admin)) return { kind: 'admin' };
    let found: string | null = null;
    // Every entry is compared: the time does not tell which one matched.
    for (const a of agents) if (timingSafeEqual(d, a.d)) found = a.agentId;
    return found === null ? null : { kind: 'agent', agentId: found };
  };
}

/**
 * The token of a request: the Bearer header first, else (unless `cookie` is false) the
 * dashboard's cookie. The API's routes that change things take the header only: a cookie would
 * come along with a form another page on the same host posts (CSRF).
 */
export function tokenOf(headers: { authorization?: string; cookie?: string }, opts: { cookie?: boolean } = {}): string | undefined {
  const bearer = /^Bearer (\S+)$/.exec(headers.authorization ?? '')?.[1];
  if (bearer) return bearer;
  if (opts.cookie === false) return undefined;
  for (const part of (headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === TOKEN_COOKIE && v.length > 0) return decodeURIComponent(v.join('='));
  }
  return undefined;
}
