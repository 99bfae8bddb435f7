// The Asterisk configuration the sandbox writes into <root>/etc/asterisk. Pure: options in,
// file name -> content out.
//
// Tests run what ships: pjsip.conf, ari.conf, http.conf, modules.conf, extensions.conf and
// extensions_callpolicy.conf are the files of dialplan/asterisk/ as they are, with only the
// site's values filled in (addresses, ports, the ARI password, dialplan globals) and the site's
// own trunk and phones added as sections that inherit pjsip.conf.sample's templates.
// test/unit/sandbox-asterisk-config.test.ts checks that the shipped text is all there. The
// other files (asterisk.conf, logger.conf, rtp.conf, ...) belong to the sandbox alone.
//
// The values end up in Asterisk config files, so every one is validated: a stray ';'
// (comment), newline or quote would change the config.

export interface SandboxAgent {
  /** PJSIP endpoint, AOR and identify name, e.g. "1001"; also the caller ID number. */
  endpoint: string;
  /** Local UDP port of the sipp that plays this agent's phone; identifies the endpoint. */
  port: number;
  /** Display name, e.g. "Agent One". */
  name: string;
  /** Dialplan context for the agent's calls (default "agents"). */
  context?: string;
  /** false: the endpoint has no contact, as a phone that is not registered (ARI: offline). */
  registered?: boolean;
  /** true: Asterisk sends this phone P-Asserted-Identity and Remote-Party-ID (send_pai, send_rpid), as phones that display them. */
  identityHeaders?: boolean;
}

/**
 * The shipped files of dialplan/asterisk/, as text. The sandbox's configuration is made from
 * them: extensions_callpolicy.conf as it is, the samples with only the site's values (addresses,
 * ports, the ARI password, dialplan globals) filled in, and the site's own trunk and phones
 * added as sections that inherit the templates of pjsip.conf.sample.
 */
export interface ShippedAsteriskFiles {
  /** extensions_callpolicy.conf: written as it is. */
  callpolicyDialplan: string;
  /** extensions.conf.sample: becomes extensions.conf with the [globals] values filled in. */
  extensionsSample: string;
  /** pjsip.conf.sample: transport bound to 127.0.0.1, then the sandbox's trunk and phones. */
  pjsipSample: string;
  /** ari.conf.sample: with the sandbox's password. */
  ariSample: string;
  /** http.conf.sample: bound to 127.0.0.1 and the sandbox's port. */
  httpSample: string;
  /** modules.conf.sample: plus the modules the sandbox never loads. */
  modulesSample: string;
}

/** Where each shipped text comes from, relative to dialplan/asterisk/. */
export const SHIPPED_ASTERISK_FILES: Record<keyof ShippedAsteriskFiles, string> = {
  callpolicyDialplan: 'extensions_callpolicy.conf',
  extensionsSample: 'extensions.conf.sample',
  pjsipSample: 'pjsip.conf.sample',
  ariSample: 'ari.conf.sample',
  httpSample: 'http.conf.sample',
  modulesSample: 'modules.conf.sample',
};

export interface AsteriskConfigOptions extends ShippedAsteriskFiles {
  agents: SandboxAgent[];
  /** sipp UAS port of the carrier trunk (endpoint "trunk"). */
  trunkPort: number;
  /** Extra local ports identified as the trunk too (for sipp UACs that play inbound calls). */
  trunkExtraPorts: number[];
  /** Dialplan context for calls coming from the trunk (default: the trunk template's). */
  trunkContext?: string;
  sipPort: number;
  httpPort: number;
  ariUser: string;
  ariPassword: string;
  defaultNumber: string;
  defaultName: string;
  /**
   * Seconds between OPTIONS pings to agent phones; 0 = never (contacts always "reachable").
   * Overrides the agent AOR template's qualify_frequency: sipp phones answer no OPTIONS.
   */
  agentQualifyFrequency: number;
  rtpPorts: [number, number];
  verbose: number;
  /** Appended to extensions.conf as is. */
  extraExtensions: string;
  /** CALLPOLICY_EMERGENCY_NUMBER: the caller ID of emergency calls. */
  emergencyNumber: string;
}

export const TRUNK_ENDPOINT = 'trunk';

/** The templates of pjsip.conf.sample that the sandbox's trunk and phones inherit. */
export const PJSIP_TEMPLATES = {
  trunk: 'callpolicy-trunk',
  agent: 'callpolicy-agent',
  agentAor: 'callpolicy-agent-aor',
} as const;
/** The transport section of pjsip.conf.sample (its bind address is the one value replaced). */
export const PJSIP_TRANSPORT = 'transport-udp';

// Modules that the sandbox never needs and that are slow, noisy, open sockets on 0.0.0.0,
// touch devices or could look names up in DNS. Everything else autoloads.
const NOLOAD_MODULES = [
  'res_resolver_unbound', // would make PJSIP resolve through unbound
  'chan_iax2',
  'chan_unistim',
  'chan_motif',
  'chan_console',
  'chan_audiosocket',
  'res_audiosocket',
  'app_audiosocket',
  'app_jack',
  'pbx_dundi',
  'pbx_lua',
  'pbx_ael',
  'pbx_realtime',
  'res_xmpp',
  'res_snmp',
  'res_hep',
  'res_hep_pjsip',
  'res_hep_rtcp',
  'res_calendar',
  'res_calendar_caldav',
  'res_calendar_ews',
  'res_calendar_exchange',
  'res_calendar_icalendar',
  'res_config_ldap',
  'res_config_pgsql',
  'res_config_odbc',
  'res_config_curl',
  'res_config_sqlite3',
  'res_odbc',
  'res_odbc_transaction',
  'func_odbc',
  'app_voicemail_odbc',
  'res_phoneprov',
  'res_pjsip_phoneprov_provider',
  'res_stir_shaken',
  'res_pjsip_stir_shaken',
  'res_prometheus',
  'res_statsd',
  'res_smdi',
  'res_stun_monitor',
  'res_pjsip_config_wizard',
  'res_pjsip_notify',
  'res_parking',
  'res_clialiases',
  'res_adsi',
  'app_adsiprog',
  'app_getcpeid',
  'app_agent_pool',
  'app_confbridge',
  'app_page',
  'app_alarmreceiver',
  'app_festival',
  'app_amd',
  'app_followme',
  'app_queue',
  'app_voicemail',
  'app_minivm',
  'cdr_adaptive_odbc',
  'cdr_csv',
  'cdr_custom',
  'cdr_manager',
  'cdr_odbc',
  'cdr_pgsql',
  'cdr_radius',
  'cdr_sqlite3_custom',
  'cdr_tds',
  'cel_custom',
  'cel_manager',
  'cel_odbc',
  'cel_pgsql',
  'cel_radius',
  'cel_sqlite3_custom',
  'cel_tds',
];

const EMPTY_CONFIG_FILES = [
  'stasis.conf',
  'cel.conf',
  'ccss.conf',
  'features.conf',
  'acl.conf',
  'udptl.conf',
  'geolocation.conf',
  'pjproject.conf',
  'aeap.conf',
  'websocket_client.conf',
  'chan_websocket.conf',
  'res_http_media_cache.conf',
  'res_fax.conf',
  'musiconhold.conf',
];

const NAME_RE = /^[A-Za-z0-9_-]{1,40}$/;
const NUMBER_RE = /^\+?[0-9]{1,20}$/;
// A display name goes inside "..." in pjsip.conf and into a dialplan global: no quotes,
// backslashes, ';' (comment), control characters.
const DISPLAY_NAME_RE = /^[^"\\;\x00-\x1f\x7f]{0,60}$/;

function check(ok: boolean, message: string): void {
  if (!ok) throw new Error(`asterisk sandbox config: ${message}`);
}

function checkPort(port: number, what: string): void {
  check(Number.isInteger(port) && port > 0 && port < 65536, `${what} must be a UDP/TCP port, got ${port}`);
}

export function validateConfigOptions(o: AsteriskConfigOptions): void {
  checkPort(o.sipPort, 'sipPort');
  checkPort(o.httpPort, 'httpPort');
  checkPort(o.trunkPort, 'trunkPort');
  o.trunkExtraPorts.forEach((p) => checkPort(p, 'trunkExtraPorts[]'));
  checkPort(o.rtpPorts[0], 'rtpPorts[0]');
  checkPort(o.rtpPorts[1], 'rtpPorts[1]');
  check(o.rtpPorts[0] < o.rtpPorts[1], 'rtpPorts must be [low, high]');
  check(o.trunkContext === undefined || NAME_RE.test(o.trunkContext), `trunkContext ${JSON.stringify(o.trunkContext)} is not a plain name`);
  check(NAME_RE.test(o.ariUser), 'ariUser must be a plain name');
  check(/^[A-Za-z0-9_-]{8,}$/.test(o.ariPassword), 'ariPassword must be 8+ characters of [A-Za-z0-9_-]');
  check(o.emergencyNumber === '' || NUMBER_RE.test(o.emergencyNumber), `emergencyNumber ${JSON.stringify(o.emergencyNumber)} must be digits with an optional leading +`);
  check(o.defaultNumber === '' || NUMBER_RE.test(o.defaultNumber), `defaultNumber ${JSON.stringify(o.defaultNumber)} must be digits with an optional leading +`);
  check(DISPLAY_NAME_RE.test(o.defaultName), `defaultName ${JSON.stringify(o.defaultName)} has characters a config file cannot hold`);
  check(Number.isInteger(o.verbose) && o.verbose >= 0 && o.verbose <= 10, 'verbose must be 0..10');
  check(Number.isInteger(o.agentQualifyFrequency) && o.agentQualifyFrequency >= 0, 'agentQualifyFrequency must be >= 0');
  const ports = new Set<number>([o.sipPort, o.trunkPort, ...o.trunkExtraPorts]);
  const names = new Set<string>([TRUNK_ENDPOINT]);
  for (const a of o.agents) {
    check(NAME_RE.test(a.endpoint), `agent endpoint ${JSON.stringify(a.endpoint)} is not a plain name`);
    check(!names.has(a.endpoint), `agent endpoint ${a.endpoint} is used twice (or is "${TRUNK_ENDPOINT}")`);
    names.add(a.endpoint);
    checkPort(a.port, `agent ${a.endpoint} port`);
    check(!ports.has(a.port), `agent ${a.endpoint} port ${a.port} is already used by another endpoint or Asterisk`);
    ports.add(a.port);
    check(DISPLAY_NAME_RE.test(a.name), `agent ${a.endpoint} name ${JSON.stringify(a.name)} has characters a config file cannot hold`);
    check(a.context === undefined || NAME_RE.test(a.context), `agent ${a.endpoint} context is not a plain name`);
  }
}

const HEADER = '; Written by test/sandbox/asterisk-config.ts for the callpolicy test sandbox. Do not edit: rewritten at every start.\n';

export function renderAsteriskConfig(o: AsteriskConfigOptions): Record<string, string> {
  validateConfigOptions(o);
  const files: Record<string, string> = {};

  files['asterisk.conf'] = `${HEADER}
[directories]
astcachedir => /var/cache/asterisk
astetcdir => /etc/asterisk
astmoddir => /usr/lib/x86_64-linux-gnu/asterisk/modules
astvarlibdir => /var/lib/asterisk
astdbdir => /var/lib/asterisk
astkeydir => /var/lib/asterisk
astdatadir => /usr/share/asterisk
astagidir => /usr/share/asterisk/agi-bin
astspooldir => /var/spool/asterisk
astrundir => /var/run/asterisk
astlogdir => /var/log/asterisk
astsbindir => /usr/sbin

[options]
verbose = ${o.verbose}
debug = 0
; The sandbox host name is in /etc/hosts (copied in at start); nothing else needs DNS.
systemname = callpolicy-sandbox
hideconnect = yes
`;

  files['modules.conf'] = fromSample(
    'modules.conf.sample',
    addToSection(o.modulesSample, 'modules.conf.sample', 'modules', [
      '; The sandbox never needs these: slow, noisy, sockets on 0.0.0.0, devices, DNS look-ups.',
      ...NOLOAD_MODULES.map((m) => `noload => ${m}.so`),
    ]),
  );

  files['logger.conf'] = `${HEADER}
[general]
dateformat = %F %T.%3q

[logfiles]
console => notice,warning,error,verbose
messages.log => notice,warning,error,verbose
`;

  files['http.conf'] = fromSample(
    'http.conf.sample',
    addToSection(
      setOptions(o.httpSample, 'http.conf.sample', 'general', { bindaddr: '127.0.0.1', bindport: String(o.httpPort) }),
      'http.conf.sample',
      'general',
      ['; Room for the load benchmark (the default is 100 sessions).', 'sessionlimit = 1000'],
    ),
  );

  files['ari.conf'] = fromSample(
    'ari.conf.sample',
    setOptions(o.ariSample, 'ari.conf.sample', o.ariUser, { password: o.ariPassword }),
  );

  files['rtp.conf'] = `${HEADER}
[general]
rtpstart = ${o.rtpPorts[0]}
rtpend = ${o.rtpPorts[1]}
icesupport = no
`;

  // Tone zone for ringback, busy and congestion tones Asterisk generates itself.
  files['indications.conf'] = `${HEADER}
[general]
country = us

[us]
description = United States / North America
ringcadence = 2000,4000
dial = 350+440
busy = 480+620/500,0/500
ring = 440+480/2000,0/4000
congestion = 480+620/250,0/250
callwaiting = 440/300,0/10000
dialrecall = !350+440/100,!0/100,!350+440/100,!0/100,!350+440/100,!0/100,350+440
record = 1400/500,0/15000
info = !950/330,!1400/330,!1800/330,0
`;

  // Present but empty: the defaults are right, and a missing file logs an ERROR at every start,
  // which would hide the errors that matter in the log tail.
  for (const name of EMPTY_CONFIG_FILES) {
    files[name] = HEADER;
  }

  // No CDR files: the adapter records calls itself, and cdr_csv would write per call under load.
  files['cdr.conf'] = `${HEADER}
[general]
enable = no
`;

  const trunkContext = o.trunkContext ?? sectionOptions(o.pjsipSample, 'pjsip.conf.sample', PJSIP_TEMPLATES.trunk).get('context');
  check(trunkContext !== undefined && NAME_RE.test(trunkContext), `pjsip.conf.sample [${PJSIP_TEMPLATES.trunk}] sets no plain context`);
  files['pjsip.conf'] = renderPjsip(o, trunkContext as string);
  files['extensions.conf'] = renderExtensions(o, trunkContext as string);
  files['extensions_callpolicy.conf'] = o.callpolicyDialplan;
  assertLoopbackOnly(files);
  return files;
}

function fromSample(sample: string, text: string): string {
  return `${HEADER}; ---- dialplan/asterisk/${sample}, site values filled in ----\n${text.endsWith('\n') ? text : `${text}\n`}`;
}

/**
 * pjsip.conf: the sandbox's global settings, then pjsip.conf.sample as it is (its transport
 * bound to 127.0.0.1), then the sandbox's trunk and phones. Those inherit the sample's
 * templates and add only what a site adds: names, addresses, ports, display names; the only
 * template values they override are the agent AOR's qualify_frequency (sipp phones answer no
 * OPTIONS) and the context of an agent that asks for another one.
 */
function renderPjsip(o: AsteriskConfigOptions, trunkContext: string): string {
  const file = 'pjsip.conf.sample';
  for (const name of Object.values(PJSIP_TEMPLATES)) {
    check(isTemplate(o.pjsipSample, name), `${file} has no template [${name}](!)`);
  }
  const sample = setOptions(o.pjsipSample, file, PJSIP_TRANSPORT, { bind: `127.0.0.1:${o.sipPort}` });
  const templateContext = sectionOptions(o.pjsipSample, file, PJSIP_TEMPLATES.trunk).get('context');

  const out: string[] = [HEADER];
  out.push(`[global]
type = global
user_agent = callpolicy-sandbox
; sipp phones are identified by their address:port, not by a registration.
endpoint_identifier_order = ip,username

[system]
type = system
; One UDP transport only: never switch a large request to TCP.
disable_tcp_switch = yes

; ---- dialplan/asterisk/${file}, its transport bound to 127.0.0.1 ----
${sample.trimEnd()}

; ---- the sandbox's trunk and phones: site sections inheriting the templates above ----
`);

  // The carrier trunk: a sipp UAS on 127.0.0.1:<trunkPort>.
  const trunkMatch = [o.trunkPort, ...o.trunkExtraPorts].map((p) => `127.0.0.1:${p}`).join(',');
  const trunkContextLine = trunkContext !== templateContext ? `\ncontext = ${trunkContext}` : '';
  out.push(`; --- carrier trunk (sipp UAS on 127.0.0.1:${o.trunkPort})
[${TRUNK_ENDPOINT}](${PJSIP_TEMPLATES.trunk})
transport = ${PJSIP_TRANSPORT}
aors = ${TRUNK_ENDPOINT}${trunkContextLine}

[${TRUNK_ENDPOINT}]
type = aor
contact = sip:127.0.0.1:${o.trunkPort}

[${TRUNK_ENDPOINT}]
type = identify
endpoint = ${TRUNK_ENDPOINT}
match = ${trunkMatch}
`);

  for (const a of o.agents) {
    const contextLine = a.context !== undefined ? `\ncontext = ${a.context}` : '';
    out.push(`; --- agent ${a.endpoint} (sipp on 127.0.0.1:${a.port})
[${a.endpoint}](${PJSIP_TEMPLATES.agent})
transport = ${PJSIP_TRANSPORT}
aors = ${a.endpoint}
callerid = "${a.name}" <${a.endpoint}>${contextLine}${a.identityHeaders ? '\nsend_pai = yes\nsend_rpid = yes' : ''}

[${a.endpoint}](${PJSIP_TEMPLATES.agentAor})
${a.registered === false ? '; not registered: no contact' : `contact = sip:${a.endpoint}@127.0.0.1:${a.port}`}
qualify_frequency = ${o.agentQualifyFrequency}

[${a.endpoint}]
type = identify
endpoint = ${a.endpoint}
match = 127.0.0.1:${a.port}
`);
  }
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Asterisk config text, just enough to fill in a shipped sample: sections are "[name]" or
// "[name](...)" lines; options are "key = value" or "key => value"; ';' starts a comment.

interface SectionRange {
  name: string;
  /** Line index of the "[name]" header. */
  header: number;
  /** Line index after the section's last line. */
  end: number;
}

const SECTION_RE = /^\[([^\]]+)\](\([^)]*\))?\s*(;.*)?$/;

function sectionRanges(lines: string[]): SectionRange[] {
  const out: SectionRange[] = [];
  lines.forEach((line, i) => {
    const m = SECTION_RE.exec(line);
    if (!m) return;
    const last = out[out.length - 1];
    if (last) last.end = i;
    out.push({ name: m[1] as string, header: i, end: lines.length });
  });
  return out;
}

function findSection(lines: string[], file: string, name: string): SectionRange {
  const found = sectionRanges(lines).filter((r) => r.name === name);
  check(found.length === 1, `${file} has ${found.length} [${name}] sections; the sandbox fills in exactly one`);
  return found[0] as SectionRange;
}

function isTemplate(text: string, name: string): boolean {
  return text.split('\n').some((line) => {
    const m = SECTION_RE.exec(line);
    return m?.[1] === name && m[2] === '(!)';
  });
}

function optionKey(line: string): string | undefined {
  const m = /^\s*([A-Za-z0-9_.-]+)\s*=>?/.exec(line);
  return m ? m[1] : undefined;
}

/** The options set in one section (the last value of a key wins; inline comments dropped). */
function sectionOptions(text: string, file: string, name: string): Map<string, string> {
  const lines = text.split('\n');
  const range = findSection(lines, file, name);
  const out = new Map<string, string>();
  for (const line of lines.slice(range.header + 1, range.end)) {
    const key = optionKey(line);
    if (key === undefined) continue;
    out.set(key, line.replace(/^[^=]*=>?/, '').replace(/;.*$/, '').trim());
  }
  return out;
}

/**
 * Replaces the value of each key in one section of a shipped sample. Each key must be set
 * there exactly once: the sandbox fills in what the sample says, it adds no second copy.
 */
function setOptions(text: string, file: string, section: string, values: Record<string, string>): string {
  const lines = text.split('\n');
  const range = findSection(lines, file, section);
  for (const [key, value] of Object.entries(values)) {
    const at: number[] = [];
    for (let i = range.header + 1; i < range.end; i++) {
      if (optionKey(lines[i] as string) === key) at.push(i);
    }
    check(at.length === 1, `${file} [${section}] sets ${key} ${at.length} times; the sandbox fills in exactly one "${key} =" line`);
    lines[at[0] as number] = `${key} = ${value}`;
  }
  return lines.join('\n');
}

/** Adds lines at the end of one section of a shipped sample (after its last non-blank line). */
function addToSection(text: string, file: string, section: string, added: string[]): string {
  const lines = text.split('\n');
  const range = findSection(lines, file, section);
  let at = range.end;
  while (at > range.header + 1 && (lines[at - 1] as string).trim() === '') at--;
  lines.splice(at, 0, ...added);
  return lines.join('\n');
}

/** Non-comment text binding to every interface: the sandbox listens on 127.0.0.1 only. */
function assertLoopbackOnly(files: Record<string, string>): void {
  for (const [name, content] of Object.entries(files)) {
    content.split('\n').forEach((line, i) => {
      const code = line.replace(/;.*$/, '');
      check(!/\b0\.0\.0\.0\b|\[::\]/.test(code), `${name} line ${i + 1} binds to every interface: ${line.trim()}`);
    });
  }
}

/**
 * extensions.conf is the shipped extensions.conf.sample itself, with only the site's values of
 * its [globals] replaced (every global the sample sets must be given one here), then the
 * contexts that exist for tests alone.
 */
function renderExtensions(o: AsteriskConfigOptions, trunkContext: string): string {
  const site: Record<string, string> = {
    CALLPOLICY_TRUNK: TRUNK_ENDPOINT,
    CALLPOLICY_DEFAULT_NUMBER: o.defaultNumber,
    CALLPOLICY_DEFAULT_NAME: o.defaultName,
    CALLPOLICY_EMERGENCY_NUMBER: o.emergencyNumber,
    // The test topology's IVR and voicemail: contexts the tests add through extraExtensions.
    CALLPOLICY_IVR_CONTEXT: 'ivr',
    CALLPOLICY_VOICEMAIL_CONTEXT: 'test-voicemail',
  };
  const seen = new Set<string>();
  const sample = o.extensionsSample.replace(/^(CALLPOLICY_[A-Z_]+)[ \t]*=[^\n]*$/gm, (line, key: string) => {
    const value = site[key];
    if (value === undefined) throw new Error(`asterisk sandbox config: extensions.conf.sample sets ${key}, which the sandbox has no value for`);
    seen.add(key);
    return `${key} = ${value}`;
  });
  for (const key of Object.keys(site)) {
    if (!seen.has(key)) throw new Error(`asterisk sandbox config: extensions.conf.sample no longer sets ${key}`);
  }
  return `${HEADER}
[general]
static = yes
writeprotect = yes
clearglobalvars = yes

; ---- dialplan/asterisk/extensions.conf.sample, site values filled in ----
${sample}
; ---- test-only contexts ----

; Benchmark baseline: a fixed caller ID and a direct Dial of the trunk, no Stasis.
[plain-outbound]
exten => _[+0-9].,1,NoOp(plain-outbound: call to \${EXTEN})
 same => n,Set(CALLERID(name)=\${CALLPOLICY_DEFAULT_NAME})
 same => n,Set(CALLERID(num)=\${CALLPOLICY_DEFAULT_NUMBER})
 same => n,Dial(PJSIP/\${FILTER(0123456789+,\${EXTEN})}@\${CALLPOLICY_TRUNK},60)
 same => n,Hangup()

; Calls from the trunk (context ${trunkContext}): the sample's [from-trunk] sends them to the
; adapter's inbound routing; tests add more through extraExtensions (sections with the same name
; are merged).

${o.extraExtensions}
`;
}
