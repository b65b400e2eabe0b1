/**
 * Users (docs/ADMIN.md "Users, roles and rooms"): what `GET /api/v1/users` shows, and what
 * `PUT /api/v1/users/NAME` and `POST /api/v1/users/import` take. Passwords go in, never out.
 * The values' rules (the name pattern, rooms that exist as names, the password's length) are
 * the hub's, checked where users are changed; here, the shapes and the code a wrong one gets.
 */
import { Type } from '@sinclair/typebox';
import { closed, Names, TimeMs } from './common.ts';

export const ROLES = ['admin', 'operator', 'viewer'] as const;

export const Role = Type.Union(
  ROLES.map((r) => Type.Literal(r)),
  { errorMessage: `must be ${ROLES.slice(0, -1).join(', ')} or ${ROLES.at(-1)}`, errorCode: 'bad_user' },
);

const Rooms = Type.Array(Type.String(), {
  errorMessage: 'must be an array of room names (^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$) or "*" for every room',
  errorCode: 'bad_rooms',
});
const Password = Type.String({ errorMessage: 'must be a string', errorCode: 'bad_password' });

/** A user as the hub shows it. */
export const UserView = Type.Object({
  user: Type.String(),
  role: Role,
  rooms: Names,
  created_at: TimeMs,
  updated_at: TimeMs,
});

export const UsersAnswer = Type.Object({ users: Type.Array(UserView) });

/** `/api/v1/users/:name` */
export const UserParams = Type.Object({ name: Type.String() });

/** `PUT /api/v1/users/NAME`: what to set; a new user needs all three, a change only what changes. */
export const UserPutRequest = closed(
  {
    role: Type.Optional(Role),
    rooms: Type.Optional(Rooms),
    password: Type.Optional(Password),
  },
  { errorCode: 'bad_user' },
);

/** One user of an import: as a PUT, with the name in it. */
export const ImportedUser = closed(
  {
    user: Type.String({ errorMessage: 'must be a user name' }),
    role: Type.Optional(Role),
    rooms: Type.Optional(Rooms),
    password: Type.Optional(Password),
  },
  { errorCode: 'bad_user' },
);

export const MAX_IMPORTED_USERS = 10_000;

/** `POST /api/v1/users/import`: all or none. */
export const UsersImportRequest = closed(
  {
    users: Type.Array(ImportedUser, {
      minItems: 1,
      maxItems: MAX_IMPORTED_USERS,
      errorMessage: 'must be an array of 1 to 10,000 users: [{"user","password","role","rooms"}, ...]',
    }),
  },
  { errorCode: 'bad_request' },
);

export const UsersImportAnswer = Type.Object({ created: Names, updated: Names });

/** `DELETE /api/v1/users/NAME` */
export const UserDeletedAnswer = Type.Object({ deleted: Type.String() });
