/**
 * Access control: users and their sessions, sensor tokens, and the rules of docs/ADMIN.md
 * "Access control". Everything lives in memory, so a request or a hello is checked without a
 * store round trip; every change is written to the store before it is answered.
 */
import { isRoom, isSensorId } from '../../protocol/names.ts';
import { ApiError } from '../http/api-error.ts';
import {
  ANY_ROOM,
  isRole,
  type AccessChange,
  type AccessState,
  type Role,
  type SessionRow,
  type TokenRow,
  type UserRow,
} from './access-records.ts';
import { LoginThrottle } from './login-throttle.ts';
import { DUMMY_HASH, hashPassword, passwordProblem, verifyPassword } from './passwords.ts';
import type { Principal } from './principal.ts';
import { roomScope, inScope } from './room-scope.ts';
import { newId, newSecret, sha256 } from './secrets.ts';
import { compileSensorPattern, sensorPatternProblem, type SensorPattern } from './sensor-pattern.ts';

export interface AccessOptions {
  /** the store, or anything that persists the changes */
  persist(changes: AccessChange[]): Promise<void>;
  now(): number;
  sessionTtlMs: number;
  /** listening beyond loopback without --allow-anyone-on-the-network: credentials always required */
  exposed: boolean;
  /** a wrong login is answered no sooner than this after it arrived */
  failedLoginFloorMs: number;
}

/** What changed about a user's rights (onPrincipalChanged). */
export type PrincipalChange = 'logout' | 'deleted' | 'password' | 'access';
export type PrincipalListener = (user: string, kind: PrincipalChange, sessionSha256?: string) => void;

export type AuthFailure = { status: 401; code: 'unauthorized' | 'bad_token' | 'token_expired'; message: string };

export interface UserView {
  user: string;
  role: Role;
  rooms: string[];
  created_at: number;
  updated_at: number;
}

export interface TokenView {
  id: string;
  sensor: string;
  rooms: string[];
  note: string;
  created_at: number;
  created_by: string;
  revoked_at: number | null;
}

export interface UserInput {
  role?: unknown;
  rooms?: unknown;
  password?: unknown;
}

export type HelloVerdict = { ok: true; tokenId: string | null } | { ok: false; code: 401 | 403; message: string; tokenId: string | null };

export type LoginOutcome =
  | { ok: true; token: string; user: UserView; expiresAt: number }
  | { ok: false; status: 401 | 429; code: 'bad_credentials' | 'too_many_attempts'; message: string; retryAfterMs?: number };

const MAX_ROOMS = 1000;
const LOGIN_HELP = 'log in with `npm run cli -- login` (POST /api/v1/login) and send the token as Authorization: Bearer <token>';

export class AccessControl {
  private readonly users = new Map<string, UserRow>();
  private readonly tokens = new Map<string, TokenRow>();
  private readonly tokensBySha = new Map<string, TokenRow>();
  /** by token id */
  private readonly patterns = new Map<string, SensorPattern>();
  private readonly sessions = new Map<string, SessionRow>();
  private readonly throttle = new LoginThrottle();
  private readonly sensorRuleListeners: (() => void)[] = [];
  private readonly principalListeners: PrincipalListener[] = [];

  constructor(private readonly o: AccessOptions) {}

  load(state: AccessState): void {
    for (const u of state.users) this.users.set(u.name, u);
    for (const t of state.tokens) this.indexToken(t);
    for (const s of state.sessions) this.sessions.set(s.secretSha256, s);
  }

  /** The API asks for a login as soon as one user exists (and always when exposed). */
  get loginRequired(): boolean {
    return this.users.size > 0 || this.o.exposed;
  }

  /** The sensor port asks for a token as soon as one unrevoked token exists (and always when exposed). */
  get sensorTokenRequired(): boolean {
    if (this.o.exposed) return true;
    for (const t of this.tokens.values()) if (t.revokedAt === null) return true;
    return false;
  }

  get hasAdmin(): boolean {
    for (const u of this.users.values()) if (u.role === 'admin') return true;
    return false;
  }

  /** A token was created or revoked: connected sensors may no longer be admitted (stillAdmitted). */
  onSensorRulesChanged(listener: () => void): void {
    this.sensorRuleListeners.push(listener);
  }

  /**
   * A user's rights changed after requests were admitted: a session ended (`logout`, with its
   * hash), the user was deleted or its password changed (every session ended), or its role or
   * rooms changed, or it was created (`access`). Long-lived connections (the live stream) check
   * again with recheck(). Listeners must not throw.
   */
  onPrincipalChanged(listener: PrincipalListener): void {
    this.principalListeners.push(listener);
  }

  private principalChanged(user: string, kind: PrincipalChange, sessionSha256?: string): void {
    for (const l of this.principalListeners) l(user, kind, sessionSha256);
  }

  /**
   * Whether a sensor admitted with this token (null: none was needed) may stay connected: its token
   * was not revoked, and, if it had none, the hub still asks for none (the first token closes the
   * sensor port to sensors without one, including those already connected).
   */
  stillAdmitted(tokenId: string | null): { ok: true } | { ok: false; message: string } {
    if (tokenId === null) {
      return this.sensorTokenRequired
        ? { ok: false, message: 'this hub now requires a token in hello; an admin creates one with `npm run cli -- tokens create`' }
        : { ok: true };
    }
    const t = this.tokens.get(tokenId);
    return t && t.revokedAt === null ? { ok: true } : { ok: false, message: 'bad token: revoked by an administrator' };
  }

  // ---- HTTP requests ----

  /** The Authorization header's bearer token, checked. */
  authenticate(header: string | undefined): Principal | AuthFailure {
    if (header === undefined || header.trim() === '') {
      return { status: 401, code: 'unauthorized', message: `this hub requires a login: ${LOGIN_HELP}` };
    }
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) return { status: 401, code: 'bad_token', message: `the Authorization header must be "Bearer <token>"; ${LOGIN_HELP}` };
    return this.sessionPrincipal(sha256(m[1]!));
  }

  /**
   * A principal admitted earlier, as it is now: its session still open and unexpired, its user
   * still there, with the user's current role and rooms. Anonymous stays anonymous only while
   * the hub asks for no login.
   */
  recheck(p: Principal): Principal | AuthFailure {
    if (p.kind === 'anonymous') {
      return this.loginRequired ? { status: 401, code: 'unauthorized', message: `this hub now requires a login: ${LOGIN_HELP}` } : p;
    }
    return this.sessionPrincipal(p.sessionSha256);
  }

  private sessionPrincipal(sha: string): Principal | AuthFailure {
    const session = this.sessions.get(sha);
    const user = session && this.users.get(session.user);
    if (!session || !user) {
      return { status: 401, code: 'bad_token', message: `the hub does not know this token (logged out, or never issued): ${LOGIN_HELP}` };
    }
    // Kept (until the next start) so that the token keeps saying "expired", not "unknown".
    if (session.expiresAt <= this.o.now()) {
      return {
        status: 401,
        code: 'token_expired',
        message: `this login expired at ${new Date(session.expiresAt).toISOString()}: ${LOGIN_HELP}`,
      };
    }
    // Role and rooms come from the user as they are now: a change applies to the next request.
    return {
      kind: 'user',
      name: user.name,
      role: user.role,
      scope: roomScope(user.rooms),
      sessionSha256: sha,
      expiresAt: session.expiresAt,
    };
  }

  async login(name: unknown, password: unknown, address: string): Promise<LoginOutcome> {
    const started = this.o.now();
    if (typeof name !== 'string' || typeof password !== 'string' || name.length > 64 || password.length > 1024) {
      throw new ApiError(400, 'bad_request', 'the body must be {"user": "<name>", "password": "<password>"}');
    }
    // Counted now, before the asynchronous check: parallel guesses meet the limit together.
    const verdict = this.throttle.begin(name, address, started);
    if (!verdict.ok) {
      return {
        ok: false,
        status: 429,
        code: 'too_many_attempts',
        message: `too many failed logins from this address; try again in ${Math.ceil(verdict.retryAfterMs / 1000)} s`,
        retryAfterMs: verdict.retryAfterMs,
      };
    }
    const attempt = verdict.attempt;
    let checked: UserRow | undefined;
    let good = false;
    try {
      // An account under attack answers slower (never not at all): docs/ADMIN.md "Logging in".
      if (attempt.delayMs > 0) await new Promise((r) => setTimeout(r, attempt.delayMs));
      checked = this.users.get(name);
      // An unknown user costs the same hash as a known one: the answer's timing tells nothing.
      good = (await verifyPassword(password, checked?.passwordHash ?? DUMMY_HASH)) && checked !== undefined;
    } finally {
      this.throttle.end(attempt, good, this.o.now());
    }
    // Looked up again: a user deleted, or whose password changed, during the check gets no session.
    const user = this.users.get(name);
    if (!user || !good || user.passwordHash !== checked!.passwordHash) {
      const wait = started + this.o.failedLoginFloorMs - this.o.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      return { ok: false, status: 401, code: 'bad_credentials', message: 'wrong user name or password' };
    }
    const token = newSecret('session');
    const now = this.o.now();
    const session: SessionRow = { secretSha256: sha256(token), user: user.name, createdAt: now, expiresAt: now + this.o.sessionTtlMs };
    await this.o.persist([{ kind: 'put-session', session }]);
    this.sessions.set(session.secretSha256, session);
    return { ok: true, token, user: userView(user), expiresAt: session.expiresAt };
  }

  async logout(p: Principal): Promise<void> {
    if (p.kind !== 'user') return;
    this.sessions.delete(p.sessionSha256);
    this.principalChanged(p.name, 'logout', p.sessionSha256);
    await this.o.persist([{ kind: 'delete-sessions', secretSha256: [p.sessionSha256] }]);
  }

  // ---- users ----

  listUsers(): UserView[] {
    return [...this.users.values()].sort((a, b) => (a.name < b.name ? -1 : 1)).map(userView);
  }

  /** Creates or changes users, all or none (an import is one call). */
  async putUsers(inputs: { name: unknown; input: UserInput }[]): Promise<{ user: UserView; created: boolean }[]> {
    const now = this.o.now();
    const rows: { row: UserRow; created: boolean; passwordChanged: boolean }[] = [];
    const seen = new Set<string>();
    for (const [i, { name, input }] of inputs.entries()) {
      const where = inputs.length > 1 ? `users[${i}]: ` : '';
      if (!isSensorId(name)) throw new ApiError(400, 'bad_user', `${where}a user name must match ^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$`);
      if (seen.has(name)) throw new ApiError(400, 'bad_user', `${where}user "${name}" is listed twice`);
      seen.add(name);
      const old = this.users.get(name);
      const role = input.role ?? old?.role;
      if (!isRole(role)) throw new ApiError(400, 'bad_user', `${where}role must be admin, operator or viewer`);
      const rooms = input.rooms ?? old?.rooms;
      const roomList = checkRooms(rooms, `${where}rooms`);
      let passwordHash = old?.passwordHash;
      if (input.password !== undefined || !old) {
        if (input.password === undefined) throw new ApiError(400, 'bad_user', `${where}a new user needs a password`);
        const problem = passwordProblem(input.password);
        if (problem) throw new ApiError(400, 'bad_password', `${where}${problem}`);
        passwordHash = await hashPassword(input.password as string);
      }
      rows.push({
        row: { name, passwordHash: passwordHash!, role, rooms: roomList, createdAt: old?.createdAt ?? now, updatedAt: now },
        created: !old,
        passwordChanged: old !== undefined && input.password !== undefined,
      });
    }
    const after = new Map(this.users);
    for (const r of rows) after.set(r.row.name, r.row);
    this.checkAdmins(after);
    const ended = [...this.sessions.values()].filter((s) => rows.some((r) => r.passwordChanged && r.row.name === s.user));
    const changes: AccessChange[] = rows.map((r) => ({ kind: 'put-user', user: r.row }));
    if (ended.length > 0) changes.push({ kind: 'delete-sessions', secretSha256: ended.map((s) => s.secretSha256) });
    await this.o.persist(changes);
    for (const r of rows) this.users.set(r.row.name, r.row);
    for (const s of ended) this.sessions.delete(s.secretSha256);
    for (const r of rows) this.principalChanged(r.row.name, r.passwordChanged ? 'password' : 'access');
    return rows.map((r) => ({ user: userView(r.row), created: r.created }));
  }

  async deleteUser(name: string): Promise<void> {
    if (!this.users.has(name)) throw new ApiError(404, 'not_found', `no user "${name}"`);
    const after = new Map(this.users);
    after.delete(name);
    this.checkAdmins(after);
    await this.o.persist([{ kind: 'delete-user', name }]);
    this.users.delete(name);
    for (const [sha, s] of this.sessions) if (s.user === name) this.sessions.delete(sha);
    this.principalChanged(name, 'deleted');
  }

  /**
   * A hub with users must keep an admin, or no one could ever manage it again; and removing the
   * last one must not quietly open the hub either.
   */
  private checkAdmins(after: Map<string, UserRow>): void {
    if (after.size === 0 && this.users.size === 0) return;
    for (const u of after.values()) if (u.role === 'admin') return;
    throw new ApiError(
      409,
      this.hasAdmin ? 'last_admin' : 'admin_required',
      this.hasAdmin
        ? 'this would leave the hub without an admin: make another user admin first'
        : 'the first users of a hub must include an admin (import them together: `npm run cli -- users import FILE`)',
    );
  }

  // ---- sensor tokens ----

  listTokens(): TokenView[] {
    return [...this.tokens.values()].map(tokenView);
  }

  async createToken(input: { sensor?: unknown; rooms?: unknown; note?: unknown }, by: string): Promise<{ token: string; view: TokenView }> {
    const problem = sensorPatternProblem(input.sensor);
    if (problem) throw new ApiError(400, 'bad_token_request', problem);
    const rooms = checkRooms(input.rooms, 'rooms');
    if (rooms.length === 0) throw new ApiError(400, 'bad_token_request', 'rooms must name at least one room, or "*" for any');
    const note = input.note ?? '';
    if (typeof note !== 'string' || note.length > 200)
      throw new ApiError(400, 'bad_token_request', 'note must be a string of at most 200 characters');
    const secret = newSecret('sensor-token');
    const row: TokenRow = {
      id: newId('t-'),
      secretSha256: sha256(secret),
      sensorPattern: input.sensor as string,
      rooms,
      note,
      createdAt: this.o.now(),
      createdBy: by,
      revokedAt: null,
    };
    await this.o.persist([{ kind: 'put-token', token: row }]);
    this.indexToken(row);
    for (const l of this.sensorRuleListeners) l();
    return { token: secret, view: tokenView(row) };
  }

  async revokeToken(id: string): Promise<TokenView> {
    const t = this.tokens.get(id);
    if (!t) throw new ApiError(404, 'not_found', `no sensor token "${id}"; \`npm run cli -- tokens list\` shows them`);
    if (t.revokedAt === null) {
      const revoked = { ...t, revokedAt: this.o.now() };
      await this.o.persist([{ kind: 'put-token', token: revoked }]);
      this.indexToken(revoked);
      for (const l of this.sensorRuleListeners) l();
    }
    return tokenView(this.tokens.get(id)!);
  }

  /**
   * The rules for a sensor's hello (docs/ADMIN.md "Sensor tokens"). `knownRoom`: the room the hub
   * knows the sensor in (connected or not), if it knows it at all.
   */
  checkHello(token: string | undefined, sensor: string, room: string, knownRoom?: string): HelloVerdict {
    if (!this.sensorTokenRequired) return { ok: true, tokenId: null };
    if (token === undefined) {
      return {
        ok: false,
        code: 401,
        message: 'this hub requires a token in hello; an admin creates one with `npm run cli -- tokens create`',
        tokenId: null,
      };
    }
    const t = this.tokensBySha.get(sha256(token));
    if (!t || t.revokedAt !== null) return { ok: false, code: 401, message: 'bad token: unknown or revoked', tokenId: t?.id ?? null };
    if (!this.patterns.get(t.id)!.test(sensor)) {
      return {
        ok: false,
        code: 403,
        message: `token ${t.id} allows sensor ids matching "${t.sensorPattern}", not "${sensor}"`,
        tokenId: t.id,
      };
    }
    const rooms = roomScope(t.rooms);
    if (!inScope(rooms, room)) {
      return { ok: false, code: 403, message: `token ${t.id} allows rooms ${t.rooms.join(', ')}, not "${room}"`, tokenId: t.id };
    }
    // A hello takes over the sensor id (the connected one gets 409) and moves it to its room: a
    // token for one room must not reach into another to evict, move or impersonate its sensors.
    if (knownRoom !== undefined && !inScope(rooms, knownRoom)) {
      return {
        ok: false,
        code: 403,
        message:
          `sensor "${sensor}" is in room "${knownRoom}", which token ${t.id} does not allow: ` +
          `connect it with a token for that room (one that also allows "${room}" may move it there)`,
        tokenId: t.id,
      };
    }
    return { ok: true, tokenId: t.id };
  }

  private indexToken(t: TokenRow): void {
    this.tokens.set(t.id, t);
    this.tokensBySha.set(t.secretSha256, t);
    this.patterns.set(t.id, compileSensorPattern(t.sensorPattern));
  }
}

function checkRooms(rooms: unknown, name: string): string[] {
  if (!Array.isArray(rooms) || rooms.length > MAX_ROOMS || !rooms.every((r) => r === ANY_ROOM || isRoom(r))) {
    throw new ApiError(
      400,
      'bad_rooms',
      `${name} must be an array of room names (^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$) or "*" for every room`,
    );
  }
  return [...new Set(rooms as string[])].sort();
}

function userView(u: UserRow): UserView {
  return { user: u.name, role: u.role, rooms: u.rooms, created_at: u.createdAt, updated_at: u.updatedAt };
}

function tokenView(t: TokenRow): TokenView {
  return {
    id: t.id,
    sensor: t.sensorPattern,
    rooms: t.rooms,
    note: t.note,
    created_at: t.createdAt,
    created_by: t.createdBy,
    revoked_at: t.revokedAt,
  };
}
