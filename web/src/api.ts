/**
 * Requests to the hub's API from the page: same origin, the session cookie sent by the browser
 * (never a token in the page or a URL), and `X-CSRF-Token` on every state-changing request
 * (docs/API.md "Browser sessions"). An error answer becomes an ApiError with the contract's code.
 */
import type { BadRow, ErrorBody } from '../../protocol/api.ts';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** an upload's bad rows (422 invalid_csv) */
    readonly rows: BadRow[] = [],
    /** a 429's or 503's `Retry-After`, in seconds */
    readonly retryAfterS: number | null = null,
  ) {
    super(message);
  }
}

/** Called on a 401 from any request but the login itself: the session ended (logged out elsewhere, expired). */
let onUnauthorized: (err: ApiError) => void = () => {};
export function setUnauthorizedHandler(handler: (err: ApiError) => void): void {
  onUnauthorized = handler;
}

/** The CSRF cookie's name; the hub may suffix it per hub (two hubs on one host share cookies). */
let csrfCookieName = 'roomwatch_csrf';
export function setCsrfCookieName(name: string): void {
  csrfCookieName = name;
}

/** The value of the CSRF cookie: the named one, else the only `roomwatch_csrf*` one there is. */
export function csrfToken(): string | null {
  const cookies = document.cookie.split(';').map((c) => c.trim().split('=') as [string, string?]);
  const named = cookies.find(([k]) => k === csrfCookieName);
  if (named) return named[1] ?? '';
  const prefixed = cookies.filter(([k]) => k.startsWith('roomwatch_csrf'));
  return prefixed.length === 1 ? (prefixed[0]![1] ?? '') : null;
}

async function errorOf(res: Response): Promise<ApiError> {
  let body: Partial<ErrorBody> = {};
  try {
    body = (await res.json()) as Partial<ErrorBody>;
  } catch {
    // not the contract's body (a proxy's page): the status says enough
  }
  const e = body.error;
  const retry = Number(res.headers.get('retry-after') ?? NaN);
  return new ApiError(
    res.status,
    e?.code ?? `http_${res.status}`,
    e?.message ?? `${res.status} ${res.statusText}`,
    e?.rows ?? [],
    Number.isFinite(retry) ? retry : null,
  );
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  body?: BodyInit;
  contentType?: string;
  signal?: AbortSignal;
}

/** One request; resolves with the response when it is 2xx, else rejects with its ApiError. */
export async function request(path: string, options: RequestOptions = {}): Promise<Response> {
  const method = options.method ?? 'GET';
  const headers = new Headers();
  if (options.contentType) headers.set('content-type', options.contentType);
  if (method !== 'GET') {
    const token = csrfToken();
    if (token !== null) headers.set('x-csrf-token', token);
  }
  const init: RequestInit = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (options.body !== undefined) init.body = options.body;
  if (options.signal) init.signal = options.signal;
  const res = await fetch(path, init);
  if (res.ok) return res;
  const err = await errorOf(res);
  if (res.status === 401 && path !== '/api/v1/login') onUnauthorized(err);
  throw err;
}

export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  const res = await request(path, signal ? { signal } : {});
  return (await res.json()) as T;
}

export async function postJson<T>(path: string, body?: unknown): Promise<T> {
  const res = await request(
    path,
    body === undefined ? { method: 'POST' } : { method: 'POST', body: JSON.stringify(body), contentType: 'application/json' },
  );
  return (await res.json()) as T;
}

/** A query string from parameters, skipping undefined ones; lists joined by commas. */
export function query(params: Record<string, string | number | readonly string[] | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    q.set(k, Array.isArray(v) ? v.join(',') : String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** What to tell a person about a failed request. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) return `${err.message} (${err.status} ${err.code})`;
  if (err instanceof Error) return err.name === 'AbortError' ? 'cancelled' : `the hub did not answer: ${err.message}`;
  return String(err);
}
