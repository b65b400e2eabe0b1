/**
 * Talks HTTP to the hub's user API (PROTOCOL.md §2). Every way a request can fail ends as
 * one of the typed errors of errors.ts, so the entry can map it to the contract's exit code:
 * an HTTP error status is HubRefused, no answer at all is HubUnreachable (HubTlsError when the
 * TLS handshake failed). Every request, JSON or streamed, goes through hub-stream.ts (node:http
 * and node:https): fetch in Node 20 cannot trust a CA of our own for one request.
 */
import { Readable } from 'node:stream';
import type { ShapeCheck } from './api-types.ts';
import { HubBadAnswer, HubUnreachable } from './errors.ts';
import { openStream, readText } from './hub-stream.ts';
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
  /** https and wss: trust these CA certificates (PEM) instead of Node's default store. */
  ca?: Buffer;
}

/** Query parameters; a list is sent comma-joined, as the contract's filters are. */
export type Query = Readonly<Record<string, string | readonly string[] | undefined>>;

export interface JsonAnswer<T> {
  value: T;
  /** The body exactly as the hub sent it, for `--json`. */
  text: string;
}

/** A JSON answer with its status, for routes whose 2xx statuses differ in meaning (201 created, 200 changed). */
export interface JsonReply<T> extends JsonAnswer<T> {
  status: number;
}

export type JsonMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface JsonRequestOptions {
  query?: Query;
  /** Sent as JSON; without it the request has no body. */
  body?: unknown;
  /** Replaces the client's budget for this one request. */
  timeoutMs?: number;
  /** The bearer token of this request instead of the client's: null sends none (`login`), a string that one (`logout`). */
  token?: string | null;
}

export interface HubClient {
  /** The hub URL as people should read it in messages. */
  readonly displayUrl: string;
  /** The `--timeout` budget; a command that makes the hub wait on purpose (report-now) widens it. */
  readonly timeoutMs: number;
  getJson<T>(path: string, query: Query, check: ShapeCheck<T>): Promise<JsonAnswer<T>>;
  /** POSTs `body` as JSON. `timeoutMs` replaces the client's budget for this one request. */
  postJson<T>(path: string, body: unknown, check: ShapeCheck<T>, options?: { timeoutMs?: number }): Promise<JsonAnswer<T>>;
  /**
   * Any JSON exchange: PUT and DELETE, a token other than the client's, the status of the answer.
   * A 204 (or another 2xx with an empty body) is checked as `null`.
   */
  requestJson<T>(method: JsonMethod, path: string, check: ShapeCheck<T>, options?: JsonRequestOptions): Promise<JsonReply<T>>;
  /** A request whose bodies are streams (history, upload); see hub-stream.ts. */
  stream(request: StreamRequest): Promise<StreamAnswer>;
  /** Where the WebSocket of `path` lives (ws: or wss:, path prefix kept), the headers to send, and the CA to trust. */
  websocketTarget(path: string): { url: URL; headers: Record<string, string>; ca?: Buffer };
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
  const { baseUrl, timeoutMs, token, signal: userSignal, ca } = options;
  const displayUrl = displayUrlOf(baseUrl);
  const bearer = (value: string | undefined | null): Record<string, string> =>
    typeof value === 'string' ? { authorization: `Bearer ${value}` } : {};
  const authorization = bearer(token);

  /** openStream's errors are typed already; only the whole-request budget and Ctrl-C are ours. */
  function failure(error: unknown, timeout: AbortSignal, budgetMs: number): unknown {
    if (userSignal?.aborted) return userSignal.reason ?? error;
    if (timeout.aborted) return new HubUnreachable(displayUrl, `no answer within ${budgetMs} ms`, { cause: error });
    return error;
  }

  async function fetchJson<T>(
    method: JsonMethod,
    path: string,
    check: ShapeCheck<T>,
    options: JsonRequestOptions = {},
  ): Promise<JsonReply<T>> {
    const url = apiUrl(baseUrl, path, options.query);
    const body = options.body;
    const budgetMs = options.timeoutMs ?? timeoutMs;
    // The budget covers the whole request, body included; openStream's own timeout is one of silence.
    const timeout = AbortSignal.timeout(budgetMs);
    const signal = userSignal ? AbortSignal.any([userSignal, timeout]) : timeout;
    const headers: Record<string, string> = {
      accept: 'application/json',
      ...(options.token === undefined ? authorization : bearer(options.token)),
    };
    const request: StreamRequest = { method, path: url.pathname, headers };
    if (body !== undefined) {
      const payload = Buffer.from(JSON.stringify(body));
      headers['content-type'] = 'application/json';
      request.body = Readable.from([payload]);
      request.contentLength = payload.length;
    }
    let answer: StreamAnswer | undefined;
    let text: string;
    try {
      // An error status is HubRefused from openStream, with the contract's error body.
      answer = await openStream({ displayUrl, timeoutMs: budgetMs, headers: {}, signal, ...(ca ? { ca } : {}) }, url, request);
      text = await readText(answer.body, Number.POSITIVE_INFINITY);
    } catch (error) {
      throw failure(answer ? answer.explain(error) : error, timeout, budgetMs);
    } finally {
      answer?.discard();
    }
    let parsed: unknown = null;
    try {
      // No body (204 to a logout or a delete) is no answer to check, rather than broken JSON.
      if (text.trim() !== '') parsed = JSON.parse(text);
    } catch {
      throw new HubBadAnswer(url.href, `the hub's answer to ${method} ${url.pathname} is not JSON`);
    }
    const checked = check(parsed);
    if (!checked.ok) {
      throw new HubBadAnswer(url.href, `the hub's answer to ${method} ${url.pathname} is not as the contract says: ${checked.problem}`);
    }
    return { value: checked.value, text, status: answer.status };
  }

  return {
    displayUrl,
    timeoutMs,
    getJson: (path, query, check) => fetchJson('GET', path, check, { query }),
    postJson: (path, body, check, extra = {}) => fetchJson('POST', path, check, { body, ...extra }),
    requestJson: fetchJson,
    stream: (request) =>
      openStream(
        { displayUrl, timeoutMs, headers: authorization, ...(userSignal ? { signal: userSignal } : {}), ...(ca ? { ca } : {}) },
        apiUrl(baseUrl, request.path, request.query ?? {}),
        request,
      ),
    websocketTarget(path) {
      const url = apiUrl(baseUrl, path);
      // http→ws and https→wss; both pairs are "special" schemes, so the swap keeps the rest of the URL.
      const secure = url.protocol === 'https:';
      url.protocol = secure ? 'wss:' : 'ws:';
      return { url, headers: { ...authorization }, ...(secure && ca ? { ca } : {}) };
    },
  };
}
