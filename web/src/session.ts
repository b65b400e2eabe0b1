/**
 * Who is using the page: `GET /api/v1/whoami` through the session cookie. On an open hub (no
 * users) whoami answers for anyone and there is no login wall; on a hub with users a 401 means
 * "show the login form". The role decides which actions the page offers (docs/ADMIN.md "Users,
 * roles and rooms"); the rooms decide which rooms it may ask about at all.
 */
import { signal } from '@preact/signals';
import type { Role, WhoamiBody } from '../../protocol/api.ts';
import { ApiError, getJson, postJson, request, setCsrfCookieName, setUnauthorizedHandler } from './api.ts';

export interface Session {
  /** false on an open hub: nobody logs in or out */
  loginRequired: boolean;
  user: string | null;
  role: Role;
  /** the user's rooms; `*` is every room */
  rooms: readonly string[];
}

export type SessionState = { kind: 'loading' } | { kind: 'login'; reason: string | null } | { kind: 'in'; session: Session };

export const sessionState = signal<SessionState>({ kind: 'loading' });

/** What each role may do, lowest first (docs/ADMIN.md): a role may what the ones before it may. */
const RANK: ReadonlyMap<Role, number> = new Map([
  ['viewer', 0],
  ['operator', 1],
  ['admin', 2],
]);

export function mayActAs(session: Session, needed: Role): boolean {
  return (RANK.get(session.role) ?? -1) >= (RANK.get(needed) ?? 99);
}

export function seesEveryRoom(session: Session): boolean {
  return session.rooms.includes('*');
}

/** Whether the page may ask about `room` at all: it never requests a room that is not the user's. */
export function roomAllowed(session: Session, room: string): boolean {
  return seesEveryRoom(session) || session.rooms.includes(room);
}

/** The room filter for a request about "everything I may see": none for `*`, else the user's rooms. */
export function roomsFilter(session: Session): readonly string[] | undefined {
  return seesEveryRoom(session) ? undefined : session.rooms;
}

type WhoamiWithCookies = WhoamiBody & { csrf_cookie?: unknown };

function fromWhoami(w: WhoamiWithCookies): Session {
  if (typeof w.csrf_cookie === 'string') setCsrfCookieName(w.csrf_cookie);
  return { loginRequired: w.auth === 'required', user: w.user, role: w.role, rooms: w.rooms };
}

export async function loadSession(): Promise<void> {
  try {
    sessionState.value = { kind: 'in', session: fromWhoami(await getJson<WhoamiWithCookies>('/api/v1/whoami')) };
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) sessionState.value = { kind: 'login', reason: null };
    else throw err;
  }
}

/** Logs in with the browser session (a cookie, never a token in the page); rejects with the ApiError. */
export async function logIn(user: string, password: string): Promise<void> {
  await postJson('/api/v1/login', { user, password, cookie: true });
  await loadSession();
}

export async function logOut(): Promise<void> {
  try {
    await request('/api/v1/logout', { method: 'POST' });
  } finally {
    sessionState.value = { kind: 'login', reason: 'You logged out.' };
  }
}

setUnauthorizedHandler((err) => {
  // Also on a hub that was open: its first user ends the open access.
  if (sessionState.value.kind !== 'in') return;
  sessionState.value = { kind: 'login', reason: `Your session ended: ${err.message}. Log in again.` };
});
