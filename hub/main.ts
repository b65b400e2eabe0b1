#!/usr/bin/env node
/**
 * The hub process.
 *
 *   npm start -- [--host H] [--tcp-port P] [--http-port Q] [--data DIR] [--log-level L] [--log-file PATH|none]
 *               [--memory-limit 512MB] [--store-threads N] [--max-line-bytes N]
 *               [--tls-cert FILE --tls-key FILE] [--session-ttl 12h] [--rate-limit N]
 *               [--max-sensor-connections N] [--max-connections-per-address N]
 *               [--max-upload-bytes N] [--upload-body-timeout 5m] [--upload-idle-timeout 30s] [--max-concurrent-uploads N]
 *               [--max-concurrent-exports N] [--max-exports-per-user N] [--stream-max-queued-bytes N]
 *               [--mqtt URL [--mqtt-user U] [--mqtt-password-file F] [--mqtt-ca F] [--mqtt-map F]
 *                [--mqtt-client-id ID] [--mqtt-connections N]]
 *               [--retention 30d|forever] [--rollups 1m:365d,1h:forever|none]
 *               [--restore BACKUP_FILE]
 *               [--cluster nats://A[,nats://B...] --history postgres://USER@HOST:PORT/DB [--hub-id NAME]]
 *
 * Each flag also as an environment variable: ROOMWATCH_HOST, ROOMWATCH_TCP_PORT,
 * ROOMWATCH_HTTP_PORT, ROOMWATCH_DATA, ROOMWATCH_LOG_LEVEL, ROOMWATCH_LOG_FILE, ROOMWATCH_MEMORY_LIMIT,
 * ROOMWATCH_STORE_THREADS, ROOMWATCH_MAX_LINE_BYTES, ROOMWATCH_TLS_CERT, ROOMWATCH_TLS_KEY,
 * ROOMWATCH_SESSION_TTL, ROOMWATCH_RATE_LIMIT, ROOMWATCH_MAX_SENSOR_CONNECTIONS, ROOMWATCH_MAX_CONNECTIONS_PER_ADDRESS,
 * ROOMWATCH_MAX_UPLOAD_BYTES, ROOMWATCH_UPLOAD_BODY_TIMEOUT, ROOMWATCH_UPLOAD_IDLE_TIMEOUT, ROOMWATCH_MAX_CONCURRENT_UPLOADS,
 * ROOMWATCH_MAX_CONCURRENT_EXPORTS, ROOMWATCH_MAX_EXPORTS_PER_USER, ROOMWATCH_STREAM_MAX_QUEUED_BYTES,
 * ROOMWATCH_MQTT, ROOMWATCH_MQTT_USER, ROOMWATCH_MQTT_PASSWORD_FILE, ROOMWATCH_MQTT_CA, ROOMWATCH_MQTT_MAP,
 * ROOMWATCH_MQTT_CLIENT_ID, ROOMWATCH_MQTT_CONNECTIONS, ROOMWATCH_RETENTION, ROOMWATCH_ROLLUPS,
 * ROOMWATCH_CLUSTER, ROOMWATCH_HISTORY, ROOMWATCH_HUB_ID.
 * Port 0 picks a free port; the ports (and whether TLS is on) are logged in the "hub listening" line. SIGINT/SIGTERM stop it cleanly (exit 0).
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseDuration } from '../protocol/duration.ts';
import { DataFolderError } from './setup/data-folder.ts';
import { buildHub, type Hub } from './hub.ts';
import { resolveHubOptions, type HubOptions, type LogLevel } from './setup/options.ts';
import { restoreBackup } from './store/restore.ts';
import { parseRetention, parseRollups, type SpecParse } from './store/rollup-tiers.ts';
import { StoreError } from './store/reading-store.ts';
import type { StoreFaults } from './store/store-faults.ts';

// What the hub creates (database, WAL, logs, spools, DuckDB's temp files, folders) is for its
// own user alone, as PostgreSQL does: set before anything is created, and for every thread.
process.umask(0o077);

const usage = `usage: npm start -- [options]

  --host H              address to listen on (ROOMWATCH_HOST, default 127.0.0.1); on an address other
                        machines can reach, the hub starts only once an admin user exists, and then
                        asks for logins and sensor tokens (docs/ADMIN.md "Access control")
  --allow-anyone-on-the-network
                        listen on a non-loopback --host with no credentials: anyone who can reach it
                        may send readings and read everything (ROOMWATCH_ALLOW_ANYONE=1)
  --tcp-port P          sensor port (ROOMWATCH_TCP_PORT, default 7777; 0 picks a free one)
  --http-port Q         user API port (ROOMWATCH_HTTP_PORT, default 8080; 0 picks a free one)
  --data DIR            data folder (ROOMWATCH_DATA, default ./data)
  --log-level L         fatal|error|warn|info|debug|trace|silent (ROOMWATCH_LOG_LEVEL, default info)
  --log-file PATH|none  JSON-lines log, rotated daily (ROOMWATCH_LOG_FILE, default DIR/logs/roomwatch.log)
  --memory-limit SIZE   the store's memory limit, e.g. 512MB (ROOMWATCH_MEMORY_LIMIT)
  --store-threads N     the store's threads (ROOMWATCH_STORE_THREADS, default 2)
  --max-line-bytes N    longest sensor line (ROOMWATCH_MAX_LINE_BYTES, default 65536)
  --max-upload-bytes N  largest CSV upload; over it 413 (ROOMWATCH_MAX_UPLOAD_BYTES, default 1 GiB)
  --upload-body-timeout D
                        an upload's body must arrive within this, else 408: 90s, 5m, 1h
                        (ROOMWATCH_UPLOAD_BODY_TIMEOUT, default 5m)
  --upload-idle-timeout D
                        longest pause within an upload's body, else 408 (ROOMWATCH_UPLOAD_IDLE_TIMEOUT, default 30s)
  --max-concurrent-uploads N
                        uploads taken at once; beyond, 429 (ROOMWATCH_MAX_CONCURRENT_UPLOADS, default 4)
  --max-concurrent-exports N
                        history exports running at once; beyond, 429 (ROOMWATCH_MAX_CONCURRENT_EXPORTS, default 4)
  --max-exports-per-user N
                        history exports one user runs at once; beyond, 429 (ROOMWATCH_MAX_EXPORTS_PER_USER, default 2)
  --stream-max-queued-bytes N
                        bytes held for all stream subscribers; over it the slowest give way
                        (ROOMWATCH_STREAM_MAX_QUEUED_BYTES, default 33554432: 32 MiB)
  --tls-cert FILE       PEM certificate (chain): serve TLS on both ports (ROOMWATCH_TLS_CERT; needs --tls-key)
  --tls-key FILE        PEM private key of that certificate (ROOMWATCH_TLS_KEY)
  --session-ttl D       how long a login lasts: 30m, 12h, 7d (ROOMWATCH_SESSION_TTL, default 12h)
  --rate-limit N        HTTP requests per minute per user, or per address before login; 0: none
                        (ROOMWATCH_RATE_LIMIT, default 6000)
  --max-sensor-connections N
                        sensor connections in all (ROOMWATCH_MAX_SENSOR_CONNECTIONS, default 20000)
  --max-connections-per-address N
                        sensor connections from one address (ROOMWATCH_MAX_CONNECTIONS_PER_ADDRESS, default 10000)
  --max-sensors N       sensors the hub keeps, from any way in; a new one beyond is refused
                        (ROOMWATCH_MAX_SENSORS, default 50000)
  --max-series N        series (sensor, room, metric, unit) the hub keeps; a reading making a new one
                        beyond is refused (ROOMWATCH_MAX_SERIES, default 500000)
  --mqtt URL            store what devices publish on this MQTT broker: mqtt://host:1883 or mqtts://host:8883,
                        user[:password]@ allowed (ROOMWATCH_MQTT; docs/INTEGRATIONS.md "MQTT")
  --mqtt-user U         the broker user, instead of the URL's (ROOMWATCH_MQTT_USER)
  --mqtt-password-file F
                        a file holding the broker password (ROOMWATCH_MQTT_PASSWORD_FILE)
  --mqtt-ca F           PEM CA certificate for an mqtts:// broker (ROOMWATCH_MQTT_CA)
  --mqtt-map F          the MQTT mapping file, JSON: topics, renames, rooms (ROOMWATCH_MQTT_MAP)
  --mqtt-client-id ID   the bridge's client id prefix and shared-subscription group, one per hub on a broker
                        (ROOMWATCH_MQTT_CLIENT_ID, default roomwatch)
  --mqtt-connections N  connections sharing the subscription; 1 for brokers without shared subscriptions
                        (ROOMWATCH_MQTT_CONNECTIONS, default 4)
  --retention D|forever how long raw readings are kept: 30d, 52w (ROOMWATCH_RETENTION, default forever);
                        older ones are dropped once the rollups hold them (docs/ADMIN.md "Retention and rollups")
  --rollups TIERS|none  bucket tiers kept beside raw readings, finest first, WIDTH:KEEP with KEEP a duration
                        or forever; each width a multiple of the one before (ROOMWATCH_ROLLUPS,
                        default 1m:365d,1h:forever)
  --restore FILE        first make FILE (a backup from "roomwatch backup") the store of the data folder,
                        which must be empty or not exist yet; then start (docs/ADMIN.md "Backup and restore")
  --cluster URLS        cluster mode: commit through NATS JetStream on these servers, nats://host:port
                        comma-separated (ROOMWATCH_CLUSTER; needs --history; docs/CLUSTER.md)
  --history URL         cluster mode: history, users, tokens and alerts in this PostgreSQL,
                        postgres://USER@HOST:PORT/DATABASE (ROOMWATCH_HISTORY; needs --cluster)
  --hub-id NAME         this hub's name in the cluster: letters, digits, - and _ (ROOMWATCH_HUB_ID,
                        default <hostname>-<tcp port>-<4 random hex>)
  -h, --help            this help`;

function fail(message: string): never {
  process.stderr.write(`roomwatch hub: ${message}\n\n${usage}\n`);
  process.exit(2);
}

let args: ReturnType<typeof parseCli>;
try {
  args = parseCli();
} catch (err) {
  fail((err as Error).message);
}
function parseCli() {
  return parseArgs({
    options: {
      host: { type: 'string' },
      'tcp-port': { type: 'string' },
      'http-port': { type: 'string' },
      data: { type: 'string' },
      'log-level': { type: 'string' },
      'log-file': { type: 'string' },
      'memory-limit': { type: 'string' },
      'store-threads': { type: 'string' },
      'max-line-bytes': { type: 'string' },
      'max-upload-bytes': { type: 'string' },
      'upload-body-timeout': { type: 'string' },
      'upload-idle-timeout': { type: 'string' },
      'max-concurrent-uploads': { type: 'string' },
      'max-concurrent-exports': { type: 'string' },
      'max-exports-per-user': { type: 'string' },
      'stream-max-queued-bytes': { type: 'string' },
      'tls-cert': { type: 'string' },
      'allow-anyone-on-the-network': { type: 'boolean' },
      'tls-key': { type: 'string' },
      'session-ttl': { type: 'string' },
      'rate-limit': { type: 'string' },
      'max-sensor-connections': { type: 'string' },
      'max-sensors': { type: 'string' },
      'max-series': { type: 'string' },
      'max-connections-per-address': { type: 'string' },
      mqtt: { type: 'string' },
      'mqtt-user': { type: 'string' },
      'mqtt-password-file': { type: 'string' },
      'mqtt-ca': { type: 'string' },
      'mqtt-map': { type: 'string' },
      'mqtt-client-id': { type: 'string' },
      'mqtt-connections': { type: 'string' },
      retention: { type: 'string' },
      rollups: { type: 'string' },
      restore: { type: 'string' },
      cluster: { type: 'string' },
      history: { type: 'string' },
      'hub-id': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  }).values;
}
if (args.help) {
  process.stdout.write(usage + '\n');
  process.exit(0);
}

const env = process.env;
function int(flag: string, value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^\d+$/.test(value)) fail(`${flag} must be a whole number, got "${value}"`);
  return Number(value);
}

/** The grammar of every duration, flags and API alike (protocol/duration.ts). */
function duration(flag: string, value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const parsed = parseDuration(value);
  if (!parsed.ok) fail(`${flag}: ${parsed.problem}`);
  return parsed.ms;
}

/** --retention and --rollups (hub/store/rollup-tiers.ts), which say what to write. */
function spec<T>(flag: string, value: string | undefined, parse: (text: string) => SpecParse<T>): T | undefined {
  if (value === undefined || value === '') return undefined;
  const parsed = parse(value);
  if (!parsed.ok) fail(`${flag}: ${parsed.problem}`);
  return parsed.value;
}

/** "none": no log file; a path is taken from the working directory, like --data. */
function logFile(value: string | undefined): string | null | undefined {
  if (value === undefined || value === '') return undefined;
  return value === 'none' ? null : resolve(value);
}

/** Test-only fault injection, as JSON (hub/store/store-faults.ts); checked with the other options. */
function storeFaults(value: string | undefined): StoreFaults | undefined {
  if (value === undefined || value === '') return undefined;
  try {
    return JSON.parse(value) as StoreFaults;
  } catch {
    fail(`ROOMWATCH_STORE_FAULTS must be JSON like {"seed":1,"commitFailureRate":0.2,"commitDelayMs":0}, got "${value}"`);
  }
}

const options: Partial<HubOptions> = {
  host: args.host ?? env.ROOMWATCH_HOST,
  tcpPort: int('--tcp-port', args['tcp-port'] ?? env.ROOMWATCH_TCP_PORT),
  httpPort: int('--http-port', args['http-port'] ?? env.ROOMWATCH_HTTP_PORT),
  dataDir: args.data ?? env.ROOMWATCH_DATA,
  logLevel: (args['log-level'] ?? env.ROOMWATCH_LOG_LEVEL) as LogLevel | undefined,
  logFile: logFile(args['log-file'] ?? env.ROOMWATCH_LOG_FILE),
  storeMemoryLimit: args['memory-limit'] ?? env.ROOMWATCH_MEMORY_LIMIT,
  storeThreads: int('--store-threads', args['store-threads'] ?? env.ROOMWATCH_STORE_THREADS),
  maxLineBytes: int('--max-line-bytes', args['max-line-bytes'] ?? env.ROOMWATCH_MAX_LINE_BYTES),
  maxUploadBytes: int('--max-upload-bytes', args['max-upload-bytes'] ?? env.ROOMWATCH_MAX_UPLOAD_BYTES),
  uploadBodyTimeoutMs: duration('--upload-body-timeout', args['upload-body-timeout'] ?? env.ROOMWATCH_UPLOAD_BODY_TIMEOUT),
  uploadIdleTimeoutMs: duration('--upload-idle-timeout', args['upload-idle-timeout'] ?? env.ROOMWATCH_UPLOAD_IDLE_TIMEOUT),
  maxConcurrentUploads: int('--max-concurrent-uploads', args['max-concurrent-uploads'] ?? env.ROOMWATCH_MAX_CONCURRENT_UPLOADS),
  maxConcurrentExports: int('--max-concurrent-exports', args['max-concurrent-exports'] ?? env.ROOMWATCH_MAX_CONCURRENT_EXPORTS),
  maxExportsPerUser: int('--max-exports-per-user', args['max-exports-per-user'] ?? env.ROOMWATCH_MAX_EXPORTS_PER_USER),
  streamMaxQueuedBytes: int('--stream-max-queued-bytes', args['stream-max-queued-bytes'] ?? env.ROOMWATCH_STREAM_MAX_QUEUED_BYTES),
  tlsCertFile: (args['tls-cert'] ?? env.ROOMWATCH_TLS_CERT) || undefined,
  allowAnyoneOnTheNetwork: args['allow-anyone-on-the-network'] === true || env.ROOMWATCH_ALLOW_ANYONE === '1',
  tlsKeyFile: (args['tls-key'] ?? env.ROOMWATCH_TLS_KEY) || undefined,
  sessionTtlMs: duration('--session-ttl', args['session-ttl'] ?? env.ROOMWATCH_SESSION_TTL),
  rateLimitPerMinute: int('--rate-limit', args['rate-limit'] ?? env.ROOMWATCH_RATE_LIMIT),
  maxSensorConnections: int('--max-sensor-connections', args['max-sensor-connections'] ?? env.ROOMWATCH_MAX_SENSOR_CONNECTIONS),
  maxSensors: int('--max-sensors', args['max-sensors'] ?? env.ROOMWATCH_MAX_SENSORS),
  maxSeries: int('--max-series', args['max-series'] ?? env.ROOMWATCH_MAX_SERIES),
  storeFaults: storeFaults(env.ROOMWATCH_STORE_FAULTS),
  maxConnectionsPerAddress: int(
    '--max-connections-per-address',
    args['max-connections-per-address'] ?? env.ROOMWATCH_MAX_CONNECTIONS_PER_ADDRESS,
  ),
  mqttUrl: (args.mqtt ?? env.ROOMWATCH_MQTT) || undefined,
  mqttUser: (args['mqtt-user'] ?? env.ROOMWATCH_MQTT_USER) || undefined,
  mqttPasswordFile: (args['mqtt-password-file'] ?? env.ROOMWATCH_MQTT_PASSWORD_FILE) || undefined,
  mqttCaFile: (args['mqtt-ca'] ?? env.ROOMWATCH_MQTT_CA) || undefined,
  mqttMapFile: (args['mqtt-map'] ?? env.ROOMWATCH_MQTT_MAP) || undefined,
  mqttClientId: (args['mqtt-client-id'] ?? env.ROOMWATCH_MQTT_CLIENT_ID) || undefined,
  mqttConnections: int('--mqtt-connections', args['mqtt-connections'] ?? env.ROOMWATCH_MQTT_CONNECTIONS),
  retentionMs: spec('--retention', args.retention ?? env.ROOMWATCH_RETENTION, parseRetention),
  rollupTiers: spec('--rollups', args.rollups ?? env.ROOMWATCH_ROLLUPS, parseRollups),
  cluster: (args.cluster ?? env.ROOMWATCH_CLUSTER) || undefined,
  history: (args.history ?? env.ROOMWATCH_HISTORY) || undefined,
  hubId: (args['hub-id'] ?? env.ROOMWATCH_HUB_ID) || undefined,
};

// Before the hub is built: building it opens the log file, and a restore wants an empty folder.
if (args.restore !== undefined) {
  let dataDir: string;
  try {
    dataDir = resolveHubOptions(options).dataDir;
  } catch (err) {
    fail((err as Error).message);
  }
  try {
    const r = await restoreBackup(args.restore, dataDir);
    const readings = Object.hasOwn(r.tables, 'readings') ? r.tables.readings : 0;
    const migrated = r.fromSchema === r.toSchema ? '' : `, migrated from schema ${r.fromSchema} to ${r.toSchema}`;
    process.stderr.write(
      `roomwatch hub: restored ${args.restore} (taken ${new Date(r.takenAt).toISOString()}, ${readings} readings${migrated}) into ${dataDir}\n`,
    );
  } catch (err) {
    process.stderr.write(`roomwatch hub: could not restore: ${(err as Error).message}\n`);
    process.exit(1);
  }
}

let hub: Hub;
try {
  hub = buildHub(options);
} catch (err) {
  // A folder it cannot write is not a usage mistake: say why, without the usage.
  if (err instanceof DataFolderError) {
    process.stderr.write(`roomwatch hub: could not start: ${err.message}\n`);
    process.exit(1);
  }
  fail((err as Error).message);
}

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  hub.log.info({ signal }, 'stopping');
  try {
    await hub.stop();
    process.exit(0);
  } catch (err) {
    hub.log.error({ err }, 'stop failed');
    process.exit(1);
  }
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));

try {
  await hub.start();
} catch (err) {
  const e = err as NodeJS.ErrnoException;
  const hint = e.code === 'EADDRINUSE' ? ' (the port is taken: is another hub running? pick another with --tcp-port/--http-port)' : '';
  // A taken port or data folder is the user's to fix, and its message says how: a stack trace
  // would only bury it. Anything else may be a bug, and keeps its stack for the log.
  const known = err instanceof StoreError || typeof e.code === 'string';
  hub.log.fatal(known ? { code: e.code } : { err }, `could not start: ${e.message}${hint}`);
  process.stderr.write(`roomwatch hub: could not start: ${e.message}${hint}\n`);
  process.exit(1);
}
