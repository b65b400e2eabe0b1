/**
 * What to do after the hub refused on access grounds (docs/ADMIN.md "What a refused request
 * gets"): the line printed under the hub's own message. A 401 says how to log in, and knows
 * whether the token came from ROOMWATCH_TOKEN (logging in again would not help then) or from a
 * stored login; a 429 says how long to wait. A 403 says who can change it and how: the hub's
 * message says which room or role is missing, and only an admin can give it, every room with `*`.
 * A 409 about admins says the command that fixes it: the hub's messages name no CLI command.
 */
import type { HubRefused } from './errors.ts';
import { formatClock, printable } from './format.ts';
import type { Session } from './session.ts';

/** The commands an admin runs to give a user more rights (docs/ADMIN.md "Users, roles and rooms"). */
export const ROOMS_ADVICE =
  "rooms are given by an admin: npm run cli -- users set NAME --room ROOM[,ROOM...], or --room '*' for every room; `npm run cli -- whoami` shows yours";
export const ROLE_ADVICE =
  'roles are given by an admin: npm run cli -- users set NAME --role viewer|operator|admin; `npm run cli -- whoami` shows yours';

/** The hub's 409s say what is wrong with the users; how to fix it with this CLI is said here. */
export const ADMIN_REQUIRED_ADVICE = 'put an admin among them and add them together: npm run cli -- users import FILE';
export const LAST_ADMIN_ADVICE = 'make another user admin first: npm run cli -- users set NAME --role admin';

export function refusalAdvice(error: HubRefused, session: Pick<Session, 'source' | 'expiredLogin' | 'loginCommand'>): string | undefined {
  const login = `\`${session.loginCommand}\``;
  const fromEnv = session.source === 'env';
  if (error.status === 401) {
    switch (error.code) {
      case 'unauthorized': {
        const expired = session.expiredLogin;
        if (expired) return `your login as ${printable(expired.user)} expired at ${formatClock(expired.expires_at)}: run ${login} again`;
        return `this hub requires a login: run ${login}`;
      }
      case 'token_expired':
        return fromEnv
          ? 'the token in ROOMWATCH_TOKEN has expired: set a current one, or unset it and log in'
          : `your login has expired: run ${login} again`;
      case 'bad_token':
        return fromEnv
          ? "the hub does not know the token in ROOMWATCH_TOKEN (ended by a logout, or the hub's users changed): set a current one, or unset it and log in"
          : `the hub does not know your token (logged out or the hub's users changed): run ${login}`;
    }
    return undefined;
  }
  if (error.status === 403) {
    if (error.code === 'forbidden_room') return ROOMS_ADVICE;
    if (error.code === 'forbidden') return ROLE_ADVICE;
    return undefined;
  }
  if (error.code === 'admin_required') return ADMIN_REQUIRED_ADVICE;
  if (error.code === 'last_admin') return LAST_ADMIN_ADVICE;
  if (error.status === 429) {
    const s = error.retryAfterS;
    const wait = s === undefined ? 'wait a while' : `wait ${s} ${s === 1 ? 'second' : 'seconds'}`;
    return error.code === 'too_many_attempts' ? `too many failed logins: ${wait} before trying again` : `${wait} and try again`;
  }
  return undefined;
}
