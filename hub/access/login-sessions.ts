/**
 * Logins (docs/ADMIN.md "Logging in"): a user logs in with a password and gets a bearer token
 * that opens a session until it expires or the user logs out. Every request, and every
 * long-lived connection again later, is admitted through its session, with the user's role and
 * rooms as they are now. Failed logins are throttled by address (login-throttle.ts).
 */
import { HubError } from '../hub-error.ts';
import type { AccessContext } from './access-context.ts';
import type { AccessChange, SessionRow, UserRow } from './access-records.ts';
import { userView, type UserView } from './access-views.ts';
import { LoginThrottle } from './login-throttle.ts';
import { DUMMY_HASH, verifyPassword } from './passwords.ts';
import type { Principal } from './principal.ts';
import { roomScope } from './room-scope.ts';
import { newSecret, sha256 } from './secrets.ts';

export type AuthFailure = { status: 401; code: 'unauthorized' | 'bad_token' | 'token_expired'; message: string };

export type LoginOutcome =
  | { ok: true; token: string; user: UserView; issuedAt: number; expiresAt: number }
  | { ok: false; status: 401 | 429; code: 'bad_credentials' | 'too_many_attempts'; message: string; retryAfterMs?: number };

export interface LoginOptions {
  sessionTtlMs: number;
  /** listening beyond loopback without --allow-anyone-on-the-network: a login always required */
  exposed: boolean;
  /** a wrong login is answered no sooner than this after it arrived */
  failedLoginFloorMs: number;
  /** logins one user may hold at once (default MAX_SESSIONS_PER_USER); a new one beyond ends the oldest */
  maxSessionsPerUser?: number;
}

/**
 * Every good login is a session held in memory and in the store until the user logs out or the
 * hub restarts after it expired: without a cap, one user's script logging in again and again
 * (a hash each, two at a time: some 70,000 an hour) would grow both for as long as it ran.
 * A person's devices, tabs and CLI logins stay far below it.
 */
export const MAX_SESSIONS_PER_USER = 1_000;

const LOGIN_HELP = 'log in (POST /api/v1/login) and send the token as Authorization: Bearer <token>';
/** a browser's session cookie (docs/API.md "Browser sessions") */
const COOKIE_HELP = 'log in again (POST /api/v1/login with "cookie": true)';

export class LoginSessions {
  /** by the SHA-256 of the session's secret */
  private readonly sessions = new Map<string, SessionRow>();
  private readonly throttle = new LoginThrottle();

  constructor(
    private readonly ctx: AccessContext,
    /** by name: the users as they are now (users.ts changes them) */
    private readonly users: ReadonlyMap<string, UserRow>,
    private readonly o: LoginOptions,
  ) {}

  /** Replaces every login with `rows` (at start; in cluster mode again after another hub's change). */
  load(rows: readonly SessionRow[]): void {
    this.sessions.clear();
    for (const s of rows) this.sessions.set(s.secretSha256, s);
  }

  /** Every login as held now. */
  rows(): SessionRow[] {
    return [...this.sessions.values()];
  }

  /** The API asks for a login as soon as one user exists (and always when exposed). */
  get required(): boolean {
    return this.users.size > 0 || this.o.exposed;
  }

  /** The Authorization header's bearer token, checked. */
  authenticate(header: string | undefined): Principal | AuthFailure {
    if (header === undefined || header.trim() === '') {
      return { status: 401, code: 'unauthorized', message: `this hub requires a login: ${LOGIN_HELP}` };
    }
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) return { status: 401, code: 'bad_token', message: `the Authorization header must be "Bearer <token>"; ${LOGIN_HELP}` };
    return this.sessionPrincipal(sha256(m[1]!));
  }

  /** A session's secret as a browser's cookie carries it: the same session as its bearer token. */
  authenticateSecret(secret: string): Principal | AuthFailure {
    return this.sessionPrincipal(sha256(secret), COOKIE_HELP);
  }

  /**
   * A principal admitted earlier, as it is now: its session still open and unexpired, its user
   * still there, with the user's current role and rooms. Anonymous stays anonymous only while
   * the hub asks for no login.
   */
  recheck(p: Principal): Principal | AuthFailure {
    if (p.kind === 'anonymous') {
      return this.required ? { status: 401, code: 'unauthorized', message: `this hub now requires a login: ${LOGIN_HELP}` } : p;
    }
    return this.sessionPrincipal(p.sessionSha256);
  }

  async login(name: unknown, password: unknown, address: string): Promise<LoginOutcome> {
    const started = this.ctx.now();
    if (typeof name !== 'string' || typeof password !== 'string' || name.length > 64 || password.length > 1024) {
      throw new HubError('bad_request', 'the body must be {"user": "<name>", "password": "<password>"}');
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
      this.throttle.end(attempt, good, this.ctx.now());
    }
    // Looked up again: a user deleted, or whose password changed, during the check gets no session.
    const user = this.users.get(name);
    if (!user || !good || user.passwordHash !== checked!.passwordHash) {
      const wait = started + this.o.failedLoginFloorMs - this.ctx.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      return { ok: false, status: 401, code: 'bad_credentials', message: 'wrong user name or password' };
    }
    const token = newSecret('session');
    const now = this.ctx.now();
    const session: SessionRow = { secretSha256: sha256(token), user: user.name, createdAt: now, expiresAt: now + this.o.sessionTtlMs };
    const ended = this.beyondCap(user.name, now);
    const changes: AccessChange[] = [{ kind: 'put-session', session }];
    if (ended.length > 0) changes.push({ kind: 'delete-sessions', secretSha256: ended.map((e) => e.secretSha256) });
    await this.ctx.persist(changes);
    this.sessions.set(session.secretSha256, session);
    for (const e of ended) {
      this.sessions.delete(e.secretSha256);
      // Its streams close as at a logout (an expired one's closed at its expiry).
      if (e.expiresAt > now) this.ctx.events.principalChanged(e.user, 'logout', e.secretSha256);
    }
    return { ok: true, token, user: userView(user), issuedAt: now, expiresAt: session.expiresAt };
  }

  async logout(p: Principal): Promise<void> {
    if (p.kind !== 'user') return;
    this.sessions.delete(p.sessionSha256);
    this.ctx.events.principalChanged(p.name, 'logout', p.sessionSha256);
    await this.ctx.persist([{ kind: 'delete-sessions', secretSha256: [p.sessionSha256] }]);
  }

  /** The sessions of `user` a new login ends to stay within the cap: expired ones first, then the oldest. */
  private beyondCap(user: string, now: number): SessionRow[] {
    const max = this.o.maxSessionsPerUser ?? MAX_SESSIONS_PER_USER;
    const mine = [...this.sessions.values()].filter((s) => s.user === user);
    if (mine.length < max) return [];
    const expiredFirst = (a: SessionRow, b: SessionRow) =>
      Number(a.expiresAt > now) - Number(b.expiresAt > now) || a.createdAt - b.createdAt;
    return mine.sort(expiredFirst).slice(0, mine.length - max + 1);
  }

  /** The sessions of these users: a change of their password ends them (users.ts persists that). */
  sessionsOf(users: ReadonlySet<string>): SessionRow[] {
    return [...this.sessions.values()].filter((s) => users.has(s.user));
  }

  /** Forgets sessions whose end is persisted. */
  forget(ended: readonly SessionRow[]): void {
    for (const s of ended) this.sessions.delete(s.secretSha256);
  }

  /** Forgets every session of a user whose deletion is persisted (the store deletes them with it). */
  forgetUser(name: string): void {
    for (const [sha, s] of this.sessions) if (s.user === name) this.sessions.delete(sha);
  }

  private sessionPrincipal(sha: string, help = LOGIN_HELP): Principal | AuthFailure {
    const session = this.sessions.get(sha);
    const user = session && this.users.get(session.user);
    if (!session || !user) {
      return {
        status: 401,
        code: 'bad_token',
        message: `the hub does not know this ${help === LOGIN_HELP ? 'token' : 'session cookie'} (logged out, or never issued): ${help}`,
      };
    }
    // Kept (until the next start) so that the token keeps saying "expired", not "unknown".
    if (session.expiresAt <= this.ctx.now()) {
      return {
        status: 401,
        code: 'token_expired',
        message: `this login expired at ${new Date(session.expiresAt).toISOString()}: ${help}`,
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
}
