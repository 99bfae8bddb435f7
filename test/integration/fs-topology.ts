// The phones and the trunk around the test FreeSWITCH (test/sandbox/freeswitch-sandbox.ts), on
// ports of their own so that the Asterisk sandbox's (topology.ts) can run beside it.
import type { FsSandboxAgent } from '../sandbox/freeswitch-sandbox.js';

export const FS_AGENT_ONE = { user: '1001', port: 5171, name: 'Extension 1001' } as const satisfies FsSandboxAgent;
export const FS_AGENT_TWO = { user: '1002', port: 5172, name: 'Extension 1002' } as const satisfies FsSandboxAgent;
export const FS_AGENT_THREE = { user: '1003', port: 5173, name: 'Extension 1003' } as const satisfies FsSandboxAgent;
/** Never registers: FreeSWITCH has no contact for it (offline). */
export const FS_OFFLINE_AGENT = { user: '1004', port: 5174, name: 'Extension 1004', registered: false } as const satisfies FsSandboxAgent;
/** The README's option b: the directory sends everything this agent dials to callpolicy-outbound. */
export const FS_DIRECT_AGENT = { user: '1005', port: 5175, name: 'Extension 1005', context: 'callpolicy-outbound' } as const satisfies FsSandboxAgent;
/** Dials through the plain-outbound context: the benchmark's baseline, no adapter. */
export const FS_PLAIN_AGENT = { user: '1009', port: 5179, name: 'Extension 1009', context: 'plain-outbound' } as const satisfies FsSandboxAgent;
/** The IVR's phone: the test IVR bridges to it, so tests see which calls reached the IVR. */
export const FS_IVR_PHONE = { user: '1900', port: 5190, name: 'IVR' } as const satisfies FsSandboxAgent;
/** The voicemail's phone: the test voicemail context bridges to it, the mailbox in the caller name. */
export const FS_VOICEMAIL_PHONE = { user: '1901', port: 5191, name: 'Voicemail' } as const satisfies FsSandboxAgent;

export const FS_AGENTS: FsSandboxAgent[] = [FS_AGENT_ONE, FS_AGENT_TWO, FS_AGENT_THREE, FS_OFFLINE_AGENT, FS_DIRECT_AGENT, FS_PLAIN_AGENT, FS_IVR_PHONE, FS_VOICEMAIL_PHONE];

/** The sipp UAS that plays the carrier: the gateway "trunk" sends calls here. */
export const FS_TRUNK_PORT = 5180;
/** Customers' phones (sipp UACs placing inbound calls to the carrier profile). */
export const FS_CUSTOMER_PORT = 5181;
export const FS_CUSTOMER_PORT_2 = 5182;

export const FS_DEFAULT_NUMBER = '+15550000000';
export const FS_EMERGENCY_NUMBER = '+15550000911';
export const FS_OUTSIDE_LINE = '9';

/**
 * The site's own dialplan around the shipped one: the agents' context with the README's recipe
 * (emergency numbers, 9 + number and *9 + ID transferred to callpolicy-outbound), the carrier's
 * context (customers' calls to callpolicy-inbound; "agent-<user>" rings that agent directly,
 * "direct-<n>" goes straight to the IVR), the IVR and voicemail the tests watch, and the
 * benchmark's plain context.
 */
export const FS_TEST_DIALPLAN = `
  <context name="agents">
    <extension name="callpolicy-emergency-direct">
      <condition field="destination_number" expression="^(911|933|112)$">
        <action application="transfer" data="$1 XML callpolicy-outbound"/></condition></extension>
    <extension name="callpolicy-outside-line-9">
      <condition field="destination_number" expression="^9(\\+?[0-9]{3,20})$">
        <action application="transfer" data="$1 XML callpolicy-outbound"/></condition></extension>
    <extension name="callpolicy-outside-line-9-refused">
      <condition field="destination_number" expression="^9(.+)$">
        <action application="hangup" data="INVALID_NUMBER_FORMAT"/></condition></extension>
    <extension name="callpolicy-customer-id">
      <condition field="destination_number" expression="^(\\*9[A-Za-z0-9_.-]{1,40})$">
        <action application="transfer" data="$1 XML callpolicy-outbound"/></condition></extension>
    <extension name="agents-unknown">
      <condition field="destination_number" expression="^(.*)$">
        <action application="hangup" data="UNALLOCATED_NUMBER"/></condition></extension>
  </context>

  <context name="public">
    <extension name="test-agent-direct">
      <condition field="destination_number" expression="^agent-([0-9]+)$">
        <action application="set" data="hangup_after_bridge=true"/>
        <action application="bridge" data="user/$1"/></condition></extension>
    <extension name="test-direct-ivr">
      <condition field="destination_number" expression="^direct-.+$">
        <action application="transfer" data="ivr XML test-ivr"/></condition></extension>
    <extension name="to-callpolicy-inbound">
      <condition field="destination_number" expression="^(.+)$">
        <action application="transfer" data="$1 XML callpolicy-inbound"/></condition></extension>
  </context>

  <context name="test-ivr">
    <extension name="ivr">
      <condition field="destination_number" expression="^ivr$">
        <action application="set" data="hangup_after_bridge=true"/>
        <action application="bridge" data="{ignore_display_updates=true}user/${FS_IVR_PHONE.user}"/></condition></extension>
  </context>

  <context name="test-voicemail">
    <extension name="voicemail">
      <condition field="destination_number" expression="^([0-9]+)$">
        <action application="set" data="effective_caller_id_name=voicemail $1"/>
        <action application="set" data="hangup_after_bridge=true"/>
        <action application="bridge" data="user/${FS_VOICEMAIL_PHONE.user}"/></condition></extension>
  </context>

  <context name="plain-outbound">
    <extension name="plain">
      <condition field="destination_number" expression="^9(\\+?[0-9]{3,20})$">
        <action application="set" data="effective_caller_id_number=${FS_DEFAULT_NUMBER}"/>
        <action application="set" data="hangup_after_bridge=true"/>
        <action application="bridge" data="{sip_cid_type=pid}sofia/gateway/trunk/$1"/></condition></extension>
  </context>
`;

export const FS_SANDBOX_TOPOLOGY = {
  agents: FS_AGENTS,
  trunkPort: FS_TRUNK_PORT,
  defaultCallerIdNumber: FS_DEFAULT_NUMBER,
  emergencyCallerId: FS_EMERGENCY_NUMBER,
  extraDialplan: FS_TEST_DIALPLAN,
};
