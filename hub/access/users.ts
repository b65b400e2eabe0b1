/**
 * Users (docs/ADMIN.md "Users, roles and rooms"): who may log in, with which role and rooms.
 * Changes are all or none, and a hub with users always keeps an admin. A changed password or a
 * deleted user ends the user's logins (login-sessions.ts).
 */
import { isSensorId } from '../../protocol/names.ts';
import { HubError } from '../hub-error.ts';
import type { AccessContext } from './access-context.ts';
import { isRole, type AccessChange, type UserRow } from './access-records.ts';
import { userView, type UserView } from './access-views.ts';
import type { LoginSessions } from './login-sessions.ts';
import { hashPassword, passwordProblem } from './passwords.ts';
import { checkRooms } from './room-list.ts';

export interface UserInput {
  role?: unknown;
  rooms?: unknown;
  password?: unknown;
}

export class Users {
  constructor(
    private readonly ctx: AccessContext,
    /** by name; written only here, read by the login sessions */
    private readonly users: Map<string, UserRow>,
    private readonly sessions: LoginSessions,
  ) {}

  /** Replaces every user with `rows` (at start; in cluster mode again after another hub's change). */
  load(rows: readonly UserRow[]): void {
    this.users.clear();
    for (const u of rows) this.users.set(u.name, u);
  }

  /** Every user as held now. */
  rows(): UserRow[] {
    return [...this.users.values()];
  }

  get hasAdmin(): boolean {
    for (const u of this.users.values()) if (u.role === 'admin') return true;
    return false;
  }

  list(): UserView[] {
    return [...this.users.values()].sort((a, b) => (a.name < b.name ? -1 : 1)).map(userView);
  }

  /** Creates or changes users, all or none (an import is one call). */
  async put(inputs: { name: unknown; input: UserInput }[]): Promise<{ user: UserView; created: boolean }[]> {
    const now = this.ctx.now();
    const rows: { row: UserRow; created: boolean; passwordChanged: boolean }[] = [];
    const seen = new Set<string>();
    for (const [i, { name, input }] of inputs.entries()) {
      const where = inputs.length > 1 ? `users[${i}]: ` : '';
      if (!isSensorId(name)) throw new HubError('bad_user', `${where}a user name must match ^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$`);
      if (seen.has(name)) throw new HubError('bad_user', `${where}user "${name}" is listed twice`);
      seen.add(name);
      const old = this.users.get(name);
      const role = input.role ?? old?.role;
      if (!isRole(role)) throw new HubError('bad_user', `${where}role must be admin, operator or viewer`);
      const roomList = checkRooms(input.rooms ?? old?.rooms, `${where}rooms`);
      let passwordHash = old?.passwordHash;
      if (input.password !== undefined || !old) {
        if (input.password === undefined) throw new HubError('bad_user', `${where}a new user needs a password`);
        const problem = passwordProblem(input.password);
        if (problem) throw new HubError('bad_password', `${where}${problem}`);
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
    const ended = this.sessions.sessionsOf(new Set(rows.filter((r) => r.passwordChanged).map((r) => r.row.name)));
    const changes: AccessChange[] = rows.map((r) => ({ kind: 'put-user', user: r.row }));
    if (ended.length > 0) changes.push({ kind: 'delete-sessions', secretSha256: ended.map((s) => s.secretSha256) });
    await this.ctx.persist(changes);
    for (const r of rows) this.users.set(r.row.name, r.row);
    this.sessions.forget(ended);
    for (const r of rows) this.ctx.events.principalChanged(r.row.name, r.passwordChanged ? 'password' : 'access');
    return rows.map((r) => ({ user: userView(r.row), created: r.created }));
  }

  async delete(name: string): Promise<void> {
    if (!this.users.has(name)) throw new HubError('not_found', `no user "${name}"`);
    const after = new Map(this.users);
    after.delete(name);
    this.checkAdmins(after);
    await this.ctx.persist([{ kind: 'delete-user', name }]);
    this.users.delete(name);
    this.sessions.forgetUser(name);
    this.ctx.events.principalChanged(name, 'deleted');
  }

  /**
   * A hub with users must keep an admin, or no one could ever manage it again; and removing the
   * last one must not quietly open the hub either.
   */
  private checkAdmins(after: Map<string, UserRow>): void {
    if (after.size === 0 && this.users.size === 0) return;
    for (const u of after.values()) if (u.role === 'admin') return;
    if (this.hasAdmin) throw new HubError('last_admin', 'this would leave the hub without an admin: make another user admin first');
    throw new HubError('admin_required', 'the first users of a hub must include an admin: create them together, an admin among them');
  }
}
