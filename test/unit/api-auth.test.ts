import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import { createAuthenticator, parseAgentTokens, tokenOf } from '../../src/api/auth.js';
import { loadEnv } from '../../src/config/env.js';

const A = 'a'.repeat(16);
const B = 'b'.repeat(20);

describe('agent tokens', () => {
  test('entries by newline, space or comma, comments ignored', () => {
    const tokens = parseAgentTokens(`# agents\nalice:${A}, bob:${B}  # two on a line\n\n`, 'tokens.txt');
    assert.deepEqual([...tokens], [[A, 'alice'], [B, 'bob']]);
  });

  test('every bad entry is named by its line, and no token is ever echoed', () => {
    const secret = 'secret-token-value-1234';
    assert.throws(
      () => parseAgentTokens(`alice:${secret}\nbob\nbad id:${B}\ncarol:short\ndave:${secret}`, 'tokens.txt', 'admin-token-0123456789'),
      (err: Error) => {
        assert.match(err.message, /tokens\.txt line 2: an entry is <agent id>:<token>/);
        assert.match(err.message, /tokens\.txt line 4: the token of agent 'carol' must be 16-256/);
        assert.match(err.message, /tokens\.txt line 5: the token of agent 'dave' is already used by agent 'alice'/);
        assert.ok(!err.message.includes(secret));
        return true;
      },
    );
    assert.throws(() => parseAgentTokens(`alice:${A}`, 'x', A), /already used by the admin/);
  });

  test('the environment: agent tokens need the admin token; both forms at once are refused', () => {
    assert.throws(() => loadEnv({ CALLPOLICY_AGENT_TOKENS: `alice:${A}` }, { requireAri: false }), /need the API/);
    assert.throws(() => loadEnv({ CALLPOLICY_API_TOKEN: B, CALLPOLICY_AGENT_TOKENS: `alice:${A}`, CALLPOLICY_AGENT_TOKENS_FILE: '/x' }, { requireAri: false }), /not both/);
    const env = loadEnv({ CALLPOLICY_API_TOKEN: B, CALLPOLICY_AGENT_TOKENS: `alice:${A}` }, { requireAri: false });
    assert.equal(env.api.agentTokens.get(A), 'alice');
  });

  test('authenticator: admin, agent, or nothing; token from the header or the cookie', () => {
    const auth = createAuthenticator({ adminToken: B, agentTokens: new Map([[A, 'alice']]) });
    assert.deepEqual(auth(B), { kind: 'admin' });
    assert.deepEqual(auth(A), { kind: 'agent', agentId: 'alice' });
    assert.equal(auth(`${A}x`), null);
    assert.equal(auth(''), null);
    assert.equal(tokenOf({ authorization: `Bearer ${A}` }), A);
    assert.equal(tokenOf({ cookie: `x=1; callpolicy_token=${encodeURIComponent(B)}` }), B);
    assert.equal(tokenOf({ authorization: 'Basic abc' }), undefined);
  });
});
