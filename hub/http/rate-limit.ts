/**
 * Request rate limits on the user API (@fastify/rate-limit): per user once logged in, per client
 * address before (so one address behind which many users sit is not one bucket for all of them).
 * Runs after the login check, which names the user. Health is exempt: probes must always answer.
 */
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import { HubError } from '../hub-error.ts';

export function registerRateLimit(app: FastifyInstance, perMinute: number): void {
  if (perMinute <= 0) return;
  void app.register(rateLimit, {
    // Before the schemas check the request (request-validation.ts), so a refused one counts too.
    hook: 'preValidation',
    max: perMinute,
    timeWindow: 60_000,
    keyGenerator: (request) => (request.principal.kind === 'user' ? `user:${request.principal.name}` : `address:${request.ip}`),
    allowList: (request) => request.url.split('?', 1)[0] === '/api/v1/health',
    errorResponseBuilder: (_request, context) =>
      new HubError('rate_limited', `more than ${context.max} requests in a minute; try again in ${Math.ceil(context.ttl / 1000)} s`),
  });
}
