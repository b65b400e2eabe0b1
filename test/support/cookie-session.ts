/**
 * A browser's session without a browser (docs/API.md "Browser sessions"): log in with
 * `"cookie": true`, read the two Set-Cookie headers as a browser would, and send requests with
 * the Cookie header, the CSRF header and an Origin, each of which a test may leave out or forge.
 *
 *   const s = await cookieLogin(h.httpPort, 'alex', DEMO_PASSWORD);
 *   await s.get('/api/v1/latest');                          // cookie only
 *   await s.send('POST', '/api/v1/logout', { csrf: true });  // + X-CSRF-Token and own Origin
 */
import * as assert from 'uvu/assert';
import { json, request, type RawResponse } from './api-client.ts';

export interface SetCookie {
  name: string;
  value: string;
  /** attribute names lower-cased, values as sent (`httponly` → '') */
  attributes: Map<string, string>;
}

/** One Set-Cookie header, parsed as RFC 6265 §5.2 reads it. */
export function parseSetCookie(header: string): SetCookie {
  const [pair = '', ...attrs] = header.split(';');
  const eq = pair.indexOf('=');
  const attributes = new Map<string, string>();
  for (const a of attrs) {
    const i = a.indexOf('=');
    const key = (i < 0 ? a : a.slice(0, i)).trim().toLowerCase();
    attributes.set(key, i < 0 ? '' : a.slice(i + 1).trim());
  }
  return { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim(), attributes };
}

/** Every Set-Cookie of a response, by cookie name. */
export function setCookies(res: RawResponse): Map<string, SetCookie> {
  const raw = res.headers['set-cookie'] ?? [];
  return new Map(raw.map((h) => parseSetCookie(h)).map((c) => [c.name, c]));
}

export interface CookieLoginBody {
  expires_at: number;
  user: string;
  role: string;
  rooms: string[];
  csrf_cookie: string;
}

export interface SendOptions {
  body?: unknown;
  /** send X-CSRF-Token: true for the login's own value, or a string to forge one */
  csrf?: boolean | string;
  /** the Origin header: 'own' (the default, as a browser sends it), 'none', or any other value as is */
  origin?: string;
  headers?: Record<string, string>;
}

export interface CookieSession {
  port: number;
  login: CookieLoginBody;
  /** the whole Set-Cookie of each, as the login sent them */
  session: SetCookie;
  csrf: SetCookie;
  /** `name=value; name=value`, as a browser sends them back */
  cookieHeader: string;
  get(path: string, headers?: Record<string, string>): Promise<RawResponse>;
  send(method: string, path: string, options?: SendOptions): Promise<RawResponse>;
  /** headers for a WebSocket upgrade from the hub's own page (Cookie and Origin) */
  upgradeHeaders(origin?: string): Record<string, string>;
}

/** The hub's own origin as the browser reaches it here. */
export function ownOrigin(port: number): string {
  return `http://127.0.0.1:${port}`;
}

export function cookieLoginRequest(port: number, user: string, password: string, headers: Record<string, string> = {}) {
  return request(port, '/api/v1/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ user, password, cookie: true }),
  });
}

/** `POST /api/v1/login` with `"cookie": true`; fails unless 200 with both cookies. */
export async function cookieLogin(port: number, user: string, password: string): Promise<CookieSession> {
  const res = await cookieLoginRequest(port, user, password);
  assert.is(res.status, 200, `cookie login as ${user}: ${res.text.slice(0, 300)}`);
  const login = json<CookieLoginBody>(res);
  const cookies = setCookies(res);
  const session = cookies.get(`roomwatch_session_${port}`);
  const csrf = cookies.get(login.csrf_cookie);
  assert.ok(session, `a roomwatch_session_${port} cookie among ${[...cookies.keys()].join(', ')}`);
  assert.ok(csrf, `the ${login.csrf_cookie} cookie among ${[...cookies.keys()].join(', ')}`);
  return cookieSession(port, login, session, csrf);
}

export function cookieSession(port: number, login: CookieLoginBody, session: SetCookie, csrf: SetCookie): CookieSession {
  const cookieHeader = `${session.name}=${session.value}; ${csrf.name}=${csrf.value}`;
  return {
    port,
    login,
    session,
    csrf,
    cookieHeader,
    get: (path, headers = {}) => request(port, path, { headers: { cookie: cookieHeader, ...headers } }),
    send(method, path, o = {}) {
      const headers: Record<string, string> = { cookie: cookieHeader, ...o.headers };
      if (o.csrf !== undefined && o.csrf !== false) headers['x-csrf-token'] = o.csrf === true ? csrf.value : o.csrf;
      const origin = o.origin ?? 'own';
      if (origin !== 'none') headers.origin = origin === 'own' ? ownOrigin(port) : origin;
      if (o.body !== undefined) headers['content-type'] = 'application/json';
      return request(port, path, { method, headers, ...(o.body === undefined ? {} : { body: JSON.stringify(o.body) }) });
    },
    upgradeHeaders: (origin = ownOrigin(port)) => ({ cookie: cookieHeader, origin }),
  };
}
