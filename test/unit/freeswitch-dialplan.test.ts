// The shipped FreeSWITCH files (dialplan/freeswitch/). FreeSWITCH does not run here, so these
// tests read the files as XML, the way FreeSWITCH loads them, and check the control model the
// adapter relies on: the decision sockets and what follows them, the route extensions the adapter
// may choose, the emergency extension before any socket, the survey socket, and an event socket
// that listens on the loopback with no password written in it.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'vitest';
import { XMLParser, XMLValidator } from 'fast-xml-parser';

const DIR = fileURLToPath(new URL('../../dialplan/freeswitch/', import.meta.url));
const SRC = fileURLToPath(new URL('../../src/pbx/freeswitch/fs-call-control.ts', import.meta.url));
const read = (name: string) => readFileSync(path.join(DIR, name), 'utf8');
const SHIPPED_XML = readdirSync(DIR).filter((f) => /\.xml(\.sample)?$/.test(f));

interface XmlNode {
  tag: string;
  attrs: Record<string, string>;
  children: XmlNode[];
}

type RawNode = Record<string, unknown>;

function toNodes(raw: RawNode[]): XmlNode[] {
  const out: XmlNode[] = [];
  for (const r of raw) {
    const tag = Object.keys(r).find((k) => k !== ':@');
    if (!tag || tag.startsWith('#') || tag.startsWith('?')) continue;
    out.push({ tag, attrs: (r[':@'] as Record<string, string> | undefined) ?? {}, children: toNodes((r[tag] as RawNode[] | undefined) ?? []) });
  }
  return out;
}

/** Parses XML, failing on anything malformed (fast-xml-parser's parser alone is lenient). */
function parseXml(xml: string, what: string): XmlNode[] {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new Error(`${what}: malformed XML: ${valid.err.msg} (line ${valid.err.line}, col ${valid.err.col})`);
  // FreeSWITCH's own parser refuses "--" inside a comment, as XML does; the validator does not check it.
  for (const m of xml.matchAll(/<!--([\s\S]*?)-->/g)) {
    const body = m[1] ?? '';
    if (body.includes('--') || body.endsWith('-')) throw new Error(`${what}: malformed XML: "--" inside a comment near "${body.trim().slice(0, 40)}"`);
  }
  const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', preserveOrder: true, ignoreDeclaration: true, parseAttributeValue: false });
  return toNodes(parser.parse(xml) as RawNode[]);
}

const only = (list: XmlNode[], tag: string, what: string): XmlNode => {
  const found = list.filter((n) => n.tag === tag);
  assert.equal(found.length, 1, `${what}: one <${tag}> expected, found ${found.length}`);
  return found[0]!;
};

interface Action {
  app: string;
  data: string;
  anti: boolean;
}

interface Extension {
  name: string;
  conditions: XmlNode[];
  /** Actions and anti-actions in document order. */
  actions: Action[];
  /** The destination_number expressions of its conditions. */
  destinations: string[];
}

interface Context {
  name: string;
  extensions: Extension[];
}

function dialplanOf(xml: string): Context[] {
  const include = only(parseXml(xml, 'callpolicy.xml'), 'include', 'callpolicy.xml');
  return include.children
    .filter((n) => n.tag === 'context')
    .map((c) => ({
      name: c.attrs.name ?? '',
      extensions: c.children
        .filter((n) => n.tag === 'extension')
        .map((e) => {
          const conditions = e.children.filter((n) => n.tag === 'condition');
          return {
            name: e.attrs.name ?? '',
            conditions,
            actions: conditions.flatMap((cond) =>
              cond.children
                .filter((n) => n.tag === 'action' || n.tag === 'anti-action')
                .map((a) => ({ app: a.attrs.application ?? '', data: a.attrs.data ?? '', anti: a.tag === 'anti-action' })),
            ),
            destinations: conditions.filter((cond) => cond.attrs.field === 'destination_number').map((cond) => cond.attrs.expression ?? ''),
          };
        }),
    }));
}

const DIALPLAN_TEXT = read('callpolicy.xml');
// Parsed on first use, so that a malformed file fails its own test with the parser's message.
let parsed: Context[] | undefined;
const dialplan = (): Context[] => (parsed ??= dialplanOf(DIALPLAN_TEXT));

function context(name: string): Context {
  const c = dialplan().find((x) => x.name === name);
  assert.ok(c, `context ${name} exists`);
  return c;
}

function extension(ctx: string, name: string): Extension {
  const e = context(ctx).extensions.find((x) => x.name === name);
  assert.ok(e, `extension ${name} exists in [${ctx}]`);
  return e;
}

/** Would FreeSWITCH route destination `dest` to this extension? (Its destination patterns all match.) */
function matches(ext: Extension, dest: string): boolean {
  return ext.destinations.length > 0 && ext.destinations.every((re) => new RegExp(re).test(dest));
}

const CONTEXTS = ['callpolicy-outbound', 'callpolicy-route', 'callpolicy-inbound', 'callpolicy-inbound-route', 'callpolicy-survey'];

const EXTENSIONS: Record<string, string[]> = {
  'callpolicy-outbound': ['callpolicy-emergency', 'callpolicy-customer-id', 'callpolicy-outbound'],
  'callpolicy-route': [
    'callpolicy-dial',
    'callpolicy-default',
    'callpolicy-default-down',
    'callpolicy-default-timeout',
    'callpolicy-reject',
    'callpolicy-refused-unknown-id',
    'callpolicy-refused-id-unavailable',
  ],
  'callpolicy-inbound': ['callpolicy-inbound'],
  'callpolicy-inbound-route': [
    'callpolicy-ivr',
    'callpolicy-ivr-down',
    'callpolicy-ivr-timeout',
    'callpolicy-ring',
    'callpolicy-after-ring',
    'callpolicy-noanswer-ivr',
    'callpolicy-noanswer-voicemail',
    'callpolicy-noanswer-goodbye',
    'callpolicy-wait',
    'callpolicy-wait-loop',
    'callpolicy-then-ivr',
    'callpolicy-then-voicemail',
    'callpolicy-then-goodbye',
  ],
  'callpolicy-survey': ['callpolicy-survey-out', 'callpolicy-survey-in'],
};

/** Route values the adapter may write (callpolicy_route), and the presets, per route context. */
const ROUTES: Record<string, string[]> = {
  'callpolicy-route': ['dial', 'default', 'default-timeout', 'reject', 'refused-unknown-id', 'refused-id-unavailable', 'default-down'],
  'callpolicy-inbound-route': ['ivr', 'ring', 'wait', 'ivr-timeout', 'ivr-down'],
};

/** The decision sockets: extension -> [route context, preset route]. */
const DECISIONS: Record<string, [string, string, string]> = {
  'callpolicy-outbound': ['callpolicy-outbound', 'callpolicy-route', 'default-down'],
  'callpolicy-customer-id': ['callpolicy-outbound', 'callpolicy-route', 'refused-id-unavailable'],
  'callpolicy-inbound': ['callpolicy-inbound', 'callpolicy-inbound-route', 'ivr-down'],
};

const SURVEYS = ['callpolicy-survey-out', 'callpolicy-survey-in'];

const allExtensions = () => dialplan().flatMap((c) => c.extensions.map((e) => ({ ctx: c.name, ext: e })));

describe('the FreeSWITCH files are well-formed XML', () => {
  test('every shipped FreeSWITCH file parses', () => {
    for (const name of SHIPPED_XML) parseXml(read(name), name);
  });

  // FreeSWITCH runs preprocessor tags even inside comments: a commented example line sets the
  // variable or includes the file for real (the event socket got the example password; the vars
  // sample included itself and FreeSWITCH did not start).
  test('no preprocessor tag inside a comment of any shipped file', () => {
    for (const name of SHIPPED_XML) {
      for (const m of read(name).matchAll(/<!--([\s\S]*?)-->/g)) {
        assert.ok(!/x-pre-process/i.test(m[1]!), `${name}: a comment holds a preprocessor tag, which FreeSWITCH would run`);
      }
    }
    assert.ok(/x-pre-process/i.test('<!-- <X-PRE-PROCESS cmd="include" data="x"/> -->'), 'the check can fail');
  });

  test('the trunk gateway sample puts the chosen caller ID in From (caller-id-in-from=true)', () => {
    assert.match(read('trunk-gateway.xml.sample'), /<param name="caller-id-in-from" value="true"\/>/);
  });

  test('the secrets sample holds a placeholder, never a usable password', () => {
    assert.match(read('callpolicy-secrets.xml.sample'), /callpolicy_esl_password=REPLACE-WITH-A-LONG-RANDOM-SECRET"/);
  });

  test('malformed XML is refused, not read leniently', () => {
    assert.throws(() => parseXml('<include><context name="x"></include>', 'broken'), /malformed XML/);
    assert.throws(() => parseXml('<include><extension name="a" name="b"/></include>', 'duplicate'), /malformed XML/);
    assert.throws(() => parseXml('<include><!-- a -- b --></include>', 'comment'), /malformed XML/);
  });
});

describe('callpolicy.xml: contexts and extensions', () => {
  test('one <include> holding every context, each context once', () => {
    for (const name of CONTEXTS) context(name);
    const names = dialplan().map((c) => c.name);
    assert.equal(new Set(names).size, names.length, `no context twice: ${names.join(', ')}`);
  });

  test('every listed extension exists, and extension names are unique in their context', () => {
    for (const [ctx, names] of Object.entries(EXTENSIONS)) for (const name of names) extension(ctx, name);
    for (const c of dialplan()) {
      const names = c.extensions.map((e) => e.name);
      assert.equal(new Set(names).size, names.length, `[${c.name}]: no extension name twice`);
      for (const e of c.extensions) assert.ok(e.name && e.conditions.length > 0, `[${c.name}] ${e.name}: a name and a condition`);
    }
  });

  test('the header says where the file goes, how calls reach it, and which globals it reads', () => {
    const header = /<!--([\s\S]*?)-->/.exec(DIALPLAN_TEXT)?.[1] ?? '';
    for (const words of ['conf/dialplan/callpolicy.xml', 'user_context', 'callpolicy-inbound', 'gateway', 'vars.xml']) {
      assert.ok(header.includes(words), `header mentions ${words}`);
    }
    for (const name of globalsUsed()) assert.ok(name === 'domain' || header.includes(name), `header names the global ${name}`);
  });
});

describe('callpolicy.xml: transfers', () => {
  const transfers = () =>
    allExtensions().flatMap(({ ctx, ext }) => ext.actions.filter((a) => a.app === 'transfer').map((a) => ({ ctx, ext: ext.name, data: a.data })));

  test('every transfer names an existing context, and a fixed destination an existing extension that takes it', () => {
    const list = transfers();
    assert.ok(list.length > 10, 'the dialplan transfers');
    for (const t of list) {
      const parts = t.data.trim().split(/\s+/);
      assert.equal(parts.length, 3, `${t.ext}: transfer "${t.data}" is <destination> XML <context>`);
      const [dest, dialplan, ctx] = parts as [string, string, string];
      assert.equal(dialplan, 'XML', `${t.ext}: transfer "${t.data}"`);
      if (ctx.startsWith('$${')) {
        // The site's own context (IVR, voicemail): a global, which callpolicy-vars.xml.sample defines.
        assert.ok(globalsDefined().has(ctx.slice(3, -1)), `${t.ext}: ${ctx} is defined in callpolicy-vars.xml.sample`);
        continue;
      }
      const target = context(ctx);
      if (dest.startsWith('$${')) continue;
      if (!dest.includes('$')) {
        const ext = target.extensions.find((e) => e.name === dest);
        assert.ok(ext, `${t.ext}: transfer to ${dest} in [${ctx}]: that extension exists`);
        assert.ok(matches(ext, dest), `${t.ext}: ${dest} matches the destination pattern of the extension of that name`);
        continue;
      }
      // A templated destination (callpolicy-${callpolicy_route}, callpolicy-noanswer-${...}):
      // extensions of that prefix exist there (the route values are checked one by one below).
      const prefix = dest.slice(0, dest.indexOf('$'));
      if (prefix) assert.ok(target.extensions.some((e) => e.name.startsWith(prefix)), `${t.ext}: [${ctx}] has extensions ${prefix}...`);
    }
  });

  test('a transfer_after_bridge in a dial string names an existing extension and context', () => {
    let seen = 0;
    for (const { ext } of allExtensions()) {
      for (const a of ext.actions.filter((x) => x.app === 'bridge')) {
        for (const m of a.data.matchAll(/transfer_after_bridge=([^:,\]}]+):([^:,\]}]+):([^,\]}]+)/g)) {
          seen++;
          const [, dest, dialplan, ctx] = m as unknown as [string, string, string, string];
          assert.equal(dialplan, 'XML');
          const target = extension(ctx, dest);
          assert.ok(matches(target, dest), `${ext.name}: transfer_after_bridge to ${dest} matches it`);
        }
      }
    }
    assert.ok(seen >= 1, 'the outbound survey leg is sent on with transfer_after_bridge');
  });

  test('each route value the adapter may write has its extension, which first sets callpolicy_outcome', () => {
    for (const [ctx, routes] of Object.entries(ROUTES)) {
      for (const route of routes) {
        const name = `callpolicy-${route}`;
        const ext = extension(ctx, name);
        assert.ok(ext.destinations.includes(`^${name}$`), `${name}: condition destination_number ^${name}$`);
        assert.ok(matches(ext, name), `${name} routes to its extension`);
        const first = ext.actions[0];
        assert.deepEqual(first && { app: first.app, data: first.data }, { app: 'set', data: `callpolicy_outcome=${route}` }, `${name}: first action sets the outcome`);
        // The first extension of the context that takes the name is this one.
        const winner = context(ctx).extensions.find((e) => matches(e, name));
        assert.equal(winner?.name, name, `${name}: no earlier extension takes it`);
      }
    }
  });

  test('the routes the adapter source can write are all covered', () => {
    const src = readFileSync(SRC, 'utf8');
    const union = /export type FsRoute\s*=\s*([^;]+);/.exec(src)?.[1];
    assert.ok(union, 'fs-call-control.ts declares FsRoute');
    const fromSource = [...union.matchAll(/'([a-z-]+)'/g)].map((m) => m[1]!);
    assert.ok(fromSource.length >= 6, `FsRoute lists routes: ${fromSource.join(', ')}`);
    const known = new Set(Object.values(ROUTES).flat());
    for (const route of fromSource) assert.ok(known.has(route), `route ${route} from the adapter has an extension`);
    // The decision deadline writes these two literally.
    for (const route of ['default-timeout', 'ivr-timeout']) assert.ok(src.includes(route), `the adapter writes ${route}`);
  });
});

describe('callpolicy.xml: the trunk bridge', () => {
  // callpolicy-dial bridges itself (no transfer on the decided call's path): its bridge, identity
  // and protection steps must stay those of callpolicy-trunk-bridge, which the default routes use.
  test('callpolicy-dial and callpolicy-trunk-bridge bridge the same way', () => {
    const steps = (name: string) =>
      extension('callpolicy-route', name)
        .actions.filter((a) => a.app !== 'set' || !a.data.startsWith('callpolicy_outcome='))
        .map((a) => `${a.anti ? 'anti-' : ''}${a.app} ${a.data}`);
    assert.deepEqual(steps('callpolicy-dial'), steps('callpolicy-trunk-bridge'));
    assert.ok(steps('callpolicy-dial').some((a) => a.startsWith('bridge {sip_cid_type=pid}')), 'the check can fail');
  });
});

describe('callpolicy.xml: the decision and survey sockets', () => {
  const sockets = () => allExtensions().flatMap(({ ctx, ext }) => ext.actions.filter((a) => a.app === 'socket').map((a) => ({ ctx, ext, data: a.data })));

  test('the emergency extension comes first in [callpolicy-outbound], before any decision, and never asks the adapter', () => {
    const names = context('callpolicy-outbound').extensions.map((e) => e.name);
    assert.equal(names[0], 'callpolicy-emergency');
    assert.ok(names.indexOf('callpolicy-emergency') < names.indexOf('callpolicy-outbound'));
    assert.ok(names.indexOf('callpolicy-emergency') < names.indexOf('callpolicy-customer-id'));
    const emergency = extension('callpolicy-outbound', 'callpolicy-emergency');
    assert.ok(!emergency.actions.some((a) => a.app === 'socket'), 'no socket in the emergency extension');
    assert.ok(emergency.destinations.every((d) => d.includes('$${callpolicy_emergency_numbers}')), 'it matches the emergency list');
    assert.ok(emergency.actions.some((a) => a.app === 'set' && a.data === 'callpolicy_outcome=emergency'));
    const bridge = emergency.actions.find((a) => a.app === 'bridge');
    assert.ok(bridge?.data.includes('sofia/gateway/$${callpolicy_emergency_gateway}/'), 'it bridges to the emergency gateway');
    // With the default list, 911 reaches the emergency extension, not the adapter.
    const list = globalsDefined().get('callpolicy_emergency_numbers') ?? '';
    const re = (emergency.destinations[0] ?? '').replace('$${callpolicy_emergency_numbers}', list);
    for (const n of ['911', '933', '112', '999', '000', '110', '119', '120', '122']) assert.ok(new RegExp(re).test(n), `${n} is an emergency number`);
    assert.ok(!new RegExp(re).test('9911') && !new RegExp(re).test('4155550100'));
  });

  test('every socket connects to $${callpolicy_socket}', () => {
    const list = sockets();
    assert.equal(list.length, Object.keys(DECISIONS).length + SURVEYS.length, `sockets: ${list.map((s) => s.ext.name).join(', ')}`);
    for (const s of list) assert.ok(s.data.startsWith('$${callpolicy_socket}'), `${s.ext.name}: socket ${s.data}`);
  });

  test('the decision sockets are sync (full, no async), preset the route, and transfer to it right after', () => {
    for (const [name, [ctx, routeCtx, preset]] of Object.entries(DECISIONS)) {
      const ext = extension(ctx, name);
      const i = ext.actions.findIndex((a) => a.app === 'socket');
      assert.ok(i > 0, `${name}: has a socket`);
      const words = ext.actions[i]!.data.split(/\s+/);
      assert.ok(words.includes('full'), `${name}: socket is full`);
      assert.ok(!words.includes('async'), `${name}: socket is sync`);
      const before = ext.actions.slice(0, i).filter((a) => a.app === 'set').map((a) => a.data);
      assert.ok(before.includes(`callpolicy_route=${preset}`), `${name}: presets callpolicy_route=${preset}`);
      assert.ok(extension(routeCtx, `callpolicy-${preset}`), `${name}: the preset route exists`);
      assert.ok(before.includes(`callpolicy_kind=${name === 'callpolicy-customer-id' ? 'customer-id' : name.replace('callpolicy-', '')}`), `${name}: sets callpolicy_kind`);
      assert.ok(before.includes('callpolicy_trunk=$${callpolicy_trunk}'), `${name}: sets callpolicy_trunk`);
      assert.ok(before.some((d) => d.startsWith(name === 'callpolicy-inbound' ? 'callpolicy_did=' : 'callpolicy_dest=')), `${name}: sets the number`);
      assert.ok(!before.includes('socket_resume=true'), `${name}: sync sockets return on their own`);
      const next = ext.actions[i + 1];
      assert.deepEqual(next && { app: next.app, data: next.data }, { app: 'transfer', data: `callpolicy-\${callpolicy_route} XML ${routeCtx}` }, `${name}: the next action goes to the route`);
    }
  });

  test('the outbound number pattern takes digits with an optional leading + only', () => {
    const ext = extension('callpolicy-outbound', 'callpolicy-outbound');
    assert.deepEqual(ext.destinations, ['^(\\+?[0-9]{3,20})$']);
    for (const ok of ['4155550100', '+442071234567', '911']) assert.ok(matches(ext, ok), ok);
    for (const bad of ['41555&50100', '1+2', '*9C-1001', '12', 'sip:x']) assert.ok(!matches(ext, bad), bad);
  });

  test('the survey sockets are async full, after socket_resume=true, and the leg hangs up after them', () => {
    for (const name of SURVEYS) {
      const ext = extension('callpolicy-survey', name);
      const i = ext.actions.findIndex((a) => a.app === 'socket');
      assert.ok(i > 0, `${name}: has a socket`);
      const words = ext.actions[i]!.data.split(/\s+/);
      assert.deepEqual(words.slice(1), ['async', 'full'], `${name}: socket ... async full`);
      const before = ext.actions.slice(0, i);
      assert.ok(before.some((a) => a.app === 'set' && a.data === 'socket_resume=true'), `${name}: set socket_resume=true before the socket`);
      assert.ok(before.some((a) => a.app === 'set' && a.data === 'callpolicy_kind=survey'), `${name}: callpolicy_kind=survey`);
      assert.ok(before.some((a) => a.app === 'sched_hangup' && a.data.startsWith('+$${callpolicy_survey_max_seconds}')), `${name}: bounded by sched_hangup`);
      assert.ok(ext.conditions.some((c) => c.attrs.field === '${callpolicy_survey}' && c.attrs.expression === '^1$'), `${name}: only when callpolicy_survey is 1`);
      const next = ext.actions[i + 1];
      assert.equal(next?.app, 'hangup', `${name}: hangs up after the socket`);
    }
    // No other extension holds an async socket.
    for (const s of sockets()) if (s.data.includes('async')) assert.ok(SURVEYS.includes(s.ext.name), `${s.ext.name}: async socket`);
  });
});

function globalsUsed(): Set<string> {
  return new Set([...DIALPLAN_TEXT.replace(/<!--[\s\S]*?-->/g, '').matchAll(/\$\$\{([a-z_]+)\}/g)].map((m) => m[1]!));
}

function globalsDefined(): Map<string, string> {
  const vars = parseXml(read('callpolicy-vars.xml.sample'), 'callpolicy-vars.xml.sample');
  const include = only(vars, 'include', 'callpolicy-vars.xml.sample');
  const out = new Map<string, string>();
  for (const n of include.children) {
    assert.equal(n.tag, 'X-PRE-PROCESS', 'callpolicy-vars.xml.sample holds X-PRE-PROCESS lines only');
    assert.equal(n.attrs.cmd, 'set');
    const data = n.attrs.data ?? '';
    const eq = data.indexOf('=');
    assert.ok(eq > 0, `set ${data}`);
    out.set(data.slice(0, eq), data.slice(eq + 1));
  }
  return out;
}

describe('callpolicy-vars.xml.sample', () => {
  test('defines every global the dialplan reads, with the documented defaults', () => {
    const defined = globalsDefined();
    for (const name of globalsUsed()) if (name !== 'domain') assert.ok(defined.has(name), `callpolicy-vars.xml.sample sets ${name}`);
    assert.equal(defined.get('callpolicy_socket'), '127.0.0.1:8084');
    assert.equal(defined.get('callpolicy_trunk'), 'trunk');
    assert.equal(defined.get('callpolicy_emergency_numbers'), '911|933|112|999|000|110|119|120|122');
    assert.equal(defined.get('callpolicy_emergency_gateway'), '$${callpolicy_trunk}');
    assert.equal(defined.get('callpolicy_survey_max_seconds'), '120');
    assert.ok(!defined.has('callpolicy_esl_password'), 'the event socket password is not in the sample');
    // A value may use only a global set above it.
    const order = [...defined.keys()];
    for (const [name, value] of defined) {
      for (const m of value.matchAll(/\$\$\{([a-z_]+)\}/g)) assert.ok(order.indexOf(m[1]!) >= 0 && order.indexOf(m[1]!) < order.indexOf(name), `${name} uses ${m[1]} set before it`);
    }
  });
});

describe('event_socket.conf.xml', () => {
  const TEXT = read('event_socket.conf.xml');
  const config = only(parseXml(TEXT, 'event_socket.conf.xml'), 'configuration', 'event_socket.conf.xml');
  const params = new Map(
    only(config.children, 'settings', 'event_socket.conf.xml').children.filter((n) => n.tag === 'param').map((p) => [p.attrs.name ?? '', p.attrs.value ?? ''] as const),
  );

  test('mod_event_socket on the loopback only', () => {
    assert.equal(config.attrs.name, 'event_socket.conf');
    assert.equal(params.get('listen-ip'), '127.0.0.1');
    assert.equal(params.get('listen-port'), '8021');
    assert.equal(params.get('apply-inbound-acl'), 'loopback.auto');
  });

  test('holds no literal password: the global from a secrets file', () => {
    assert.equal(params.get('password'), '$${callpolicy_esl_password}');
    assert.ok(!/ClueCon/i.test(TEXT), 'not the well-known default');
    for (const m of TEXT.matchAll(/name="password"\s+value="([^"]*)"/g)) assert.equal(m[1], '$${callpolicy_esl_password}');
    for (const words of ['FREESWITCH_ESL_PASSWORD', 'FREESWITCH_ESL_PASSWORD_FILE', 'callpolicy-secrets.xml']) assert.ok(TEXT.includes(words), `the comment names ${words}`);
  });
});
