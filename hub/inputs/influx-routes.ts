/**
 * InfluxDB's write API on the hub's HTTP port (docs/API.md "InfluxDB line protocol"), so that
 * Telegraf, Home Assistant, the `influx` CLI and InfluxDB client libraries write readings:
 *
 *   POST /write?db=&precision=&u=&p=             InfluxDB 1.x
 *   POST /api/v2/write?org=&bucket=&precision=   InfluxDB 2.x (and 1.8's compatibility API)
 *   GET|HEAD /ping                               204 with X-Influxdb-Version
 *   GET|POST /query?q=CREATE DATABASE ...        answered (a no-op), so clients that create
 *                                                their database first go on to write
 *
 * Answers and errors are InfluxDB's shapes, which these clients read: 204 once the readings
 * are committed; 1.x errors `{"error":"..."}`, 2.x `{"code","message"}`, both also in the
 * `X-Influxdb-Error` header. `db`, `org` and `bucket` are taken and not used: the hub has one
 * store.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { API_ERRORS } from '../../protocol/api-errors.ts';
import type { AccessControl } from '../access/access-control.ts';
import type { BatchIngest } from '../ingest/batch-ingest.ts';
import { HubError } from '../hub-error.ts';
import type { Precision } from './influx-line.ts';
import { writeLineProtocol } from './influx-write.ts';
import { decodedBody } from './write-body.ts';
import { registerWriteGate } from './write-gate.ts';
import { credentialOf, writeRights } from './write-rights.ts';

/** The InfluxDB version the hub answers as: 1.8 has both write APIs, as the hub does. */
export const INFLUX_VERSION = '1.8.10';

export interface InfluxRouteDeps {
  access: AccessControl;
  ingest: BatchIngest;
  /** the largest body, compressed and decompressed */
  maxWriteBytes: number;
  /** writes handled at once (write-gate.ts) */
  maxConcurrentWrites: number;
  retryAfterS: number;
}

const V2_WRITE = '/api/v2/write';

/** 1.x precisions (n, u and µ are InfluxDB's short forms), then 2.x's. */
const PRECISION_V1: ReadonlyMap<string, Precision> = new Map([
  ['n', 'ns'],
  ['ns', 'ns'],
  ['u', 'us'],
  ['µ', 'us'],
  ['us', 'us'],
  ['ms', 'ms'],
  ['s', 's'],
  ['m', 'm'],
  ['h', 'h'],
]);
const PRECISION_V2: ReadonlyMap<string, Precision> = new Map([
  ['ns', 'ns'],
  ['us', 'us'],
  ['ms', 'ms'],
  ['s', 's'],
]);

/** Query parameters: the ones the hub reads, and any other InfluxDB client adds (`consistency`, `rp`), as text. */
const text = Type.Optional(Type.String());
const WriteV1Query = Type.Object(
  { db: text, rp: text, precision: text, u: text, p: text, consistency: text },
  { additionalProperties: Type.String() },
);
const WriteV2Query = Type.Object({ org: text, orgID: text, bucket: text, precision: text }, { additionalProperties: Type.String() });
const QueryQuery = Type.Object({ q: text, db: text, u: text, p: text }, { additionalProperties: Type.String() });
const PingQuery = Type.Object({ verbose: text, wait_for_leader: text }, { additionalProperties: Type.String() });

type Query = Record<string, string | undefined>;

export function registerInfluxRoutes(app: FastifyInstance, deps: InfluxRouteDeps): void {
  // A scope of its own: its body parser and error answers reach these routes only.
  void app.register(async (scope) => {
    // Any Content-Type (clients send text/plain, none, or x-www-form-urlencoded to /query), as bytes.
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: deps.maxWriteBytes }, (_request, body, done) => done(null, body));
    scope.setErrorHandler(answerInfluxError);
    // InfluxDB's Go client (the influx CLI) sends an empty Content-Type, which fastify would refuse (415).
    scope.addHook('onRequest', async (request) => {
      if (request.headers['content-type'] === '') delete request.headers['content-type'];
    });
    registerWriteGate(scope, deps.maxConcurrentWrites, deps.retryAfterS);

    // Writes check their own credential (write-rights.ts): a login is not asked for.
    const config = { public: true, write: true };
    const write = async (request: FastifyRequest, reply: FastifyReply, precision: Precision, p: string | undefined) => {
      const rights = writeRights(deps.access, credentialOf(request.headers.authorization, p));
      const raw = request.body;
      const body = raw === undefined || raw === null ? Buffer.alloc(0) : raw;
      if (!Buffer.isBuffer(body)) throw new HubError('unsupported_media_type', 'send line protocol as text/plain');
      const decoded = await decodedBody(body, request.headers['content-encoding'], deps.maxWriteBytes);
      const outcome = await writeLineProtocol(decoded.toString('utf8'), precision, rights, deps.ingest);
      if (outcome.error === null) return reply.status(204).send();
      return sendInfluxError(request, reply, 400, outcome.error);
    };

    scope.post('/write', { config, bodyLimit: deps.maxWriteBytes, schema: { querystring: WriteV1Query } }, async (request, reply) => {
      const q = request.query as Query;
      return write(request, reply, precisionOf(q.precision, PRECISION_V1), q.p);
    });
    scope.post(V2_WRITE, { config, bodyLimit: deps.maxWriteBytes, schema: { querystring: WriteV2Query } }, async (request, reply) => {
      const q = request.query as Query;
      return write(request, reply, precisionOf(q.precision, PRECISION_V2), undefined);
    });

    scope.get('/ping', { config: { public: true }, schema: { querystring: PingQuery } }, async (request, reply) => {
      reply.header('x-influxdb-version', INFLUX_VERSION).header('x-influxdb-build', 'roomwatch');
      if ((request.query as Query).verbose === 'true') return reply.status(200).send({ version: INFLUX_VERSION });
      return reply.status(204).send();
    });

    const query = async (request: FastifyRequest, reply: FastifyReply) => {
      let q = (request.query as Query).q;
      if (q === undefined && Buffer.isBuffer(request.body)) q = new URLSearchParams(request.body.toString('utf8')).get('q') ?? undefined;
      reply.header('x-influxdb-version', INFLUX_VERSION);
      if (q === undefined) return sendInfluxError(request, reply, 400, 'missing required parameter "q"');
      return { results: answerStatements(q) };
    };
    scope.get('/query', { config: { public: true }, schema: { querystring: QueryQuery } }, query);
    scope.post('/query', { config: { public: true }, schema: { querystring: QueryQuery } }, query);
  });
}

function precisionOf(given: string | undefined, known: ReadonlyMap<string, Precision>): Precision {
  if (given === undefined || given === '') return 'ns';
  const p = known.get(given);
  if (p === undefined)
    throw new HubError('bad_parameter', `precision must be one of ${[...known.keys()].join(', ')}, not "${given.slice(0, 20)}"`);
  return p;
}

/**
 * The hub keeps no InfluxDB databases: `CREATE DATABASE` (which Telegraf and `influx -import`
 * send before writing) succeeds and does nothing, `SHOW DATABASES` lists none; any other
 * statement gets InfluxDB's per-statement error saying where the readings are read instead.
 */
export function answerStatements(q: string): Record<string, unknown>[] {
  const statements = q
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  return statements.slice(0, 100).map((s, i) => {
    if (/^create\s+database\s/i.test(s)) return { statement_id: i };
    if (/^show\s+databases$/i.test(s)) return { statement_id: i, series: [{ name: 'databases', columns: ['name'], values: [] }] };
    return {
      statement_id: i,
      error: 'the hub takes writes only; read readings with GET /api/v1/latest, GET /api/v1/history.csv or the roomwatch CLI',
    };
  });
}

/** Influx clients read InfluxDB's error shapes: 1.x `{"error"}`, 2.x `{"code","message"}`, and the header. */
function sendInfluxError(request: FastifyRequest, reply: FastifyReply, status: number, message: string): FastifyReply {
  // A header holds no newline: InfluxDB puts a space there too.
  void reply.header('x-influxdb-error', message.replace(/[\r\n]+/g, ' ').slice(0, 2000));
  if (request.routeOptions.url === V2_WRITE) return reply.status(status).send({ code: V2_CODES.get(status) ?? 'invalid', message });
  return reply.status(status).send({ error: message });
}

const V2_CODES: ReadonlyMap<number, string> = new Map([
  [400, 'invalid'],
  [401, 'unauthorized'],
  [403, 'forbidden'],
  [404, 'not found'],
  [413, 'request too large'],
  [415, 'unsupported media type'],
  [429, 'too many requests'],
  [500, 'internal error'],
  [503, 'unavailable'],
]);

/** Every error on these routes, the hub's (HubError) and fastify's (413, ...), in InfluxDB's shape. */
function answerInfluxError(err: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (err instanceof HubError) {
    if (err.extra.retryAfterS !== undefined) void reply.header('retry-after', String(err.extra.retryAfterS));
    const status = err.extra.status ?? API_ERRORS[err.code].status;
    if (status >= 500) request.log.error({ err }, 'write failed');
    if (status === 401) void reply.header('www-authenticate', 'Token realm="roomwatch"');
    return sendInfluxError(request, reply, status, err.message);
  }
  const status = typeof err.statusCode === 'number' ? err.statusCode : 500;
  if (status >= 500) {
    request.log.error({ err }, 'write failed');
    return sendInfluxError(request, reply, 500, 'the hub failed internally; see its log');
  }
  const message =
    err.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
      ? `the body is over this route's limit of ${request.routeOptions.bodyLimit} bytes; send smaller batches`
      : err.message;
  return sendInfluxError(request, reply, status, message);
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** served without a login (hub/http/auth.ts): these routes check their own credential */
    public?: boolean;
  }
}
