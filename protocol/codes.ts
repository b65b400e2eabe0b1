/**
 * The contract's error codes (PROTOCOL.md §1 "Error codes"). Tests assert these numbers,
 * never the wording of messages.
 */
export const ErrorCode = {
  BadMessage: 400,
  Unauthorized: 401,
  Forbidden: 403,
  UnknownCommand: 404,
  Replaced: 409,
  LineTooLong: 413,
  InvalidValue: 422,
  TooManyErrors: 429,
  Internal: 500,
  NotImplemented: 501,
  ShuttingDown: 503,
  VersionNotSupported: 505,
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];
