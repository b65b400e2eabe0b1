/**
 * Requests refused before any route sees them: Node's HTTP parser gives up on the request
 * (headers over the size limit, a malformed request line or header, a request too slow to
 * arrive), fastify cannot route its URL (bad percent-encoding, a path parameter over its
 * length), or it expects something other than `100-continue`. Node and fastify would answer
 * these with bodies of their own; the hub answers with the contract's
 * `{"error":{"code","message"}}`, like every route.
 */
import { maxHeaderSize, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyBaseLogger, FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiErrorCode } from '../../protocol/api-errors.ts';
import { codeOfStatus, errorBody } from './api-error.ts';

export interface Refusal {
  status: number;
  code: ApiErrorCode;
  message: string;
}

/** A client that sent a bad head may still be sending; its answer gets this long to be read before the socket goes. */
const LINGER_MS = 2_000;

/** What a request the HTTP parser refused gets. `err.code` and `err.reason` are Node's and llhttp's own words, never the request's bytes. */
export function clientErrorRefusal(err: { code?: string; reason?: unknown }): Refusal {
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    return {
      status: 431,
      code: 'header_too_large',
      message: `the request line and headers are over ${maxHeaderSize} bytes; send fewer or shorter headers (a session token is under 100 bytes)`,
    };
  }
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return {
      status: 408,
      code: 'request_timeout',
      message: 'the request did not arrive in time; send it again, whole',
    };
  }
  const why = typeof err.reason === 'string' && err.reason !== '' ? ` (${err.reason.slice(0, 100)})` : '';
  return {
    status: 400,
    code: 'bad_request',
    message: `the request is not valid HTTP/1.1${why}; check the client, or the proxy in between`,
  };
}

/** A whole HTTP/1.1 response carrying the contract's error body, for writing straight to a socket. */
export function rawErrorResponse(r: Refusal): string {
  const body = JSON.stringify(errorBody(r.code, r.message));
  return (
    `HTTP/1.1 ${r.status} ${STATUS_CODES[r.status] ?? 'Error'}\r\n` +
    'Content-Type: application/json; charset=utf-8\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    'Connection: close\r\n\r\n' +
    body
  );
}

/** Sockets already answered: a parser that failed once may report the same connection again. */
const answered = new WeakSet<Duplex>();

/**
 * fastify's `clientErrorHandler` (Node's `clientError` event): answers on the raw socket, after
 * the answer to an earlier request of the same connection if one is still going out, then
 * closes the socket once the client has read the answer and hung up, or after LINGER_MS.
 */
export function answerClientError(
  this: { log: FastifyBaseLogger },
  err: NodeJS.ErrnoException & { reason?: unknown },
  socket: Duplex,
): void {
  if (err.code === 'ECONNRESET' || socket.destroyed || answered.has(socket)) return;
  answered.add(socket);
  const refusal = clientErrorRefusal(err);
  // Never `err` itself: its rawPacket holds the request's bytes, an Authorization header among them.
  this.log.trace({ code: err.code, reason: err.reason, status: refusal.status }, 'client error');
  const answer = (): void => {
    if (!socket.writable) return void socket.destroy();
    socket.end(rawErrorResponse(refusal));
    const linger = setTimeout(() => socket.destroy(), LINGER_MS);
    linger.unref();
    socket.once('close', () => clearTimeout(linger));
  };
  // A pipelined request before the bad one is still being answered: its answer goes first, whole.
  const pending = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (pending && !pending.writableFinished) pending.once('finish', answer);
  else answer();
}

/** fastify's `frameworkErrors`: a URL it cannot route. */
export function answerFrameworkError(err: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const status = err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 414 : (err.statusCode ?? 400);
  const message =
    err.code === 'FST_ERR_BAD_URL'
      ? 'the URL is not valid percent-encoding (a "%" must start "%XX"); encode it and send it again'
      : err.code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? 'a name in the URL is too long; names are at most 64 characters'
        : 'the URL cannot be routed; check it';
  void reply.status(status).send(errorBody(codeOfStatus(status), message));
}

/** Node's `checkExpectation` event: an `Expect` header other than `100-continue`. */
export function answerExpectation(request: IncomingMessage, response: ServerResponse): void {
  const body = JSON.stringify(
    errorBody(
      'expectation_failed',
      `the hub meets no expectation but 100-continue, not "${String(request.headers.expect).slice(0, 60)}"; leave the Expect header out`,
    ),
  );
  response.writeHead(417, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    connection: 'close',
  });
  response.end(body);
}
