/**
 * Who is asking, on every request: the bearer token is checked in onRequest (401 before any
 * work), and routes ask `requireRole` and `scopeFilters` for what they do and read.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AccessControl } from '../access/access-control.ts';
import type { Role } from '../access/access-records.ts';
import { ANONYMOUS, mayActAs, scopeOf, type Principal } from '../access/principal.ts';
import { describeScope, inScope } from '../access/room-scope.ts';
import { HubError } from '../hub-error.ts';
import type { Filters } from './filters.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
}

/** Routes anyone may call: probes, and the way in. */
const OPEN_PATHS = new Set(['/api/v1/health', '/api/v1/login']);

export function registerAuth(app: FastifyInstance, access: AccessControl): void {
  // fastify refuses an object as a decoration's initial value (it would be shared): set per request
  app.decorateRequest('principal', null as never);
  app.addHook('onRequest', async (request, reply) => {
    request.principal = ANONYMOUS;
    if (OPEN_PATHS.has(request.url.split('?', 1)[0]!) || !access.loginRequired) return;
    const result = access.authenticate(request.headers.authorization);
    if ('status' in result) {
      reply.header('www-authenticate', `Bearer realm="roomwatch"${result.code === 'unauthorized' ? '' : `, error="invalid_token"`}`);
      throw new HubError(result.code, result.message);
    }
    request.principal = result;
  });
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
