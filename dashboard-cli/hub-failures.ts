/**
 * How a failed exchange with the hub reads for people: an error status becomes HubRefused with
 * the contract's error body (§2), a system error becomes a short reason ("connection refused").
 * Shared by the fetch client (hub-client.ts) and the streaming one (hub-stream.ts).
 */
import { asErrorBody } from './api-types.ts';
import { HubRefused } from './errors.ts';

/** An HTTP error status as HubRefused, with the contract's error body when the hub sent one. */
export function refusal(status: number, statusText: string, text: string): HubRefused {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const body = asErrorBody(parsed);
  if (body) return new HubRefused(status, body.error.code, body.error.message, body.error.rows);
  // Not the contract's error body: likely a proxy in between; its first line usually says enough.
  const firstLine = text.trim().split('\n', 1)[0]?.slice(0, 200) ?? '';
  return new HubRefused(status, undefined, firstLine || statusText || 'no message');
}

/** Why a connection failed, for people. */
export function networkReason(error: Error): string {
  // fetch wraps the system error in `cause`; node:http and ws report it directly.
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
  // fetch refuses ports browsers block (6000, 6665-6669, ...), with the bare message "bad port".
  if (message === 'bad port') return 'fetch refuses to connect to this port; run the hub on another one';
  // A common slip is pointing --hub at the sensor port (7777), which does not speak HTTP.
  if (typeof code === 'string' && code.startsWith('HPE_')) return 'the answer is not HTTP; is this the hub\'s HTTP port?';
  return message;
}
