/**
 * The user API (PROTOCOL.md §2) on fastify. Every error, including unknown routes and
 * fastify's own validation errors, answers with the contract's error body.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { LatestView } from '../latest-view.ts';
import type { SensorRegistry } from '../sensor-registry.ts';
import { ApiError, ApiErrorCode } from './api-error.ts';
import { parseFilters, rejectUnknownParameters } from './filters.ts';
import type { AccessControl } from '../access/access-control.ts';
import { scopeOf } from '../access/principal.ts';
import { inScope } from '../access/room-scope.ts';
import { registerAuth, scopeFilters } from './auth.ts';
import { registerRateLimit } from './rate-limit.ts';

export type HubStatus = 'starting' | 'ok' | 'stopping';

export interface ApiDeps {
  log: Logger;
  status(): HubStatus;
  health(): Record<string, unknown>;
  latest: LatestView;
  registry: SensorRegistry;
  access: AccessControl;
  /** HTTP requests per minute per user (or per address before login); 0: no limit */
  rateLimitPerMinute: number;
  /** the feature routes (history, upload, report-now, stream, metrics) */
  routes?: ((app: FastifyInstance) => void)[];
  /** PEM certificate and key: serve HTTPS only (and so the stream as wss:) */
  tls?: { cert: Buffer; key: Buffer };
}

export function buildApi(deps: ApiDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: false,
    // Only how it listens changes: routes, hooks and the WebSocket upgrade are the same over TLS.
    ...(deps.tls ? { https: { cert: deps.tls.cert, key: deps.tls.key } } : {}),
  });

  app.setErrorHandler((err: Error, request, reply) => {
    if (err instanceof ApiError) return reply.status(err.status).send(err.body());
    const statusCode = (err as Error & { statusCode?: unknown }).statusCode;
    const status = typeof statusCode === 'number' ? statusCode : 500;
    if (status >= 500) request.log.error({ err }, 'request failed');
    const code =
      status === 413
        ? 'too_large'
        : status === 415
          ? 'unsupported_media_type'
          : status < 500
            ? ApiErrorCode.badRequest
            : ApiErrorCode.internal;
    return reply.status(status).send({ error: { code, message: status < 500 ? err.message : 'the hub failed internally; see its log' } });
  });

  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({
      error: {
        code: ApiErrorCode.notFound,
        message: `no route ${request.method} ${request.url.split('?')[0]}; the API lives under /api/v1/`,
      },
    }),
  );

  // While starting or stopping, only health answers (with 503); the rest waits for the store.
  app.addHook('onRequest', async (request) => {
    const status = deps.status();
    if (status === 'ok' || request.url.startsWith('/api/v1/health')) return;
    throw new ApiError(
      503,
      status === 'starting' ? ApiErrorCode.starting : ApiErrorCode.stopping,
      `the hub is ${status}; try again shortly`,
    );
  });

  // A WebSocket upgrade answered with an error (401, 429, 503) is on a socket the HTTP server no
  // longer manages: left open, it would hold the hub's stop. Close it once the answer is out.
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.headers.upgrade !== undefined && reply.statusCode >= 400) reply.header('connection', 'close');
    return payload;
  });
  app.addHook('onResponse', async (request, reply) => {
    if (request.headers.upgrade !== undefined && reply.statusCode >= 400) request.raw.socket?.end();
  });

  registerAuth(app, deps.access);
  registerRateLimit(app, deps.rateLimitPerMinute);

  // Routes go in a plugin registered after the rate limit's, so the limit's hooks reach every one.
  void app.register(async (routes) => {
    routes.get('/api/v1/health', async (_request, reply) => {
      const status = deps.status();
      const auth = {
        users: deps.access.loginRequired ? 'required' : 'open',
        sensors: deps.access.sensorTokenRequired ? 'required' : 'open',
      };
      return reply.status(status === 'ok' ? 200 : 503).send({ status, auth, ...deps.health() });
    });

    routes.get('/api/v1/sensors', async (request) => {
      const scope = scopeOf(request.principal);
      const records = [...deps.registry.records.values()]
        .filter((r) => inScope(scope, r.room))
        .sort((a, b) => (a.sensor < b.sensor ? -1 : a.sensor > b.sensor ? 1 : 0));
      return { sensors: records.map((r) => deps.registry.view(r)) };
    });

    routes.get('/api/v1/latest', async (request, reply) => {
      rejectUnknownParameters(request.query as Record<string, unknown>, ['sensor', 'room', 'metric']);
      const filters = scopeFilters(request.principal, parseFilters(request.query as Record<string, unknown>));
      // Dashboards poll the whole set: it is rendered once per change, not once per request.
      if (filters.sensor === null && filters.room === null && filters.metric === null) {
        return reply.type('application/json; charset=utf-8').send(deps.latest.allAsJson());
      }
      return { readings: deps.latest.readings(filters) };
    });

    for (const register of deps.routes ?? []) register(routes);
  });
  return app;
}
