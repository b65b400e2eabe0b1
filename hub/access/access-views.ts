/**
 * What the API shows of a user or a sensor token: no secret and no hash, only what an admin
 * needs to tell them apart.
 */
import type { Role, TokenRow, UserRow } from './access-records.ts';

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

export function userView(u: UserRow): UserView {
  return { user: u.name, role: u.role, rooms: u.rooms, created_at: u.createdAt, updated_at: u.updatedAt };
}

export function tokenView(t: TokenRow): TokenView {
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
