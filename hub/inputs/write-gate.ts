/**
 * How many writes (line protocol, remote write) the hub handles at once: each holds its body
 * (up to the limit) and its readings until they are committed, so their number is bounded.
 * One over the limit is refused before its body is read, with 503 and Retry-After (every
 * InfluxDB client and Prometheus retry a 503), and its connection is closed.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HubError } from '../hub-error.ts';

export interface WriteGate {
  /** writes running now */
  readonly running: number;
}

/** Adds the gate to every route of `scope` whose config says `write: true`. */
export function registerWriteGate(scope: FastifyInstance, maxRunning: number, retryAfterS: number): WriteGate {
  /** requests counted, so each is let go exactly once (response sent, or aborted) */
  const counted = new WeakSet<FastifyRequest>();
  const gate = { running: 0 };
  const release = (request: FastifyRequest) => {
    if (counted.delete(request)) gate.running--;
  };
  scope.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.config.write !== true) return;
    if (gate.running >= maxRunning) {
      reply.header('connection', 'close');
      throw new HubError(
        'store_unavailable',
        `the hub is taking ${gate.running} writes at once, the most it takes; send again in ${retryAfterS} s`,
        {
          retryAfterS,
        },
      );
    }
    gate.running++;
    counted.add(request);
  });
  scope.addHook('onResponse', async (request) => release(request));
  scope.addHook('onRequestAbort', async (request) => release(request));
  return gate;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** a write of readings: counted by the write gate (write-gate.ts) */
    write?: boolean;
  }
}
