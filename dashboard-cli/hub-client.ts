/**
 * Talks HTTP to the hub's user API (PROTOCOL.md §2). Every way a request can fail ends as
 * one of the typed errors of errors.ts, so the entry can map it to the contract's exit code:
 * an HTTP error status is HubRefused, no answer at all is HubUnreachable.
 */
import { asErrorBody } from './api-types.ts';
import type { ShapeCheck } from './api-types.ts';
import { HubBadAnswer, HubRefused, HubUnreachable } from './errors.ts';

export interface HubClientOptions {
  /** The hub's base URL; API paths are resolved against it, so a path prefix behind a proxy works. */
  baseUrl: URL;
  /** Budget for one whole request, answer body included. */
  timeoutMs: number;
  /** Sent as `Authorization: Bearer <token>` for hubs that require user credentials. */
  token?: string;
  /** Ends every request early, e.g. on Ctrl-C; the abort reason is rethrown unchanged. */
  signal?: AbortSignal;
}

/** Query parameters; a list is sent comma-joined, as the contract's filters are. */
export type Query = Readonly<Record<string, string | readonly string[] | undefined>>;

export interface JsonAnswer<T> {
  value: T;
  /** The body exactly as the hub sent it, for `--json`. */
  text: string;
}

export interface HubClient {
  /** The hub URL as people should read it in messages. */
  readonly displayUrl: string;
  getJson<T>(path: string, query: Query, check: ShapeCheck<T>): Promise<JsonAnswer<T>>;
}

export function displayUrlOf(baseUrl: URL): string {
  return baseUrl.pathname === '/' && !baseUrl.search ? baseUrl.origin : baseUrl.href;
}

export function createHubClient(options: HubClientOptions): HubClient {
  const { baseUrl, timeoutMs, token, signal: userSignal } = options;
  const displayUrl = displayUrlOf(baseUrl);
  const base = new URL(baseUrl.href.endsWith('/') ? baseUrl.href : baseUrl.href + '/');

  function urlFor(path: string, query: Query): URL {
    const url = new URL(path.replace(/^\//, ''), base);
    const parts: string[] = [];
    for (const [name, value] of Object.entries(query)) {
      if (value === undefined) continue;
      const values = typeof value === 'string' ? [value] : value;
      if (values.length === 0) continue;
      // Commas stay literal: the contract's filter lists are comma-separated.
      parts.push(`${encodeURIComponent(name)}=${values.map(encodeURIComponent).join(',')}`);
    }
    url.search = parts.join('&');
    return url;
  }

  function failure(error: unknown, timeout: AbortSignal, whileReading: boolean): unknown {
    if (userSignal?.aborted) return userSignal.reason ?? error;
    if (timeout.aborted) return new HubUnreachable(displayUrl, `no answer within ${timeoutMs} ms`, { cause: error });
    if (error instanceof TypeError) {
      const reason = whileReading ? `connection lost while reading the answer: ${networkReason(error)}` : networkReason(error);
      return new HubUnreachable(displayUrl, reason, { cause: error });
    }
    return error;
  }

  return {
    displayUrl,
    async getJson<T>(path: string, query: Query, check: ShapeCheck<T>): Promise<JsonAnswer<T>> {
      const url = urlFor(path, query);
      const timeout = AbortSignal.timeout(timeoutMs);
      const signal = userSignal ? AbortSignal.any([userSignal, timeout]) : timeout;
      const headers: Record<string, string> = { accept: 'application/json' };
      if (token !== undefined) headers.authorization = `Bearer ${token}`;
      let response: Response;
      try {
        response = await fetch(url, { headers, signal });
      } catch (error) {
        throw failure(error, timeout, false);
      }
      let text: string;
      try {
        text = await response.text();
      } catch (error) {
        throw failure(error, timeout, true);
      }
      if (!response.ok) throw refusal(response.status, response.statusText, text);
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new HubBadAnswer(url.href, `the hub's answer to GET ${url.pathname} is not JSON`);
      }
      const checked = check(body);
      if (!checked.ok) {
        throw new HubBadAnswer(url.href, `the hub's answer to GET ${url.pathname} is not as the contract says: ${checked.problem}`);
      }
      return { value: checked.value, text };
    },
  };
}

function refusal(status: number, statusText: string, text: string): HubRefused {
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

/** Why fetch failed, for people. undici puts the system error in `cause`. */
export function networkReason(error: Error): string {
  let cause: unknown = error.cause;
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
