/**
 * `GET /api/v1/stream` (WebSocket): the client subscribes with filters and a replay count;
 * the hub answers `subscribed`, the replay (oldest first), then live readings. A new
 * subscribe replaces the previous one; a bad one gets an error message and the old
 * subscription stays.
 */
import websocket from '@fastify/websocket';
import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import { Subscriber, type LiveStream } from '../live-stream.ts';
import type { ReadingStore } from '../store/reading-store.ts';
import { ApiError } from './api-error.ts';
import { parseFilters } from './filters.ts';
import { scopeFilters } from './auth.ts';

export const DEFAULT_REPLAY = 10;
export const MAX_REPLAY = 1000;

export function registerStreamRoute(app: FastifyInstance, stream: LiveStream, store: ReadingStore): void {
  void app.register(websocket, { options: { maxPayload: 64 * 1024 } });
  void app.register(async (scope) => {
    scope.get('/api/v1/stream', { websocket: true }, (ws: WebSocket, request) => {
      let current: Subscriber | null = null;
      const fail = (code: string, message: string) => ws.send(JSON.stringify({ type: 'error', code, message }));
      ws.on('message', (data) => {
        let msg: Record<string, unknown>;
        try {
          msg = JSON.parse(String(data)) as Record<string, unknown>;
        } catch {
          return fail('bad_request', 'send JSON: {"type":"subscribe", "sensor"?, "room"?, "metric"?, "replay"?}');
        }
        if (typeof msg !== 'object' || msg === null || msg.type !== 'subscribe')
          return fail('bad_request', 'the only message is {"type":"subscribe", ...}');
        let filters;
        try {
          filters = scopeFilters(request.principal, parseFilters(msg));
        } catch (err) {
          fail((err as ApiError).code ?? 'bad_filter', (err as Error).message);
          // Asking for a room one may not see ends the stream: 1008 is "policy violation".
          if ((err as ApiError).status === 403) ws.close(1008, 'forbidden_room');
          return;
        }
        const replayRaw = msg.replay ?? DEFAULT_REPLAY;
        if (typeof replayRaw !== 'number' || !Number.isInteger(replayRaw) || replayRaw < 0)
          return fail('bad_parameter', 'replay must be a whole number of readings');
        const replay = Math.min(replayRaw, MAX_REPLAY);
        if (current) stream.remove(current);
        const sub = new Subscriber(ws, filters, stream.limits, stream.stats, stream.line);
        current = sub;
        sub.holdLive();
        stream.add(sub);
        const query = {
          sensors: filters.sensor ? [...filters.sensor] : null,
          rooms: filters.room ? [...filters.room] : null,
          metrics: filters.metric ? [...filters.metric] : null,
          limit: replay,
        };
        (replay > 0 ? store.recent(query) : Promise.resolve([])).then(
          (rows) => {
            if (current !== sub) return;
            ws.send(JSON.stringify({ type: 'subscribed', replayed: rows.length }));
            sub.finishReplay(rows);
          },
          (err: Error) => fail('store_unavailable', `the replay could not be read: ${err.message}`),
        );
      });
      ws.on('close', () => {
        if (current) stream.remove(current);
        current = null;
      });
      ws.on('error', () => ws.terminate());
    });
  });
}
