/**
 * Sensor tokens (docs/ADMIN.md "Sensor tokens"): what `GET /api/v1/tokens` lists (never the
 * token itself), what `POST /api/v1/tokens` takes and answers (the only answer with the token).
 */
import { Type } from '@sinclair/typebox';
import { closed, Names, TimeMs } from './common.ts';

export const TokenView = Type.Object({
  id: Type.String(),
  /** the sensor ids it allows: `*` any run of characters, `?` one */
  sensor: Type.String(),
  rooms: Names,
  note: Type.String(),
  created_at: TimeMs,
  created_by: Type.String(),
  revoked_at: Type.Union([TimeMs, Type.Null()], { errorMessage: 'must be a time in ms since the epoch, or null' }),
});

export const TokensAnswer = Type.Object({ tokens: Type.Array(TokenView) });

/** `POST /api/v1/tokens` */
export const TokenCreateRequest = closed(
  {
    sensor: Type.String({ errorMessage: 'must be a sensor id pattern, such as "rack*"' }),
    rooms: Type.Array(Type.String(), {
      errorMessage: 'must be an array of room names (^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$) or "*" for every room',
      errorCode: 'bad_rooms',
    }),
    note: Type.Optional(Type.String({ maxLength: 200, errorMessage: 'must be a string of at most 200 characters' })),
  },
  { errorCode: 'bad_token_request' },
);

/** 201: the token, shown this once. */
export const CreatedTokenAnswer = Type.Composite([TokenView, Type.Object({ token: Type.String({ minLength: 1 }) })]);

/** `/api/v1/tokens/:id` */
export const TokenParams = Type.Object({ id: Type.String() });

/** `DELETE /api/v1/tokens/ID` */
export const RevokedTokenAnswer = Type.Object({ id: Type.String(), revoked_at: TimeMs });
