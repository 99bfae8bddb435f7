// Call memory's look-up on the real PostgreSQL: the latest outbound call to a customer within the
// window names the agent; answered-only when asked; other customers, inbound calls and calls with
// no agent never match.
import assert from 'node:assert/strict';
import { afterAll, beforeAll, test } from 'vitest';
import { createCallRecorder, type NewCallRecord } from '../../src/store/call-records.js';
import { createCallMemoryLookup } from '../../src/store/call-memory-lookup.js';
import { openDatabase, type Database } from '../../src/store/database.js';
import { createTempDatabase } from '../support/temp-database.js';

const T0 = Date.parse('2026-11-20T12:00:00Z');
const HOUR = 3_600_000;
let database: Database;
let lookUp: ReturnType<typeof createCallMemoryLookup>;
let drop: () => Promise<void>;

const row = (channelId: string, over: Partial<NewCallRecord>): NewCallRecord => ({
  direction: 'outbound',
  pbx: 'asterisk',
  channelId,
  action: 'dial',
  reason: 'decided',
  customerE164: '+8613800138000',
  agentId: 'alice',
  decidedAt: new Date(T0),
  ...over,
});

beforeAll(async () => {
  const tmp = await createTempDatabase();
  drop = tmp.drop;
  database = await openDatabase({ url: tmp.url, dataDir: '' });
  await database.migrate();
  const recorder = createCallRecorder(database.db);
  recorder.recordDecision(row('a1', { agentId: 'alice', decidedAt: new Date(T0 - 10 * HOUR) }));
  recorder.recordDecision(row('b1', { agentId: 'bob', decidedAt: new Date(T0 - 2 * HOUR) }));
  recorder.recordDecision(row('a2', { agentId: 'alice', decidedAt: new Date(T0 - 5 * HOUR), answeredAt: new Date(T0 - 5 * HOUR + 9000) }));
  // Never a match: an inbound call, a call with no agent, another customer (later than all of the above).
  recorder.recordDecision(row('in1', { direction: 'inbound', agentId: 'carol', decidedAt: new Date(T0 - HOUR) }));
  recorder.recordDecision(row('x1', { agentId: null, action: 'default', reason: 'unknown_agent', decidedAt: new Date(T0 - HOUR) }));
  recorder.recordDecision(row('o1', { customerE164: '+8613900139000', agentId: 'dave', decidedAt: new Date(T0 - HOUR) }));
  await recorder.flush();
  lookUp = createCallMemoryLookup(database.db);
}, 60_000);

afterAll(async () => {
  await database?.close();
  await drop?.();
});

test('the most recent outbound call in the window names the agent, answered or not', async () => {
  const got = await lookUp('+8613800138000', new Date(T0 - 72 * HOUR), { answeredOnly: false });
  assert.deepEqual(got, { agentId: 'bob', at: T0 - 2 * HOUR, answered: false });
});

test('answered only: the latest call the customer answered', async () => {
  const got = await lookUp('+8613800138000', new Date(T0 - 72 * HOUR), { answeredOnly: true });
  assert.deepEqual(got, { agentId: 'alice', at: T0 - 5 * HOUR, answered: true });
});

test('the window start is inclusive, and nothing before it matches', async () => {
  assert.equal((await lookUp('+8613800138000', new Date(T0 - 2 * HOUR), { answeredOnly: false }))?.agentId, 'bob');
  assert.equal(await lookUp('+8613800138000', new Date(T0 - 2 * HOUR + 1), { answeredOnly: false }), null);
});

test('another customer, or none at all', async () => {
  assert.equal((await lookUp('+8613900139000', new Date(0), { answeredOnly: false }))?.agentId, 'dave');
  assert.equal(await lookUp('+14155550123', new Date(0), { answeredOnly: false }), null);
});
