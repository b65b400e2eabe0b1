/** The activity log (docs/ADMIN.md "Activity log"): `GET /api/v1/activity`. */
import { Type } from '@sinclair/typebox';
import { closed, TimeMs } from './common.ts';

/** The kinds of event the hub records. */
export const ACTIVITY_ACTIONS = [
  'sensor.connect',
  'login',
  'logout',
  'report-now',
  'upload',
  'export',
  'user.put',
  'user.delete',
  'token.create',
  'token.revoke',
  'backup',
  'alert.put',
  'alert.delete',
] as const;
export type ActivityAction = (typeof ACTIVITY_ACTIONS)[number];

export const MAX_ACTIVITY_LIMIT = 1000;
export const DEFAULT_ACTIVITY_LIMIT = 100;

const Digits = (what: string) => Type.String({ pattern: '^\\d+$', errorMessage: `must be ${what}` });
const List = Type.Union([Type.String(), Type.Array(Type.String())], { errorMessage: 'must be a comma-separated list of names' });

/** The values are text in a query: their ranges are checked where they are read. */
export const ActivityQuery = closed({
  /** an event id: only later events, oldest first; absent: the newest `limit` */
  after: Type.Optional(Digits(`a whole number from 0 to ${Number.MAX_SAFE_INTEGER}`)),
  limit: Type.Optional(Digits(`a whole number from 1 to ${MAX_ACTIVITY_LIMIT}`)),
  action: Type.Optional(List),
  actor: Type.Optional(List),
});

/** `GET /api/v1/activity/stream` (WebSocket): the poll's filters, without `limit`. */
export const ActivityStreamQuery = closed({
  /** an event id: first the stored events after it (at most MAX_ACTIVITY_BACKFILL), then live ones */
  after: Type.Optional(Digits(`a whole number from 0 to ${Number.MAX_SAFE_INTEGER}`)),
  action: Type.Optional(List),
  actor: Type.Optional(List),
});

/** how far back a live follower's `after` may reach; further back, page with `GET /api/v1/activity` */
export const MAX_ACTIVITY_BACKFILL = 1000;

export const ActivityEvent = Type.Object({
  id: Type.Integer({ minimum: 1 }),
  ts: TimeMs,
  /** a user name, `anonymous` on an open hub, or the sensor id a connection claimed */
  actor: Type.String(),
  address: Type.String(),
  action: Type.String(),
  target: Type.String(),
  outcome: Type.Union([Type.Literal('ok'), Type.Literal('denied'), Type.Literal('failed')]),
  /** the HTTP status or protocol code answered */
  code: Type.Integer(),
  detail: Type.String(),
});

/** Oldest first; `last_id` is the `after` of the next page (or of a follow). */
export const ActivityAnswer = Type.Object({
  events: Type.Array(ActivityEvent),
  last_id: Type.Integer({ minimum: 0 }),
});

/** `GET /api/v1/activity/stream`: one message per batch of events, oldest first. */
export const ActivityStreamMessage = Type.Object({
  type: Type.Literal('activity'),
  events: Type.Array(ActivityEvent),
});
