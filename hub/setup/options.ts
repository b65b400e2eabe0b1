/**
 * The hub's options: defaults in one object, merged once, checked at start. A bad option
 * fails with a message naming it.
 */
import { accessSync, constants as fsConstants } from 'node:fs';
import { join, resolve } from 'node:path';
import { DEFAULT_MAX_LINE_BYTES } from '../../protocol/names.ts';
import { clusterOptionProblems, defaultClusterOptions, type ClusterOptions } from '../cluster/cluster-options.ts';
import { DEFAULT_GROWTH_CAPS } from '../ingest/growth-limits.ts';
import { defaultMqttOptions, mqttOptionProblems, type MqttOptions } from '../mqtt/mqtt-options.ts';
import { storeFaultsProblem, type StoreFaults } from '../store/store-faults.ts';
import { DEFAULT_TIERS, retentionProblems, type RollupTier } from '../store/rollup-tiers.ts';
import type { TimerClock } from '../../sensors/tick-scheduler.ts';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** With the MQTT bridge's options (hub/mqtt/mqtt-options.ts) and cluster mode's (hub/cluster/cluster-options.ts). */
export interface HubOptions extends MqttOptions, ClusterOptions {
  host: string;
  /**
   * Like Mosquitto 2: on an address other machines can reach, the hub starts only with an admin
   * user, and then asks every sensor for a token and every request for a login. This loudly
   * named option lets it run open there while no credentials exist (docs/ADMIN.md).
   */
  allowAnyoneOnTheNetwork: boolean;
  /** how long a login's bearer token is valid */
  sessionTtlMs: number;
  /** HTTP requests per minute, per user (or per address before login); 0: no limit */
  rateLimitPerMinute: number;
  /** sensor connections from one address; beyond, error 429 and close */
  maxConnectionsPerAddress: number;
  /** a failed login is answered no sooner than this after it arrived */
  failedLoginFloorMs: number;
  tcpPort: number;
  httpPort: number;
  dataDir: string;
  /** the longest sensor line accepted, including its end */
  maxLineBytes: number;
  /** group commit: the longest a received reading waits before its commit starts */
  flushIntervalMs: number;
  /** group commit: commit at once when this many rows wait */
  maxRowsPerFlush: number;
  /** stop reading sensor sockets while this many rows wait for the store */
  maxBufferedRows: number;
  /** a sensor connection with no line for this long is closed */
  idleTimeoutMs: number;
  /** a sensor connection that has not said hello by then gets 401 and is closed */
  helloTimeoutMs: number;
  /** a store that cannot commit for this long: its sensors get 503, new ones are turned away */
  storeUnavailableAfterMs: number;
  /** more error replies than this within errorWindowMs: 429 and close */
  maxErrors: number;
  errorWindowMs: number;
  /** a sensor that leaves this much of the hub's output unread is frozen and dropped */
  maxWriteBufferBytes: number;
  /** a sensor whose socket does not drain within this is frozen and dropped */
  drainTimeoutMs: number;
  /** sensor connections in all; beyond, error 429 and close */
  maxSensorConnections: number;
  /** sensors the hub keeps at most, from any way in; a new one beyond is refused (hub/ingest/growth-limits.ts) */
  maxSensors: number;
  /** series (sensor, room, metric, unit) the hub keeps at most; a reading that would make a new one beyond is refused */
  maxSeries: number;
  /** readings held for a slow stream subscriber; beyond, its oldest are dropped */
  streamMaxQueuedMessages: number;
  /** bytes held for all stream subscribers together; over it the slowest are trimmed, then closed (1013) */
  streamMaxQueuedBytes: number;
  /** a stream subscriber whose socket takes nothing for this long is closed (1013) */
  streamDrainTimeoutMs: number;
  /** streams open at once, in all and per user (per address on an open hub); beyond, 429 */
  streamMaxConnections: number;
  streamMaxConnectionsPerUser: number;
  /** a stream socket is pinged this often, and cut if it answered none since the last ping */
  streamHeartbeatMs: number;
  /** history exports running at once in the hub, and per user (per address on an open hub); beyond, 429 */
  maxConcurrentExports: number;
  maxExportsPerUser: number;
  /** a history export whose client reads nothing for this long is cancelled */
  exportStallTimeoutMs: number;
  /** the largest CSV upload accepted; over it 413 and nothing stored */
  maxUploadBytes: number;
  /** an upload's whole body must arrive within this; else 408 and nothing stored */
  uploadBodyTimeoutMs: number;
  /** and with no gap longer than this between two chunks of it */
  uploadIdleTimeoutMs: number;
  /** uploads taken at once; beyond, 429 with Retry-After */
  maxConcurrentUploads: number;
  /** DuckDB's memory limit: it would take 80% of the machine otherwise */
  storeMemoryLimit: string;
  storeThreads: number;
  /** how long raw readings are kept; null: forever (docs/ADMIN.md "Retention and rollups") */
  retentionMs: number | null;
  /** the rollup tiers, finest first: each bucket width and how long it is kept (null: forever) */
  rollupTiers: RollupTier[];
  /** where DuckDB spills when a query outgrows its memory limit; default <data>/tmp */
  storeTempDir: string | null;
  logLevel: LogLevel;
  /** JSON-lines log file, rotated daily (docs/ADMIN.md); relative to dataDir; null: none */
  logFile: string | null;
  /**
   * TLS: a PEM certificate (chain) and its private key. Both or neither; with them the sensor
   * port and the HTTP API (and so the WebSocket stream) serve TLS only.
   */
  tlsCertFile: string | null;
  tlsKeyFile: string | null;
  /** test-only: make the store fail on purpose (hub/store/store-faults.ts); null in service */
  storeFaults: StoreFaults | null;
  /** the hub clock, injectable for tests */
  now: () => number;
  /** test-only: the timers of alert ticks and webhook retries (a FakeClock); null: the process's */
  alertClock: TimerClock | null;
}

export const defaultHubOptions = {
  host: '127.0.0.1',
  allowAnyoneOnTheNetwork: false,
  sessionTtlMs: 12 * 3600_000,
  rateLimitPerMinute: 6000,
  maxConnectionsPerAddress: 10_000,
  failedLoginFloorMs: 300,
  tcpPort: 7777,
  httpPort: 8080,
  dataDir: './data',
  maxLineBytes: DEFAULT_MAX_LINE_BYTES,
  flushIntervalMs: 50,
  maxRowsPerFlush: 100_000,
  maxBufferedRows: 400_000,
  idleTimeoutMs: 120_000,
  helloTimeoutMs: 10_000, // a peer that never says hello must not hold a connection slot
  storeUnavailableAfterMs: 5_000,
  maxErrors: 100,
  errorWindowMs: 10_000,
  maxWriteBufferBytes: 1024 * 1024,
  drainTimeoutMs: 10_000, // a frozen sensor must not stall report-now for everyone
  maxSensorConnections: 20_000,
  maxSensors: DEFAULT_GROWTH_CAPS.maxSensors,
  maxSeries: DEFAULT_GROWTH_CAPS.maxSeries,
  maxUploadBytes: 1024 * 1024 * 1024,
  uploadBodyTimeoutMs: 5 * 60_000, // a trickled body must not hold a request and a spool file for ever
  uploadIdleTimeoutMs: 30_000,
  maxConcurrentUploads: 4, // each holds a spool file of up to maxUploadBytes and the store's threads
  streamMaxQueuedMessages: 10_000,
  streamMaxQueuedBytes: 32 * 1024 * 1024, // 200 stalled dashboards must not take the hub's memory
  streamDrainTimeoutMs: 30_000,
  streamMaxConnections: 5_000,
  streamMaxConnectionsPerUser: 100,
  streamHeartbeatMs: 30_000, // a peer gone without closing (a sleeping laptop) must not hold a stream for ever
  maxConcurrentExports: 4, // each holds a store connection and a sorted window for as long as its client takes
  maxExportsPerUser: 2,
  exportStallTimeoutMs: 60_000,
  storeMemoryLimit: '512MB',
  storeThreads: 2,
  storeTempDir: null,
  retentionMs: null,
  rollupTiers: [...DEFAULT_TIERS],
  logLevel: 'info',
  logFile: 'logs/roomwatch.log',
  tlsCertFile: null,
  tlsKeyFile: null,
  storeFaults: null,
  now: Date.now,
  alertClock: null,
  ...defaultMqttOptions,
  ...defaultClusterOptions,
} satisfies HubOptions;

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** The options that hold a number: the ones the port and count checks below may name. */
type NumberOption = { [K in keyof HubOptions]-?: HubOptions[K] extends number ? K : never }[keyof HubOptions];

export function resolveHubOptions(partial: Partial<HubOptions>): HubOptions {
  const o: HubOptions = { ...defaultHubOptions, ...stripUndefined(partial) };
  const problems: string[] = [];
  const port = (name: NumberOption) => {
    const v = o[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 65535)
      problems.push(`${name} must be a port number from 0 to 65535, got ${String(v)}`);
  };
  const positive = (name: NumberOption) => {
    const v = o[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) problems.push(`${name} must be a positive integer, got ${String(v)}`);
  };
  port('tcpPort');
  port('httpPort');
  for (const k of [
    'maxLineBytes',
    'flushIntervalMs',
    'maxRowsPerFlush',
    'maxBufferedRows',
    'idleTimeoutMs',
    'helloTimeoutMs',
    'storeUnavailableAfterMs',
    'maxErrors',
    'errorWindowMs',
    'maxWriteBufferBytes',
    'maxSensorConnections',
    'maxConnectionsPerAddress',
    'maxSensors',
    'maxSeries',
    'sessionTtlMs',
    'maxUploadBytes',
    'uploadBodyTimeoutMs',
    'uploadIdleTimeoutMs',
    'maxConcurrentUploads',
    'streamMaxQueuedMessages',
    'streamMaxQueuedBytes',
    'streamDrainTimeoutMs',
    'streamMaxConnections',
    'streamMaxConnectionsPerUser',
    'streamHeartbeatMs',
    'maxConcurrentExports',
    'maxExportsPerUser',
    'exportStallTimeoutMs',
    'storeThreads',
  ] as const)
    positive(k);
  if (o.maxLineBytes < 1024) problems.push(`maxLineBytes must be at least 1024, got ${o.maxLineBytes}`);
  if (o.maxBufferedRows < o.maxRowsPerFlush) problems.push('maxBufferedRows must be at least maxRowsPerFlush');
  if (!/^\d+(\.\d+)?\s*(B|KB|MB|GB|KiB|MiB|GiB)$/i.test(o.storeMemoryLimit))
    problems.push(`storeMemoryLimit must look like 512MB or 2GB, got "${o.storeMemoryLimit}"`);
  if (typeof o.host !== 'string' || o.host.length === 0) problems.push('host must be a host name or address');
  for (const k of ['rateLimitPerMinute', 'failedLoginFloorMs'] as const) {
    const v = o[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) problems.push(`${k} must be a whole number (0 or more), got ${String(v)}`);
  }
  if (typeof o.dataDir !== 'string' || o.dataDir.length === 0) problems.push('dataDir must be a folder path');
  if (!LOG_LEVELS.includes(o.logLevel)) problems.push(`logLevel must be one of ${LOG_LEVELS.join(', ')}, got "${o.logLevel}"`);
  if (o.logFile !== null && (typeof o.logFile !== 'string' || o.logFile.length === 0))
    problems.push(`logFile must be a file path, or null for no log file, got ${JSON.stringify(o.logFile)}`);
  checkTlsFiles(o, problems);
  problems.push(...retentionProblems({ retentionMs: o.retentionMs, tiers: o.rollupTiers }));
  problems.push(...mqttOptionProblems(o));
  problems.push(...clusterOptionProblems(o));
  if (o.storeFaults !== null) {
    const problem = storeFaultsProblem(o.storeFaults);
    if (problem) problems.push(problem);
  }
  if (problems.length > 0) throw new Error(`invalid hub options:\n  ${problems.join('\n  ')}`);
  o.dataDir = resolve(o.dataDir);
  o.storeTempDir = o.storeTempDir ? resolve(o.storeTempDir) : join(o.dataDir, 'tmp');
  o.logFile = o.logFile === null ? null : resolve(o.dataDir, o.logFile);
  // pino-roll refuses these in the whole path (':' but for a drive letter); its worker would fail after start
  if (o.logFile !== null && /[<>"|?*:\0]/.test(o.logFile.replace(/^[A-Za-z]:/, '')))
    throw new Error(
      `invalid hub options:\n  logFile "${o.logFile}" must not contain < > : " | ? * (--log-file, or --data for the default)`,
    );
  o.tlsCertFile = o.tlsCertFile ? resolve(o.tlsCertFile) : null;
  o.tlsKeyFile = o.tlsKeyFile ? resolve(o.tlsKeyFile) : null;
  return o;
}

/** Both or neither, each a readable file: a hub that cannot serve TLS must not start as a plain one. */
function checkTlsFiles(o: HubOptions, problems: string[]): void {
  const given = (v: string | null): v is string => typeof v === 'string' && v.length > 0;
  if (given(o.tlsCertFile) !== given(o.tlsKeyFile)) {
    problems.push('tlsCertFile and tlsKeyFile go together (--tls-cert and --tls-key): give both for TLS, or neither');
    return;
  }
  for (const name of ['tlsCertFile', 'tlsKeyFile'] as const) {
    const file = o[name];
    if (!given(file)) continue;
    try {
      accessSync(file, fsConstants.R_OK);
    } catch (err) {
      problems.push(`${name} "${file}" cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  }
}

/** 127.0.0.0/8, ::1 and localhost: only this machine can connect. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
