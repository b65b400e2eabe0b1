/**
 * Browser sessions (docs/API.md "Browser sessions"): a browser cannot put a bearer token on a
 * WebSocket, and a token kept where scripts can read it is a token any injected script can
 * steal. So a login may ask for a cookie instead: the session's secret travels in an HttpOnly,
 * SameSite=Strict cookie, and a second, readable cookie carries a CSRF token the page echoes in
 * `X-CSRF-Token` on every state-changing request (double submit).
 *
 * The CSRF token is derived from the session secret, not drawn at random: it is bound to the
 * login, so a cookie planted by someone else (a sibling host, a man in the middle on plain
 * http) cannot be paired with a header of the attacker's choosing, and the hub stores nothing.
 *
 * Cookies ignore ports, so two hubs on one host would overwrite each other's cookies under one
 * name: the names end with the port the hub listens on (`roomwatch_session_8080`).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP, type AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import type { FastifyReply, FastifyRequest } from 'fastify';

export const CSRF_HEADER = 'x-csrf-token';

/** Methods that change something: these need the CSRF header when the cookie is the credential. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface CookieNames {
  session: string;
  csrf: string;
}

/** The cookie names of the hub whose server took this request (its listening port). */
export function cookieNames(request: FastifyRequest): CookieNames {
  const address: AddressInfo | string | null = request.server.server.address();
  // Before listen (app.inject): no port; such requests come from tests, never from a browser.
  const suffix = address !== null && typeof address === 'object' ? String(address.port) : 'local';
  return { session: `roomwatch_session_${suffix}`, csrf: `roomwatch_csrf_${suffix}` };
}

/** The CSRF token of the session whose secret this is. */
export function csrfTokenOf(sessionSecret: string): string {
  return createHash('sha256').update('roomwatch-csrf\0').update(sessionSecret, 'utf8').digest('base64url');
}

/** Whether the request's `X-CSRF-Token` is the one of this session (in constant time). */
export function csrfHeaderMatches(request: FastifyRequest, sessionSecret: string): boolean {
  const sent = request.headers[CSRF_HEADER];
  if (typeof sent !== 'string') return false;
  const want = Buffer.from(csrfTokenOf(sessionSecret));
  const got = Buffer.from(sent);
  return got.length === want.length && timingSafeEqual(got, want);
}

export function changesState(request: FastifyRequest): boolean {
  return !SAFE_METHODS.has(request.method);
}

export function isUpgrade(request: FastifyRequest): boolean {
  return typeof request.headers.upgrade === 'string' && request.headers.upgrade.toLowerCase() === 'websocket';
}

/**
 * Whether `Origin` names this hub as the browser reached it: the request's scheme (https
 * under --tls-cert) and its Host. `null` (a sandboxed frame, a privacy redirect) is foreign.
 */
export function isOwnOrigin(request: FastifyRequest, origin: string): boolean {
  const host = request.headers.host;
  if (host === undefined || origin === 'null') return false;
  try {
    return new URL(origin).origin === new URL(`${request.protocol}://${host}`).origin;
  } catch {
    return false; // a Host or Origin that is not a URL's authority
  }
}

/**
 * Whether `Host` names this hub the way a client on a loopback-bound hub can: an IP address,
 * `localhost` (or a name under it), or this machine's name. Any other name reached a hub that
 * listens on loopback only through a DNS answer its owner chose: a page of another site whose
 * name was made to resolve to 127.0.0.1 (DNS rebinding). Its Origin is then its own name, which
 * the Host matches, so the Origin check alone lets it through.
 */
export function isLoopbackHost(request: FastifyRequest): boolean {
  const host = request.headers.host;
  if (host === undefined) return true; // HTTP/1.0: not a browser
  let name: string;
  try {
    name = new URL(`http://${host}`).hostname.toLowerCase().replace(/\.$/, '');
  } catch {
    return false;
  }
  if (name.startsWith('[') || isIP(name) !== 0) return true;
  return name === 'localhost' || name.endsWith('.localhost') || name === hostname().toLowerCase();
}

/** Whether the server that took this request listens on a loopback address only. */
export function listensOnLoopback(request: FastifyRequest): boolean {
  const address: AddressInfo | string | null = request.server.server.address();
  if (address === null || typeof address !== 'object') return false;
  return address.address.startsWith('127.') || address.address === '::1' || address.address === '::ffff:127.0.0.1';
}

/** The session cookie's value, if the request carries one. */
export function sessionCookieOf(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie;
  if (header === undefined) return undefined;
  const value = request.server.parseCookie(header)[cookieNames(request).session];
  return value === undefined || value === '' ? undefined : value;
}

/**
 * Sets both cookies of a new login. `maxAgeS`: the login's lifetime, so the browser forgets the
 * cookies when the hub would refuse them anyway. Secure whenever the request came over TLS.
 */
export function setSessionCookies(reply: FastifyReply, secret: string, maxAgeS: number): CookieNames {
  const names = cookieNames(reply.request);
  const common = { path: '/', sameSite: 'strict', secure: reply.request.protocol === 'https', maxAge: maxAgeS } as const;
  reply.setCookie(names.session, secret, { ...common, httpOnly: true });
  // Readable by the page's script: it echoes the value in X-CSRF-Token.
  reply.setCookie(names.csrf, csrfTokenOf(secret), { ...common, httpOnly: false });
  return names;
}

/** Clears both cookies (logout, or a session the hub no longer accepts). */
export function clearSessionCookies(reply: FastifyReply): void {
  const names = cookieNames(reply.request);
  const common = { path: '/', sameSite: 'strict', secure: reply.request.protocol === 'https' } as const;
  reply.clearCookie(names.session, { ...common, httpOnly: true });
  reply.clearCookie(names.csrf, common);
}
