/**
 * From errors to HTTP answers (PROTOCOL.md §2): a HubError is answered with its code's status
 * from the registry (protocol/api-errors.ts) and the contract's body
 * `{"error":{"code","message"}}`; an error that names no code (fastify's and Node's own
 * refusals) with the code its status stands for. The codes, statuses and meanings themselves
 * live in the registry, not here.
 */
import type { FastifyReply } from 'fastify';
import { API_ERRORS, type ApiErrorCode } from '../../protocol/api-errors.ts';
import type { HubError, HubErrorExtra } from '../hub-error.ts';

/** The contract's error body. `rows` only for `invalid_csv`. */
export interface ErrorBody {
  error: { code: ApiErrorCode; message: string; rows?: HubErrorExtra['rows'] };
}

/** by HTTP status: the code of an error that names none (fastify's and Node's own refusals) */
const CODE_OF_STATUS: ReadonlyMap<number, ApiErrorCode> = new Map([
  [404, 'not_found'],
  [405, 'method_not_allowed'],
  [408, 'request_timeout'],
  [413, 'too_large'],
  [414, 'uri_too_long'],
  [415, 'unsupported_media_type'],
  [417, 'expectation_failed'],
  [431, 'header_too_large'],
]);

export function codeOfStatus(status: number): ApiErrorCode {
  return CODE_OF_STATUS.get(status) ?? (status < 500 ? 'bad_request' : 'internal');
}

/** The status a HubError is answered with: its code's, or the other one of the registry's it names. */
export function statusOf(err: HubError): number {
  return err.extra.status ?? API_ERRORS[err.code].status;
}

export function errorBody(code: ApiErrorCode, message: string, rows?: HubErrorExtra['rows']): ErrorBody {
  return { error: rows === undefined ? { code, message } : { code, message, rows } };
}

/** Answers a HubError: its status, `Retry-After` when it gives one, and the contract's body. */
export function sendHubError(reply: FastifyReply, err: HubError): FastifyReply {
  if (err.extra.retryAfterS !== undefined) void reply.header('retry-after', String(err.extra.retryAfterS));
  return reply.status(statusOf(err)).send(errorBody(err.code, err.message, err.extra.rows));
}
