// The phones and the trunk around the test Asterisk. test/integration/run.ts configures the
// sandbox from this; an Asterisk given through ARI_URL must be set up the same way
// (see dialplan/asterisk/pjsip.conf.sample).
import type { SandboxAgent } from '../sandbox/asterisk-sandbox.js';

export const AGENT_ONE = { endpoint: '1001', port: 5071, name: 'Agent One' } as const satisfies SandboxAgent;
export const AGENT_TWO = { endpoint: '1002', port: 5072, name: 'Agent Two' } as const satisfies SandboxAgent;
export const AGENT_THREE = { endpoint: '1003', port: 5073, name: 'Agent Three' } as const satisfies SandboxAgent;
/** Phones that display P-Asserted-Identity and Remote-Party-ID (number protection checks all three identities). */
export const AGENT_PAI = { endpoint: '1005', port: 5075, name: 'Agent Five', identityHeaders: true } as const satisfies SandboxAgent;
export const AGENT_PAI_TWO = { endpoint: '1006', port: 5076, name: 'Agent Six', identityHeaders: true } as const satisfies SandboxAgent;
/** Dials through the plain-outbound context: the benchmark baseline, no adapter. */
export const PLAIN_AGENT = { endpoint: '1009', port: 5079, name: 'Plain Agent', context: 'plain-outbound' } as const satisfies SandboxAgent;

/** An agent whose phone is not registered (no contact): ARI says offline. */
export const OFFLINE_AGENT = { endpoint: '1004', port: 5074, name: 'Agent Offline', registered: false } as const satisfies SandboxAgent;
/** The IVR's phone: [ivr] (CALLPOLICY_IVR_CONTEXT) rings it, so tests see which calls reached the IVR. */
export const IVR_PHONE = { endpoint: '1900', port: 5090, name: 'IVR' } as const satisfies SandboxAgent;
/** The voicemail's phone: [test-voicemail] (CALLPOLICY_VOICEMAIL_CONTEXT) rings it, the mailbox in the caller name. */
export const VOICEMAIL_PHONE = { endpoint: '1901', port: 5091, name: 'Voicemail' } as const satisfies SandboxAgent;

export const AGENTS: SandboxAgent[] = [AGENT_ONE, AGENT_TWO, AGENT_THREE, AGENT_PAI, AGENT_PAI_TWO, PLAIN_AGENT, OFFLINE_AGENT, IVR_PHONE, VOICEMAIL_PHONE];

/** sipp UAS playing the carrier; PJSIP endpoint "trunk". */
export const TRUNK_PORT = 5080;
/** Also identified as the trunk: a sipp UAC here places customers' (inbound) calls. */
export const CUSTOMER_PORT = 5081;
/** A second customer's phone, also identified as the trunk (two customer calls at once). */
export const CUSTOMER_PORT_2 = 5082;

/** CALLPOLICY_DEFAULT_NUMBER: the caller ID when the adapter is down. */
export const DEFAULT_NUMBER = '+15550000000';
/** CALLPOLICY_EMERGENCY_NUMBER: the site's callback number, the caller ID of emergency calls. */
export const EMERGENCY_NUMBER = '+15550000911';
/**
 * Agents reach outside numbers as the README routes them (dialplan/asterisk/extensions.conf.sample):
 * "9" + the number. Emergency numbers are dialled directly or after the 9.
 */
export const OUTSIDE_LINE = '9';

/**
 * Dialplan the tests add to the shipped files: the trunk side's test routes (a customer calls
 * "agent-<endpoint>": that agent's phone directly; "direct-<n>": straight to the IVR; neither
 * matches a number, and neither asks the adapter; "[n]": a bare n in a pattern means any digit
 * 2-9), the IVR and the voicemail.
 */
export const TEST_EXTENSIONS = `
[from-trunk]
; I: the agent's answer sends the customer's sipp no connected-line re-INVITE (which it does not
; expect; a CI run lost the call-memory "busy agent" test to one).
exten => _age[n]t-X.,1,Dial(PJSIP/\${FILTER(0123456789,\${EXTEN:6})},10,I)
 same => n,Hangup()
; Straight to the IVR, the adapter never asked (the benchmark's baseline for inbound calls).
exten => _direct-X.,1,Goto(ivr,s,1)
; The README's recipe for surveying a call the site's own IVR connects: "ivr-agent-<endpoint>".
exten => _ivr-age[n]t-X.,1,Set(CALLPOLICY_AGENT=PJSIP/\${FILTER(0123456789,\${EXTEN:10})})
 same => n,Set(CALLPOLICY_SURVEY_OFFER=1)
 same => n,Dial(\${CALLPOLICY_AGENT},10,g)
 same => n,GotoIf($["\${DIALSTATUS}"="ANSWER"]?callpolicy-survey,inbound,1)
 same => n,Hangup()

; The IVR (CALLPOLICY_IVR_CONTEXT): rings the IVR's phone, so a test sees which calls reached it.
; With I: the IVR phone's answer would otherwise update the customer's connected line, a re-INVITE
; to the trunk that the customer's sipp does not expect (a CI run lost a call to it).
[ivr]
exten => s,1,Dial(PJSIP/${IVR_PHONE.endpoint},30,I)
 same => n,Hangup()
; The README's recipe for number protection on calls the site's own IVR connects: "protected-agent-<endpoint>".
exten => _protected-age[n]t-X.,1,Dial(PJSIP/\${FILTER(0123456789,\${EXTEN:16})},10,Ib(callpolicy-protect^s^1))
 same => n,Hangup()

; Voicemail (CALLPOLICY_VOICEMAIL_CONTEXT): rings the voicemail's phone, the mailbox in the caller name.
[test-voicemail]
exten => _X.,1,Set(CALLERID(name)=voicemail \${EXTEN})
 same => n,Dial(PJSIP/${VOICEMAIL_PHONE.endpoint},30,I)
 same => n,Hangup()
`;

/** The sandbox Asterisk around these phones: what the integration runner, the demo and the bench start. */
export const SANDBOX_TOPOLOGY = {
  agents: AGENTS,
  trunkPort: TRUNK_PORT,
  trunkExtraPorts: [CUSTOMER_PORT, CUSTOMER_PORT_2],
  extraExtensions: TEST_EXTENSIONS,
  defaultNumber: DEFAULT_NUMBER,
  emergencyNumber: EMERGENCY_NUMBER,
};
