/**
 * The user API (PROTOCOL.md §2) on fastify. Every error, including unknown routes and
 * fastify's own validation errors, answers with the contract's error body.
 */
import cookie from '@fastify/cookie';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { LatestView } from '../sensors/latest-view.ts';
import type { SensorRegistry } from '../sensors/sensor-registry.ts';
import { HubError } from '../hub-error.ts';
import type { HealthBody } from '../../protocol/api.ts';
import { HealthQuery } from '../../protocol/schemas/health.ts';
import { LatestQuery } from '../../protocol/schemas/readings.ts';
import { answerClientError, answerExpectation, answerFrameworkError } from './client-errors.ts';
import { registerErrorAnswers } from './error-answers.ts';
import { parseFilters } from './filters.ts';
import type { AccessControl } from '../access/access-control.ts';
import { scopeOf } from '../access/principal.ts';
import { inScope } from '../access/room-scope.ts';
import { identify, registerAuth, scopeFilters } from './auth.ts';
import { registerRateLimit } from './rate-limit.ts';
import { registerRequestValidation } from './request-validation.ts';
import { sendRendered } from './rendered-body.ts';

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
  /** Hub-wide numbers: on an open hub anyone, else a valid login whose rooms are every room. */
  function mayReadHubWide(request: FastifyRequest): boolean {
    if (!deps.access.loginRequired) return true;
    const { who } = identify(deps.access, request);
    return !('status' in who) && scopeOf(who).all;
  }

  // Typed as fastify's logger, so the app (and the routes' types) are FastifyInstance's default.
  const loggerInstance: FastifyBaseLogger = deps.log;
  const app = Fastify({
    loggerInstance,
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
    throw new HubError(status, `the hub is ${status}; try again shortly`);
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

  // A browser's session cookie (browser-session.ts): parsed by the login check itself, which runs
  // before this plugin's own hook would; the plugin still writes Set-Cookie.
  void app.register(cookie, { hook: false });
  registerAuth(app, deps.access);
  registerRateLimit(app, deps.rateLimitPerMinute);

  // Routes go in a plugin registered after the rate limit's, so the limit's hooks reach every one.
  void app.register(async (scope) => {
    // Each request is checked against its route's schemas (protocol/schemas/) after the rate
    // limit's hook, so refused requests count too. A typo such as `/metrics?room=x` must not
    // look like an answer narrowed as asked.
    registerRequestValidation(scope);
    const routes = scope.withTypeProvider<TypeBoxTypeProvider>();

    routes.get('/api/v1/health', { schema: { querystring: HealthQuery } }, async (request, reply) => {
      const status = deps.status();
      const auth: HealthBody['auth'] = {
        users: deps.access.loginRequired ? 'required' : 'open',
        sensors: deps.access.sensorTokenRequired ? 'required' : 'open',
      };
      const health = deps.health();
      // A hub whose store cannot commit is not ok: probes and load balancers must see it (503, with the reason).
      const shown = status === 'ok' && health.store_error !== undefined ? 'store_failing' : status;
      // Health is open to probes; the counts and the store's error (paths) are for those who may see every room.
      if (!mayReadHubWide(request)) {
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

    routes.get('/api/v1/latest', { schema: { querystring: LatestQuery } }, async (request, reply) => {
      const filters = scopeFilters(request.principal, parseFilters(request.query));
      // Dashboards poll everything or their rooms: rendered once per change, not once per request.
      const rendered = deps.latest.rendered(filters);
      if (rendered) return sendRendered(request, reply, rendered);
      return { readings: deps.latest.readings(filters) };
    });

    for (const register of deps.routes ?? []) register(scope);
  });
  return app;
}
