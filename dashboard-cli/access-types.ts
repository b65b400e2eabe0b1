/**
 * The answers of the access-control routes (docs/ADMIN.md "Access control") that the CLI reads,
 * checked against the API's schemas (protocol/schemas/) as in api-types.ts: login, whoami,
 * users, sensor tokens and the activity log. Times are ms since the epoch.
 */
import type { Role } from '../protocol/api.ts';
import { ActivityAnswer } from '../protocol/schemas/activity.ts';
import { LoginAnswer, WhoamiAnswer } from '../protocol/schemas/login.ts';
import { CreatedTokenAnswer, RevokedTokenAnswer, TokensAnswer } from '../protocol/schemas/tokens.ts';
import { UsersAnswer, UsersImportAnswer, UserView } from '../protocol/schemas/users.ts';
import { answerCheck, type ShapeCheck } from './api-types.ts';

export { ROLES } from '../protocol/api.ts';
export type {
  ActivityBody,
  ActivityEvent,
  CreatedTokenBody,
  ImportBody,
  LoginBody,
  RevokedTokenBody,
  Role,
  TokenInfo,
  TokensBody,
  UserInfo,
  UsersBody,
} from '../protocol/api.ts';

/** `GET /api/v1/whoami`, as the CLI uses it: who the token belongs to, or that the hub is open. */
export type WhoamiBody = { open: true } | { open: false; user: string; role: Role; rooms: string[]; expires_at: number | null };

export const checkLoginBody = answerCheck(LoginAnswer);
export const checkUsersBody = answerCheck(UsersAnswer);
/** `PUT /api/v1/users/NAME`: the user as it now is. */
export const checkUserBody = answerCheck(UserView);
export const checkImportBody = answerCheck(UsersImportAnswer);
export const checkTokensBody = answerCheck(TokensAnswer);
export const checkCreatedTokenBody = answerCheck(CreatedTokenAnswer);
export const checkRevokedTokenBody = answerCheck(RevokedTokenAnswer);
export const checkActivityBody = answerCheck(ActivityAnswer);

const whoamiAnswer = answerCheck(WhoamiAnswer);
export const checkWhoamiBody: ShapeCheck<WhoamiBody> = (body) => {
  const checked = whoamiAnswer(body);
  if (!checked.ok) return checked;
  const who = checked.value;
  if (who.auth === 'open') return { ok: true, value: { open: true } };
  return { ok: true, value: { open: false, user: who.user, role: who.role, rooms: who.rooms, expires_at: who.expires_at } };
};

/** For answers the CLI does not read (logout, a deleted user): any JSON, or none. */
export const checkAnything: ShapeCheck<unknown> = (body) => ({ ok: true, value: body });
