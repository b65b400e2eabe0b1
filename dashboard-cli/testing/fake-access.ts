/**
 * The access-control side of the fake hub (docs/ADMIN.md "Access control"), for CLI tests: login
 * with configured accounts, sessions by bearer token (expired ones answer `token_expired`),
 * logout, whoami, users, sensor tokens and the activity log, all kept in memory. With
 * `requireLogin`, every route but login asks for a known, unexpired bearer token, with the
 * documented 401 codes. Roles are not enforced: what the CLI sends is what these tests check.
 */
import type { ApiErrorCode } from '../../protocol/api-errors.ts';
import type { ActivityEvent, TokenInfo, UserInfo } from '../access-types.ts';

export interface FakeAccount {
  user: string;
  password: string;
  role: string;
  rooms: string[];
}

export interface FakeSession {
  user: string;
  role: string;
  rooms: string[];
  /** ms since the epoch */
  expires_at: number;
}

export interface FakeAccessOptions {
  /** Who may log in; each login gets a fresh token, `tok-<user>-<n>`. */
  accounts?: readonly FakeAccount[];
  /** Every route but login (and health) requires a known, unexpired token. */
  requireLogin?: boolean;
  /** Tokens known from the start (for ROOMWATCH_TOKEN, or a stored login), by token. */
  sessions?: Readonly<Record<string, FakeSession>>;
  /** How long a login lasts (default 12 h). */
  sessionTtlMs?: number;
  /** `GET /api/v1/users` at the start. */
  users?: readonly UserInfo[];
  /** `GET /api/v1/tokens` at the start. */
  tokens?: readonly TokenInfo[];
  /** The activity log at the start, oldest first, ids ascending. */
  activity?: readonly ActivityEvent[];
}

export interface FakeReply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

const DEFAULT_TTL_MS = 12 * 3600_000;

function error(status: number, code: ApiErrorCode, message: string, headers?: Record<string, string>): FakeReply {
  return { status, body: { error: { code, message } }, ...(headers ? { headers } : {}) };
}

export class FakeAccess {
  /** by token */
  readonly sessions = new Map<string, FakeSession>();
  /** by user name */
  readonly users = new Map<string, UserInfo>();
  readonly tokens: TokenInfo[];
  readonly events: ActivityEvent[];
  private logins = 0;

  constructor(private readonly options: FakeAccessOptions = {}) {
    for (const [token, session] of Object.entries(options.sessions ?? {})) this.sessions.set(token, session);
    for (const u of options.users ?? []) this.users.set(u.user, { ...u });
    this.tokens = (options.tokens ?? []).map((t) => ({ ...t }));
    this.events = [...(options.activity ?? [])];
  }

  /** Appends events to the log, as if they had just happened; ids continue from the last one. */
  addActivity(...events: Omit<ActivityEvent, 'id'>[]): void {
    for (const e of events) {
      const last = this.events.at(-1)?.id;
      this.events.push({ ...e, id: typeof last === 'number' ? last + 1 : this.events.length + 1 });
    }
  }

  /** The refusal for a request that needs a login and lacks a good token, or undefined when it may go on. */
  refusal(path: string, authorization: string | undefined): FakeReply | undefined {
    if (!this.options.requireLogin || path === '/api/v1/login' || path === '/api/v1/health') return undefined;
    const session = this.sessionOf(authorization);
    if (session === 'none') return error(401, 'unauthorized', 'this hub requires a login', { 'www-authenticate': 'Bearer' });
    if (session === 'unknown') return error(401, 'bad_token', 'unknown token');
    if (session.expires_at <= Date.now()) return error(401, 'token_expired', 'the token has expired');
    return undefined;
  }

  private sessionOf(authorization: string | undefined): FakeSession | 'none' | 'unknown' {
    if (authorization === undefined) return 'none';
    const token = /^Bearer (.+)$/.exec(authorization)?.[1];
    return (token !== undefined && this.sessions.get(token)) || 'unknown';
  }

  /** The answer of an access-control route, or undefined for any other route. */
  route(method: string, url: URL, authorization: string | undefined, body: unknown): FakeReply | undefined {
    const path = url.pathname;
    const route = `${method} ${path}`;
    const json = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    if (route === 'POST /api/v1/login') {
      const account = (this.options.accounts ?? []).find((a) => a.user === json.user && a.password === json.password);
      if (!account) return error(401, 'bad_credentials', 'wrong user name or password');
      const token = `tok-${account.user}-${++this.logins}`;
      const session = {
        user: account.user,
        role: account.role,
        rooms: account.rooms,
        expires_at: Date.now() + (this.options.sessionTtlMs ?? DEFAULT_TTL_MS),
      };
      this.sessions.set(token, session);
      return { status: 200, body: { token, ...session } };
    }
    if (route === 'POST /api/v1/logout') {
      const token = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
      if (token === undefined || !this.sessions.delete(token)) return error(401, 'bad_token', 'unknown token');
      return { status: 200, body: { ok: true } };
    }
    if (route === 'GET /api/v1/whoami') {
      const session = this.sessionOf(authorization);
      if (typeof session === 'object') return { status: 200, body: { auth: 'required', ...session } };
      return { status: 200, body: { auth: 'open', user: null, role: 'admin', rooms: ['*'] } };
    }
    if (route === 'GET /api/v1/users') {
      return { status: 200, body: { users: [...this.users.values()].sort((a, b) => (a.user < b.user ? -1 : 1)) } };
    }
    if (route === 'POST /api/v1/users/import') return this.importUsers(json.users);
    const userName = /^\/api\/v1\/users\/([^/]+)$/.exec(path)?.[1];
    if (userName !== undefined) return this.userRoute(method, decodeURIComponent(userName), json);
    if (route === 'GET /api/v1/tokens') return { status: 200, body: { tokens: this.tokens } };
    if (route === 'POST /api/v1/tokens') {
      const id = `t-${String(this.tokens.length + 1).padStart(8, '0')}`;
      const token: TokenInfo = {
        id,
        sensor: String(json.sensor),
        rooms: json.rooms as string[],
        note: typeof json.note === 'string' ? json.note : '',
        created_at: Date.now(),
        created_by: 'admin',
        revoked_at: null,
      };
      this.tokens.push(token);
      return { status: 201, body: { ...token, token: `rws_secret_${id}` } };
    }
    const tokenId = /^\/api\/v1\/tokens\/([^/]+)$/.exec(path)?.[1];
    if (method === 'DELETE' && tokenId !== undefined) {
      const token = this.tokens.find((t) => t.id === decodeURIComponent(tokenId));
      if (!token) return error(404, 'not_found', `no token ${tokenId}`);
      token.revoked_at ??= Date.now();
      return { status: 200, body: { id: token.id, revoked_at: token.revoked_at } };
    }
    if (route === 'GET /api/v1/activity') return { status: 200, body: this.activity(url.searchParams) };
    return undefined;
  }

  private userRoute(method: string, name: string, json: Record<string, unknown>): FakeReply {
    const existing = this.users.get(name);
    if (method === 'DELETE') {
      if (!existing) return error(404, 'not_found', `no user ${name}`);
      this.users.delete(name);
      return { status: 200, body: { user: name } };
    }
    if (method !== 'PUT') return error(405, 'method_not_allowed', `${method} on a user`);
    if (!existing && typeof json.password !== 'string') return error(400, 'bad_request', 'a new user needs a password');
    if (this.users.size === 0 && json.role !== 'admin') return error(409, 'admin_required', 'the first user of a hub must be an admin');
    const now = Date.now();
    const user: UserInfo = {
      user: name,
      role: json.role as UserInfo['role'],
      rooms: json.rooms as string[],
      created_at: existing?.created_at ?? now,
      updated_at: now,
    };
    this.users.set(name, user);
    return { status: existing ? 200 : 201, body: user };
  }

  /** All or none; the first users of a hub must include an admin. */
  private importUsers(list: unknown): FakeReply {
    if (!Array.isArray(list) || list.length === 0) return error(400, 'bad_request', 'the body must be {"users": [...]}');
    const users = list as (UserInfo & { password?: unknown })[];
    if (this.users.size === 0 && !users.some((u) => u.role === 'admin')) {
      return error(409, 'admin_required', 'the first users of a hub must include an admin');
    }
    const created: string[] = [];
    const updated: string[] = [];
    const now = Date.now();
    for (const u of users) {
      const existing = this.users.get(u.user);
      (existing ? updated : created).push(u.user);
      this.users.set(u.user, { user: u.user, role: u.role, rooms: u.rooms, created_at: existing?.created_at ?? now, updated_at: now });
    }
    return { status: 200, body: { created, updated } };
  }

  /** §"Activity log": `after` gives only later events, else the newest `limit`; `action` and `actor` are lists. */
  private activity(params: URLSearchParams): { events: ActivityEvent[]; last_id: number } {
    const list = (name: string): string[] | undefined => params.get(name)?.split(',');
    const actions = list('action');
    const actors = list('actor');
    const limit = Number(params.get('limit') ?? 100);
    const after = params.get('after');
    let events = this.events.filter((e) => (!actions || actions.includes(e.action)) && (!actors || actors.includes(e.actor)));
    if (after !== null) events = events.filter((e) => Number(e.id) > Number(after)).slice(0, limit);
    else events = events.slice(-limit);
    return { events, last_id: events.at(-1)?.id ?? (after !== null ? Number(after) : 0) };
  }
}
