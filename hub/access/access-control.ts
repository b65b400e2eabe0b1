/**
 * Access control (docs/ADMIN.md "Access control"): users (users.ts), their logins
 * (login-sessions.ts) and sensor tokens (sensor-tokens.ts), wired together here and offered to
 * the hub as one object. Everything lives in memory, so a request or a hello is checked without
 * a store round trip; every change is written to the store before it is answered.
 */
import { AccessEvents, type AccessContext, type PrincipalListener } from './access-context.ts';
import type { AccessChange, AccessState, UserRow } from './access-records.ts';
import type { TokenView, UserView } from './access-views.ts';
import { LoginSessions, type AuthFailure, type LoginOutcome } from './login-sessions.ts';
import type { Principal } from './principal.ts';
import { SensorTokens, type HelloVerdict, type TokenInput } from './sensor-tokens.ts';
import { Users, type UserInput } from './users.ts';

export type { PrincipalChange, PrincipalListener } from './access-context.ts';
export type { TokenView, UserView } from './access-views.ts';
export type { AuthFailure, LoginOutcome } from './login-sessions.ts';
export type { HelloVerdict } from './sensor-tokens.ts';
export type { UserInput } from './users.ts';

export interface AccessOptions {
  /** the store, or anything that persists the changes */
  persist(changes: AccessChange[]): Promise<void>;
  now(): number;
  sessionTtlMs: number;
  /** listening beyond loopback without --allow-anyone-on-the-network: credentials always required */
  exposed: boolean;
  /** a wrong login is answered no sooner than this after it arrived */
  failedLoginFloorMs: number;
  /** logins one user may hold at once (login-sessions.ts MAX_SESSIONS_PER_USER) */
  maxSessionsPerUser?: number;
}

export class AccessControl {
  private readonly events = new AccessEvents();
  private readonly users: Users;
  private readonly sessions: LoginSessions;
  private readonly tokens: SensorTokens;

  constructor(o: AccessOptions) {
    const ctx: AccessContext = { persist: (changes) => o.persist(changes), now: () => o.now(), events: this.events };
    /** by name: written by the users, read by the login sessions */
    const userRows = new Map<string, UserRow>();
    this.sessions = new LoginSessions(ctx, userRows, o);
    this.users = new Users(ctx, userRows, this.sessions);
    this.tokens = new SensorTokens(ctx, o.exposed);
  }

  load(state: AccessState): void {
    this.users.load(state.users);
    this.tokens.load(state.tokens);
    this.sessions.load(state.sessions);
  }

  /**
   * Cluster mode: another hub changed users, tokens or logins in the shared store; `state` is
   * the store's now. Replaces what is held, and tells the connections admitted under the old
   * rights what changed, as a change made here would (logins ended, users deleted or changed,
   * token rules changed).
   */
  reload(state: AccessState): void {
    const users = new Map(this.users.rows().map((u) => [u.name, u]));
    const sessions = this.sessions.rows();
    const tokens = JSON.stringify(this.tokens.rows().sort((a, b) => (a.id < b.id ? -1 : 1)));
    this.load(state);
    const nowUsers = new Map(state.users.map((u) => [u.name, u]));
    const nowSessions = new Set(state.sessions.map((s) => s.secretSha256));
    for (const s of sessions) if (!nowSessions.has(s.secretSha256)) this.events.principalChanged(s.user, 'logout', s.secretSha256);
    for (const [name, before] of users) {
      const after = nowUsers.get(name);
      if (!after) this.events.principalChanged(name, 'deleted');
      else if (after.passwordHash !== before.passwordHash) this.events.principalChanged(name, 'password');
      else if (after.role !== before.role || after.rooms.join('\n') !== before.rooms.join('\n'))
        this.events.principalChanged(name, 'access');
    }
    if (JSON.stringify(this.tokens.rows().sort((a, b) => (a.id < b.id ? -1 : 1))) !== tokens) this.events.sensorRulesChanged();
  }

  /** The API asks for a login as soon as one user exists (and always when exposed). */
  get loginRequired(): boolean {
    return this.sessions.required;
  }

  /** The sensor port asks for a token as soon as one unrevoked token exists (and always when exposed). */
  get sensorTokenRequired(): boolean {
    return this.tokens.required;
  }

  get hasAdmin(): boolean {
    return this.users.hasAdmin;
  }

  /** A token was created or revoked: connected sensors may no longer be admitted (stillAdmitted). */
  onSensorRulesChanged(listener: () => void): void {
    this.events.onSensorRulesChanged(listener);
  }

  /**
   * A user's rights changed after requests were admitted: a session ended (`logout`, with its
   * hash), the user was deleted or its password changed (every session ended), or its role or
   * rooms changed, or it was created (`access`). Long-lived connections (the live stream) check
   * again with recheck(). Listeners must not throw.
   */
  onPrincipalChanged(listener: PrincipalListener): void {
    this.events.onPrincipalChanged(listener);
  }

  // ---- logins ----

  /** The Authorization header's bearer token, checked. */
  authenticate(header: string | undefined): Principal | AuthFailure {
    return this.sessions.authenticate(header);
  }

  /** A session's secret as a browser's cookie carries it (login-sessions.ts). */
  authenticateSecret(secret: string): Principal | AuthFailure {
    return this.sessions.authenticateSecret(secret);
  }

  /** A principal admitted earlier, as it is now (login-sessions.ts). */
  recheck(p: Principal): Principal | AuthFailure {
    return this.sessions.recheck(p);
  }

  login(name: unknown, password: unknown, address: string): Promise<LoginOutcome> {
    return this.sessions.login(name, password, address);
  }

  logout(p: Principal): Promise<void> {
    return this.sessions.logout(p);
  }

  // ---- users ----

  listUsers(): UserView[] {
    return this.users.list();
  }

  /** Creates or changes users, all or none (an import is one call). */
  putUsers(inputs: { name: unknown; input: UserInput }[]): Promise<{ user: UserView; created: boolean }[]> {
    return this.users.put(inputs);
  }

  deleteUser(name: string): Promise<void> {
    return this.users.delete(name);
  }

  // ---- sensor tokens ----

  listTokens(): TokenView[] {
    return this.tokens.list();
  }

  createToken(input: TokenInput, by: string): Promise<{ token: string; view: TokenView }> {
    return this.tokens.create(input, by);
  }

  revokeToken(id: string): Promise<TokenView> {
    return this.tokens.revoke(id);
  }

  /** Whether a sensor admitted with this token (null: none was needed) may stay connected (sensor-tokens.ts). */
  stillAdmitted(tokenId: string | null): { ok: true } | { ok: false; message: string } {
    return this.tokens.stillAdmitted(tokenId);
  }

  /** The rules for a sensor's hello (sensor-tokens.ts); `knownRoom`: the room the hub knows the sensor in, if any. */
  checkHello(token: string | undefined, sensor: string, room: string, knownRoom?: string): HelloVerdict {
    return this.tokens.checkHello(token, sensor, room, knownRoom);
  }
}
