/**
 * Who is asking, on every request: the bearer token, or a browser's session cookie
 * (browser-session.ts), is checked in onRequest (401 before any work), and routes ask
 * `requireRole` and `scopeFilters` for what they do and read.
 *
 * Cross-site requests are refused there too (403 `csrf_refused`): a browser sends a cookie,
 * and on an open hub no credential at all is needed, whatever page made the request. So a
 * state-changing request or a WebSocket upgrade that a browser made from another origin is
 * refused unless it carries a bearer token (which no page of another origin can make a browser
 * send); one authenticated by the cookie must also echo the CSRF token.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AccessControl, AuthFailure } from '../access/access-control.ts';
import type { Role } from '../access/access-records.ts';
import { ANONYMOUS, mayActAs, scopeOf, type Principal } from '../access/principal.ts';
import { describeScope, inScope } from '../access/room-scope.ts';
import { HubError } from '../hub-error.ts';
import {
  changesState,
  clearSessionCookies,
  csrfHeaderMatches,
  CSRF_HEADER,
  isLoopbackHost,
  isOwnOrigin,
  isUpgrade,
  listensOnLoopback,
  sessionCookieOf,
} from './browser-session.ts';
import type { Filters } from './filters.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
    /** how the principal was admitted: a bearer token, a browser's session cookie, or neither */
    authVia: 'bearer' | 'cookie' | null;
  }
  interface FastifyContextConfig {
    /** served without a login (the dashboard's page and assets: they carry no data) */
    public?: boolean;
  }
}

/** Routes anyone may call: probes, and the way in. */
const OPEN_PATHS = new Set(['/api/v1/health', '/api/v1/login']);

/** Who the request's credential names: the bearer token if there is one, else the session cookie. */
export function identify(
  access: AccessControl,
  request: FastifyRequest,
): { via: 'bearer' | 'cookie'; who: Principal | AuthFailure } | { via: null; who: AuthFailure } {
  const header = request.headers.authorization;
  if (header !== undefined) return { via: 'bearer', who: access.authenticate(header) };
  const secret = sessionCookieOf(request);
  if (secret !== undefined) return { via: 'cookie', who: access.authenticateSecret(secret) };
  return { via: null, who: access.authenticate(undefined) as AuthFailure };
}

export function registerAuth(app: FastifyInstance, access: AccessControl): void {
  // fastify refuses an object as a decoration's initial value (it would be shared): set per request
  app.decorateRequest('principal', null as never);
  app.decorateRequest('authVia', null);
  app.addHook('onRequest', async (request, reply) => {
    request.principal = ANONYMOUS;
    request.authVia = null;
    if (!access.loginRequired) refuseRebinding(request);
    if (request.headers.authorization === undefined) refuseForeignOrigin(request);
    if (OPEN_PATHS.has(request.url.split('?', 1)[0]!) || request.routeOptions.config.public === true || !access.loginRequired) return;
    const { via, who } = identify(access, request);
    if ('status' in who) {
      if (via === 'cookie')
        clearSessionCookies(reply); // the page learns at once that it must log in again
      else reply.header('www-authenticate', `Bearer realm="roomwatch"${who.code === 'unauthorized' ? '' : `, error="invalid_token"`}`);
      throw new HubError(who.code, who.message);
    }
    if (via === 'cookie') refuseWithoutCsrf(request);
    request.principal = who;
    request.authVia = via;
  });
}

/**
 * A browser says which page made a request in `Origin` (on every POST, PUT, PATCH, DELETE and
 * WebSocket upgrade): one from another origin may neither change anything nor open a stream.
 * Without `Origin` the client is not a browser (curl, the CLI), or a browser's same-origin
 * GET: nothing to refuse.
 */
function refuseForeignOrigin(request: FastifyRequest): void {
  const origin = request.headers.origin;
  if (origin === undefined || !(changesState(request) || isUpgrade(request))) return;
  if (!isOwnOrigin(request, origin)) {
    throw new HubError(
      'csrf_refused',
      `a request from ${origin.slice(0, 100)} may not ${isUpgrade(request) ? 'open a stream of' : 'change anything on'} this hub; use the hub's own page, or a client that is not a browser`,
    );
  }
}

/**
 * An open hub (no users yet) on loopback lets anyone on this machine do everything, the first
 * admin's creation included. A web page can be "on this machine" too, by making its own name
 * resolve to 127.0.0.1 (DNS rebinding): its requests then carry its name in Host. So an open
 * loopback hub answers only requests that name it by address, localhost or this machine's name.
 */
function refuseRebinding(request: FastifyRequest): void {
  if (isLoopbackHost(request) || !listensOnLoopback(request)) return;
  throw new HubError(
    'csrf_refused',
    `this hub is open (no users yet) and listens on loopback: it answers requests addressed to 127.0.0.1, localhost or this machine's name, not to ${String(request.headers.host).slice(0, 100)} (a page of another site reaching the hub through its own DNS name)`,
  );
}

/** A request the session cookie admits: a change needs the CSRF header, a stream a same-origin `Origin`. */
function refuseWithoutCsrf(request: FastifyRequest): void {
  // refuseForeignOrigin has already refused a foreign Origin; a browser always sends one on an upgrade.
  if (isUpgrade(request) && request.headers.origin === undefined) {
    throw new HubError('csrf_refused', "a stream opened with the session cookie must come from the hub's own page (an Origin header)");
  }
  if (changesState(request) && !csrfHeaderMatches(request, sessionCookieOf(request)!)) {
    throw new HubError(
      'csrf_refused',
      `a change made with the session cookie must carry the header ${CSRF_HEADER} with the value of the CSRF cookie the login set`,
    );
  }
}

const WHO_MAY: Record<Role, string> = {
  viewer: 'any user',
  operator: 'operators and admins',
  admin: 'admins',
};

export function requireRole(request: FastifyRequest, role: Role, what: string): void {
  const p = request.principal;
  if (!mayActAs(p, role)) {
    throw new HubError(
      'forbidden',
      `only ${WHO_MAY[role]} may ${what}; you are ${p.kind === 'user' ? `${p.name} (${p.role})` : 'anonymous'}`,
    );
  }
}

/**
 * The filters narrowed to the asker's rooms. A room filter outside them is refused rather than
 * answered empty, so a typo or a probe never looks like an empty room.
 */
export function scopeFilters(p: Principal, filters: Filters): Filters {
  const scope = scopeOf(p);
  if (scope.all) return filters;
  if (filters.room !== null) {
    const outside = [...filters.room].filter((r) => !inScope(scope, r));
    if (outside.length > 0) {
      throw new HubError('forbidden_room', `you may not see room ${outside.join(', ')}; your rooms: ${describeScope(scope)}`);
    }
    return filters;
  }
  return { ...filters, room: scope.rooms };
}
