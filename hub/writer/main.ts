/**
 * `npm run writer -- --cluster nats://a,nats://b --history postgres://... [--batch N] [--http PORT] [--name NAME]`
 *
 * A writer process of cluster mode: moves the readings the hubs committed to JetStream into
 * PostgreSQL (writer.ts). Run one or more; they share the work. SIGTERM or SIGINT finishes the
 * batch under way (committed and acked) and stops; kill -9 at any moment loses nothing and
 * doubles nothing (the batch is redelivered, and its rows already stored are counted as
 * duplicates). With --http, GET /metrics answers the counts in Prometheus text, on 127.0.0.1.
 */
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { NatsLink, parseServers } from '../cluster/nats-link.ts';
import { PgHistory } from '../pg/pg-history.ts';
import { Writer, type WriterStats } from './writer.ts';

const USAGE =
  'usage: npm run writer -- --cluster nats://HOST:PORT[,nats://...] --history postgres://USER@HOST:PORT/DB [--batch N] [--http PORT] [--name NAME]';
const DEFAULT_BATCH = 64;

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

function options() {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        cluster: { type: 'string' },
        history: { type: 'string' },
        batch: { type: 'string' },
        http: { type: 'string' },
        name: { type: 'string' },
        'log-level': { type: 'string' },
      },
      strict: true,
    }).values;
  } catch (err) {
    fail((err as Error).message);
  }
  if (!parsed.cluster) fail('--cluster is required: the NATS servers the hubs commit to');
  if (!parsed.history) fail('--history is required: the PostgreSQL database the readings go to');
  const batch = parsed.batch === undefined ? DEFAULT_BATCH : Number(parsed.batch);
  if (!Number.isInteger(batch) || batch < 1 || batch > 10_000)
    fail(`--batch must be a whole number of bundles from 1 to 10000, not "${parsed.batch}"`);
  const port = parsed.http === undefined ? null : Number(parsed.http);
  if (port !== null && (!Number.isInteger(port) || port < 0 || port > 65535)) fail(`--http must be a port number, not "${parsed.http}"`);
  let servers: string[];
  try {
    servers = parseServers(parsed.cluster);
  } catch (err) {
    fail((err as Error).message);
  }
  return {
    servers,
    history: parsed.history,
    batch,
    port,
    name: parsed.name ?? `writer-${hostname()}-${process.pid}`,
    level: parsed['log-level'] ?? 'info',
  };
}

export function metricsText(s: WriterStats): string {
  const lines = [
    ['roomwatch_writer_batches_total', 'counter', 'batches committed to PostgreSQL', s.batches],
    ['roomwatch_writer_bundles_total', 'counter', 'bundles committed and acked', s.bundles],
    ['roomwatch_writer_readings_total', 'counter', 'readings in the committed bundles', s.rows],
    ['roomwatch_writer_readings_inserted_total', 'counter', 'readings stored', s.inserted],
    ['roomwatch_writer_readings_duplicate_total', 'counter', 'readings whose (sensor, metric, ts) was stored already', s.duplicates],
    ['roomwatch_writer_readings_expired_total', 'counter', 'readings of days retention dropped already: not stored', s.expired],
    [
      'roomwatch_writer_late_readings_announced_total',
      'counter',
      'late readings stored as new and announced to the hubs for their live streams',
      s.lateAnnounced,
    ],
    [
      'roomwatch_writer_late_bundles_deferred_total',
      'counter',
      'bundles with late readings given back to wait for earlier bundles another writer held',
      s.lateDeferred,
    ],
    [
      'roomwatch_writer_bad_bundles_total',
      'counter',
      'messages given up unstored: not bundles, or a value PostgreSQL refuses',
      s.badBundles,
    ],
    ['roomwatch_writer_failed_batches_total', 'counter', 'batch attempts PostgreSQL refused (tried again)', s.failedBatches],
    ['roomwatch_writer_last_commit_seconds', 'gauge', 'when the last batch committed', s.lastCommitAt / 1000],
  ] as const;
  return lines.map(([name, type, help, v]) => `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n${name} ${v}\n`).join('');
}

/**
 * Test-only (the kill tests): ROOMWATCH_WRITER_FAULT=hold-before-commit:FILE or
 * hold-after-commit:FILE makes the first batch write FILE and then wait for ever at that point,
 * for the test to kill the process there.
 */
function testFault(): { beforeCommit?: () => Promise<void>; afterCommit?: () => Promise<void> } {
  const m = /^(hold-before-commit|hold-after-commit):(.+)$/.exec(process.env.ROOMWATCH_WRITER_FAULT ?? '');
  if (!m) return {};
  const hold = async () => {
    writeFileSync(m[2]!, String(process.pid));
    await new Promise(() => {});
  };
  return m[1] === 'hold-before-commit' ? { beforeCommit: hold } : { afterCommit: hold };
}

const START_RETRY_MAX_MS = 10_000;

/** `connect()` again, with a backoff up to 10 s and a warning each time, until it works or the writer is asked to stop. */
async function untilUp<T>(what: string, log: pino.Logger, stopping: () => boolean, connect: () => Promise<T>): Promise<T> {
  for (let wait = 250; ; wait = Math.min(START_RETRY_MAX_MS, wait * 2)) {
    try {
      return await connect();
    } catch (err) {
      if (stopping()) throw err;
      log.warn({ err: (err as Error).message, retryInMs: wait }, `${what} is not ready; trying again`);
      await new Promise((r) => setTimeout(r, wait));
      if (stopping()) throw err;
    }
  }
}

async function main(): Promise<void> {
  const o = options();
  const log = pino({ level: o.level, base: { writer: o.name } });
  // A writer is a service: PostgreSQL or NATS still starting (or electing a leader) is waited out, not a reason to quit.
  let stopping = false;
  const stopEarly = () => (stopping = true);
  process.once('SIGTERM', stopEarly);
  process.once('SIGINT', stopEarly);
  const history = await untilUp(
    'PostgreSQL',
    log,
    () => stopping,
    () => PgHistory.connect(o.history),
  );
  const link = await untilUp(
    'NATS JetStream',
    log,
    () => stopping,
    async () => {
      const l = await NatsLink.connect({ servers: o.servers, name: o.name, log });
      try {
        await l.ensureStream();
        return l;
      } catch (err) {
        await l.stop().catch(() => {});
        throw err;
      }
    },
  );
  process.removeListener('SIGTERM', stopEarly);
  process.removeListener('SIGINT', stopEarly);
  if (stopping) {
    await link.stop();
    await history.close();
    return;
  }
  const writer = new Writer({ link, pool: history.pool, log, name: o.name, batch: o.batch, ...testFault() });
  let server: http.Server | null = null;
  if (o.port !== null) {
    server = http.createServer((req, res) => {
      if (req.url !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics is here\n');
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(metricsText(writer.stats));
    });
    await new Promise<void>((r) => server!.listen(o.port!, '127.0.0.1', r));
    const addr = server.address();
    log.info({ port: typeof addr === 'object' && addr ? addr.port : o.port }, 'metrics on http://127.0.0.1:PORT/metrics');
  }
  const stop = () => {
    log.info('stopping after the batch under way');
    writer.stop();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  log.info({ servers: o.servers, batch: o.batch }, 'writer started');
  await writer.run();
  server?.close();
  await link.stop();
  await history.close();
  log.info({ ...writer.stats }, 'writer stopped');
}

main().catch((err: Error) => {
  process.stderr.write(`writer: ${err.message}\n`);
  process.exit(1);
});
