/**
 * HTTP exchanges over node:http and node:https: the history export (an answer of any size), the
 * upload (a request body of any size), and the JSON requests of hub-client.ts, which fetch cannot
 * make with a CA of their own (--ca). fetch would do for the export, but for an
 * upload node:http lets the CLI read an early answer (413) while the body is still being sent,
 * and one code path for both keeps their timeouts and errors alike.
 *
 * The timeout here is one of silence, not of the whole exchange: a 3-million-row export takes as
 * long as it takes, but a connection on which nothing moves for `timeoutMs` is given up (exit 3).
 */
import { request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { HubBadAnswer, HubRefused, HubTlsError, HubUnreachable, LocalFileError, UsageError } from './errors.ts';
import { networkReason, refusal, tlsReason } from './hub-failures.ts';
import type { Query } from './hub-client.ts';

/** An error body of §2 is small; 100 bad rows of an upload are a few kB. */
const MAX_ERROR_BODY_BYTES = 1 << 20;

/**
 * What the exchange rejects with is an Error, as callers expect: node's streams fail with one, and
 * so does an abort without a reason of its own. Anything else (an abort with a custom reason) is
 * wrapped, its text kept.
 */
function asError(failure: unknown): Error {
  return failure instanceof Error ? failure : new Error(String(failure));
}

export interface StreamRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** An API path, e.g. `/api/v1/history.csv`. */
  path: string;
  query?: Query;
  headers?: Readonly<Record<string, string>>;
  /**
   * Sent with backpressure. An error it raises ends the exchange and is passed on unchanged, so a
   * caller whose source is a file raises LocalFileError from it.
   */
  body?: Readable;
  /** The size of `body` when known; else it is sent chunked. */
  contentLength?: number;
}

export interface StreamAnswer {
  /** Always 2xx: any other status has become HubRefused. */
  status: number;
  headers: IncomingHttpHeaders;
  /** The answer's body, to be read (or dropped with `discard`). */
  body: IncomingMessage;
  /** The typed error for a failure while reading `body`: a timeout or lost connection is HubUnreachable. */
  explain(error: unknown): unknown;
  /** Ends the exchange, e.g. when the answer came while the upload was still running. */
  discard(): void;
}

export interface StreamTarget {
  displayUrl: string;
  /** Silence allowed on the connection, in either direction. */
  timeoutMs: number;
  headers: Readonly<Record<string, string>>;
  /** Ctrl-C: the exchange ends and its reason is rethrown unchanged. */
  signal?: AbortSignal;
  /** https: trust these CA certificates (PEM) instead of Node's default store; the hub is always verified. */
  ca?: Buffer;
}

const TYPED_ERRORS = [HubBadAnswer, HubRefused, HubUnreachable, HubTlsError, LocalFileError, UsageError];

/** Sends the request; resolves with a 2xx answer once its headers are in, or rejects with a typed error. */
export function openStream(target: StreamTarget, url: URL, request: StreamRequest): Promise<StreamAnswer> {
  return new Promise((resolve, reject) => {
    let timedOut = false;
    let answered = false;
    const headers: Record<string, string> = { ...target.headers, ...request.headers };
    if (request.contentLength !== undefined) headers['content-length'] = String(request.contentLength);
    // With "Connection: close" a server that answers early (413) closes the socket at once, and the
    // body still being written fails with EPIPE before the answer is read. Kept alive, the server
    // drains the rest instead, and the answer arrives; the CLI drops the socket when done anyway.
    if (request.body) headers.connection = 'keep-alive';
    const secure = url.protocol === 'https:';
    const send = secure ? httpsRequest : httpRequest;
    // No keep-alive agent: the CLI makes one exchange and exits; a pooled socket would only linger.
    const req = send(url, {
      method: request.method,
      headers,
      agent: false,
      ...(target.signal ? { signal: target.signal } : {}),
      ...(secure && target.ca ? { ca: target.ca } : {}),
    });
    req.setTimeout(target.timeoutMs, () => {
      timedOut = true;
      req.destroy();
    });

    const explain = (error: unknown): unknown => {
      if (target.signal?.aborted) return target.signal.reason ?? error;
      if (TYPED_ERRORS.some((type) => error instanceof type)) return error;
      if (timedOut) {
        const what = answered ? 'nothing more arrived' : request.body ? 'no progress and no answer' : 'no answer';
        return new HubUnreachable(target.displayUrl, `${what} within ${target.timeoutMs} ms`, { cause: error });
      }
      const tls = answered ? undefined : tlsReason(error, { ca: secure && target.ca !== undefined });
      if (tls !== undefined) return new HubTlsError(target.displayUrl, tls, { cause: error });
      if (error instanceof Error && (typeof (error as NodeJS.ErrnoException).code === 'string' || error.message === 'aborted')) {
        const code = (error as NodeJS.ErrnoException).code;
        if (!secure && !answered && !request.body && code === 'ECONNRESET') {
          // What a hub that serves TLS does to a plain HTTP request.
          return new HubUnreachable(target.displayUrl, `${networkReason(error)}; if the hub serves TLS, use an https:// URL`, {
            cause: error,
          });
        }
        const reason =
          request.body && !answered && (code === 'EPIPE' || code === 'ECONNRESET')
            ? `the hub closed the connection while the body was being sent (${networkReason(error)}); it may have refused it, e.g. as too large`
            : networkReason(error);
        return new HubUnreachable(target.displayUrl, answered ? `connection lost while reading the answer: ${reason}` : reason, {
          cause: error,
        });
      }
      return error;
    };

    const sent = request.body ? pipeline(request.body, req) : Promise.resolve(void req.end());
    // Once the hub has answered, a failure to send the rest (it closed after an early 413) is no news.
    sent.catch((error: unknown) => {
      if (!answered) reject(asError(explain(error)));
    });
    req.on('error', (error) => {
      if (!answered) reject(asError(explain(error)));
    });

    req.once('response', (res) => {
      answered = true;
      const discard = (): void => {
        res.destroy();
        req.destroy();
      };
      const status = res.statusCode ?? 0;
      if (status >= 200 && status < 300) {
        resolve({ status, headers: res.headers, body: res, explain, discard });
        return;
      }
      readText(res, MAX_ERROR_BODY_BYTES).then(
        (text) => {
          discard();
          reject(refusal(status, res.statusMessage ?? '', text, res.headers));
        },
        (error: unknown) => {
          discard();
          // The status alone still says the hub refused.
          reject(timedOut || target.signal?.aborted ? asError(explain(error)) : refusal(status, res.statusMessage ?? '', '', res.headers));
        },
      );
    });
  });
}

/** A (small) answer body as text, up to `limitBytes`; the rest is dropped. */
export async function readText(body: Readable, limitBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limitBytes) {
      body.destroy();
      // Keep what fits: the start of an oversized error body is still the best message there is.
      break;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
