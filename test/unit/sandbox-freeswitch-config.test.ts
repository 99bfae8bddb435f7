// The FreeSWITCH sandbox installs the shipped files the way README.md's "Attach it to your
// FreeSWITCH" says, so the tests on the real switch run what an administrator installs, and the
// README cannot drift from the files: every shipped file is named in that section with the place
// it goes, and the sandbox uses every one of them unchanged but for the site's values.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'vitest';
import { renderFreeswitchConfig, SHIPPED_FREESWITCH_FILES, type FsConfigOptions, type ShippedFreeswitchFiles } from '../sandbox/freeswitch-config.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const DIR = path.join(REPO, 'dialplan', 'freeswitch');
const README = readFileSync(path.join(REPO, 'README.md'), 'utf8');
const SECTION = README.slice(README.indexOf('## Attach it to your FreeSWITCH'), README.indexOf('## Configuration (both PBXs)'));

const shipped = Object.fromEntries(Object.entries(SHIPPED_FREESWITCH_FILES).map(([k, f]) => [k, readFileSync(path.join(DIR, f), 'utf8')])) as unknown as ShippedFreeswitchFiles;
const options: FsConfigOptions = {
  ...shipped,
  agents: [{ user: '1001', port: 5171, name: 'Extension 1001' }],
  agentPassword: 'pw1',
  agentSipPort: 5160,
  carrierSipPort: 5162,
  trunkPort: 5180,
  eslPort: 8031,
  eslPassword: 'a1b2c3d4e5f6',
  decisionPort: 8094,
  rtpPorts: [23000, 23999],
  soundsDir: '/tmp/s',
  logDir: '/tmp/l',
  mohDir: '/tmp/m',
  defaultCallerIdNumber: '+15550000000',
  defaultCallerIdName: '',
  emergencyCallerId: '+15550000911',
  extraDialplan: '',
  logLevel: 'info',
};
const rendered = renderFreeswitchConfig(options);

describe("README's FreeSWITCH section and the shipped files", () => {
  test('every file of dialplan/freeswitch/ is named in the section, and the sandbox installs each one', () => {
    const files = readdirSync(DIR);
    for (const f of files) {
      assert.ok(SECTION.includes(`\`${f}\``), `README's FreeSWITCH section does not name ${f}`);
      assert.ok(Object.values(SHIPPED_FREESWITCH_FILES).includes(f), `the sandbox does not install ${f}`);
    }
  });

  test('the section says where each one goes, and the sandbox puts it there', () => {
    const where: [string, string][] = [
      ['conf/dialplan/', 'dialplan/callpolicy.xml'],
      ['conf/callpolicy-vars.xml', 'callpolicy-vars.xml'],
      ['conf/callpolicy-secrets.xml', 'callpolicy-secrets.xml'],
      ['conf/autoload_configs/', 'autoload_configs/event_socket.conf.xml'],
      ['conf/sip_profiles/external/trunk.xml', 'gateways/trunk.xml'],
    ];
    for (const [readme, file] of where) {
      assert.ok(SECTION.includes(readme), `README names ${readme}`);
      assert.ok(rendered[file] !== undefined, `the sandbox writes ${file}`);
    }
  });

  test('installed unchanged: the dialplan and the vars sample as they are', () => {
    assert.equal(rendered['dialplan/callpolicy.xml'], shipped.dialplan);
    assert.equal(rendered['callpolicy-vars.xml'], shipped.vars);
  });

  test("only the site's values change: the event socket's port, the secret, the gateway's address", () => {
    const same = (a: string, b: string, ...values: string[]) => {
      let x = a;
      let y = b;
      for (const v of values) {
        x = x.replaceAll(v, '@');
        y = y.replaceAll(v, '@');
      }
      return x === y;
    };
    assert.ok(same(rendered['autoload_configs/event_socket.conf.xml']!, shipped.eventSocket, '8031', '8021'));
    assert.ok(same(rendered['callpolicy-secrets.xml']!, shipped.secrets, 'a1b2c3d4e5f6', 'REPLACE-WITH-A-LONG-RANDOM-SECRET'));
    assert.ok(same(rendered['gateways/trunk.xml']!, shipped.gateway, '127.0.0.1:5180', 'sip.carrier.example:5060'));
  });

  test('vars.xml includes the two files in the order the section says: vars, then secrets', () => {
    const vars = rendered['vars.xml']!;
    const a = vars.indexOf('data="callpolicy-vars.xml"');
    const b = vars.indexOf('data="callpolicy-secrets.xml"');
    assert.ok(a > 0 && b > a, vars);
    assert.ok(SECTION.indexOf('data="callpolicy-vars.xml"') < SECTION.indexOf('data="callpolicy-secrets.xml"'));
  });
});
