/**
 * The API's feature routes, each given exactly what it needs of the hub's parts. hub.ts makes
 * the parts in dependency order and hands them here; no route reaches for a variable of hub.ts.
 */
import type { Columns } from '../store/store-messages.ts';
import type { FastifyInstance } from 'fastify';
import type { AccessControl } from '../access/access-control.ts';
import type { ActivityLog } from '../access/activity-log.ts';
import type { ExportSlots } from '../history/export-slots.ts';
import type { BatchIngest } from '../ingest/batch-ingest.ts';
import type { GroupCommit } from '../ingest/group-commit.ts';
import type { IngestCounters } from '../ingest/sensor-session.ts';
import type { SeriesCatalog } from '../ingest/series-catalog.ts';
import type { SensorServer } from '../ingest/tcp-server.ts';
import type { MqttBridge } from '../mqtt/mqtt-bridge.ts';
import type { LatestView } from '../sensors/latest-view.ts';
import type { ReportNow } from '../sensors/report-now.ts';
import type { SensorRegistry } from '../sensors/sensor-registry.ts';
import type { HubOptions } from '../setup/options.ts';
import type { HubStore } from '../store/hub-store.ts';
import type { LiveStream } from '../stream/live-stream.ts';
import { recordRequest, registerAccessRoutes, registerActivityHooks } from './access-routes.ts';
import { registerActivityStreamRoute } from './activity-stream-route.ts';
import { registerBackupRoute } from './backup-route.ts';
import { registerAlertsRoutes } from './alerts-route.ts';
import type { AlertService } from '../alerts/alert-service.ts';
import { addAlertFamilies } from '../alerts/alert-metrics.ts';
import { addRetentionFamilies } from '../store/retention-health.ts';
import { addStoreProblemFamilies } from '../store/store-problem.ts';
import { registerHistoryRoute } from './history-route.ts';
import { INPUT_LIMITS } from '../inputs/input-limits.ts';
import { registerInfluxRoutes } from '../inputs/influx-routes.ts';
import { registerPrometheusRoute } from '../inputs/prometheus-route.ts';
import { registerMetricsRoute } from './metrics-route.ts';
import { registerReportNowRoute } from './report-now-route.ts';
import { registerStreamRoute } from './stream-route.ts';
import { registerUploadRoute } from './upload-route.ts';
import { registerWebRoute } from './web-route.ts';

/** The parts of a hub the routes use, all made before the API is built. */
export interface HubParts {
  options: HubOptions;
  now: () => number;
  store: HubStore;
  catalog: SeriesCatalog;
  registry: SensorRegistry;
  latest: LatestView;
  access: AccessControl;
  activity: ActivityLog;
  liveStream: LiveStream;
  commits: GroupCommit;
  /** readings from inputs other than the sensor port, into the same commit path */
  ingest: BatchIngest;
  /** the MQTT bridge, when the hub runs one */
  mqtt: MqttBridge | null;
  reportNow: ReportNow;
  sensors: SensorServer;
  counters: IngestCounters;
  /** rows and duplicates stored by uploads since start */
  uploads: { rowsStored: number; duplicates: number };
  exportSlots: ExportSlots;
  uploadSpoolDir: string;
  alerts: AlertService;
  /** cluster mode: tells the other hubs of an upload, for their latest and live subscribers (hub/cluster/upload-announcer.ts) */
  announceUploads?: { newest(newest: { seriesId: number; ts: number; value: number }[]): void; rows(rows: Columns): void };
}

export function hubRoutes(p: HubParts): ((app: FastifyInstance) => void)[] {
  const { options } = p;
  return [
    (app) => registerActivityHooks(app, p.activity),
    (app) => registerAccessRoutes(app, { access: p.access, activity: p.activity }),
    (app) => registerBackupRoute(app, { store: p.store, activity: p.activity, dataDir: options.dataDir }),
    (app) =>
      registerHistoryRoute(app, {
        store: p.store,
        access: p.access,
        slots: p.exportSlots,
        limits: {
          maxExports: options.maxConcurrentExports,
          maxExportsPerUser: options.maxExportsPerUser,
          stallTimeoutMs: options.exportStallTimeoutMs,
        },
        onExport: (info, request) => {
          if (!info.cancelled) request.activityDetail = info.detail;
          // An abandoned export never completes its response: record it here.
          else recordRequest(p.activity, request, 'export', request.url.split('?')[1] ?? '', info.code, info.detail);
        },
      }),
    (app) =>
      registerReportNowRoute(app, p.reportNow, (answer, request) => {
        request.activityDetail = `requested ${answer.requested}, responded ${answer.responded}, missing ${answer.missing.length}`;
      }),
    (app) =>
      registerStreamRoute(app, {
        stream: p.liveStream,
        store: p.store,
        access: p.access,
        now: p.now,
        options: {
          maxStreams: options.streamMaxConnections,
          maxStreamsPerUser: options.streamMaxConnectionsPerUser,
          heartbeatMs: options.streamHeartbeatMs,
        },
      }),
    // after the reading stream's, whose registration brings @fastify/websocket
    (app) =>
      registerActivityStreamRoute(app, {
        activity: p.activity,
        access: p.access,
        now: p.now,
        options: { heartbeatMs: options.streamHeartbeatMs },
      }),
    (app) =>
      registerMetricsRoute(app, {
        commits: p.commits.stats,
        uploads: p.uploads,
        ingest: p.counters,
        reportNow: p.reportNow.stats,
        stream: p.liveStream.stats,
        streamHeldBytes: () => p.liveStream.heldBytes,
        exportsRunning: () => p.exportSlots.active,
        activityEventsDropped: () => p.activity.dropped,
        registry: p.registry,
        latest: p.latest,
        connections: () => p.sensors.connectionCount,
        connectionsAccepted: () => p.sensors.acceptedCount,
        tlsHandshakeFailures: () => p.sensors.tlsFailedCount,
        bufferedRows: () => p.commits.bufferedRows,
        inputs: p.ingest.counters,
        mqtt: p.mqtt && { stats: p.mqtt.stats, connectedLinks: () => p.mqtt!.connectedLinks },
        families: [
          (registry) => addAlertFamilies(registry, p.alerts),
          (registry) => addRetentionFamilies(registry, () => p.store.retention ?? null),
          (registry) => addStoreProblemFamilies(registry, () => p.commits.storeProblem, p.now),
        ],
      }),
    (app) => registerAlertsRoutes(app, { alerts: p.alerts, activity: p.activity, now: p.now }),
    // InfluxDB line protocol (Telegraf, Home Assistant, client libraries): their own scope, errors in InfluxDB's shape
    (app) => registerInfluxRoutes(app, { access: p.access, ingest: p.ingest, ...INPUT_LIMITS }),
    // Prometheus remote write 1.0 (an agent scraping node_exporter and others)
    (app) => registerPrometheusRoute(app, { access: p.access, ingest: p.ingest, ...INPUT_LIMITS }),
    (app) =>
      registerUploadRoute(app, {
        store: p.store,
        catalog: p.catalog,
        registry: p.registry,
        now: p.now,
        // In cluster mode other hubs' subscribers want an upload's rows too: this hub cannot see them.
        hasSubscribers: () => p.liveStream.hasSubscribers || p.announceUploads !== undefined,
        growth: p.ingest.growth,
        onStored: (r) => {
          p.uploads.rowsStored += r.accepted;
          p.uploads.duplicates += r.duplicates;
          if (r.newest.length > 0) p.announceUploads?.newest(r.newest);
        },
        publish: (rows) => {
          p.liveStream.publish(rows);
          p.announceUploads?.rows(rows);
        },
        spoolDir: p.uploadSpoolDir,
        maxUploadBytes: options.maxUploadBytes,
        uploadBodyTimeoutMs: options.uploadBodyTimeoutMs,
        uploadIdleTimeoutMs: options.uploadIdleTimeoutMs,
        maxConcurrentUploads: options.maxConcurrentUploads,
        onUpload: (info, request) => {
          if (!info.error) request.activityDetail = `accepted ${info.accepted}, duplicates ${info.duplicates}, ${info.bytes} bytes`;
        },
      }),
    // the dashboard's page and assets (web/), on the API's port; the page learns whether the hub is open
    (app) => registerWebRoute(app, { openHub: () => !p.access.loginRequired }),
  ];
}
