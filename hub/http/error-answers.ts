/**
 * The contract's error body `{"error":{"code","message"}}` for everything fastify would
 * otherwise answer in its own words: a route's error, a path no route has (404), a path that
 * has routes but not for this method (405, with `Allow`), a body fastify cannot take (415, 413,
 * 400 for JSON that does not parse). Each message says what to send instead.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { StoreError } from '../store/reading-store.ts';
import { HubError } from '../hub-error.ts';
import { codeOfStatus, errorBody, sendHubError } from './api-error.ts';

/** The methods each route pattern answers, so a request for a known path with another method gets 405, not 404. */
class RouteMethods {
  /** by route pattern (`/api/v1/users/:name`) */
  private readonly routes = new Map<string, { path: RegExp; methods: Set<string> }>();

  add(method: string | string[], url: string): void {
    let route = this.routes.get(url);
    if (!route) {
      route = { path: patternOf(url), methods: new Set() };
      this.routes.set(url, route);
    }
    for (const m of Array.isArray(method) ? method : [method]) route.methods.add(m.toUpperCase());
  }

  /** Every method some route answers for `path`, sorted; none: no route has that path. */
  allowed(path: string): string[] {
    const out = new Set<string>();
    for (const route of this.routes.values()) if (route.path.test(path)) for (const m of route.methods) out.add(m);
    return [...out].sort();
  }
}

/** A fastify route pattern as a RegExp of request paths: `:name` is one segment, `*` the rest. */
function patternOf(url: string): RegExp {
  const segments = url.split('/').map((s) => (s.startsWith(':') ? '[^/]+' : s === '*' ? '.*' : s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  return new RegExp(`^${segments.join('/')}$`);
}

const EMPTY_JSON = 'Content-Type is application/json, but the body is empty: send a JSON object, or no Content-Type';

/** Messages for fastify's own errors, by its error code: what went wrong, and what to send. */
function fastifyMessage(err: FastifyError, request: FastifyRequest): string | null {
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return (
        `Content-Type "${String(request.headers['content-type'] ?? '').slice(0, 60)}" is not taken here: ` +
        'send JSON with Content-Type: application/json (CSV with text/csv only to POST /api/v1/readings)'
      );
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return `the body is over this route's limit of ${request.routeOptions.bodyLimit} bytes; send less`;
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return 'the body is not as long as its Content-Length says; send it whole';
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return EMPTY_JSON;
    default:
      return null;
  }
}

/**
 * JSON bodies: parsed by JSON.parse (so every key is an own property, never a prototype), with
 * a message that says where the JSON broke. A `__proto__` key, or `constructor.prototype`, is
 * refused outright: no route takes one, and code that copied it with `obj[key] = value` would
 * change a prototype.
 */
function parseJsonBody(body: string, done: (err: Error | null, value?: unknown) => void): void {
  if (body.length === 0) return done(new HubError('bad_request', EMPTY_JSON));
  // Widened by hand: the reviver below sets it, which the checker's narrowing does not see.
  let forbidden = null as string | null;
  let value: unknown;
  try {
    value = JSON.parse(body, function (key, v: unknown) {
      if (key === '__proto__') forbidden ??= '__proto__';
      else if (key === 'constructor' && typeof v === 'object' && v !== null && Object.hasOwn(v, 'prototype'))
        forbidden ??= 'constructor.prototype';
      return v;
    });
  } catch (err) {
    return done(new HubError('bad_request', `the body is not valid JSON (${(err as Error).message.slice(0, 120)}); send a JSON object`));
  }
  if (forbidden !== null) return done(new HubError('bad_request', `the body has a key "${forbidden}", which no route takes; leave it out`));
  done(null, value);
}

export function registerErrorAnswers(app: FastifyInstance): void {
  // Only JSON, and CSV where the upload route adds it: a text/plain body is a 415, not a string a route did not expect.
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => parseJsonBody(body as string, done));

  const routes = new RouteMethods();
  app.addHook('onRoute', (route) => routes.add(route.method, route.url ?? route.path));

  app.setErrorHandler(answerError);

  app.setNotFoundHandler((request, reply) => notFound(routes, request, reply));
}

/**
 * The one error handler: a HubError (the core's refusals and the routes') with its registry
 * status; any other error with the status fastify gave it, or 500 logged, and the code of that
 * status. Exported for tests that build a bare fastify around one route.
 */
export function answerError(err: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (err instanceof HubError) return sendHubError(reply, err);
  if (err instanceof StoreError && err.retryable) {
    // The store failed (memory, disk), not the request: try again later, never a 4xx about the input.
    request.log.error({ err }, 'the store failed during a request');
    return reply
      .status(503)
      .send(errorBody('store_unavailable', 'the store could not serve this request (out of memory or a disk error); try again later'));
  }
  const status = typeof err.statusCode === 'number' ? err.statusCode : 500;
  if (status >= 500) request.log.error({ err }, 'request failed');
  const message = status >= 500 ? 'the hub failed internally; see its log' : (fastifyMessage(err, request) ?? err.message);
  return reply.status(status).send(errorBody(codeOfStatus(status), message));
}

function notFound(routes: RouteMethods, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const path = request.url.split('?', 1)[0]!;
  const allowed = routes.allowed(path);
  if (allowed.length > 0) {
    return reply
      .status(405)
      .header('allow', allowed.join(', '))
      .send(errorBody('method_not_allowed', `${path.slice(0, 100)} answers ${allowed.join(', ')}, not ${request.method}`));
  }
  return reply.status(404).send(errorBody('not_found', `no route ${request.method} ${path.slice(0, 100)}; the API lives under /api/v1/`));
}
