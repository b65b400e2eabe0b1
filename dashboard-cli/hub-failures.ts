/**
 * How a failed exchange with the hub reads for people: an error status becomes HubRefused with
 * the contract's error body (§2), a system error becomes a short reason ("connection refused").
 * A failed TLS handshake becomes HubTlsError, whose reason says what to fix (--ca, the host name).
 * Shared by the HTTP client (hub-client.ts, hub-stream.ts) and `watch` (ws).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { asErrorBody } from './api-types.ts';
import { HubRefused, HubTlsError, HubUnreachable } from './errors.ts';

/** An HTTP error status as HubRefused, with the contract's error body when the hub sent one, and a 429's `Retry-After`. */
export function refusal(status: number, statusText: string, text: string, headers: IncomingHttpHeaders = {}): HubRefused {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const retryAfterS = retryAfterSeconds(headers['retry-after']);
  const body = asErrorBody(parsed);
  if (body) return new HubRefused(status, body.error.code, body.error.message, body.error.rows, retryAfterS);
  // Not the contract's error body: likely a proxy in between; its first line usually says enough.
  const firstLine = text.trim().split('\n', 1)[0]?.slice(0, 200) ?? '';
  return new HubRefused(status, undefined, firstLine || statusText || 'no message', undefined, retryAfterS);
}

/** `Retry-After` in its delay-seconds form (the hub's); an HTTP date, or anything else, is ignored. */
export function retryAfterSeconds(value: string | undefined): number | undefined {
  if (value === undefined || !/^\s*\d{1,9}\s*$/.test(value)) return undefined;
  return Number(value.trim());
}

/** OpenSSL's verification failures (as Node names them) that mean "no CA we trust signed this". */
const UNTRUSTED_CODES: ReadonlySet<string> = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'INVALID_CA',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
]);

function errorCode(error: unknown): { code: string | undefined; message: string } {
  // fetch and some wrappers put the system error in `cause`.
  const inner = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const code = typeof inner === 'object' && inner !== null ? (inner as { code?: unknown }).code : undefined;
  return { code: typeof code === 'string' ? code : undefined, message: inner instanceof Error ? inner.message : String(inner) };
}

/** How the connection was made, for the advice: was a CA given (--ca), was it TLS at all. */
export interface ConnectionKind {
  ca: boolean;
  secure: boolean;
}

/** What went wrong in a TLS handshake, for people, with what to do; undefined if it is no TLS failure. */
export function tlsReason(error: unknown, kind: Pick<ConnectionKind, 'ca'> = { ca: false }): string | undefined {
  const { code, message } = errorCode(error);
  if (code === undefined) return undefined;
  if (UNTRUSTED_CODES.has(code)) {
    const advice = kind.ca
      ? 'the CA in --ca did not sign it; pass the CA certificate that did'
      : 'pass --ca FILE with the CA certificate that signed it';
    return `the hub's certificate is not trusted (${message}): ${advice}`;
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    // Node's own message ends in an empty list when the certificate names no address; say it plainly.
    const inner = (error instanceof Error && error.cause instanceof Error ? error.cause : error) as {
      host?: unknown;
      cert?: { subjectaltname?: unknown };
    };
    const host = typeof inner.host === 'string' ? inner.host : 'this host';
    const names = typeof inner.cert?.subjectaltname === 'string' ? inner.cert.subjectaltname : undefined;
    return `the hub's certificate is not for ${host}${names ? ` (it is for ${names})` : ''}: use a name it lists in --hub, or give the hub a certificate for ${host}`;
  }
  if (code === 'CERT_HAS_EXPIRED') return "the hub's certificate has expired";
  if (code === 'CERT_NOT_YET_VALID') return "the hub's certificate is not valid yet; check this machine's clock";
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || (code === 'EPROTO' && /wrong version number/i.test(message))) {
    return 'the hub does not speak TLS on this port: use an http:// URL, or start the hub with --tls-cert and --tls-key';
  }
  return undefined;
}

/**
 * A connection that failed before any answer, as the typed error: HubTlsError for a failed TLS
 * handshake, else HubUnreachable with `networkReason`.
 */
export function connectionFailure(displayUrl: string, error: Error, kind: ConnectionKind): HubUnreachable {
  const tls = tlsReason(error, kind);
  if (tls !== undefined) return new HubTlsError(displayUrl, tls, { cause: error });
  const reason = networkReason(error);
  // What a hub that serves TLS does to a plain request.
  const hint = !kind.secure && errorCode(error).code === 'ECONNRESET' ? '; if the hub serves TLS, use an https:// URL' : '';
  return new HubUnreachable(displayUrl, reason + hint, { cause: error });
}

/** Why a connection failed, for people. */
export function networkReason(error: Error): string {
  // A wrapper (fetch, AggregateError) may hold the system error in `cause`; node:http and ws report it directly.
  let cause: unknown = error.cause ?? error;
  // With several addresses for a host (localhost: ::1 and 127.0.0.1) Node reports them all.
  if (cause instanceof AggregateError && cause.errors.length > 0 && !(cause as { code?: unknown }).code) cause = cause.errors[0];
  const code = typeof cause === 'object' && cause !== null ? (cause as { code?: unknown }).code : undefined;
  const message = cause instanceof Error ? cause.message : error.message;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
      return 'host not found';
    case 'EAI_AGAIN':
      return 'host name lookup failed';
    case 'ECONNRESET':
      return 'connection reset';
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'connection timed out';
    case 'EHOSTUNREACH':
      return 'host unreachable';
    case 'ENETUNREACH':
      return 'network unreachable';
    case 'UND_ERR_SOCKET':
      return 'connection closed by the other side';
  }
  // A common slip is pointing --hub at the sensor port (7777), which does not speak HTTP.
  if (typeof code === 'string' && code.startsWith('HPE_')) return "the answer is not HTTP; is this the hub's HTTP port?";
  return message;
}
