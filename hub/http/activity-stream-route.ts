/**
 * `GET /api/v1/activity/stream` (WebSocket; docs/API.md "Activity, live"): admins follow the
 * activity log as it is written, instead of polling `GET /api/v1/activity`. Each socket is an
 * ActivityFollower; this file checks the upgrade (admins only, the poll's filters, how many
 * streams) and tells the followers when a user's rights change. Registered after the reading
 * stream's route, whose registration brings @fastify/websocket.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type { AccessControl } from '../access/access-control.ts';
import type { ActivityLog } from '../access/activity-log.ts';
import { ActivityStreamQuery } from '../../protocol/schemas/activity.ts';
import { activityFilters } from './access-routes.ts';
import { ActivityFollower, type ActivityFollowerLimits } from './activity-follower.ts';
import { requireRole } from './auth.ts';
import { StreamSeats } from './stream-seats.ts';

export interface ActivityStreamOptions extends ActivityFollowerLimits {
  /** activity streams open at once, in all and per user (per address on an open hub); beyond, 429 */
  maxStreams: number;
  maxStreamsPerUser: number;
}

export const defaultActivityStreamOptions: ActivityStreamOptions = {
  maxStreams: 100, // admins' pages: a few each
  maxStreamsPerUser: 10,
  maxBufferedBytes: 4 * 1024 * 1024, // a fleet connecting is thousands of events a second; a page that cannot keep up reconnects
  maxHeldEvents: 10_000,
  heartbeatMs: 30_000,
};

export interface ActivityStreamDeps {
  activity: ActivityLog;
  access: AccessControl;
  /** the hub clock */
  now(): number;
  options?: Partial<ActivityStreamOptions>;
}

type Query = { after?: string; action?: string | string[]; actor?: string | string[] };

export function registerActivityStreamRoute(app: FastifyInstance, deps: ActivityStreamDeps): void {
  const options = { ...defaultActivityStreamOptions, ...deps.options };
  const seats = new StreamSeats<ActivityFollower>(deps.access, {
    perUser: options.maxStreamsPerUser,
    total: options.maxStreams,
    what: 'activity streams',
  });
  void app.register(async (scope) => {
    // Before the upgrade, so a refusal is the contract's HTTP error.
    const preHandler = async (request: FastifyRequest) => {
      requireRole(request, 'admin', 'follow the activity log');
      activityFilters(request.query as Query); // a bad filter: 400 now, not a closed socket later
      seats.check(request);
    };
    scope.get(
      '/api/v1/activity/stream',
      { websocket: true, preHandler, schema: { querystring: ActivityStreamQuery } },
      (ws: WebSocket, request) => {
        const filters = activityFilters(request.query as Query);
        const followerDeps = { activity: deps.activity, access: deps.access, limits: options, now: () => deps.now() };
        seats.seat(request, (release) => new ActivityFollower(ws, request.principal, filters, followerDeps, release));
      },
    );
  });
}
