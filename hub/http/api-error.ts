/**
 * Errors of the user API: an HTTP status and a short code name, answered as the contract's
 * body `{"error":{"code","message"}}`. The code names live here, in one place.
 */
export const ApiErrorCode = {
  badRequest: 'bad_request',
  badFilter: 'bad_filter',
  badParameter: 'bad_parameter',
  notFound: 'not_found',
  starting: 'starting',
  stopping: 'stopping',
  storeUnavailable: 'store_unavailable',
  internal: 'internal',
} as const;

export type ApiErrorCode = (typeof ApiErrorCode)[keyof typeof ApiErrorCode];

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode | string,
    message: string,
    readonly extra?: Record<string, unknown>,
  ) {
    super(message);
  }

  body(): { error: Record<string, unknown> } {
    return { error: { code: this.code, message: this.message, ...this.extra } };
  }
}
