/**
 * A refused administration request, with a stable code an API client and a log reader can rely
 * on, the HTTP status the API answers with, and the field it is about.
 */
export class AdminError extends Error {
  override name = 'AdminError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    /** Details a client can show: the problems of a policy, the rows of an import. */
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export const notFound = (what: string, field?: string) => new AdminError(404, 'not-found', what, field);
