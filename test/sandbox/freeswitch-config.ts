// The FreeSWITCH configuration the sandbox writes into <work>/conf. Pure: options in, file name
// -> content out.
//
// Tests run what ships: dialplan/freeswitch/callpolicy.xml, callpolicy-vars.xml.sample and
// event_socket.conf.xml are installed as the README says (the samples under their installed
// names, unchanged but for the listen port), callpolicy-secrets.xml carries the sandbox's random
// password in place of the sample's placeholder, and trunk-gateway.xml.sample is the trunk's
// gateway with the sandbox's address. Everything else (freeswitch.xml, the modules, the two sofia
// profiles, the directory of agents, the test contexts) belongs to the sandbox alone, as a site's
// own configuration would.
//
// Every value that reaches the XML is checked: a quote, '<' or '&' would change the config.

export interface FsSandboxAgent {
  /** Directory user id and SIP user, e.g. "1001"; the policy names it user/1001. */
  user: string;
  /** Local UDP port of the sipp that plays this agent's phone (its registered contact). */
  port: number;
  /** The directory's effective_caller_id_name, as a stock directory has it ("Extension 1001"). */
  name: string;
  /** false: the phone never registers (FreeSWITCH: no contact, the agent is offline). */
  registered?: boolean;
  /** Context of the agent's calls (default "agents": the README's recipe). */
  context?: string;
}

/** The shipped files of dialplan/freeswitch/, as text. */
export interface ShippedFreeswitchFiles {
  dialplan: string;
  vars: string;
  eventSocket: string;
  secrets: string;
  gateway: string;
}

export const SHIPPED_FREESWITCH_FILES: Record<keyof ShippedFreeswitchFiles, string> = {
  dialplan: 'callpolicy.xml',
  vars: 'callpolicy-vars.xml.sample',
  eventSocket: 'event_socket.conf.xml',
  secrets: 'callpolicy-secrets.xml.sample',
  gateway: 'trunk-gateway.xml.sample',
};

export interface FsConfigOptions extends ShippedFreeswitchFiles {
  agents: FsSandboxAgent[];
  /** Password of every agent in the directory (sipp answers the digest challenge with it). */
  agentPassword: string;
  /** The agents' sofia profile: 127.0.0.1:<agentSipPort>. */
  agentSipPort: number;
  /** The carrier side's sofia profile (the trunk's gateway, customers' calls): 127.0.0.1:<carrierSipPort>. */
  carrierSipPort: number;
  /** The sipp UAS that plays the carrier (the gateway's proxy). */
  trunkPort: number;
  eslPort: number;
  eslPassword: string;
  /** Where the adapter listens for the dialplan's socket application. */
  decisionPort: number;
  rtpPorts: [number, number];
  /** Folders FreeSWITCH is started with (its -sounds folder holds the rendered stock prompts). */
  soundsDir: string;
  logDir: string;
  mohDir: string;
  /** The site's values of callpolicy-vars.xml (set after the sample's defaults). */
  defaultCallerIdNumber: string;
  defaultCallerIdName: string;
  emergencyCallerId: string;
  /** Dialplan added to the sandbox's own contexts file, as it is. */
  extraDialplan: string;
  /** mod_logfile's level: "info" by default, "debug" shows every dialplan step. */
  logLevel: string;
}

/** The gateway's name (the shipped callpolicy_trunk default). */
export const FS_TRUNK_GATEWAY = 'trunk';
/** The directory's domain, the agents' SIP domain. */
export const FS_DOMAIN = '127.0.0.1';

function xmlValue(what: string, value: string): string {
  if (/["<>&\r\n]/.test(value)) throw new Error(`FreeSWITCH sandbox: ${what} ${JSON.stringify(value)} cannot hold quotes, <, >, & or newlines`);
  return value;
}

function port(what: string, n: number): string {
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`FreeSWITCH sandbox: ${what} ${n} is not a port`);
  return String(n);
}

/** The shipped event socket file with the sandbox's port: the one site value in it. */
function eventSocketConf(shipped: string, eslPort: number): string {
  const listen = /(<param name="listen-port" value=")8021("\/>)/;
  if (!listen.test(shipped)) throw new Error('event_socket.conf.xml: no listen-port 8021 to replace (has the shipped file changed?)');
  return shipped.replace(listen, `$1${port('event socket port', eslPort)}$2`);
}

/** The secrets sample with the sandbox's password in place of its placeholder. */
function secretsFile(sample: string, password: string): string {
  const placeholder = 'callpolicy_esl_password=REPLACE-WITH-A-LONG-RANDOM-SECRET';
  if (!sample.includes(placeholder)) throw new Error('callpolicy-secrets.xml.sample: placeholder not found');
  return sample.replace(placeholder, `callpolicy_esl_password=${xmlValue('event socket password', password)}`);
}

/** The gateway sample with the sandbox trunk's address. */
function gatewayFile(sample: string, trunkPort: number): string {
  const proxy = /(<param name="proxy" value=")[^"]*("\/>)/;
  const realm = /(<param name="realm" value=")[^"]*("\/>)/;
  if (!proxy.test(sample)) throw new Error('trunk-gateway.xml.sample: no proxy param to fill in');
  const addr = `127.0.0.1:${port('trunk port', trunkPort)}`;
  return sample.replace(proxy, `$1${addr}$2`).replace(realm, `$1${addr}$2`);
}

const set = (name: string, value: string) => `  <X-PRE-PROCESS cmd="set" data="${name}=${xmlValue(name, value)}"/>`;

function varsXml(o: FsConfigOptions): string {
  // Stock vars.xml sets domain and the sound prefix; then the README's two includes; then the
  // site's values (a later set wins over the sample's default).
  return [
    '<include>',
    set('domain', FS_DOMAIN),
    set('sound_prefix', o.soundsDir),
    '  <X-PRE-PROCESS cmd="include" data="callpolicy-vars.xml"/>',
    '  <X-PRE-PROCESS cmd="include" data="callpolicy-secrets.xml"/>',
    set('callpolicy_socket', `127.0.0.1:${port('decision port', o.decisionPort)}`),
    set('callpolicy_default_caller_id_number', o.defaultCallerIdNumber),
    set('callpolicy_default_caller_id_name', o.defaultCallerIdName),
    set('callpolicy_emergency_caller_id', o.emergencyCallerId),
    set('callpolicy_ivr_extension', 'ivr'),
    set('callpolicy_ivr_context', 'test-ivr'),
    set('callpolicy_voicemail_context', 'test-voicemail'),
    '</include>',
    '',
  ].join('\n');
}

const FREESWITCH_XML = `<?xml version="1.0"?>
<document type="freeswitch/xml">
  <X-PRE-PROCESS cmd="include" data="vars.xml"/>
  <section name="configuration" description="Various Configuration">
    <X-PRE-PROCESS cmd="include" data="autoload_configs/*.xml"/>
    <X-PRE-PROCESS cmd="include" data="sofia.conf.xml"/>
  </section>
  <section name="dialplan" description="Regex/XML Dialplan">
    <X-PRE-PROCESS cmd="include" data="dialplan/*.xml"/>
  </section>
  <section name="directory" description="User Directory">
    <X-PRE-PROCESS cmd="include" data="directory/*.xml"/>
  </section>
</document>
`;

const MODULES = ['mod_logfile', 'mod_event_socket', 'mod_sofia', 'mod_commands', 'mod_dptools', 'mod_expr', 'mod_hash', 'mod_dialplan_xml', 'mod_sndfile', 'mod_native_file', 'mod_tone_stream', 'mod_local_stream', 'mod_loopback'];

function modulesConf(): string {
  return `<configuration name="modules.conf" description="Modules">
  <modules>
${MODULES.map((m) => `    <load module="${m}"/>`).join('\n')}
  </modules>
</configuration>
`;
}

function switchConf(o: FsConfigOptions): string {
  return `<configuration name="switch.conf" description="Core Configuration">
  <settings>
    <param name="max-sessions" value="2000"/>
    <param name="sessions-per-second" value="500"/>
    <param name="loglevel" value="${xmlValue('log level', o.logLevel)}"/>
    <param name="rtp-start-port" value="${port('RTP start', o.rtpPorts[0])}"/>
    <param name="rtp-end-port" value="${port('RTP end', o.rtpPorts[1])}"/>
    <param name="dump-cores" value="no"/>
  </settings>
</configuration>
`;
}

function logfileConf(o: FsConfigOptions): string {
  return `<configuration name="logfile.conf" description="File Logging">
  <settings><param name="rotate-on-hup" value="true"/></settings>
  <profiles>
    <profile name="default">
      <settings>
        <param name="logfile" value="${xmlValue('log dir', o.logDir)}/freeswitch.log"/>
        <param name="rollover" value="0"/>
        <param name="uuid" value="true"/>
      </settings>
      <mappings><map name="all" value="${xmlValue('log level', o.logLevel)},warning,err,crit,alert"/></mappings>
    </profile>
  </profiles>
</configuration>
`;
}

function localStreamConf(o: FsConfigOptions): string {
  return `<configuration name="local_stream.conf" description="stream files from local dir">
  <directory name="moh" path="${xmlValue('music folder', o.mohDir)}">
    <param name="rate" value="8000"/>
    <param name="shuffle" value="false"/>
    <param name="channels" value="1"/>
    <param name="interval" value="20"/>
    <param name="timer-name" value="soft"/>
  </directory>
</configuration>
`;
}

/** Two profiles on the loopback: the agents' phones (digest auth against the directory) and the carrier side. */
function sofiaConf(o: FsConfigOptions): string {
  const common = (sipPort: number) => `
        <param name="sip-ip" value="127.0.0.1"/>
        <param name="rtp-ip" value="127.0.0.1"/>
        <param name="ext-sip-ip" value="127.0.0.1"/>
        <param name="ext-rtp-ip" value="127.0.0.1"/>
        <param name="sip-port" value="${port('SIP port', sipPort)}"/>
        <param name="dialplan" value="XML"/>
        <param name="inbound-codec-prefs" value="PCMU"/>
        <param name="outbound-codec-prefs" value="PCMU"/>
        <param name="dtmf-type" value="rfc2833"/>
        <param name="rfc2833-pt" value="101"/>
        <param name="liberal-dtmf" value="true"/>
        <param name="manage-presence" value="false"/>
        <param name="nonce-ttl" value="60"/>
        <param name="rtp-timer-name" value="soft"/>
        <param name="aggressive-nat-detection" value="false"/>
        <param name="NDLB-received-in-nat-reg-contact" value="false"/>`;
  return `<configuration name="sofia.conf" description="sofia Endpoint">
  <global_settings>
    <param name="log-level" value="0"/>
    <param name="auto-restart" value="false"/>
  </global_settings>
  <profiles>
    <profile name="agents">
      <settings>${common(o.agentSipPort)}
        <param name="context" value="agents"/>
        <param name="auth-calls" value="true"/>
        <param name="accept-blind-reg" value="false"/>
        <param name="challenge-realm" value="auto_from"/>
        <param name="force-register-domain" value="${FS_DOMAIN}"/>
        <param name="force-register-db-domain" value="${FS_DOMAIN}"/>
      </settings>
    </profile>
    <profile name="carrier">
      <gateways>
        <X-PRE-PROCESS cmd="include" data="gateways/*.xml"/>
      </gateways>
      <settings>${common(o.carrierSipPort)}
        <param name="context" value="public"/>
        <param name="auth-calls" value="false"/>
      </settings>
    </profile>
  </profiles>
</configuration>
`;
}

function directoryXml(o: FsConfigOptions): string {
  const users = o.agents
    .map((a) => {
      const user = xmlValue('agent user', a.user);
      if (!/^[0-9]{2,10}$/.test(user)) throw new Error(`FreeSWITCH sandbox: agent user ${JSON.stringify(user)} must be digits`);
      return `      <user id="${user}">
        <params><param name="password" value="${xmlValue('agent password', o.agentPassword)}"/></params>
        <variables>
          <variable name="user_context" value="${xmlValue('agent context', a.context ?? 'agents')}"/>
          <variable name="effective_caller_id_name" value="${xmlValue('agent name', a.name)}"/>
          <variable name="effective_caller_id_number" value="${user}"/>
        </variables>
      </user>`;
    })
    .join('\n');
  return `<include>
  <domain name="${FS_DOMAIN}">
    <params>
      <param name="dial-string" value="{presence_id=\${dialed_user}@\${dialed_domain}}\${sofia_contact(\${dialed_user}@\${dialed_domain})}"/>
    </params>
    <groups><group name="agents"><users>
${users}
    </users></group></groups>
  </domain>
</include>
`;
}

export function renderFreeswitchConfig(o: FsConfigOptions): Record<string, string> {
  return {
    'freeswitch.xml': FREESWITCH_XML,
    'vars.xml': varsXml(o),
    'callpolicy-vars.xml': o.vars,
    'callpolicy-secrets.xml': secretsFile(o.secrets, o.eslPassword),
    'autoload_configs/modules.conf.xml': modulesConf(),
    'autoload_configs/switch.conf.xml': switchConf(o),
    'autoload_configs/logfile.conf.xml': logfileConf(o),
    'autoload_configs/local_stream.conf.xml': localStreamConf(o),
    'autoload_configs/event_socket.conf.xml': eventSocketConf(o.eventSocket, o.eslPort),
    'sofia.conf.xml': sofiaConf(o),
    'gateways/trunk.xml': gatewayFile(o.gateway, o.trunkPort),
    'directory/agents.xml': directoryXml(o),
    'dialplan/callpolicy.xml': o.dialplan,
    'dialplan/sandbox.xml': `<include>\n${o.extraDialplan}\n</include>\n`,
  };
}
