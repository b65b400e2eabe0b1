/**
 * buildHub(options): the whole hub as one object with start() and stop(). It reads neither
 * process.env nor process.argv (hub/main.ts does), so tests start it on port 0 in-process.
 */
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { ErrorCode } from '../protocol/codes.ts';
import { buildApi, type HubStatus } from './http/api.ts';
import { hubRoutes, type HubParts } from './http/hub-routes.ts';
import { ExportSlots } from './history/export-slots.ts';
import { HubError } from './hub-error.ts';
import { LiveStream } from './stream/live-stream.ts';
import { ReportNow } from './sensors/report-now.ts';
import { removeLeftovers } from './upload/upload-spool.ts';
import { BatchIngest, SourceCounters } from './ingest/batch-ingest.ts';
import { GrowthLimits } from './ingest/growth-limits.ts';
import { GroupCommit } from './ingest/group-commit.ts';
import { SeriesCatalog } from './ingest/series-catalog.ts';
import type { IngestCounters } from './ingest/sensor-session.ts';
import { SensorServer } from './ingest/tcp-server.ts';
import { LatestView } from './sensors/latest-view.ts';
import { MqttBridge, type MqttBridgeConfig } from './mqtt/mqtt-bridge.ts';
import { mqttBridgeConfig } from './mqtt/mqtt-options.ts';
import { announcer, openHubLog } from './setup/log.ts';
import { prepareDataFolder } from './setup/data-folder.ts';
import { isLoopback, resolveHubOptions, type HubOptions } from './setup/options.ts';
import { AccessControl } from './access/access-control.ts';
import { ActivityLog } from './access/activity-log.ts';
import { SensorRegistry } from './sensors/sensor-registry.ts';
import { loadTlsCredentials, type TlsCredentials } from './setup/tls-credentials.ts';
import { ReadingStore } from './store/reading-store.ts';
import { compactionHealth } from './store/compaction.ts';
import { retentionHealth } from './store/retention-health.ts';
import { storeProblemHealth } from './store/store-problem.ts';
import { AlertService } from './alerts/alert-service.ts';
import { ClusterParts } from './cluster/cluster-parts.ts';
import { ClusterReportNow } from './cluster/cluster-report-now.ts';
import type { HubStore } from './store/hub-store.ts';
import { processClock } from '../sensors/tick-scheduler.ts';

export interface HubAddress {
  host: string;
  tcpPort: number;
  httpPort: number;
}

export interface Hub {
  start(): Promise<HubAddress>;
  stop(): Promise<void>;
  readonly options: HubOptions;
  readonly log: Logger;
}

const VERSION = '0.1.0';
/** how long commits must have been failing before health answers 503 */
const STORE_FAILING_HEALTH_MS = 1_000;

/** Resolves once what was received is committed; a store that cannot commit within `ms` is a 503. */
async function committedWithin(commits: GroupCommit, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HubError('store_unavailable', 'the store is unavailable; the reports were not stored')), ms);
  });
  try {
    await Promise.race([commits.committed(), late]);
  } finally {
    clearTimeout(timer);
  }
}

export function buildHub(partial: Partial<HubOptions> = {}, logger?: Logger): Hub {
  const options = resolveHubOptions(partial);
  let tls: TlsCredentials | null = null;
  if (options.tlsCertFile !== null && options.tlsKeyFile !== null) {
    try {
      tls = loadTlsCredentials(options.tlsCertFile, options.tlsKeyFile);
    } catch (err) {
      throw new Error(`invalid hub options:\n  ${(err as Error).message}`);
    }
  }
  // The MQTT bridge's password, CA and mapping files are read now: a mistake stops the start with its place in the file.
  let mqttConfig: MqttBridgeConfig | null;
  try {
    mqttConfig = mqttBridgeConfig(options);
  } catch (err) {
    throw new Error(`invalid hub options:\n  ${(err as Error).message}`);
  }
  // Made once the options (the data folder) are known, and closed by stop(); a logger passed
  // in is the caller's to close.
  const ownLog = logger ? null : openHubLog({ level: options.logLevel, file: options.logFile });
  const log: Logger = logger ?? ownLog!.log;
  const now = options.now;
  let status: HubStatus = 'starting';
  const startedAt = now();
  const catalog = new SeriesCatalog();
  const registry = new SensorRegistry();
  const latest = new LatestView(catalog);
  const counters: IngestCounters = { messages: 0, readingsReceived: 0, rejected: new Map(), acksSent: 0 };
  // Cluster mode (--cluster and --history): commits go to NATS JetStream, the rest to PostgreSQL.
  const cluster =
    options.cluster !== null && options.history !== null
      ? new ClusterParts(
          { cluster: options.cluster, history: options.history, hubId: options.hubId },
          {
            log,
            now,
            catalog,
            registry,
            tcpPort: options.tcpPort,
            tempDir: options.storeTempDir!,
            threads: options.storeThreads,
            publishTimeoutMs: Math.max(1_000, Math.floor(options.storeUnavailableAfterMs / 2)),
            retention: { retentionMs: options.retentionMs, tiers: options.rollupTiers },
          },
        )
      : null;
  const store: HubStore =
    cluster?.store ??
    new ReadingStore({
      dataDir: options.dataDir,
      memoryLimit: options.storeMemoryLimit,
      threads: options.storeThreads,
      tempDir: options.storeTempDir!,
      now,
      faults: options.storeFaults,
      retention: { retentionMs: options.retentionMs, tiers: options.rollupTiers },
    });
  // Exposed: reachable from other machines, and the operator did not say that anyone may come in.
  const exposed = !isLoopback(options.host) && !options.allowAnyoneOnTheNetwork;
  const access = new AccessControl({
    persist: (changes) => store.writeAccess(changes),
    now,
    sessionTtlMs: options.sessionTtlMs,
    exposed,
    failedLoginFloorMs: options.failedLoginFloorMs,
  });
  const activity = new ActivityLog(store, now, log);
  const liveStream = new LiveStream(catalog, {
    maxQueuedMessages: options.streamMaxQueuedMessages,
    highWaterBytes: 64 * 1024,
    drainTimeoutMs: options.streamDrainTimeoutMs,
    maxQueuedBytes: options.streamMaxQueuedBytes,
    stallGraceMs: 1_000,
  });
  let storedAtStart = 0;
  const uploads = { rowsStored: 0, duplicates: 0 };
  const uploadSpoolDir = join(options.storeTempDir!, 'uploads');
  const exportSlots = new ExportSlots({ maxExports: options.maxConcurrentExports, maxExportsPerUser: options.maxExportsPerUser });

  // Alert rules, evaluated on committed readings (docs/ALERTS.md).
  const alerts = new AlertService({ store, now, clock: options.alertClock ?? processClock, log });

  const commits = new GroupCommit(store, catalog, registry, {
    flushIntervalMs: options.flushIntervalMs,
    maxRowsPerFlush: options.maxRowsPerFlush,
    maxBufferedRows: options.maxBufferedRows,
    storeUnavailableAfterMs: options.storeUnavailableAfterMs,
    giveUpAfterMs: Math.min(10_000, 2 * options.storeUnavailableAfterMs),
    now,
  });

  // Readings from inputs other than the sensor port (MQTT, InfluxDB line protocol, Prometheus) take the same commit path.
  // How many sensors and series any way in may make the hub keep (counted with the inputs' refusals).
  const inputCounters = new SourceCounters();
  const growth = new GrowthLimits(
    { maxSensors: options.maxSensors, maxSeries: options.maxSeries },
    inputCounters,
    (fields, message) => log.warn(fields, message),
    now,
  );
  const ingest = new BatchIngest({ catalog, registry, commits, now, counters: inputCounters, growth });
  // Devices on the user's MQTT broker (docs/INTEGRATIONS.md): acknowledged to the broker only after their commit.
  const mqtt = mqttConfig && new MqttBridge(mqttConfig, { ingest, catalog, registry, now, log });

  // The answer promises its readings are stored; a store that cannot commit must not hold the request for ever.
  const reportNow = new (cluster ? ClusterReportNow : ReportNow)(registry, now, () =>
    committedWithin(commits, options.storeUnavailableAfterMs),
  );

  const sensors = new SensorServer(
    (server) => ({
      limits: {
        maxLineBytes: options.maxLineBytes,
        idleTimeoutMs: options.idleTimeoutMs,
        helloTimeoutMs: options.helloTimeoutMs,
        maxErrors: options.maxErrors,
        errorWindowMs: options.errorWindowMs,
        maxWriteBufferBytes: options.maxWriteBufferBytes,
        drainTimeoutMs: options.drainTimeoutMs,
      },
      now,
      catalog,
      commits,
      registry,
      growth,
      commands: reportNow,
      counters,
      checkHello: (token, sensor, room) => access.checkHello(token, sensor, room, registry.records.get(sensor)?.room),
      recordActivity: (event) => activity.record(event),
      storeUnavailable: () => {
        const p = commits.storeProblem;
        return p?.unavailable ? p.reason : null;
      },
      claim: (s) => {
        server.claim(s);
        cluster?.claimed(s.sensorId!);
      },
      release: (s) => {
        server.release(s);
        if (s.sensorId) cluster?.released(s.sensorId);
      },
    }),
    log,
    {
      total: options.maxSensorConnections,
      perAddress: options.maxConnectionsPerAddress,
      onRefused: (address, message) =>
        activity.record({ actor: '-', address, action: 'sensor.connect', target: '', outcome: 'denied', code: 429, detail: message }),
    },
    // A handshake is the first thing a connection does: the idle timeout bounds it too.
    tls && { cert: tls.cert, key: tls.key, handshakeTimeoutMs: options.idleTimeoutMs },
  );

  // Wired once every part exists: what the sensor server and report-now hear of each other and of commits.
  reportNow.attach(() => sensors.activeSessions());
  commits.listen({
    onSaturated: () => sensors.pauseAll(),
    onDrained: () => sensors.resumeAll(),
    onStoreFailing: (reason) => log.error({ reason }, 'commit failed; retrying, no ack is sent until it is stored'),
    onStoreUnavailable: (reason) => {
      log.error({ reason }, 'the store is unavailable; sensors get 503 and resend after reconnecting');
      // Nothing after their last ack is stored: 503 tells them to reconnect later and resend.
      for (const s of [...sensors.activeSessions()]) s.storeUnavailable(`the store is unavailable (${reason}); reconnect later`);
    },
    onStoreRecovered: () => log.warn('the store commits again'),
    onRefused: (messages, reason) =>
      log.error(
        { messages, reason },
        messages > 0 ? 'the store refused a message; answered 500' : 'the store refused registry changes; dropped',
      ),
    onCommitted: ({ fresh, maybeDuplicate, result }) => {
      liveStream.publish(fresh, result.freshStoredMask ?? undefined);
      if (maybeDuplicate.n > 0) liveStream.publish(maybeDuplicate, result.storedMask);
      alerts.committed(catalog, fresh, result.freshStoredMask ?? undefined);
      if (maybeDuplicate.n > 0) alerts.committed(catalog, maybeDuplicate, result.storedMask);
      log.debug({ gen: result.gen, fresh: fresh.n, maybeDuplicate: maybeDuplicate.n, flushMs: Math.round(result.flushMs) }, 'committed');
    },
  });
  access.onSensorRulesChanged(() => {
    for (const s of [...sensors.greetedSessions()]) {
      const verdict = access.stillAdmitted(s.tokenId);
      if (!verdict.ok) s.unauthorized(verdict.message);
    }
  });
  const parts: HubParts = {
    options,
    now,
    store,
    catalog,
    registry,
    latest,
    access,
    activity,
    liveStream,
    commits,
    ingest,
    mqtt,
    reportNow,
    sensors,
    counters,
    uploads,
    exportSlots,
    uploadSpoolDir,
    alerts,
    ...(cluster ? { announceUploads: cluster.uploads } : {}),
  };
  let api: FastifyInstance | null = null;
  /**
   * While commits fail, health says why: a probe or load balancer must not see "ok". One failed
   * commit that its retry stores is a blip, not an outage: health turns 503 after a second of
   * failures (or at once when the store is gone), so it does not flap on every transient error.
   */
  function storeHealth(): Record<string, unknown> {
    const p = commits.storeProblem;
    if (!p) return {};
    if (!p.unavailable && now() - p.sinceMs < STORE_FAILING_HEALTH_MS) return { store_retrying: p.reason };
    return { store_error: p.reason, store_failing_since: new Date(p.sinceMs).toISOString(), ...storeProblemHealth(p) };
  }

  const hub: Hub = {
    options,
    log,
    async start() {
      // Private (0700/0600) and writable, or a clear error now rather than ENOENT from the store.
      for (const left of prepareDataFolder(options.dataDir))
        log.warn({ path: left }, 'could not make private (not owned by the hub user, or a shared folder): left as it is');
      api = buildApi({
        ...(tls ? { tls: { cert: tls.cert, key: tls.key } } : {}),
        log,
        status: () => status,
        latest,
        registry,
        access,
        rateLimitPerMinute: options.rateLimitPerMinute,
        routes: hubRoutes(parts),
        health: () => ({
          version: VERSION,
          uptime_ms: now() - startedAt,
          sensors_connected: registry.connectedCount,
          sensors_known: registry.records.size,
          series: catalog.channels.size,
          readings_stored: storedAtStart + commits.stats.rowsStored + uploads.rowsStored,
          readings_buffered: commits.bufferedRows,
          stream_subscribers: liveStream.stats.subscribers,
          ...(store.compaction ? { compaction: compactionHealth(store.compaction) } : {}),
          ...(cluster ? { cluster: cluster.stats() } : {}),
          ...(store.retention ? { retention: retentionHealth(store.retention) } : {}),
          memory: process.memoryUsage(),
          ...storeHealth(),
        }),
      });
      // HTTP first, so health can answer 503 "starting" while the store loads.
      await api.listen({ host: options.host, port: options.httpPort });
      const httpAddr = api.server.address();
      const httpPort = typeof httpAddr === 'object' && httpAddr ? httpAddr.port : options.httpPort;

      const loadStarted = performance.now();
      const openedAt = Date.now(); // file times, so the file system's clock, not the hub's
      await cluster?.connect().catch(async (err: Error) => {
        status = 'stopping';
        await api?.close();
        await cluster.stop();
        await ownLog?.close();
        throw err;
      });
      const state = await store.open();
      const { from, to } = state.schema ?? { from: null, to: null };
      if (from !== null && from !== to) log.info({ from, to }, `migrated the store from schema ${from} to ${to}`);
      access.load(state.access);
      activity.start(state.access.maxActivityId);
      if (exposed && !access.hasAdmin) {
        status = 'stopping';
        await api.close();
        await store.close();
        await ownLog?.close();
        throw new Error(
          `host ${options.host} is reachable from other machines, and this hub has no admin user to protect it: ` +
            'create one on 127.0.0.1 first (docs/ADMIN.md "Access control"), or pass --allow-anyone-on-the-network ' +
            'if every machine that can reach it may send readings and read everything',
        );
      }
      // A hub killed during an upload left its spool file and DuckDB's spill behind.
      const leftovers = await removeLeftovers(uploadSpoolDir, options.storeTempDir!, openedAt).catch((err: Error) => {
        log.warn({ err }, 'could not remove the files a stopped upload left behind');
        return [];
      });
      if (leftovers.length > 0) log.info({ files: leftovers }, 'removed files a stopped upload left behind');
      catalog.load(state);
      registry.load(state);
      storedAtStart = state.readingCount;
      await alerts.start(catalog, () => registry.records.values());
      await cluster?.join({
        liveStream,
        alerts,
        reportNow: reportNow as ClusterReportNow,
        access,
        localSession: (sensor) => sensors.bySensor.get(sensor),
      });
      const tcpPort = await sensors.start(options.host, options.tcpPort);
      await cluster?.announce({ httpPort, tcpPort });
      mqtt?.start();
      status = 'ok';
      // tools and tests read the ports from this line: written even at --log-level warn
      announcer(log).info(
        {
          host: options.host,
          tcpPort,
          httpPort,
          tls: tls !== null,
          ...(tls ? { tlsSubject: tls.subject, tlsSubjectAltName: tls.subjectAltName, tlsValidTo: tls.validTo } : {}),
          dataDir: options.dataDir,
          ...(cluster ? { hubId: cluster.hubId } : {}),
          readings: state.readingCount,
          loadMs: Math.round(performance.now() - loadStarted),
        },
        'hub listening',
      );
      return { host: options.host, tcpPort, httpPort };
    },
    async stop() {
      if (status === 'stopping') return;
      status = 'stopping';
      sensors.stopAccepting();
      // Before the last commits: the bridge's submits under way are committed and acknowledged to the broker.
      await mqtt?.stop();
      try {
        await commits.drain();
      } catch (err) {
        log.error({ err }, 'final commit failed');
      }
      await sensors.finish();
      await commits.drain().catch((err: Error) => log.error({ err }, 'could not record the last disconnects')); // the sessions just closed
      commits.stop();
      await cluster?.stop().catch((err: Error) => log.error({ err }, 'could not leave the cluster cleanly'));
      await api?.close();
      liveStream.stop();
      await alerts.stop().catch((err: Error) => log.error({ err }, 'could not store the last alert events'));
      await activity.stop().catch((err: Error) => log.error({ err }, 'could not store the last activity events'));
      await store.close();
      log.info({ readingsStored: commits.stats.rowsStored, duplicates: commits.stats.duplicates }, 'hub stopped');
      await ownLog?.close(); // every line written, and no worker left behind
    },
  };
  return hub;
}

export { ErrorCode };
