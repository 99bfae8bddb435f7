import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import { describeDbError, isConnectionError, isTransientError } from '../../src/store/db-errors.js';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });
/** drizzle wraps the driver's error; its own message repeats the query and its parameters. */
const wrapped = (cause: Error) => new DrizzleQueryError('insert into calls ...', ['+14155550123'], cause);

describe('database error classification', () => {
  test('connection errors: sockets, restart/shutdown, pg messages without SQLSTATE, through drizzle', () => {
    for (const err of [
      withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'),
      withCode('terminating connection due to administrator command', '57P01'),
      withCode('the database system is starting up', '57P03'),
      withCode('sorry, too many clients already', '53300'),
      withCode('connection failure', '08006'),
      new Error('Connection terminated unexpectedly'),
      new Error('timeout exceeded when trying to connect'),
      new Error('Query read timeout'),
      wrapped(withCode('terminating connection due to administrator command', '57P01')),
      new AggregateError([withCode('connect ECONNREFUSED ::1:5432', 'ECONNREFUSED')], ''),
    ]) {
      assert.equal(isConnectionError(err), true, err.message);
      assert.equal(isTransientError(err), true, err.message);
    }
  });

  test('a statement timeout or a serialization failure is worth a retry, but is not an outage', () => {
    for (const err of [withCode('canceling statement due to statement timeout', '57014'), withCode('could not serialize access', '40001')]) {
      assert.equal(isConnectionError(err), false);
      assert.equal(isTransientError(err), true);
    }
  });

  test('bad data, bugs and validation errors are neither', () => {
    for (const err of [
      withCode('duplicate key value violates unique constraint', '23505'),
      wrapped(withCode('invalid input syntax for type integer', '22P02')),
      new TypeError("Cannot read properties of undefined (reading 'map')"),
      new Error('Invalid option: expected one of "group"|"area"|"agent"'),
    ]) {
      assert.equal(isConnectionError(err), false, err.message);
      assert.equal(isTransientError(err), false, err.message);
    }
  });

  test("the description names the driver's error, never the query's parameters", () => {
    const d = describeDbError(wrapped(withCode('invalid input syntax for type integer: "x"', '22P02')));
    assert.deepEqual(d, { code: '22P02', message: 'invalid input syntax for type integer: "x"' });
    assert.doesNotMatch(JSON.stringify(d), /14155550123/);
  });
});
