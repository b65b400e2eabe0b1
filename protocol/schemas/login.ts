/** Logging in and out, and who a token is (docs/ADMIN.md "Logging in"). */
import { Type } from '@sinclair/typebox';
import { closed, Names, TimeMs } from './common.ts';
import { Role } from './users.ts';

/** `POST /api/v1/login`. A body that is not this is a 400 `bad_request`. */
export const LoginRequest = closed(
  {
    user: Type.String({ maxLength: 64 }),
    password: Type.String({ maxLength: 1024 }),
    /** a browser's login: the session in cookies, no token in the answer (docs/API.md "Browser sessions") */
    cookie: Type.Optional(Type.Boolean()),
  },
  { errorCode: 'bad_request' },
);

export const LoginAnswer = Type.Object({
  /** sent as `Authorization: Bearer <token>`: printable ASCII, no spaces */
  token: Type.String({ pattern: '^[\\x21-\\x7e]+$', errorMessage: 'must be a token (printable ASCII without spaces)' }),
  expires_at: TimeMs,
  user: Type.String(),
  role: Role,
  rooms: Names,
});

/** `POST /api/v1/login` with `"cookie": true`: the secret is in an HttpOnly cookie, never in the body. */
export const CookieLoginAnswer = Type.Object({
  expires_at: TimeMs,
  user: Type.String(),
  role: Role,
  rooms: Names,
  /** the name of the cookie whose value the page sends as X-CSRF-Token */
  csrf_cookie: Type.String(),
});

/** `POST /api/v1/logout`: the session it was sent with has ended. */
export const LogoutAnswer = Type.Object({ ok: Type.Literal(true) });

/** `GET /api/v1/whoami` on a hub without users: anyone may do anything. */
export const WhoamiOpen = Type.Object({
  auth: Type.Literal('open'),
  user: Type.Null(),
  role: Type.Literal('admin'),
  rooms: Names,
});

/** `GET /api/v1/whoami` with a login: whose it is, and until when. */
export const WhoamiUser = Type.Object({
  auth: Type.Literal('required'),
  user: Type.String(),
  role: Role,
  rooms: Names,
  expires_at: TimeMs,
  /** the name of this hub's CSRF cookie, for a page that logged in with a cookie (docs/API.md "Browser sessions") */
  csrf_cookie: Type.Optional(Type.String()),
});

export const WhoamiAnswer = Type.Union([WhoamiOpen, WhoamiUser]);
