// The complete, minimal Asterisk configuration the sandbox writes into <root>/etc/asterisk.
// Pure: options in, file name -> content out. The values end up in Asterisk config files, so
// every one is validated: a stray ';' (comment), newline or quote would change the config.

export interface SandboxAgent {
  /** PJSIP endpoint, AOR and identify name, e.g. "1001"; also the caller ID number. */
  endpoint: string;
  /** Local UDP port of the sipp that plays this agent's phone; identifies the endpoint. */
  port: number;
  /** Display name, e.g. "Agent One". */
  name: string;
  /** Dialplan context for the agent's calls (default "agents"). */
  context?: string;
}

export interface AsteriskConfigOptions {
  agents: SandboxAgent[];
  /** sipp UAS port of the carrier trunk (endpoint "trunk"). */
  trunkPort: number;
  /** Extra local ports identified as the trunk too (for sipp UACs that play inbound calls). */
  trunkExtraPorts: number[];
  /** Dialplan context for calls coming from the trunk. */
  trunkContext: string;
  sipPort: number;
  httpPort: number;
  ariUser: string;
  ariPassword: string;
  defaultNumber: string;
  defaultName: string;
  /** Seconds between OPTIONS pings to agent phones; 0 = never (contacts always "reachable"). */
  agentQualifyFrequency: number;
  rtpPorts: [number, number];
  verbose: number;
  /** Appended to extensions.conf as is. */
  extraExtensions: string;
  /** Contents of the shipped dialplan, written as extensions_callpolicy.conf. */
  callpolicyDialplan: string;
  /** Contents of the shipped extensions.conf.sample: it becomes extensions.conf. */
  extensionsSample: string;
  /** CALLPOLICY_EMERGENCY_NUMBER: the caller ID of emergency calls. */
  emergencyNumber: string;
}

export const TRUNK_ENDPOINT = 'trunk';

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
  check(NAME_RE.test(o.trunkContext), `trunkContext ${JSON.stringify(o.trunkContext)} is not a plain name`);
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

  files['modules.conf'] = `${HEADER}
[modules]
; autoload is the safe choice: res_ari in Asterisk 22.5+ needs res_websocket_client, and the
; dependency set changes between releases. The sandbox only skips what it never uses.
autoload = yes
${NOLOAD_MODULES.map((m) => `noload => ${m}.so`).join('\n')}
`;

  files['logger.conf'] = `${HEADER}
[general]
dateformat = %F %T.%3q

[logfiles]
console => notice,warning,error,verbose
messages.log => notice,warning,error,verbose
`;

  files['http.conf'] = `${HEADER}
[general]
enabled = yes
bindaddr = 127.0.0.1
bindport = ${o.httpPort}
sessionlimit = 1000
`;

  files['ari.conf'] = `${HEADER}
[general]
enabled = yes
pretty = no

[${o.ariUser}]
type = user
read_only = no
password_format = plain
password = ${o.ariPassword}
`;

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

  files['pjsip.conf'] = renderPjsip(o);
  files['extensions.conf'] = renderExtensions(o);
  files['extensions_callpolicy.conf'] = o.callpolicyDialplan;
  return files;
}

function renderPjsip(o: AsteriskConfigOptions): string {
  const out: string[] = [HEADER];
  out.push(`[global]
type = global
user_agent = callpolicy-sandbox
endpoint_identifier_order = ip,username

[system]
type = system
; One UDP transport only: never switch a large request to TCP.
disable_tcp_switch = yes

[transport-udp]
type = transport
protocol = udp
bind = 127.0.0.1:${o.sipPort}
`);

  // The carrier trunk: a sipp UAS on 127.0.0.1:<trunkPort>.
  const trunkMatch = [o.trunkPort, ...o.trunkExtraPorts].map((p) => `127.0.0.1:${p}`).join(',');
  out.push(`; --- carrier trunk (sipp UAS on 127.0.0.1:${o.trunkPort})
[${TRUNK_ENDPOINT}]
type = endpoint
transport = transport-udp
context = ${o.trunkContext}
disallow = all
allow = ulaw,alaw
aors = ${TRUNK_ENDPOINT}
direct_media = no
; P-Asserted-Identity from the channel's caller ID (number and name). The From header carries
; the caller ID anyway as long as no from_user is set on this endpoint.
send_pai = yes
send_rpid = no
; Send the identity even when the caller ID presentation is restricted; accept the carrier's.
trust_id_outbound = yes
trust_id_inbound = yes

[${TRUNK_ENDPOINT}]
type = aor
contact = sip:127.0.0.1:${o.trunkPort}

[${TRUNK_ENDPOINT}]
type = identify
endpoint = ${TRUNK_ENDPOINT}
match = ${trunkMatch}
`);

  for (const a of o.agents) {
    const qualify = o.agentQualifyFrequency > 0 ? `\nqualify_frequency = ${o.agentQualifyFrequency}` : '';
    out.push(`; --- agent ${a.endpoint} (sipp on 127.0.0.1:${a.port})
[${a.endpoint}]
type = endpoint
transport = transport-udp
context = ${a.context ?? 'agents'}
disallow = all
allow = ulaw,alaw
aors = ${a.endpoint}
callerid = "${a.name}" <${a.endpoint}>
direct_media = no

[${a.endpoint}]
type = aor
contact = sip:${a.endpoint}@127.0.0.1:${a.port}
max_contacts = 1${qualify}

[${a.endpoint}]
type = identify
endpoint = ${a.endpoint}
match = 127.0.0.1:${a.port}
`);
  }
  return out.join('\n');
}

/**
 * extensions.conf is the shipped extensions.conf.sample itself, with only the site's values of
 * its [globals] replaced (every global the sample sets must be given one here), then the
 * contexts that exist for tests alone.
 */
function renderExtensions(o: AsteriskConfigOptions): string {
  const site: Record<string, string> = {
    CALLPOLICY_TRUNK: TRUNK_ENDPOINT,
    CALLPOLICY_DEFAULT_NUMBER: o.defaultNumber,
    CALLPOLICY_DEFAULT_NAME: o.defaultName,
    CALLPOLICY_EMERGENCY_NUMBER: o.emergencyNumber,
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

; Calls from the trunk: to the adapter's inbound routing when the shipped dialplan has it;
; tests add more through extraExtensions (sections with the same name are merged).
[${o.trunkContext}]
${/^\[callpolicy-inbound\]/m.test(o.callpolicyDialplan) ? 'include => callpolicy-inbound' : '; (the shipped dialplan has no [callpolicy-inbound] yet)'}

${o.extraExtensions}
`;
}
