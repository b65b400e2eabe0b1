/**
 * Errors of the user API: an HTTP status and a short code name, answered as the contract's
 * body `{"error":{"code","message"}}`. The code names live here, in one place.
 */
export const ApiErrorCode = {
  badRequest: 'bad_request',
  badFilter: 'bad_filter',
  badParameter: 'bad_parameter',
  notFound: 'not_found',
  methodNotAllowed: 'method_not_allowed',
  requestTimeout: 'request_timeout',
  tooLarge: 'too_large',
  uriTooLong: 'uri_too_long',
  unsupportedMediaType: 'unsupported_media_type',
  expectationFailed: 'expectation_failed',
  headerTooLarge: 'header_too_large',
  starting: 'starting',
  stopping: 'stopping',
  storeUnavailable: 'store_unavailable',
  internal: 'internal',
} as const;

export type ApiErrorCode = (typeof ApiErrorCode)[keyof typeof ApiErrorCode];

/** by HTTP status: the code of an error that names none (fastify's and Node's own refusals) */
const CODE_OF_STATUS: ReadonlyMap<number, ApiErrorCode> = new Map([
  [404, ApiErrorCode.notFound],
  [405, ApiErrorCode.methodNotAllowed],
  [408, ApiErrorCode.requestTimeout],
  [413, ApiErrorCode.tooLarge],
  [414, ApiErrorCode.uriTooLong],
  [415, ApiErrorCode.unsupportedMediaType],
  [417, ApiErrorCode.expectationFailed],
  [431, ApiErrorCode.headerTooLarge],
]);

export function codeOfStatus(status: number): ApiErrorCode {
  return CODE_OF_STATUS.get(status) ?? (status < 500 ? ApiErrorCode.badRequest : ApiErrorCode.internal);
}

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
