/**
 * The user API's shapes (PROTOCOL.md §2, docs/API.md, docs/ADMIN.md) as TypeScript types, each
 * the static type of its schema in protocol/schemas/: the hub that writes them, the CLI that
 * reads them and the tests import them from here. The schemas check the values at run time:
 * requests on the hub (hub/http/request-validation.ts), answers in the CLI (protocol/schema-check.ts).
 */
import type { Static } from '@sinclair/typebox';
import type * as activity from './schemas/activity.ts';
import type * as errors from './schemas/errors.ts';
import type * as health from './schemas/health.ts';
import type * as history from './schemas/history.ts';
import type * as login from './schemas/login.ts';
import type * as readings from './schemas/readings.ts';
import type * as reportNow from './schemas/report-now.ts';
import type * as stream from './schemas/stream.ts';
import type * as tokens from './schemas/tokens.ts';
import type * as upload from './schemas/upload.ts';
import type * as users from './schemas/users.ts';

export { ACTIVITY_ACTIONS, type ActivityAction } from './schemas/activity.ts';
export { ROLES } from './schemas/users.ts';

// ---- readings ----
/** A reading as the API shows it: `latest`, report-now answers and stream messages. */
export type Reading = Static<typeof readings.Reading>;
export type LatestQuery = Static<typeof readings.LatestQuery>;
export type LatestBody = Static<typeof readings.LatestAnswer>;
/** One entry of `GET /api/v1/sensors`. */
export type SensorInfo = Static<typeof readings.SensorInfo>;
export type SensorsBody = Static<typeof readings.SensorsAnswer>;
export type HistoryParams = Static<typeof history.HistoryQuery>;
/** `POST /api/v1/readings` on success. */
export type UploadBody = Static<typeof upload.UploadAnswer>;
export type ReportNowRequest = Static<typeof reportNow.ReportNowRequest>;
/** `POST /api/v1/report-now`. */
export type ReportNowBody = Static<typeof reportNow.ReportNowAnswer>;
export type HealthBody = Static<typeof health.HealthAnswer>;

// ---- stream ----
export type SubscribeMessage = Static<typeof stream.SubscribeMessage>;
export type SubscribedMessage = Static<typeof stream.SubscribedMessage>;
export type ReadingMessage = Static<typeof stream.ReadingMessage>;
export type DroppedMessage = Static<typeof stream.DroppedMessage>;
export type StreamErrorMessage = Static<typeof stream.StreamErrorMessage>;

// ---- errors ----
/** One bad row of a refused upload; line 1 is the header. */
export type BadRow = Static<typeof errors.BadRow>;
/** Every error answer: `{"error":{"code","message"}}`; an upload refusal adds `rows`. */
export type ErrorBody = Static<typeof errors.ErrorBody>;

// ---- access ----
export type Role = Static<typeof users.Role>;
export type LoginRequest = Static<typeof login.LoginRequest>;
export type LoginBody = Static<typeof login.LoginAnswer>;
export type CookieLoginBody = Static<typeof login.CookieLoginAnswer>;
export type WhoamiBody = Static<typeof login.WhoamiAnswer>;
/** A user as the hub shows it; never a password or hash. */
export type UserInfo = Static<typeof users.UserView>;
export type UsersBody = Static<typeof users.UsersAnswer>;
export type UserPutRequest = Static<typeof users.UserPutRequest>;
export type UsersImportRequest = Static<typeof users.UsersImportRequest>;
export type ImportBody = Static<typeof users.UsersImportAnswer>;
/** A sensor token as `GET /api/v1/tokens` lists it: never the token itself. */
export type TokenInfo = Static<typeof tokens.TokenView>;
export type TokensBody = Static<typeof tokens.TokensAnswer>;
export type TokenCreateRequest = Static<typeof tokens.TokenCreateRequest>;
export type CreatedTokenBody = Static<typeof tokens.CreatedTokenAnswer>;
export type RevokedTokenBody = Static<typeof tokens.RevokedTokenAnswer>;
export type ActivityParams = Static<typeof activity.ActivityQuery>;
/** One entry of the activity log. */
export type ActivityEvent = Static<typeof activity.ActivityEvent>;
export type ActivityBody = Static<typeof activity.ActivityAnswer>;
