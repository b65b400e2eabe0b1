/**
 * What access control keeps: users, sensor tokens, login sessions and the activity log, as the
 * rows the store persists. Secrets appear only as hashes: a password as its scrypt hash, a
 * token or a session as the SHA-256 of its secret.
 */
import type { ActivityAction } from '../../protocol/api.ts';

export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(v: unknown): v is Role {
  return typeof v === 'string' && (ROLES as readonly string[]).includes(v);
}

/** `*` in a room list: every room, present and future. */
export const ANY_ROOM = '*';

export interface UserRow {
  name: string;
  /** scrypt$N$r$p$salt$hash (passwords.ts) */
  passwordHash: string;
  role: Role;
  rooms: string[];
  createdAt: number;
  updatedAt: number;
}

export interface TokenRow {
  /** public: shown in lists and the activity log */
  id: string;
  secretSha256: string;
  /** glob: `*` any run of characters, `?` one */
  sensorPattern: string;
  rooms: string[];
  note: string;
  createdAt: number;
  createdBy: string;
  revokedAt: number | null;
}

export interface SessionRow {
  secretSha256: string;
  user: string;
  createdAt: number;
  expiresAt: number;
}

export type Action = ActivityAction;

/** ok: done; denied: refused for who asked (401, 403, 429); failed: refused for what was asked, or broke */
export type Outcome = 'ok' | 'denied' | 'failed';

export interface ActivityRow {
  id: number;
  ts: number;
  /** a user name, `anonymous` on an open hub, or the sensor id a connection claimed */
  actor: string;
  address: string;
  action: Action;
  target: string;
  outcome: Outcome;
  /** the HTTP status or protocol code answered */
  code: number;
  detail: string;
}

export type AccessChange =
  | { kind: 'put-user'; user: UserRow }
  | { kind: 'delete-user'; name: string }
  | { kind: 'put-token'; token: TokenRow }
  | { kind: 'put-session'; session: SessionRow }
  | { kind: 'delete-sessions'; secretSha256: string[] };

export interface AccessState {
  users: UserRow[];
  tokens: TokenRow[];
  sessions: SessionRow[];
  maxActivityId: number;
}

export interface ActivityQuery {
  /** only events with a larger id, oldest first; null: the newest `limit` */
  after: number | null;
  limit: number;
  actions: string[] | null;
  actors: string[] | null;
}
