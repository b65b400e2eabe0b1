/**
 * The user API (PROTOCOL.md §2) on fastify. Every error, including unknown routes and
 * fastify's own validation errors, answers with the contract's error body.
 */
import { Readable } from 'node:stream';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { LatestView } from '../latest-view.ts';
import type { SensorRegistry } from '../sensor-registry.ts';
import { ApiError, ApiErrorCode } from './api-error.ts';
import { answerClientError, answerExpectation, answerFrameworkError } from './client-errors.ts';
import { registerErrorAnswers } from './error-answers.ts';
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

/**
 * by route URL: the routes that read query parameters, each refusing those it does not take;
 * health takes any, since probes and load balancers add their own. Every other route takes none.
 */
const ROUTES_WITH_PARAMETERS = new Set(['/api/v1/health', '/api/v1/latest', '/api/v1/history.csv', '/api/v1/activity']);
/**
 * by route URL: the routes that take a CSV body. The upload route's CSV parser is registered in
 * the scope all routes share, so any route would otherwise get a CSV body as an unread stream.
 */
const ROUTES_WITH_CSV_BODY = new Set(['/api/v1/readings']);

export function buildApi(deps: ApiDeps): FastifyInstance {
  /** Hub-wide numbers: on an open hub anyone, else a valid login whose rooms are every room. */
  function mayReadHubWide(authorization: string | undefined): boolean {
    if (!deps.access.loginRequired) return true;
    const who = deps.access.authenticate(authorization);
    return !('status' in who) && scopeOf(who).all;
  }

  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: false,
    // Requests refused before any route: answered with the contract's error body too.
    clientErrorHandler: answerClientError,
    frameworkErrors: answerFrameworkError,
    // Only how it listens changes: routes, hooks and the WebSocket upgrade are the same over TLS.
    ...(deps.tls ? { https: { cert: deps.tls.cert, key: deps.tls.key } } : {}),
  });

  registerErrorAnswers(app);
  app.server.on('checkExpectation', answerExpectation);

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
    // After the rate limit's hook, so refused requests count too. A typo such as
    // `/metrics?room=x` must not look like an answer narrowed as asked.
    routes.addHook('preHandler', async (request) => {
      const route = request.routeOptions.url;
      if (route === undefined) return;
      if (!ROUTES_WITH_PARAMETERS.has(route)) rejectUnknownParameters(request.query as Record<string, unknown>, []);
      if (request.body instanceof Readable && !ROUTES_WITH_CSV_BODY.has(route)) {
        throw new ApiError(415, ApiErrorCode.unsupportedMediaType, `${route} takes JSON: send it with Content-Type: application/json`);
      }
    });

    routes.get('/api/v1/health', async (request, reply) => {
      const status = deps.status();
      const auth = {
        users: deps.access.loginRequired ? 'required' : 'open',
        sensors: deps.access.sensorTokenRequired ? 'required' : 'open',
      };
      const health = deps.health();
      // A hub whose store cannot commit is not ok: probes and load balancers must see it (503, with the reason).
      const shown = status === 'ok' && health.store_error !== undefined ? 'store_failing' : status;
      // Health is open to probes; the counts and the store's error (paths) are for those who may see every room.
      if (!mayReadHubWide(request.headers.authorization)) {
        return reply.status(shown === 'ok' ? 200 : 503).send({ status: shown, auth, version: health.version });
      }
      return reply.status(shown === 'ok' ? 200 : 503).send({ status: shown, auth, ...health });
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
