/**
 * What a database error means for the caller: drizzle wraps the driver's error (whose message
 * repeats the whole query and its parameters, customer numbers included) in `cause`, so every
 * log line and decision here looks at the driver's error underneath.
 */

interface DriverError extends Error {
  code?: string;
}

/** The innermost error: the one the driver (pg, PGlite) or the socket raised. */
export function rootCause(err: unknown): DriverError {
  let e: unknown = err;
  for (let i = 0; i < 5 && e instanceof Error && e.cause instanceof Error; i++) e = e.cause;
  return e instanceof Error ? e : new Error(String(e));
}

/** SQLSTATE (e.g. 57P01) or a Node socket code (ECONNREFUSED), when there is one. */
export function errorCode(err: unknown): string | undefined {
  const code = rootCause(err).code;
  return typeof code === 'string' ? code : undefined;
}

/** A short, log-safe description: the driver's message and code, never the query's parameters. */
export function describeDbError(err: unknown): { code: string | undefined; message: string } {
  const root = rootCause(err);
  return { code: errorCode(err), message: root.message.split('\n')[0]!.slice(0, 300) };
}

/** What pg says, without a SQLSTATE, when a connection could not be made or was lost. */
const CONNECTION_MESSAGES =
  /Connection terminated|connection timeout|timeout exceeded when trying to connect|Query read timeout|not queryable|Client was closed|terminating connection|Connection refused|socket hang up|LISTEN connection/i;

/**
 * The database is unreachable or went away (not a bad statement): the same write may work later.
 * Socket errors (ECONNREFUSED, ...), PostgreSQL's connection classes (08), shutdown and restart
 * (57P01-57P03), too many connections (53300), and pg's own connection errors, which carry no
 * SQLSTATE ("Connection terminated unexpectedly", "timeout exceeded when trying to connect",
 * "Query read timeout"). Anything else without a code (a validation error, a bug) is not.
 */
export function isConnectionError(err: unknown): boolean {
  const root = rootCause(err);
  const code = errorCode(err);
  if (code === undefined) return CONNECTION_MESSAGES.test(root.message) || (root instanceof AggregateError && root.errors.some(isConnectionError));
  if (/^E[A-Z]+$/.test(code)) return true; // ECONNREFUSED, ECONNRESET, ETIMEDOUT, EPIPE, ...
  return code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300';
}

/**
 * Worth retrying unchanged: a connection error, a cancelled statement (statement_timeout),
 * a serialization failure or deadlock, or the server short of resources. Anything else (a
 * constraint, a type, a syntax error) fails again the same way.
 */
export function isTransientError(err: unknown): boolean {
  if (isConnectionError(err)) return true;
  const code = errorCode(err);
  if (code === undefined) return false;
  // 42P01/42703: a table or column this code knows is not there yet: the database is behind the
  // code (its migration has not run, e.g. it was down when this version started): wait for it.
  return code === '57014' || code === '40001' || code === '40P01' || code.startsWith('53') || code === '55P03' || code === '42P01' || code === '42703';
}
