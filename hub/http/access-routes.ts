/**
 * The access-control routes (docs/ADMIN.md "Access control"): login, logout and whoami; users
 * and sensor tokens (admins); the activity log (admins). Every change and every login is
 * recorded in the activity log.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AccessControl } from '../access/access-control.ts';
import { ANY_ROOM, type Action, type Outcome } from '../access/access-records.ts';
import type { ActivityLog } from '../access/activity-log.ts';
import { actorName } from '../access/principal.ts';
import { isSensorId } from '../../protocol/names.ts';
import { parseList } from '../../protocol/filters.ts';
import type {
  ActivityBody,
  CookieLoginBody,
  CreatedTokenBody,
  ImportBody,
  LoginBody,
  RevokedTokenBody,
  TokensBody,
  UserInfo,
  UsersBody,
  WhoamiBody,
} from '../../protocol/api.ts';
import { ActivityQuery, DEFAULT_ACTIVITY_LIMIT, MAX_ACTIVITY_LIMIT } from '../../protocol/schemas/activity.ts';
import { LoginRequest } from '../../protocol/schemas/login.ts';
import { TokenCreateRequest, TokenParams } from '../../protocol/schemas/tokens.ts';
import { UserParams, UserPutRequest, UsersImportRequest } from '../../protocol/schemas/users.ts';
import { HubError } from '../hub-error.ts';
import { statusOf } from './api-error.ts';
import { requireRole } from './auth.ts';
import { clearSessionCookies, cookieNames, setSessionCookies } from './browser-session.ts';

export interface AccessRouteDeps {
  access: AccessControl;
  activity: ActivityLog;
}

export { MAX_ACTIVITY_LIMIT };

function outcomeOf(status: number): Outcome {
  return status < 400 ? 'ok' : status === 401 || status === 403 || status === 429 ? 'denied' : 'failed';
}

export function recordRequest(
  activity: ActivityLog,
  request: FastifyRequest,
  action: Action,
  target: string,
  status: number,
  detail: string,
  actor = actorName(request.principal),
): void {
  activity.record({ actor, address: request.ip, action, target, outcome: outcomeOf(status), code: status, detail });
}

/** Runs an admin change and records it, refused or done. */
async function recorded<T>(
  deps: AccessRouteDeps,
  request: FastifyRequest,
  action: Action,
  target: string,
  /** `target`: what the change made, when only the change knows (a new token's id) */
  work: () => Promise<{ status: number; body: T; detail: string; target?: string }>,
): Promise<{ status: number; body: T }> {
  try {
    const r = await work();
    recordRequest(deps.activity, request, action, r.target ?? target, r.status, r.detail);
    return r;
  } catch (err) {
    const status = err instanceof HubError ? statusOf(err) : 500;
    recordRequest(deps.activity, request, action, target, status, (err as Error).message);
    throw err;
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    /** what an audited route did, for its activity event (else the error's message) */
    activityDetail: string | null;
  }
}

/** The user routes whose every call goes into the activity log, whatever the outcome. */
const AUDITED: Record<string, Action> = {
  '/api/v1/history.csv': 'export',
  '/api/v1/readings': 'upload',
  '/api/v1/report-now': 'report-now',
};

/**
 * Records each call of an audited route once its answer has gone out (an export that the client
 * abandoned is recorded by its route). Refusals are recorded too: a 403 is what an audit is for.
 */
export function registerActivityHooks(app: FastifyInstance, activity: ActivityLog): void {
  app.decorateRequest('activityDetail', null);
  app.addHook('onError', async (request, _reply, error) => {
    request.activityDetail ??= error.message;
  });
  app.addHook('onResponse', async (request, reply) => {
    const action = AUDITED[request.routeOptions.url ?? ''];
    if (!action) return;
    const target = request.url.includes('?') ? decodeURIComponent(request.url.slice(request.url.indexOf('?') + 1)).slice(0, 300) : '';
    recordRequest(activity, request, action, target, reply.statusCode, request.activityDetail ?? '');
  });
}

export function registerAccessRoutes(scope: FastifyInstance, deps: AccessRouteDeps): void {
  const { access, activity } = deps;
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();

  app.post('/api/v1/login', { schema: { body: LoginRequest } }, async (request, reply): Promise<LoginBody | CookieLoginBody> => {
    const { user: name, password, cookie } = request.body;
    const result = await access.login(name, password, request.ip);
    if (!result.ok) {
      recordRequest(activity, request, 'login', name, result.status, result.message, name);
      if (result.retryAfterMs !== undefined) reply.header('retry-after', String(Math.ceil(result.retryAfterMs / 1000)));
      throw new HubError(result.code, result.message);
    }
    const until = `session until ${new Date(result.expiresAt).toISOString()}`;
    recordRequest(activity, request, 'login', name, 200, cookie === true ? `${until}, in a browser cookie` : until, name);
    const who = { expires_at: result.expiresAt, user: result.user.user, role: result.user.role, rooms: result.user.rooms };
    if (cookie !== true) return { token: result.token, ...who };
    // The secret goes only into the HttpOnly cookie: a script on the page never holds it.
    const names = setSessionCookies(reply, result.token, Math.floor((result.expiresAt - result.issuedAt) / 1000));
    return { ...who, csrf_cookie: names.csrf };
  });

  app.post('/api/v1/logout', async (request, reply) => {
    await access.logout(request.principal);
    recordRequest(activity, request, 'logout', actorName(request.principal), 200, '');
    if (request.authVia === 'cookie') clearSessionCookies(reply);
    return { ok: true } as const;
  });

  app.get('/api/v1/whoami', async (request): Promise<WhoamiBody> => {
    const p = request.principal;
    if (p.kind === 'anonymous') return { auth: 'open', user: null, role: 'admin', rooms: [ANY_ROOM] };
    return {
      auth: 'required',
      user: p.name,
      role: p.role,
      // the principal carries the user's rooms as they are now: no lookup
      rooms: p.scope.all ? [ANY_ROOM] : [...p.scope.rooms],
      expires_at: p.expiresAt,
      ...(request.authVia === 'cookie' ? { csrf_cookie: cookieNames(request).csrf } : {}),
    };
  });

  // ---- users ----
  app.get('/api/v1/users', async (request): Promise<UsersBody> => {
    requireRole(request, 'admin', 'list users');
    return { users: access.listUsers() };
  });

  app.put('/api/v1/users/:name', { schema: { params: UserParams, body: UserPutRequest } }, async (request, reply) => {
    requireRole(request, 'admin', 'change users');
    const name = request.params.name;
    const r = await recorded(deps, request, 'user.put', name, async () => {
      const [done] = await access.putUsers([{ name, input: request.body }]);
      return {
        status: done!.created ? 201 : 200,
        body: done!.user satisfies UserInfo,
        detail: `${done!.created ? 'created' : 'changed'}: ${done!.user.role}; rooms ${done!.user.rooms.join(', ')}`,
      };
    });
    return reply.status(r.status).send(r.body);
  });

  // All or nothing: the first users of a hub (an admin among them) arrive in one request.
  app.post('/api/v1/users/import', { schema: { body: UsersImportRequest } }, async (request): Promise<ImportBody> => {
    requireRole(request, 'admin', 'import users');
    const inputs = request.body.users.map(({ user, ...input }) => ({ name: user, input }));
    const names = inputs.map((i) => i.name).join(', ');
    const r = await recorded(deps, request, 'user.put', names.slice(0, 200), async () => {
      const done = await access.putUsers(inputs);
      return {
        status: 200,
        body: {
          created: done.filter((d) => d.created).map((d) => d.user.user),
          updated: done.filter((d) => !d.created).map((d) => d.user.user),
        },
        detail: `import of ${done.length} user${done.length === 1 ? '' : 's'}`,
      };
    });
    return r.body;
  });

  app.delete('/api/v1/users/:name', { schema: { params: UserParams } }, async (request) => {
    requireRole(request, 'admin', 'delete users');
    const name = request.params.name;
    const r = await recorded(deps, request, 'user.delete', name, async () => {
      await access.deleteUser(name);
      return { status: 200, body: { deleted: name }, detail: 'deleted; sessions ended' };
    });
    return r.body;
  });

  // ---- sensor tokens ----
  app.get('/api/v1/tokens', async (request): Promise<TokensBody> => {
    requireRole(request, 'admin', 'list sensor tokens');
    return { tokens: access.listTokens() };
  });

  app.post('/api/v1/tokens', { schema: { body: TokenCreateRequest } }, async (request, reply) => {
    requireRole(request, 'admin', 'create sensor tokens');
    const r = await recorded(deps, request, 'token.create', '', async () => {
      const { token, view } = await access.createToken(request.body, actorName(request.principal));
      const body: CreatedTokenBody = { ...view, token };
      return { status: 201, body, target: view.id, detail: `sensors ${view.sensor} in ${view.rooms.join(', ')}` };
    });
    return reply.status(201).send(r.body);
  });

  app.delete('/api/v1/tokens/:id', { schema: { params: TokenParams } }, async (request): Promise<RevokedTokenBody> => {
    requireRole(request, 'admin', 'revoke sensor tokens');
    const id = request.params.id;
    const r = await recorded(deps, request, 'token.revoke', id, async () => {
      const view = await access.revokeToken(id);
      return { status: 200, body: { id: view.id, revoked_at: view.revoked_at! }, detail: 'revoked; its sensors disconnected' };
    });
    return r.body;
  });

  // ---- activity ----
  app.get('/api/v1/activity', { schema: { querystring: ActivityQuery } }, async (request): Promise<ActivityBody> => {
    requireRole(request, 'admin', 'read the activity log');
    const q = request.query;
    const events = await activity.query({
      ...activityFilters(q),
      limit: q.limit === undefined ? DEFAULT_ACTIVITY_LIMIT : wholeNumber('limit', q.limit, 1, MAX_ACTIVITY_LIMIT),
    });
    const lastId = events.length > 0 ? events[events.length - 1]!.id : q.after === undefined ? 0 : Number(q.after);
    return { events, last_id: lastId };
  });
}

/** `after`, `action` and `actor` of the activity log's query (the poll's and the live stream's). */
export function activityFilters(q: { after?: string; action?: string | string[]; actor?: string | string[] }): {
  after: number | null;
  actions: string[] | null;
  actors: string[] | null;
} {
  return {
    after: q.after === undefined ? null : wholeNumber('after', q.after, 0, Number.MAX_SAFE_INTEGER),
    actions: names('action', q.action),
    actors: names('actor', q.actor, isSensorId, 'user names or sensor ids'),
  };
}

/** A query value the schema found to be digits, within [min, max]. */
function wholeNumber(name: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw new HubError('bad_parameter', `${name} must be a whole number from ${min} to ${max}`);
  return n;
}

/** A list parameter (protocol/filters.ts parseList); each name at most 64 characters, and `check`ed when given. */
function names(
  name: string,
  raw: string | string[] | undefined,
  check: (item: string) => boolean = () => true,
  what = 'a comma-separated list of names',
): string[] | null {
  if (raw === undefined) return null;
  const list = parseList(name, raw);
  if (!list.ok) throw new HubError('bad_parameter', list.problem);
  if (list.items.some((item) => item.length > 64 || !check(item))) throw new HubError('bad_parameter', `${name} must be ${what}`);
  return list.items;
}
