/**
 * `POST /api/v1/write`: Prometheus remote write 1.0 (docs/API.md "Prometheus remote write"),
 * so a Prometheus agent (scraping node_exporter, snmp_exporter, ...) writes readings. As the
 * spec asks: 2xx only once the samples are committed; 4xx for a request that is wrong and must
 * not be sent again (Prometheus drops it); 5xx (and 503 with Retry-After under backpressure)
 * for one to send again. Errors have the contract's body, like every /api/v1 route.
 */
import type { FastifyInstance } from 'fastify';
import type { AccessControl } from '../access/access-control.ts';
import type { BatchIngest } from '../ingest/batch-ingest.ts';
import { HubError } from '../hub-error.ts';
import { decodeRemoteWrite } from './prometheus-write.ts';
import { snappyBody } from './write-body.ts';
import { registerWriteGate } from './write-gate.ts';
import { credentialOf, writeRights } from './write-rights.ts';

export interface PrometheusRouteDeps {
  access: AccessControl;
  ingest: BatchIngest;
  maxWriteBytes: number;
  maxConcurrentWrites: number;
  retryAfterS: number;
}

/** Refused samples named in a 400; the rest are counted. */
const MAX_NAMED = 10;

export function registerPrometheusRoute(app: FastifyInstance, deps: PrometheusRouteDeps): void {
  void app.register(async (scope) => {
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: deps.maxWriteBytes }, (_request, body, done) => done(null, body));
    registerWriteGate(scope, deps.maxConcurrentWrites, deps.retryAfterS);

    // public: the login check is skipped; the write checks its own credential (write-rights.ts).
    scope.post('/api/v1/write', { config: { public: true, write: true }, bodyLimit: deps.maxWriteBytes }, async (request, reply) => {
      const rights = writeRights(deps.access, credentialOf(request.headers.authorization, undefined));
      const type = String(request.headers['content-type'] ?? '');
      // Remote write 2.0 names its message in the type; a sender falls back to 1.0 on a 415.
      if (/proto=io\.prometheus\.write\.v2/i.test(type))
        throw new HubError(
          'unsupported_media_type',
          'the hub takes remote write 1.0 (prometheus.WriteRequest); set protobuf_message: prometheus.WriteRequest',
        );
      const encoding = String(request.headers['content-encoding'] ?? 'snappy').toLowerCase();
      if (encoding !== 'snappy')
        throw new HubError(
          'unsupported_encoding',
          `remote write bodies are snappy-compressed; got Content-Encoding "${encoding.slice(0, 40)}"`,
        );
      if (!Buffer.isBuffer(request.body)) throw new HubError('bad_request', 'the body must be a snappy-compressed protobuf WriteRequest');
      const raw = await snappyBody(request.body, deps.maxWriteBytes);
      let decoded;
      try {
        decoded = decodeRemoteWrite(raw);
      } catch (err) {
        throw new HubError('bad_request', `the body is not a protobuf WriteRequest (${(err as Error).message.slice(0, 100)})`);
      }
      const counters = deps.ingest.counters;
      const { skipped } = decoded;
      if (skipped.nan > 0) counters.refused('prometheus', 'nan', skipped.nan);
      if (skipped.stale > 0) counters.refused('prometheus', 'stale', skipped.stale);
      if (skipped.histogram > 0) counters.refused('prometheus', 'histogram', skipped.histogram);
      if (skipped.noSensor > 0) counters.refused('prometheus', 'no_sensor', skipped.noSensor);
      const outcome =
        decoded.readings.length > 0 ? await deps.ingest.submit(decoded.readings, rights, 'prometheus') : { stored: 0, refused: [] };
      if (outcome.refused.length === 0 && skipped.noSensor === 0) return reply.status(204).send();
      // Some samples break the rules: the others are stored; a 400 tells Prometheus not to send them again.
      const named = outcome.refused.slice(0, MAX_NAMED).map((r) => `${decoded.seriesOf[r.index]}: ${r.reason}`);
      if (skipped.noSensor > 0) named.unshift(`${skipped.noSensor} samples of series with neither an instance nor a sensor label`);
      const more = outcome.refused.length > MAX_NAMED ? `; and ${outcome.refused.length - MAX_NAMED} more` : '';
      throw new HubError(
        'bad_request',
        `${outcome.refused.length + skipped.noSensor} samples were not stored, ${outcome.stored} were: ${named.join('; ')}${more}`,
      );
    });
  });
}
