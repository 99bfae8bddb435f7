// The fake FreeSWITCH (test/support/fake-freeswitch/) against this project's own calls recorded on a
// real FreeSWITCH 1.10.12 (fixtures real-1.10.12/): a raw ESL peer stands in for the adapter and
// checks, frame by frame, the points where the fake used to differ from the real switch.
import assert from 'node:assert/strict';
import net from 'node:net';
import { unescape } from 'node:querystring';
import { afterEach, describe, test } from 'vitest';
import { multisetItems, startFakeFreeswitch, type FakeFreeswitch } from '../support/fake-freeswitch/fake-freeswitch.js';
import { realApi, surveyFrames } from '../support/fake-freeswitch/real-frames.js';
import { header, splitFrames, type Frame } from '../support/fake-freeswitch/transcript.js';

const PASSWORD = 'fake-real-secret';

/** One ESL connection seen from the adapter's side: what it sends, every frame it received. */
class Peer {
  private buf = '';
  constructor(readonly sock: net.Socket) {
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => (this.buf += d));
    sock.on('error', () => undefined);
  }
  send(command: string, headers: Record<string, string> = {}) {
    this.sock.write(`${[command, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)].join('\n')}\n\n`);
  }
  /** The frames received so far (the last one only once whole). */
  frames(): Frame[] {
    for (let end = this.buf.length; end > 0; end--) {
      try {
        return splitFrames(this.buf.slice(0, end));
      } catch {
        // an unfinished frame at the end: try without it
      }
    }
    return [];
  }
  /** The first frame from the `from`-th on that `pred` accepts, once received. */
  async until(what: string, pred: (f: Frame) => boolean, from = 0, ms = 5000): Promise<Frame> {
    const started = Date.now();
    for (;;) {
      const f = this.frames().slice(from).find(pred);
      if (f) return f;
      if (Date.now() - started > ms) assert.fail(`not within ${ms} ms: ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

const ct = (f: Frame) => header(f.headers, 'Content-Type');
const json = (f: Frame) => JSON.parse(f.body) as Record<string, string>;
const isEvent = (name: string, pick: (e: Record<string, string>) => boolean = () => true) => (f: Frame) => ct(f) === 'text/event-json' && json(f)['Event-Name'] === name && pick(json(f));

/** The adapter's listening socket, as the shipped dialplan's `socket` application reaches it. */
async function adapterStandIn() {
  const waiting: ((p: Peer) => void)[] = [];
  const arrived: Peer[] = [];
  const open = new Set<net.Socket>();
  const server = net.createServer((s) => {
    open.add(s);
    const p = new Peer(s);
    const w = waiting.shift();
    if (w) w(p);
    else arrived.push(p);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    next: () => new Promise<Peer>((r) => (arrived.length ? r(arrived.shift()!) : waiting.push(r))),
    close: () =>
      new Promise<void>((r) => {
        for (const s of open) s.destroy();
        server.close(() => r());
      }),
  };
}

async function controlPeer(fs: FakeFreeswitch): Promise<Peer> {
  const p = new Peer(net.connect(fs.eslPort, '127.0.0.1'));
  await p.until('auth/request', (f) => ct(f) === 'auth/request');
  p.send(`auth ${PASSWORD}`);
  await p.until('+OK accepted', (f) => header(f.headers, 'Reply-Text') === '+OK accepted');
  return p;
}

/** The api reply to `command` on a control connection (replies come in order: the n-th api/response). */
async function api(p: Peer, command: string): Promise<string> {
  const before = p.frames().filter((f) => ct(f) === 'api/response').length;
  p.send(`api ${command}`);
  const start = Date.now();
  while (p.frames().filter((f) => ct(f) === 'api/response').length <= before) {
    if (Date.now() - start > 3000) assert.fail(`no reply to api ${command}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return p.frames().filter((f) => ct(f) === 'api/response')[before]!.body;
}

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function fakeWithStandIn() {
  const adapter = await adapterStandIn();
  const fs = await startFakeFreeswitch({ password: PASSWORD, decisionPort: () => adapter.port, defaultCallerId: { number: '+15550000000', name: '' } });
  cleanup.push(() => fs.stop(), () => adapter.close());
  return { fs, adapter };
}

test('an outbound call with a survey, end to end on the fake: every frame where the fake used to differ from real 01 and 07/08', { timeout: 15_000 }, async () => {
  const { fs, adapter } = await fakeWithStandIn();
  const control = await controlPeer(fs);
  const placed = fs.placeCall({ user: '1001', dialed: '+14155550123', talkMs: 50, hangsUp: 'agent', surveySteps: [{ pauseMs: 300 }, { key: '2', via: 'info' }] });

  // ---- the decision (sync socket, real 01) ----
  const decision = await adapter.next();
  decision.send('connect');
  const connect = await decision.until('connect reply', (f) => header(f.headers, 'Event-Name') === 'CHANNEL_DATA');
  assert.deepEqual([header(connect.headers, 'Reply-Text'), header(connect.headers, 'Socket-Mode'), header(connect.headers, 'Control')], ['%2BOK%0A', 'static', 'full']);
  // The user directory's caller ID is on the channel, as in real 01/02 ("Extension 1003").
  assert.equal(unescape(header(connect.headers, 'variable_effective_caller_id_name') ?? ''), 'Extension 1001');
  assert.equal(unescape(header(connect.headers, 'variable_callpolicy_kind') ?? ''), 'outbound');

  // While it is held: `show channels` rows shaped like real 11's (~40 fields).
  const rows = (JSON.parse(await api(control, 'show channels as json')) as { rows: Record<string, string>[] }).rows;
  assert.equal(rows.length, 1);
  assert.deepEqual(Object.keys(rows[0]!), Object.keys(realApi.channelRow));
  assert.ok(Object.keys(rows[0]!).length >= 38);
  assert.equal(rows[0]!.presence_id, '1001@127.0.0.1');

  decision.send('sendmsg', { 'call-command': 'execute', 'execute-app-name': 'multiset', 'execute-app-arg': '^^|effective_caller_id_number=+12125550199|effective_caller_id_name=Acme Sales Ltd|callpolicy_dest=+14155550123|callpolicy_survey=1|callpolicy_route=dial' });
  await decision.until('+OK', (f) => header(f.headers, 'Reply-Text') === '+OK');
  decision.send('exit');
  await decision.until('disconnect notice', (f) => ct(f) === 'text/disconnect-notice');

  // ---- the survey (async socket, real 07/08) ----
  const survey = await adapter.next();
  survey.send('connect');
  const sconnect = await survey.until('connect reply', (f) => header(f.headers, 'Event-Name') === 'CHANNEL_DATA');
  assert.equal(header(sconnect.headers, 'Socket-Mode'), 'async');
  const uuid = header(sconnect.headers, 'Unique-ID')!;
  survey.send('myevents json');
  await survey.until('+OK Events Enabled', (f) => header(f.headers, 'Reply-Text') === '+OK Events Enabled');
  const intro = '11111111-1111-4111-8111-111111111111';
  const closing = '22222222-2222-4222-8222-222222222222';
  survey.send('sendmsg', { 'call-command': 'execute', 'execute-app-name': 'playback', 'execute-app-arg': 'silence/3', 'Event-UUID': intro });
  const dtmf = json(await survey.until('the key', isEvent('DTMF')));
  assert.deepEqual([dtmf['DTMF-Digit'], dtmf['DTMF-Source']], ['2', 'ENDPOINT']);

  survey.send(`api uuid_break ${uuid} all`);
  await survey.until('uuid_break reply', (f) => ct(f) === 'api/response');
  survey.send('sendmsg', { 'call-command': 'execute', 'execute-app-name': 'playback', 'execute-app-arg': 'ivr/thanks', 'Event-UUID': closing });
  const isCut = isEvent('CHANNEL_EXECUTE_COMPLETE', (e) => e['Application-UUID'] === intro);
  const cut = await survey.until('the cut intro completes', isCut);
  // As in real 07: the cut prompt's completion comes after the next playback's +OK, and says FILE PLAYED.
  const frames = survey.frames();
  const accepted = frames.map((f) => header(f.headers, 'Reply-Text')).lastIndexOf('+OK');
  assert.ok(frames.findIndex(isCut) > accepted, 'the cut prompt completes after the next playback was accepted');
  assert.equal(json(cut)['Application-Response'], 'FILE PLAYED');
  await survey.until('the closing prompt completes', isEvent('CHANNEL_EXECUTE_COMPLETE', (e) => e['Application-UUID'] === closing));

  const before = survey.frames().length;
  survey.send('sendmsg', { 'call-command': 'hangup', 'hangup-cause': 'NORMAL_UNSPECIFIED' });
  await survey.until('disconnect notice', (f) => ct(f) === 'text/disconnect-notice', before);
  const after = survey.frames().slice(before);
  // As in real 07-10: +OK, then HANGUP, UNPARK, the socket app's completion, 2x CHANNEL_STATE, HANGUP_COMPLETE, the notice.
  assert.deepEqual(
    after.map((f) => (ct(f) === 'text/event-json' ? `${json(f)['Event-Name']}${json(f).Application ? `(${json(f).Application})` : ''}` : (header(f.headers, 'Reply-Text') ?? ct(f)))),
    ['+OK', 'CHANNEL_HANGUP', 'CHANNEL_UNPARK', 'CHANNEL_EXECUTE_COMPLETE(socket)', 'CHANNEL_STATE', 'CHANNEL_STATE', 'CHANNEL_HANGUP_COMPLETE', 'text/disconnect-notice'],
  );
  const end = json(after.find(isEvent('CHANNEL_HANGUP_COMPLETE'))!);
  assert.deepEqual([end['Hangup-Cause'], end.variable_hangup_cause_q850, end.variable_sip_hangup_disposition], ['NORMAL_UNSPECIFIED', '31', 'send_bye']);
  // JSON bodies end without LF, as FreeSWITCH writes them.
  for (const f of survey.frames().filter((x) => ct(x) === 'text/event-json')) assert.ok(f.body.endsWith('}'), 'no LF after a JSON body');

  const r = await placed;
  assert.deepEqual([r.outcome, r.trunk?.callerIdNumber, r.trunk?.callerIdName], ['dial', '+12125550199', 'Acme Sales Ltd']);
  assert.deepEqual(r.survey?.played, ['silence/3', 'ivr/thanks']);
});

describe('the decision applications: set, multiset (both syntaxes), unset, set_profile_var', () => {
  test('multisetItems reads `^^<delimiter>` first, else spaces', () => {
    assert.deepEqual(multisetItems('^^:a=1:b=x y'), ['a=1', 'b=x y']);
    assert.deepEqual(multisetItems('^^|a=|b=2|'), ['a=', 'b=2']);
    assert.deepEqual(multisetItems('a=1 b=2'), ['a=1', 'b=2']);
    assert.deepEqual(multisetItems('^^;x=a b;y=c'), ['x=a b', 'y=c']);
  });

  test('applied on the channel the way set applies them: an empty value unsets, unset removes', async () => {
    const { fs, adapter } = await fakeWithStandIn();
    const placed = fs.placeCall({ user: '1002', dialed: '+14155550123', hangsUp: 'customer' });
    const p = await adapter.next();
    const execute = async (app: string, arg: string) => {
      const n = p.frames().length;
      p.send('sendmsg', { 'call-command': 'execute', 'execute-app-name': app, 'execute-app-arg': arg });
      await p.until(`${app} +OK (${n})`, (f) => header(f.headers, 'Reply-Text') === '+OK', n, 2000);
    };
    p.send('connect');
    await p.until('connect reply', (f) => header(f.headers, 'Event-Name') === 'CHANNEL_DATA');
    await execute('set', 'callpolicy_shown_name=Old Name');
    await execute('multiset', 'callpolicy_survey=1 callpolicy_shown_number=212****234');
    await execute('multiset', '^^;callpolicy_shown_name=;effective_caller_id_name=Acme Sales, Inc.;callpolicy_route=dial');
    await execute('unset', 'callpolicy_shown_number');
    await execute('set_profile_var', 'caller_id_name=');
    p.send('exit');
    const r = await placed;
    assert.equal(r.vars.get('callpolicy_survey'), '1');
    assert.equal(r.vars.has('callpolicy_shown_name'), false, 'an empty multiset value unsets');
    assert.equal(r.vars.has('callpolicy_shown_number'), false, 'unset removes');
    assert.equal(r.vars.get('effective_caller_id_name'), 'Acme Sales, Inc.');
    assert.equal(r.outcome, 'dial');
    assert.equal(r.trunk?.callerIdName, 'Acme Sales, Inc.');
  });
});

test('the control link answers api as real 12 did: global_getvar known and unknown, show channels when idle', async () => {
  const { fs } = await fakeWithStandIn();
  const p = await controlPeer(fs);
  assert.equal(await api(p, 'global_getvar domain'), '127.0.0.1');
  assert.equal(await api(p, 'global_getvar no_such_var'), '-ERR no reply\n');
  assert.equal(await api(p, 'show channels as json'), '{"row_count": 0}\n');
  p.sock.destroy();
});

test("the survey's DTMF templates: RFC 2833 says RTP and SIP INFO says ENDPOINT, in both directions (real 07-10)", () => {
  for (const direction of ['outbound', 'inbound'] as const) {
    const { dtmf } = surveyFrames(direction);
    assert.equal(Object.fromEntries(dtmf.rtp)['DTMF-Source'], 'RTP');
    assert.equal(Object.fromEntries(dtmf.info)['DTMF-Source'], 'ENDPOINT');
  }
});
