/**
 * Talks HTTP to the hub's user API (PROTOCOL.md §2). Every way a request can fail ends as
 * one of the typed errors of errors.ts, so the entry can map it to the contract's exit code:
 * an HTTP error status is HubRefused, no answer at all is HubUnreachable. JSON requests use
 * fetch; requests with a streamed body (history, upload) go through hub-stream.ts.
 */
import type { ShapeCheck } from './api-types.ts';
import { HubBadAnswer, HubUnreachable } from './errors.ts';
import { networkReason, refusal } from './hub-failures.ts';
import { openStream } from './hub-stream.ts';
import type { StreamAnswer, StreamRequest } from './hub-stream.ts';

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
  /** The `--timeout` budget; a command that makes the hub wait on purpose (report-now) widens it. */
  readonly timeoutMs: number;
  getJson<T>(path: string, query: Query, check: ShapeCheck<T>): Promise<JsonAnswer<T>>;
  /** POSTs `body` as JSON. `timeoutMs` replaces the client's budget for this one request. */
  postJson<T>(path: string, body: unknown, check: ShapeCheck<T>, options?: { timeoutMs?: number }): Promise<JsonAnswer<T>>;
  /** A request whose bodies are streams (history, upload); see hub-stream.ts. */
  stream(request: StreamRequest): Promise<StreamAnswer>;
  /** Where the WebSocket of `path` lives (ws: or wss:, path prefix kept), and the headers to send. */
  websocketTarget(path: string): { url: URL; headers: Record<string, string> };
}

export function displayUrlOf(baseUrl: URL): string {
  return baseUrl.pathname === '/' && !baseUrl.search ? baseUrl.origin : baseUrl.href;
}

/** `path` (an API path such as `/api/v1/latest`) under the base URL, keeping a proxy's path prefix. */
export function apiUrl(baseUrl: URL, path: string, query: Query = {}): URL {
  const base = new URL(baseUrl.href.endsWith('/') ? baseUrl.href : baseUrl.href + '/');
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

export function createHubClient(options: HubClientOptions): HubClient {
  const { baseUrl, timeoutMs, token, signal: userSignal } = options;
  const displayUrl = displayUrlOf(baseUrl);
  const authorization: Record<string, string> = token !== undefined ? { authorization: `Bearer ${token}` } : {};

  function failure(error: unknown, timeout: AbortSignal, budgetMs: number, whileReading: boolean): unknown {
    if (userSignal?.aborted) return userSignal.reason ?? error;
    if (timeout.aborted) return new HubUnreachable(displayUrl, `no answer within ${budgetMs} ms`, { cause: error });
    if (error instanceof TypeError) {
      const reason = whileReading ? `connection lost while reading the answer: ${networkReason(error)}` : networkReason(error);
      return new HubUnreachable(displayUrl, reason, { cause: error });
    }
    return error;
  }

  async function fetchJson<T>(method: 'GET' | 'POST', url: URL, body: unknown, check: ShapeCheck<T>, budgetMs: number): Promise<JsonAnswer<T>> {
    const timeout = AbortSignal.timeout(budgetMs);
    const signal = userSignal ? AbortSignal.any([userSignal, timeout]) : timeout;
    const headers: Record<string, string> = { accept: 'application/json', ...authorization };
    const init: RequestInit = { method, headers, signal };
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let response: Response;
    try {
      response = await fetch(url, init);
    } catch (error) {
      throw failure(error, timeout, budgetMs, false);
    }
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      throw failure(error, timeout, budgetMs, true);
    }
    if (!response.ok) throw refusal(response.status, response.statusText, text);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new HubBadAnswer(url.href, `the hub's answer to ${method} ${url.pathname} is not JSON`);
    }
    const checked = check(parsed);
    if (!checked.ok) {
      throw new HubBadAnswer(url.href, `the hub's answer to ${method} ${url.pathname} is not as the contract says: ${checked.problem}`);
    }
    return { value: checked.value, text };
  }

  return {
    displayUrl,
    timeoutMs,
    getJson: (path, query, check) => fetchJson('GET', apiUrl(baseUrl, path, query), undefined, check, timeoutMs),
    postJson: (path, body, check, extra = {}) => fetchJson('POST', apiUrl(baseUrl, path), body, check, extra.timeoutMs ?? timeoutMs),
    stream: (request) =>
      openStream(
        { displayUrl, timeoutMs, headers: authorization, ...(userSignal ? { signal: userSignal } : {}) },
        apiUrl(baseUrl, request.path, request.query ?? {}),
        request,
      ),
    websocketTarget(path) {
      const url = apiUrl(baseUrl, path);
      // http→ws and https→wss; both pairs are "special" schemes, so the swap keeps the rest of the URL.
      url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
      return { url, headers: { ...authorization } };
    },
  };
}
