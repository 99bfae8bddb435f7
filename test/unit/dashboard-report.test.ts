// The dashboard's calendar days (src/store/dashboard-report.ts): a range is whole local days of an
// IANA zone, starting at the first instant of each, across DST changes and a skipped midnight.
import assert from 'node:assert/strict';
import { test } from 'vitest';
import { addDays, dayStart, daysOf, lastDays, localDay } from '../../src/store/dashboard-report.js';

test('localDay and addDays: the calendar day of an instant in a zone, and day arithmetic', () => {
  const t = new Date('2026-11-01T23:30:00Z');
  assert.equal(localDay(t, 'UTC'), '2026-11-01');
  assert.equal(localDay(t, 'Asia/Shanghai'), '2026-11-02');
  assert.equal(localDay(t, 'America/Los_Angeles'), '2026-11-01');
  assert.equal(addDays('2026-12-31', 1), '2027-01-01');
  assert.equal(addDays('2028-03-01', -1), '2028-02-29');
  assert.throws(() => localDay(t, 'Mars/Olympus'), RangeError);
});

test('dayStart: local midnight, also on DST days and where a DST change skips midnight', () => {
  assert.equal(dayStart('2026-11-02', 'UTC').toISOString(), '2026-11-02T00:00:00.000Z');
  assert.equal(dayStart('2026-11-02', 'Asia/Shanghai').toISOString(), '2026-11-01T16:00:00.000Z');
  // Berlin: summer time ends 25 October 2026 (the day has 25 hours).
  assert.equal(dayStart('2026-10-25', 'Europe/Berlin').toISOString(), '2026-10-24T22:00:00.000Z');
  assert.equal(dayStart('2026-10-26', 'Europe/Berlin').toISOString(), '2026-10-25T23:00:00.000Z');
  // Havana springs forward at midnight (8 March 2026): the day begins at 01:00 local, 05:00Z.
  const havana = dayStart('2026-03-08', 'America/Havana');
  assert.equal(localDay(havana, 'America/Havana'), '2026-03-08');
  assert.equal(localDay(havana.getTime() - 1, 'America/Havana'), '2026-03-07');
  // Kiritimati is UTC+14, the earliest zone there is.
  assert.equal(dayStart('2026-11-02', 'Pacific/Kiritimati').toISOString(), '2026-11-01T10:00:00.000Z');
});

test('lastDays and daysOf: today and the days before it, whole days, in order', () => {
  const now = new Date('2026-10-26T10:00:00Z');
  const r = lastDays(3, 'Europe/Berlin', now);
  assert.equal(r.since.toISOString(), '2026-10-23T22:00:00.000Z');
  assert.equal(r.until.toISOString(), '2026-10-26T23:00:00.000Z');
  assert.deepEqual(daysOf(r), ['2026-10-24', '2026-10-25', '2026-10-26']);
  assert.deepEqual(daysOf(lastDays(1, 'UTC', now)), ['2026-10-26']);
  assert.equal(daysOf(lastDays(366, 'America/New_York', now)).length, 366);
});
