// The call-control port on FreeSWITCH. Control model (see README "Attach it to your FreeSWITCH"):
// the shipped dialplan hands each call to the adapter with the `socket` application in sync mode
// (outbound ESL: FreeSWITCH connects to us per call). The adapter only decides: it sets channel
// variables and releases the socket; the dialplan's route extensions then do the dialling.
// - adapter down: `socket` fails at once and the dialplan takes the default route;
// - adapter slow: the decision deadline (2 s from the connect) releases the call to the default route;
// - a second connection, the control link (inbound ESL), carries the ends of calls and api commands.
import type { Logger } from '../../log.js';
import {
  CallGoneError,
  assertSafeCallerId,
  assertSafeDestination,
  assertSafeEndpoint,
  assertSafeNoAnswerRoute,
  assertSafeShown,
  assertSeconds,
  type CallControlHandlers,
  type CallControlPort,
  type CallEnded,
  type CustomerIdRefusal,
  type EndpointStatus,
  type InboundCall,
  type LinkState,
  type NoAnswerRoute,
  type OutboundCall,
  type ProtectOffer,
  type SurveyOffer,
} from '../call-control.js';
import { createControlLink, startDecisionServer, type ControlLink, type DecisionServer, type DecisionSocket, type EslEvent } from './esl-link.js';
import { callEndedOf } from './fs-end-report.js';
import { surveyLegOf } from './fs-survey-leg.js';

export interface FreeswitchOptions {
  /** The control link: FreeSWITCH's event socket (event_socket.conf.xml). */
  eslHost: string;
  eslPort: number;
  eslPassword: string;
  /** Where the `socket` application of the shipped dialplan connects. */
  listenHost: string;
  listenPort: number;
  /** The longest a call waits for a decision, from FreeSWITCH's connect (default 2000 ms). */
  decisionTimeoutMs?: number;
  requestTimeoutMs: number;
  logger: Logger;
}

/** Channel variables of the shipped dialplan (dialplan/freeswitch/callpolicy.xml): names only here. */
export const FS_VARS = {
  kind: 'callpolicy_kind',
  trunk: 'callpolicy_trunk',
  route: 'callpolicy_route',
  destination: 'callpolicy_dest',
  survey: 'callpolicy_survey',
  shownNumber: 'callpolicy_shown_number',
  shownName: 'callpolicy_shown_name',
  did: 'callpolicy_did',
  agentDial: 'callpolicy_agent_dial',
  ring: 'callpolicy_ring',
  noAnswer: 'callpolicy_noanswer',
  voicemail: 'callpolicy_voicemail',
  wait: 'callpolicy_wait',
  then: 'callpolicy_then',
  offer: 'callpolicy_offer',
  surveyDirection: 'callpolicy_direction',
  surveyCall: 'callpolicy_call',
  surveyAgent: 'callpolicy_agent_endpoint',
} as const;

/** The route extensions of [callpolicy-route] the adapter may choose (callpolicy_route). */
export type FsRoute = 'dial' | 'default' | 'default-timeout' | 'reject' | 'refused-unknown-id' | 'refused-id-unavailable' | 'ivr' | 'ivr-timeout' | 'ring' | 'wait';

const CUSTOMER_ID_KIND = 'customer-id';

/** A call's decision deadline: passed, and whether a decision is being written. */
interface Deadline {
  passed: boolean;
  acting: boolean;
}

/** At the deadline an idle socket gets the timeout route and exit; if that takes longer, it is closed. */
const TIMEOUT_RELEASE_MS = 250;

/** FreeSWITCH expands ${...} and $${...} in application arguments: a value must not carry one. */
function assertNoExpansion(what: string, value: string): void {
  if (value.includes('$')) throw new Error(`unsafe ${what} refused (FreeSWITCH would expand "$"): ${JSON.stringify(value.slice(0, 24))}`);
}

/** The survey offer and the shown identity, as variables (checked before anything is sent). */
function extras(o: (SurveyOffer & ProtectOffer) | undefined): [string, string][] {
  const out: [string, string][] = [[FS_VARS.survey, o?.survey ? '1' : '0']];
  if (o?.protect) {
    assertSafeShown(o.protect);
    out.push([FS_VARS.shownNumber, o.protect.number], [FS_VARS.shownName, o.protect.name]);
  }
  return out;
}

/** Where an inbound call goes when the agent does not take it, as the route extensions' variables. */
function noAnswerVars(prefix: 'noanswer' | 'then', route: NoAnswerRoute): [string, string][] {
  assertSafeNoAnswerRoute(route);
  const out: [string, string][] = [[prefix === 'noanswer' ? FS_VARS.noAnswer : FS_VARS.then, route.kind]];
  if (route.kind === 'voicemail') out.push([FS_VARS.voicemail, route.extension]);
  return out;
}

/**
 * multiset's argument: "^^|" then name=value pairs joined by "|" (mod_dptools reads "^^" and the
 * next character as its own delimiter). Every value is checked before this: none holds "|".
 * An empty value unsets the variable, as `set` does.
 */
export function multisetArg(vars: [string, string][]): string {
  for (const [name, value] of vars) {
    if (!/^[a-z_]+$/.test(name) || /[|\r\n]/.test(value)) throw new Error(`variable ${name} cannot go into multiset: ${JSON.stringify(value.slice(0, 24))}`);
  }
  return `^^|${vars.map(([name, value]) => `${name}=${value}`).join('|')}`;
}

const decoded = (data: Readonly<Record<string, string>>, name: string) => data[`variable_${name}`] ?? '';

/** The agent's endpoint as the policy names it on FreeSWITCH: user/<extension>. */
function agentEndpointOf(data: Readonly<Record<string, string>>): string {
  return `user/${data['Caller-Username'] || data['variable_sip_from_user'] || data['Caller-Caller-ID-Number'] || ''}`;
}

/**
 * An agent's state from FreeSWITCH: registered (sofia_contact finds a contact for the user in the
 * switch's default domain) and in a call (a channel of that user exists). Only user/<id> endpoints.
 */
async function endpointStatusOf(control: ControlLink, domainOf: () => Promise<string>, endpoint: string): Promise<EndpointStatus> {
  const m = /^user\/([A-Za-z0-9_.-]{1,64})$/.exec(endpoint);
  if (!m) return { reachable: false, inCall: false };
  const user = m[1]!;
  const domain = await domainOf();
  const contact = (await control.api(`sofia_contact */${user}@${domain}`)).trim();
  const channels = JSON.parse((await control.api('show channels as json')).trim() || '{}') as { rows?: { name?: string; presence_id?: string }[] };
  const mine = (channels.rows ?? []).some((r) => r.presence_id?.startsWith(`${user}@`) || (r.name ?? '').includes(`/${user}@`));
  return { reachable: contact.length > 0 && !contact.startsWith('error/'), inCall: mine };
}

export function createFreeswitchCallControl(opts: FreeswitchOptions): CallControlPort & { decisionPort(): number } {
  const log = opts.logger;
  const decisionTimeoutMs = opts.decisionTimeoutMs ?? 2000;
  let handlers: CallControlHandlers | undefined;
  let server: DecisionServer | undefined;
  let control: ControlLink | undefined;
  let serverUp = false;
  let controlUp = false;
  /** stop() was called: the control link's end is ours, not an outage. */
  let stopping = false;
  /** The switch's default domain, asked once per control link (an inbound call's agent look-up needs it). */
  let domain: Promise<string> | undefined;
  const switchDomain = () =>
    (domain ??= control!.api('global_getvar domain').then(
      (d) => d.trim(),
      (err: unknown) => {
        domain = undefined; // asked again next time
        throw err;
      },
    ));
  /** Calls whose end we report. */
  const following = new Set<string>();

  const linkState = (): LinkState => (serverUp && controlUp ? 'up' : serverUp || controlUp ? 'connecting' : 'down');

  const onEnd = (event: EslEvent) => {
    const id = event['Unique-ID'];
    if (!id) return;
    if (!following.has(id)) return;
    following.delete(id);
    let info: CallEnded;
    try {
      info = callEndedOf(event);
    } catch (err) {
      log.warn({ err: (err as Error).message, id }, 'FreeSWITCH hang-up event not understood');
      return;
    }
    handlers?.ended?.(info);
  };

  /**
   * The whole decision in one write: every variable and the route in one `multiset` (one
   * application, so a socket lost before it leaves the preset route and nothing half-written),
   * and the release right behind it.
   */
  async function decide(sock: DecisionSocket, vars: [string, string][], route: FsRoute): Promise<void> {
    await sock.executeAndRelease('multiset', multisetArg([...vars, [FS_VARS.route, route]]));
  }

  /** One decision per call, and none after the deadline or the socket's end. */
  function decisionOnce(sock: DecisionSocket, deadline: Deadline) {
    return async (what: () => Promise<void>) => {
      if (deadline.acting) throw new Error(`call ${sock.uuid}: a decision was already taken`);
      if (deadline.passed || sock.closed) throw new CallGoneError(sock.uuid);
      deadline.acting = true;
      await what();
    };
  }

  function inboundCall(sock: DecisionSocket, deadline: Deadline): InboundCall {
    const data = sock.data;
    const once = decisionOnce(sock, deadline);
    const agentVars = (endpoint: string, ringSeconds: number): [string, string][] => {
      assertSafeEndpoint(endpoint);
      assertSeconds('ring time', ringSeconds, 999);
      return [
        [FS_VARS.agentDial, endpoint],
        [FS_VARS.ring, String(ringSeconds)],
      ];
    };
    return {
      id: sock.uuid,
      callerNumber: data['Caller-Caller-ID-Number'] ?? '',
      dialed: decoded(data, FS_VARS.did) || data['Caller-Destination-Number'] || '',
      trunk: decoded(data, FS_VARS.trunk),
      async ringAgent(endpoint, ringSeconds, onNoAnswer, o) {
        const vars = [...agentVars(endpoint, ringSeconds), ...noAnswerVars('noanswer', onNoAnswer), ...extras(o)];
        await once(() => decide(sock, vars, 'ring'));
      },
      async waitForAgent(endpoint, o) {
        assertSeconds('wait time', o.waitSeconds, 9999);
        const vars = [
          ...agentVars(endpoint, o.ringSeconds),
          [FS_VARS.wait, String(o.waitSeconds)] as [string, string],
          [FS_VARS.offer, o.offerAgent === false ? '0' : '1'] as [string, string],
          ...noAnswerVars('then', o.then),
          ...extras(o),
        ];
        await once(() => decide(sock, vars, 'wait'));
      },
      async toIvr(o) {
        const vars = o?.protect ? extras(o).filter(([k]) => k !== FS_VARS.survey) : [];
        await once(() => decide(sock, vars, 'ivr'));
      },
    };
  }

  function outboundCall(sock: DecisionSocket, deadline: Deadline): OutboundCall {
    const data = sock.data;
    const byCustomerId = decoded(data, FS_VARS.kind) === CUSTOMER_ID_KIND;
    const once = decisionOnce(sock, deadline);
    return {
      id: sock.uuid,
      endpoint: agentEndpointOf(data),
      dialed: decoded(data, FS_VARS.destination) || data['Caller-Destination-Number'] || '',
      byCustomerId,
      trunk: decoded(data, FS_VARS.trunk),
      async dial(callerId, destination, o) {
        assertSafeCallerId(callerId);
        assertSafeDestination(destination);
        assertNoExpansion('caller ID name', callerId.name);
        // No trunk display name: the number itself is the name. An empty name would unset the
        // variable, and FreeSWITCH would send the directory's name for the agent ("Extension
        // 1001") or the phone's own display name to the carrier.
        const vars: [string, string][] = [
          ['effective_caller_id_number', callerId.number],
          ['effective_caller_id_name', callerId.name || callerId.number],
        ];
        const extra = extras(o);
        await once(() => decide(sock, [...vars, [FS_VARS.destination, destination], ...extra], 'dial'));
      },
      async useDefault(o) {
        const extra = extras(o);
        await once(() => decide(sock, extra, byCustomerId ? 'refused-id-unavailable' : 'default'));
      },
      async reject() {
        await once(() => decide(sock, [], byCustomerId ? 'refused-unknown-id' : 'reject'));
      },
      async refuseCustomerId(why: CustomerIdRefusal) {
        await once(() => decide(sock, [], why === 'unknown-id' ? 'refused-unknown-id' : 'refused-id-unavailable'));
      },
    };
  }

  function onCall(sock: DecisionSocket, acceptedAt: number): void {
    const kind = decoded(sock.data, FS_VARS.kind);
    const inbound = kind === 'inbound';
    if (kind === 'survey') return onSurvey(sock);
    if (!inbound && kind !== 'outbound' && kind !== CUSTOMER_ID_KIND) {
      log.warn({ call: sock.uuid, kind }, 'a socket connection that is not a callpolicy call: handed back to the dialplan');
      void sock.release().catch(() => undefined);
      return;
    }
    if (inbound && !handlers?.inbound) {
      void decide(sock, [], 'ivr').catch(() => undefined);
      return;
    }
    following.add(sock.uuid);
    const deadline: Deadline = { passed: false, acting: false };
    const timer = setTimeout(() => {
      if (sock.closed) return;
      deadline.passed = true;
      log.warn({ call: sock.uuid, ms: decisionTimeoutMs }, inbound ? 'no decision in time: the call goes to the IVR' : 'no decision in time: the call goes out with the default caller ID');
      // A decision half written (FreeSWITCH slow to reply): close now, the dialplan's preset route
      // runs (its route extension clears what was set). An idle socket: name the timeout route.
      if (deadline.acting) return sock.abort();
      const hard = setTimeout(() => sock.abort(), TIMEOUT_RELEASE_MS);
      void sock
        .executeAndRelease('set', `${FS_VARS.route}=${inbound ? 'ivr-timeout' : 'default-timeout'}`)
        .catch(() => undefined)
        .finally(() => {
          clearTimeout(hard);
          sock.abort();
        });
    }, Math.max(0, acceptedAt + decisionTimeoutMs - Date.now()));
    void sock.done.then(() => clearTimeout(timer));
    void (async () => {
      try {
        if (inbound) await handlers!.inbound!(inboundCall(sock, deadline));
        else await handlers!.outbound(outboundCall(sock, deadline));
      } catch (err) {
        if (!(err instanceof CallGoneError)) log.error({ err: (err as Error).message, call: sock.uuid }, 'call handler failed; the dialplan goes on with its default route');
      } finally {
        // Whatever happened, the call is never left holding the socket.
        if (!sock.closed && !deadline.passed) await sock.release().catch(() => undefined);
      }
    })();
  }

  const surveyLeg = (sock: DecisionSocket) =>
    surveyLegOf(sock, { direction: decoded(sock.data, FS_VARS.surveyDirection), callId: decoded(sock.data, FS_VARS.surveyCall), agentEndpoint: decoded(sock.data, FS_VARS.surveyAgent) });

  function onSurvey(sock: DecisionSocket): void {
    if (!handlers?.survey) {
      // No survey handler: the leg ends (the dialplan hangs up after the socket).
      void sock.hangup().catch(() => undefined);
      return;
    }
    const leg = surveyLeg(sock);
    void (async () => {
      try {
        await leg.ready;
        await handlers!.survey!(leg.call);
      } catch (err) {
        if (!(err instanceof CallGoneError)) log.warn({ err: (err as Error).message, call: sock.uuid }, 'survey leg failed; hanging up');
        await sock.hangup().catch(() => undefined);
      }
    })();
  }

  const port: CallControlPort & { decisionPort(): number } = {
    kind: 'freeswitch',
    decisionPort: () => server?.port ?? opts.listenPort,
    async start(h) {
      handlers = h;
      stopping = false;
      server = await startDecisionServer({ host: opts.listenHost, port: opts.listenPort, requestTimeoutMs: opts.requestTimeoutMs, deadlineMs: decisionTimeoutMs, logger: log, onCall });
      serverUp = true;
      let linked: () => void;
      const first = new Promise<void>((resolve) => (linked = resolve));
      control = createControlLink({
        host: opts.eslHost,
        port: opts.eslPort,
        password: opts.eslPassword,
        events: ['CHANNEL_HANGUP_COMPLETE'],
        // Only the channels the shipped dialplan handed to us (agents' and customers' calls, survey
        // legs): not the trunk's or the agent's other legs, nor the site's other calls.
        filter: { header: `variable_${FS_VARS.kind}`, value: '/^(outbound|customer-id|inbound|survey)$/' },
        requestTimeoutMs: opts.requestTimeoutMs,
        logger: log,
        onEvent: (e) => {
          if (e['Event-Name'] === 'CHANNEL_HANGUP_COMPLETE') onEnd(e);
        },
        onUp: () => {
          controlUp = true;
          log.info({ esl: `${opts.eslHost}:${opts.eslPort}`, decisions: `${opts.listenHost}:${server?.port}` }, 'FreeSWITCH link up');
          handlers?.linked?.();
          linked();
        },
        onDown: (why) => {
          controlUp = false;
          domain = undefined;
          if (stopping) return;
          log.warn({ why }, 'FreeSWITCH event socket down; reconnecting (calls are still decided)');
        },
      });
      control.start();
      await first;
    },
    async stop() {
      stopping = true;
      control?.stop();
      controlUp = false;
      await server?.close().catch(() => undefined);
      serverUp = false;
      handlers = undefined;
    },
    linkState,
    async follow(callIds) {
      const result = { following: [] as string[], gone: [] as string[] };
      for (const id of callIds) {
        const exists = /^[0-9a-fA-F-]{1,64}$/.test(id) && (await control!.api(`uuid_exists ${id}`)).trim() === 'true';
        if (exists) {
          following.add(id);
          result.following.push(id);
        } else {
          following.delete(id);
          result.gone.push(id);
        }
      }
      return result;
    },
    async endpointStatus(endpoint): Promise<EndpointStatus> {
      return endpointStatusOf(control!, switchDomain, endpoint);
    },
  };
  return port;
}
