/**
 * `GET /api/v1/stream` (WebSocket): the client subscribes with filters and a replay count;
 * the hub answers `subscribed`, the replay (oldest first), then live readings. A new
 * subscribe replaces the previous one; a bad one gets an error message and the old
 * subscription stays. Each socket is a StreamConnection; this file upgrades them, bounds the
 * size of what a client may send, and tells them when a user's rights change.
 */
import websocket from '@fastify/websocket';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type { AccessControl } from '../access/access-control.ts';
import type { LiveStream } from '../stream/live-stream.ts';
import { ReplayGate } from '../stream/replay-gate.ts';
import type { HubStore } from '../store/hub-store.ts';
import { StreamConnection, type StreamConnectionLimits } from './stream-connection.ts';
import { StreamSeats } from './stream-seats.ts';

export { DEFAULT_REPLAY, MAX_REPLAY } from './stream-connection.ts';

export interface StreamRouteOptions extends StreamConnectionLimits {
  /** replays reading the store at once, hub-wide; more wait their turn */
  maxConcurrentReplays: number;
  /** the largest message a client may send (a subscribe with long filter lists fits); beyond, close 1009 */
  maxMessageBytes: number;
  /** streams open at once, in all and per user (per address on an open hub); beyond, 429 before the upgrade */
  maxStreams: number;
  maxStreamsPerUser: number;
}

export const defaultStreamRouteOptions: StreamRouteOptions = {
  maxMessages: 20, // a subscribe needs one; a dashboard changing its filters, a few
  windowMs: 10_000,
  heartbeatMs: 30_000,
  maxConcurrentReplays: 2, // the store's threads: more at once would only queue inside DuckDB, beside the commits
  maxMessageBytes: 64 * 1024,
  // Each stream holds a socket, a subscription and its queue: a client must not open thousands
  // (hub options streamMaxConnections and streamMaxConnectionsPerUser).
  maxStreams: 5_000,
  maxStreamsPerUser: 100,
};

/** how long a stopping hub waits for stream clients to answer its close */
const STOP_CLOSE_WAIT_MS = 1_000;

export interface StreamRouteDeps {
  stream: LiveStream;
  store: HubStore;
  access: AccessControl;
  /** the hub clock */
  now(): number;
  options?: Partial<StreamRouteOptions>;
}

export function registerStreamRoute(app: FastifyInstance, deps: StreamRouteDeps): void {
  const options = { ...defaultStreamRouteOptions, ...deps.options };
  const replays = new ReplayGate(options.maxConcurrentReplays);
  const seats = new StreamSeats<StreamConnection>(deps.access, {
    perUser: options.maxStreamsPerUser,
    total: options.maxStreams,
    what: 'streams',
    hint: 'one stream can carry every filter you need',
  });

  void app.register(websocket, {
    options: { maxPayload: options.maxMessageBytes },
    // At stop: 1001 to each client. One that reads nothing cannot take a close frame either, and
    // one that does not answer it would hold the stop for ws's 30 s close timeout: both are cut.
    preClose(done) {
      const clients = this.websocketServer.clients;
      for (const client of clients) {
        if (client.bufferedAmount > 0) client.terminate();
        else client.close(1001, 'the hub is stopping');
      }
      const cut = setTimeout(() => {
        for (const client of clients) client.terminate();
      }, STOP_CLOSE_WAIT_MS);
      this.websocketServer.close(() => {
        clearTimeout(cut);
        done();
      });
    },
  });
  void app.register(async (scope) => {
    // Before the upgrade, so a refusal is the contract's HTTP error.
    const preHandler = async (request: FastifyRequest) => seats.check(request);
    scope.get('/api/v1/stream', { websocket: true, preHandler }, (ws: WebSocket, request) => {
      seats.seat(
        request,
        (release) =>
          new StreamConnection(
            ws,
            request.principal,
            { stream: deps.stream, store: deps.store, access: deps.access, replays, limits: options, now: () => deps.now() },
            release,
          ),
      );
    });
  });
}
