// The demo: a sandbox Asterisk, the adapter (its own process, embedded database unless
// DATABASE_URL is set) with examples/policy.yaml, a sipp trunk, and sample agent calls that
// show the caller ID the trunk received. Usage:
//   scripts/demo.sh [--agent 1001|1002|1003 --call +E164 ...] [--keep]
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { placeCall, startTrunk } from '../test/sandbox/sipp.js';
import { REPO, startLocalStack } from '../test/support/local-stack.js';
import { AGENT_ONE, AGENT_THREE, AGENT_TWO, OUTSIDE_LINE, TRUNK_PORT } from '../test/integration/topology.js';

const { values } = parseArgs({
  options: { agent: { type: 'string', default: '1001' }, call: { type: 'string', multiple: true }, keep: { type: 'boolean', default: false } },
});
const agents = [AGENT_ONE, AGENT_TWO, AGENT_THREE];
const byEndpoint = (e: string) => {
  const a = agents.find((x) => x.endpoint === e);
  if (!a) throw new Error(`--agent must be one of ${agents.map((x) => x.endpoint).join(', ')}`);
  return a;
};

const samples: [typeof AGENT_ONE | typeof AGENT_TWO | typeof AGENT_THREE, string, string][] = values.call
  ? values.call.map((n) => [byEndpoint(values.agent!), n, 'your call'])
  : [
      [AGENT_ONE, '+12125550123', 'New York callee: the New York number (same area)'],
      [AGENT_ONE, '+16195550123', 'San Diego: no 619 number, same state (region fallback)'],
      [AGENT_ONE, '+8613800138000', 'Beijing mobile: the Beijing landline (same city)'],
      [AGENT_TWO, '+8613712345678', 'Dongguan mobile: the Shenzhen number (same province)'],
      [AGENT_THREE, '+4930123456', 'Berlin: no German number, pool fallback'],
      [AGENT_ONE, '2125550123', 'national dialling, default country US'],
      [AGENT_ONE, '+1415555&0123', 'injection attempt: refused, never reaches the trunk'],
      [AGENT_TWO, '911', 'emergency (9-911): straight to the trunk before the adapter, with the site callback number'],
    ];

const workDir = path.join(REPO, '.data', 'demo');
// The API and the dashboard, with a fresh admin token for this run (the CLI goes through the API).
const api = { token: randomBytes(24).toString('hex'), port: 8097 };
const tokenFile = path.join(workDir, 'api-token');
console.log('starting the sandbox Asterisk and the adapter ...');
const stack = await startLocalStack({ workDir, policyFile: path.join(REPO, 'examples', 'policy.yaml'), databaseUrl: process.env.DATABASE_URL || undefined, api });
writeFileSync(tokenFile, `${api.token}\n`, { mode: 0o600 });
const dashboard = `dashboard: http://127.0.0.1:${api.port}/dashboard  (sign in with the token in ${path.relative(REPO, tokenFile)})`;
const trunk = await startTrunk({ port: TRUNK_PORT });
try {
  console.log(`adapter ready (log: ${path.relative(REPO, stack.adapterLog)}); policy: examples/policy.yaml, strategy "area"\n`);
  for (const [agent, dialed, what] of samples) {
    await trunk.takeInvites();
    const r = await placeCall({ fromPort: agent.port, fromUser: agent.endpoint, fromName: agent.name, to: `${OUTSIDE_LINE}${dialed}`, server: stack.sandbox.sipServer, holdMs: 200 });
    const [inv] = r.finalStatus === 200 ? [await trunk.nextInvite(5000)] : await trunk.takeInvites();
    const got = inv ? `From "${inv.fromName}" <${inv.fromUser}>, P-Asserted-Identity <${inv.paiUser}>` : 'nothing reached the trunk';
    console.log(`${agent.name} (${agent.endpoint}) dials ${dialed}\n   ${what}\n   agent's phone got ${r.finalStatus}; trunk got: ${got}\n`);
  }
  // Through the running adapter's API: the embedded database stays with the adapter.
  console.log('what the adapter recorded (callpolicy calls):');
  console.log(stack.cli('calls', '-n', String(samples.length)));
  console.log('');
  if (values.keep) {
    console.log(`running until Ctrl-C: ARI ${stack.sandbox.ariUrl}, SIP ${stack.sandbox.sipServer}, agents 1001-1003 from local ports 5071-5073`);
    console.log(dashboard);
    await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
  } else {
    console.log(`${dashboard}\n(it stops with the demo: run scripts/demo.sh --keep to keep it open)`);
  }
} finally {
  await trunk.stop();
  await stack.stop();
}
