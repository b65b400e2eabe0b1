/**
 * Who is asking: a logged-in user, or anyone at all on a hub that has no users yet (open,
 * which the hub allows only on a loopback address, or with the loud flag).
 */
import type { Role } from './access-records.ts';
import { EVERY_ROOM, type RoomScope } from './room-scope.ts';

export type Principal =
  | { readonly kind: 'anonymous' }
  | {
      readonly kind: 'user';
      readonly name: string;
      readonly role: Role;
      readonly scope: RoomScope;
      /** the session's hash: logout ends exactly this one */
      readonly sessionSha256: string;
      readonly expiresAt: number;
    };

export const ANONYMOUS: Principal = { kind: 'anonymous' };

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

export function mayActAs(p: Principal, role: Role): boolean {
  return p.kind === 'anonymous' || RANK[p.role] >= RANK[role];
}

export function scopeOf(p: Principal): RoomScope {
  return p.kind === 'anonymous' ? EVERY_ROOM : p.scope;
}

export function actorName(p: Principal): string {
  return p.kind === 'anonymous' ? 'anonymous' : p.name;
}
