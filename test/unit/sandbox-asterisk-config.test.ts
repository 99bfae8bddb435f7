// The sandbox Asterisk (tests, bench, demo) runs the shipped files of dialplan/asterisk/: these
// tests render its configuration from the real shipped files and check that what they say is
// in it, as it is, with only the site's values (addresses, ports, password) filled in. An edit
// of a shipped file therefore changes what the integration tests run, or fails here.
import { test } from 'vitest';
import assert from 'node:assert/strict';

import {
  PJSIP_TEMPLATES,
  renderAsteriskConfig,
  type AsteriskConfigOptions,
  type ShippedAsteriskFiles,
} from '../sandbox/asterisk-config.js';
import { readShippedAsteriskFiles } from '../sandbox/asterisk-sandbox.js';

const shipped: ShippedAsteriskFiles = await readShippedAsteriskFiles();

const PASSWORD = 'sandbox-test-password-1';

function options(over: Partial<AsteriskConfigOptions> = {}): AsteriskConfigOptions {
  return {
    ...shipped,
    agents: [
      { endpoint: '1001', port: 5071, name: 'Agent One' },
      { endpoint: '1009', port: 5079, name: 'Plain Agent', context: 'plain-outbound' },
    ],
    trunkPort: 5080,
    trunkExtraPorts: [5081],
    sipPort: 5060,
    httpPort: 8088,
    ariUser: 'callpolicy',
    ariPassword: PASSWORD,
    defaultNumber: '+15550000000',
    defaultName: '',
    agentQualifyFrequency: 0,
    rtpPorts: [20000, 21999],
    verbose: 0,
    extraExtensions: '',
    emergencyNumber: '+15550000911',
    ...over,
  };
}

const rendered = renderAsteriskConfig(options());

// --- a small, independent reading of Asterisk config text ------------------------------------

interface Section {
  name: string;
  /** "!" for a template, the inherited templates' names otherwise. */
  marks: string[];
  /** The header and the lines up to the next header, trailing blank lines dropped. */
  lines: string[];
  /** key -> values, in order (comments dropped). */
  options: Map<string, string[]>;
}

function sections(text: string): Section[] {
  const out: Section[] = [];
  for (const line of text.split('\n')) {
    const header = /^\[([^\]]+)\](?:\(([^)]*)\))?/.exec(line);
    if (header) {
      out.push({ name: header[1]!, marks: header[2] ? header[2].split(',').map((m) => m.trim()) : [], lines: [line], options: new Map() });
      continue;
    }
    const current = out[out.length - 1];
    if (!current) continue;
    current.lines.push(line);
    const option = /^([A-Za-z0-9_.-]+)\s*=>?\s*(.*)$/.exec(line);
    if (option) {
      const value = option[2]!.replace(/;.*$/, '').trim();
      current.options.set(option[1]!, [...(current.options.get(option[1]!) ?? []), value]);
    }
  }
  for (const s of out) {
    while (s.lines.length > 1 && s.lines[s.lines.length - 1]!.trim() === '') s.lines.pop();
  }
  return out;
}

const isTemplate = (s: Section) => s.marks.includes('!');
const codeLines = (text: string) => text.split('\n').map((l) => l.replace(/;.*$/, '').trim()).filter((l) => l !== '');

/**
 * Every line of `sample` is in `output`, in the same order, as it is; except the option lines
 * whose key is in `filled`, which must carry the given value instead.
 */
function assertSampleInside(output: string, sample: string, filled: Record<string, string>, what: string): void {
  const out = output.split('\n');
  let at = 0;
  for (const line of sample.split('\n')) {
    const key = /^([A-Za-z0-9_.-]+)\s*=/.exec(line)?.[1];
    const expected = key !== undefined && key in filled ? `${key} = ${filled[key]}` : line;
    const found = out.indexOf(expected, at);
    assert.ok(found >= 0, `${what}: the shipped line ${JSON.stringify(line)} is missing (expected ${JSON.stringify(expected)} after line ${at})`);
    at = found + 1;
  }
}

// --- pjsip.conf ------------------------------------------------------------------------------

test('pjsip.conf.sample has the templates the sandbox inherits', () => {
  const templates = sections(shipped.pjsipSample).filter(isTemplate).map((s) => s.name);
  for (const name of Object.values(PJSIP_TEMPLATES)) assert.ok(templates.includes(name), `[${name}](!) in pjsip.conf.sample`);
  const trunk = sections(shipped.pjsipSample).find((s) => s.name === PJSIP_TEMPLATES.trunk)!;
  // What the adapter relies on, said once, in the shipped template.
  assert.deepEqual(trunk.options.get('send_pai'), ['yes']);
  assert.deepEqual(trunk.options.get('trust_id_outbound'), ['yes']);
  assert.deepEqual(trunk.options.get('direct_media'), ['no']);
  assert.equal(trunk.options.get('from_user'), undefined, 'no from_user: it would replace the caller ID in From');
});

test('every template section of pjsip.conf.sample is in the sandbox pjsip.conf, line for line', () => {
  const templates = sections(shipped.pjsipSample).filter(isTemplate);
  assert.ok(templates.length >= 3);
  for (const t of templates) {
    assert.ok(rendered['pjsip.conf']!.includes(t.lines.join('\n')), `[${t.name}](!) as shipped`);
    for (const line of codeLines(t.lines.join('\n'))) {
      assert.ok(codeLines(rendered['pjsip.conf']!).includes(line), `${line} (from [${t.name}])`);
    }
  }
});

test('the sandbox pjsip.conf holds all of pjsip.conf.sample, only the transport bound to 127.0.0.1', () => {
  assertSampleInside(rendered['pjsip.conf']!, shipped.pjsipSample, { bind: '127.0.0.1:5060' }, 'pjsip.conf');
  const transports = sections(rendered['pjsip.conf']!).filter((s) => s.options.get('type')?.[0] === 'transport');
  assert.deepEqual(transports.map((s) => s.options.get('bind')), [['127.0.0.1:5060']]);
});

test("the sandbox's trunk and phones inherit the templates and override no adapter setting", () => {
  const all = sections(rendered['pjsip.conf']!);
  const templates = new Map(all.filter(isTemplate).map((s) => [s.name, s]));
  const own = all.slice(all.findIndex((s) => s.name === 'trunk'));
  // Which template values a site section may set again, and why.
  const overridable: Record<string, string[]> = {
    [PJSIP_TEMPLATES.agentAor]: ['qualify_frequency'], // sipp phones answer no OPTIONS
    [PJSIP_TEMPLATES.agent]: ['context'], // only for an agent that asks for another context
  };
  const inherited = (s: Section) => s.marks.flatMap((m) => [...(templates.get(m)?.options.keys() ?? [])]);
  const typeOf = (s: Section) => s.options.get('type')?.[0] ?? s.marks.map((m) => templates.get(m)?.options.get('type')?.[0]).find(Boolean);

  const endpoints = own.filter((s) => typeOf(s) === 'endpoint');
  assert.deepEqual(endpoints.map((s) => [s.name, s.marks]), [
    ['trunk', [PJSIP_TEMPLATES.trunk]],
    ['1001', [PJSIP_TEMPLATES.agent]],
    ['1009', [PJSIP_TEMPLATES.agent]],
  ]);
  const agentAors = own.filter((s) => typeOf(s) === 'aor' && s.name !== 'trunk');
  assert.deepEqual(agentAors.map((s) => s.marks), [[PJSIP_TEMPLATES.agentAor], [PJSIP_TEMPLATES.agentAor]]);

  for (const s of own) {
    for (const m of s.marks) assert.ok(templates.has(m), `[${s.name}] inherits [${m}], a template of pjsip.conf.sample`);
    const again = [...s.options.keys()].filter((k) => inherited(s).includes(k));
    const allowed = s.marks.flatMap((m) => overridable[m] ?? []);
    assert.deepEqual(again.filter((k) => !allowed.includes(k)), [], `[${s.name}](${s.marks.join(',')}) sets template values again`);
  }
  assert.equal(endpoints[1]!.options.get('context'), undefined, 'an ordinary agent keeps the template context');
  assert.deepEqual(endpoints[2]!.options.get('context'), ['plain-outbound']);
});

test("pjsip.conf.sample's commented examples inherit templates it defines", () => {
  const templates = sections(shipped.pjsipSample).filter(isTemplate).map((s) => s.name);
  const examples = [...shipped.pjsipSample.matchAll(/^;\[[^\]]+\]\(([^)]+)\)/gm)].map((m) => m[1]!);
  assert.ok(examples.length >= 3);
  for (const name of examples) assert.ok(templates.includes(name), `example inherits [${name}]`);
  // The examples hold no password to copy.
  assert.doesNotMatch(shipped.pjsipSample, /^;?\s*password\s*=\s*[^;\s]/m);
});

// --- ari.conf, http.conf, modules.conf, extensions.conf ----------------------------------------

test('ari.conf is ari.conf.sample with the sandbox password, channelvars not set', () => {
  assertSampleInside(rendered['ari.conf']!, shipped.ariSample, { password: PASSWORD }, 'ari.conf');
  assert.doesNotMatch(rendered['ari.conf']!, /REPLACE-WITH-A-SECRET/);
  const byName = new Map(sections(rendered['ari.conf']!).map((s) => [s.name, s]));
  assert.deepEqual(byName.get('general')?.options.get('enabled'), ['yes']);
  assert.deepEqual(byName.get('callpolicy')?.options.get('password'), [PASSWORD]);
  for (const text of [shipped.ariSample, rendered['ari.conf']!]) {
    assert.ok(!codeLines(text).some((l) => /^channelvars\b/.test(l)), 'channelvars is not set');
  }
  assert.match(shipped.ariSample, /^;\s*channelvars/m, 'the sample says why channelvars is not set');
});

test('http.conf is http.conf.sample on 127.0.0.1 and the sandbox port', () => {
  const r = renderAsteriskConfig(options({ httpPort: 18088 }));
  assertSampleInside(r['http.conf']!, shipped.httpSample, { bindaddr: '127.0.0.1', bindport: '18088' }, 'http.conf');
  assert.deepEqual(sections(r['http.conf']!).find((s) => s.name === 'general')?.options.get('bindport'), ['18088']);
});

test('modules.conf is modules.conf.sample plus noload lines', () => {
  assertSampleInside(rendered['modules.conf']!, shipped.modulesSample, {}, 'modules.conf');
  const extra = codeLines(rendered['modules.conf']!).filter((l) => !codeLines(shipped.modulesSample).includes(l));
  assert.ok(extra.length > 0);
  for (const line of extra) assert.match(line, /^noload => [a-z0-9_]+\.so$/);
});

test('extensions.conf is extensions.conf.sample with the site globals; the dialplan is as shipped', () => {
  assert.equal(rendered['extensions_callpolicy.conf'], shipped.callpolicyDialplan);
  const globals = /^CALLPOLICY_[A-Z_]+[ \t]*=/;
  const sampleLines = shipped.extensionsSample.split('\n').filter((l) => !globals.test(l));
  assertSampleInside(rendered['extensions.conf']!, sampleLines.join('\n'), {}, 'extensions.conf');
  assert.match(rendered['extensions.conf']!, /^CALLPOLICY_DEFAULT_NUMBER = \+15550000000$/m);
  assert.match(rendered['extensions.conf']!, /^CALLPOLICY_TRUNK = trunk$/m);
});

test('nothing in the sandbox listens beyond 127.0.0.1', () => {
  for (const [name, text] of Object.entries(rendered)) {
    assert.ok(!codeLines(text).some((l) => /0\.0\.0\.0|\[::\]/.test(l)), `${name} binds to every interface`);
  }
  assert.match(rendered['http.conf']!, /^bindaddr = 127\.0\.0\.1$/m);
});

// --- validation and drift --------------------------------------------------------------------

test('values that would change the config are refused', () => {
  const bad: Partial<AsteriskConfigOptions>[] = [
    { agents: [{ endpoint: '1001', port: 5071, name: 'Agent; One' }] },
    { agents: [{ endpoint: '1001', port: 5071, name: 'Agent "One"' }] },
    { agents: [{ endpoint: '1001', port: 5071, name: 'Agent\nOne' }] },
    { agents: [{ endpoint: '10 01', port: 5071, name: 'Agent One' }] },
    { ariPassword: 'secret;comment' },
    { ariPassword: 'short' },
    { defaultName: 'x"y' },
    { defaultNumber: '+1555\n[evil]' },
    { trunkContext: 'from trunk' },
  ];
  for (const over of bad) {
    assert.throws(() => renderAsteriskConfig(options(over)), /asterisk sandbox config/, JSON.stringify(over));
  }
});

test('a shipped file the sandbox cannot fill in as it is fails the render, never a silent copy', () => {
  const drop = (text: string, re: RegExp) => text.split('\n').filter((l) => !re.test(l)).join('\n');
  const cases: Partial<ShippedAsteriskFiles>[] = [
    { pjsipSample: shipped.pjsipSample.replace(`[${PJSIP_TEMPLATES.agent}](!)`, `[${PJSIP_TEMPLATES.agent}]`) },
    { pjsipSample: drop(shipped.pjsipSample, /^bind\s*=/) },
    { ariSample: drop(shipped.ariSample, /^password\s*=/) },
    { ariSample: `${shipped.ariSample}\npassword = twice\n` },
    { httpSample: drop(shipped.httpSample, /^bindaddr\s*=/) },
    { httpSample: shipped.httpSample.replace('bindport = 8088', 'bindport = 8088\n[general]') },
    { modulesSample: shipped.modulesSample.replace('[modules]', '[module]') },
  ];
  for (const over of cases) {
    assert.throws(() => renderAsteriskConfig(options(over)), /asterisk sandbox config/, Object.keys(over).join());
  }
});
