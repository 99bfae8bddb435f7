// Call memory's starting point in the tests: an outbound call an agent placed to a customer
// some hours ago, written as the adapter records one (its channel id starts "seeded-", which the
// fault rig's readers leave out as no call of the run).
import { randomUUID } from 'node:crypto';
import type { Db } from '../../src/store/database.js';
import { calls } from '../../src/store/schema/index.js';

export async function seedRememberedCall(
  db: Db,
  c: { pbx: 'asterisk' | 'freeswitch'; agentId: string; endpoint: string; customer: string; hoursAgo?: number; answered?: boolean; callerId?: string },
): Promise<void> {
  const at = new Date(Date.now() - (c.hoursAgo ?? 1) * 3_600_000);
  await db.insert(calls).values({
    direction: 'outbound',
    pbx: c.pbx,
    channelId: `seeded-${c.agentId}-${randomUUID()}`,
    agentId: c.agentId,
    agentEndpoint: c.endpoint,
    customerE164: c.customer,
    callerId: c.callerId ?? '+14155550100',
    action: 'dial',
    reason: 'seeded by the test',
    decidedAt: at,
    endedAt: new Date(at.getTime() + 60_000),
    answeredAt: c.answered === false ? null : new Date(at.getTime() + 5_000),
  });
}
