/**
 * The JSON shapes of the access-control routes (docs/ADMIN.md "Access control") that the CLI
 * reads, and their checks: login, whoami, users, sensor tokens and the activity log. As in
 * api-types.ts, a hub that answers otherwise gets a message naming the first field that is
 * wrong. Times are ms since the epoch; fields the CLI only prints may also be null.
 */
import { isObject } from './api-types.ts';
import type { ShapeCheck } from './api-types.ts';

export const ROLES = ['admin', 'operator', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/** `POST /api/v1/login`. */
export interface LoginBody {
  token: string;
  expires_at: number;
  user: string;
  role: string;
  rooms: string[];
}

/** `GET /api/v1/whoami`, as checked: who the token belongs to, or that the hub is open (`{"auth":"open"}`). */
export type WhoamiBody = { open: true } | { open: false; user: string; role: string; rooms: string[]; expires_at: number | null };

/** A user as `GET /api/v1/users` and `PUT /api/v1/users/NAME` show it; never a password or hash. */
export interface UserInfo {
  user: string;
  role: string;
  rooms: string[];
  created_at?: number | null;
  updated_at?: number | null;
}

export interface UsersBody {
  users: UserInfo[];
}

/** `POST /api/v1/users/import` (all or none): the names created and updated. */
export interface ImportBody {
  created: string[];
  updated: string[];
}

/** A sensor token as `GET /api/v1/tokens` lists it: never the token itself. */
export interface TokenInfo {
  id: string;
  sensor: string;
  rooms: string[];
  note?: string | null;
  created_at: number;
  created_by?: string | null;
  revoked_at?: number | null;
}

export interface TokensBody {
  tokens: TokenInfo[];
}

/** `POST /api/v1/tokens` (201): the only answer that holds the token. */
export interface CreatedTokenBody extends TokenInfo {
  token: string;
}

/** `DELETE /api/v1/tokens/ID`. */
export interface RevokedTokenBody {
  id: string;
  revoked_at: number;
}

/** One entry of the activity log. */
export interface ActivityEvent {
  id: number | string;
  ts: number;
  actor: string;
  address?: string | null;
  action: string;
  target?: string | null;
  /** `ok`, `denied` or `failed` */
  outcome: string;
  /** the status or protocol code given */
  code?: number | string | null;
  detail?: string | null;
}

/** `GET /api/v1/activity`: oldest first. */
export interface ActivityBody {
  events: ActivityEvent[];
  last_id?: number | string | null;
}

type Problem = string | null;

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((item) => typeof item === 'string');
}

function optional(v: unknown, type: 'string' | 'number'): boolean {
  return v === undefined || v === null || typeof v === type;
}

function problemOf(
  fields: Record<string, unknown>,
  where: string,
  rules: Record<string, (v: unknown) => boolean>,
  what: Record<string, string>,
): Problem {
  for (const [field, ok] of Object.entries(rules)) {
    if (!ok(fields[field])) return `${where}${field} is not ${what[field] ?? 'as expected'}`;
  }
  return null;
}

const str = (v: unknown): boolean => typeof v === 'string';
const num = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v);
const id = (v: unknown): boolean => typeof v === 'string' || (typeof v === 'number' && Number.isSafeInteger(v));

const userRules = {
  user: str,
  role: str,
  rooms: isStringArray,
  created_at: (v: unknown) => optional(v, 'number'),
  updated_at: (v: unknown) => optional(v, 'number'),
};
const userWhat = {
  user: 'a string',
  role: 'a string',
  rooms: 'an array of room names',
  created_at: 'a time in ms',
  updated_at: 'a time in ms',
};

function userProblem(u: unknown, where: string): Problem {
  if (!isObject(u)) return `${where || 'the answer'} is not an object`;
  return problemOf(u, where, userRules, userWhat);
}

const tokenRules = {
  id: str,
  sensor: str,
  rooms: isStringArray,
  note: (v: unknown) => optional(v, 'string'),
  created_at: num,
  created_by: (v: unknown) => optional(v, 'string'),
  revoked_at: (v: unknown) => optional(v, 'number'),
};
const tokenWhat = {
  id: 'a string',
  sensor: 'a pattern',
  rooms: 'an array of room names',
  note: 'a string',
  created_at: 'a time in ms',
  created_by: 'a user name',
  revoked_at: 'a time in ms',
};

function tokenProblem(t: unknown, where: string): Problem {
  if (!isObject(t)) return `${where || 'the answer'} is not an object`;
  return problemOf(t, where, tokenRules, tokenWhat);
}

function checked<T>(body: unknown, problem: Problem): { ok: true; value: T } | { ok: false; problem: string } {
  return problem === null ? { ok: true, value: body as T } : { ok: false, problem };
}

export const checkLoginBody: ShapeCheck<LoginBody> = (body) => {
  if (!isObject(body)) return { ok: false, problem: 'not an object' };
  const rules = {
    token: (v: unknown) => typeof v === 'string' && /^[\x21-\x7e]+$/.test(v),
    expires_at: num,
    user: str,
    role: str,
    rooms: isStringArray,
  };
  const what = { token: 'a token', expires_at: 'a time in ms', user: 'a string', role: 'a string', rooms: 'an array of room names' };
  return checked(body, problemOf(body, '', rules, what));
};

export const checkWhoamiBody: ShapeCheck<WhoamiBody> = (body) => {
  if (!isObject(body)) return { ok: false, problem: 'not an object' };
  if (body.auth === 'open') return { ok: true, value: { open: true } };
  const problem = userProblem(body, '') ?? (optional(body.expires_at, 'number') ? null : 'expires_at is not a time in ms');
  if (problem) return { ok: false, problem };
  const user = body as unknown as UserInfo & { expires_at?: number | null };
  return { ok: true, value: { open: false, user: user.user, role: user.role, rooms: user.rooms, expires_at: user.expires_at ?? null } };
};

export const checkUsersBody: ShapeCheck<UsersBody> = (body) => {
  if (!isObject(body) || !Array.isArray(body.users)) return { ok: false, problem: 'no "users" array' };
  for (let i = 0; i < body.users.length; i++) {
    const problem = userProblem(body.users[i], `users[${i}].`);
    if (problem) return { ok: false, problem };
  }
  return { ok: true, value: body as unknown as UsersBody };
};

/** `PUT /api/v1/users/NAME`: the user object (also accepted wrapped as `{"user":{...}}`). */
export const checkUserBody: ShapeCheck<UserInfo> = (body) => {
  const user = isObject(body) && isObject(body.user) ? body.user : body;
  return checked(user, userProblem(user, ''));
};

export const checkImportBody: ShapeCheck<ImportBody> = (body) => {
  if (!isObject(body)) return { ok: false, problem: 'not an object' };
  return checked(
    body,
    problemOf(body, '', { created: isStringArray, updated: isStringArray }, { created: 'a list of names', updated: 'a list of names' }),
  );
};

export const checkTokensBody: ShapeCheck<TokensBody> = (body) => {
  if (!isObject(body) || !Array.isArray(body.tokens)) return { ok: false, problem: 'no "tokens" array' };
  for (let i = 0; i < body.tokens.length; i++) {
    const problem = tokenProblem(body.tokens[i], `tokens[${i}].`);
    if (problem) return { ok: false, problem };
  }
  return { ok: true, value: body as unknown as TokensBody };
};

export const checkCreatedTokenBody: ShapeCheck<CreatedTokenBody> = (body) => {
  const problem = tokenProblem(body, '');
  if (problem) return { ok: false, problem };
  const token = (body as Record<string, unknown>).token;
  return checked(body, typeof token === 'string' && token !== '' ? null : 'token is missing');
};

export const checkRevokedTokenBody: ShapeCheck<RevokedTokenBody> = (body) => {
  if (!isObject(body)) return { ok: false, problem: 'not an object' };
  return checked(body, problemOf(body, '', { id: str, revoked_at: num }, { id: 'a string', revoked_at: 'a time in ms' }));
};

const eventRules = {
  id,
  ts: num,
  actor: str,
  address: (v: unknown) => optional(v, 'string'),
  action: str,
  target: (v: unknown) => optional(v, 'string'),
  outcome: str,
  code: (v: unknown) => optional(v, 'number') || typeof v === 'string',
  detail: (v: unknown) => optional(v, 'string'),
};
const eventWhat = {
  id: 'an event id',
  ts: 'a time in ms',
  actor: 'a string',
  address: 'a string',
  action: 'a string',
  target: 'a string',
  outcome: 'a string',
  code: 'a code',
  detail: 'a string',
};

export const checkActivityBody: ShapeCheck<ActivityBody> = (body) => {
  if (!isObject(body) || !Array.isArray(body.events)) return { ok: false, problem: 'no "events" array' };
  for (let i = 0; i < body.events.length; i++) {
    const e: unknown = body.events[i];
    if (!isObject(e)) return { ok: false, problem: `events[${i}] is not an object` };
    const problem = problemOf(e, `events[${i}].`, eventRules, eventWhat);
    if (problem) return { ok: false, problem };
  }
  if (!(body.last_id === undefined || body.last_id === null || id(body.last_id)))
    return { ok: false, problem: 'last_id is not an event id' };
  return { ok: true, value: body as unknown as ActivityBody };
};

/** For answers the CLI does not read (logout, a deleted user): any JSON, or none. */
export const checkAnything: ShapeCheck<unknown> = (body) => ({ ok: true, value: body });
