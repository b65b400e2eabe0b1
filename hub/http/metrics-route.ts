/**
 * `GET /metrics`: Prometheus text exposition (prom-client) of the hub's own counters and a
 * gauge per latest reading. Values are read from the hub's stats at scrape time, so nothing
 * on the ingest path touches the metrics library.
 *
 * Rooms scope the scrape like every other answer. The sensor counts and the reading gauges
 * are counted over the asker's rooms. The hub-wide counters (messages, commits, uploads,
 * connections, ...) cannot be split by room, and their rates would show the activity of rooms
 * the asker may not see: only a principal of every room (`*`, or anyone on an open hub) gets them.
 */
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Registry } from 'prom-client';
import type { CommitStats } from '../ingest/group-commit.ts';
import type { SourceCounters } from '../ingest/source-counters.ts';
import type { IngestCounters } from '../ingest/sensor-session.ts';
import type { MqttStats } from '../mqtt/mqtt-stats.ts';
import type { LatestView } from '../sensors/latest-view.ts';
import type { StreamStats } from '../stream/live-stream.ts';
import type { ReportNowStats } from '../sensors/report-now.ts';
import type { SensorRegistry } from '../sensors/sensor-registry.ts';
import { scopeOf } from '../access/principal.ts';
import { inScope, type RoomScope } from '../access/room-scope.ts';
import { NO_FILTERS, type Filters } from './filters.ts';
import { scopeFilters } from './auth.ts';

export interface MetricsSources {
  commits: CommitStats;
  uploads: { rowsStored: number; duplicates: number };
  ingest: IngestCounters;
  reportNow: ReportNowStats;
  stream: StreamStats;
  /** bytes held for stream subscribers: queued readings and unsent socket bytes */
  streamHeldBytes(): number;
  exportsRunning(): number;
  activityEventsDropped(): number;
  registry: SensorRegistry;
  latest: LatestView;
  connections(): number;
  connectionsAccepted(): number;
  tlsHandshakeFailures(): number;
  bufferedRows(): number;
  /** what each input (MQTT, InfluxDB line protocol, Prometheus remote write) took and refused */
  inputs: SourceCounters;
  /** the MQTT bridge, when the hub runs one (--mqtt) */
  mqtt?: { stats: MqttStats; connectedLinks(): number } | null;
  /** more hub-wide families, each added by its feature (the alerts: hub/alerts/alert-metrics.ts) */
  families?: ((registry: Registry) => void)[];
}

/** A counter whose value is read from `read` at scrape time. */
function mirroredCounter(registry: Registry, name: string, help: string, read: () => number): void {
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

function gauge(registry: Registry, name: string, help: string, read: () => number): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
}

export function registerMetricsRoute(app: FastifyInstance, src: MetricsSources): void {
  /** the families about the whole hub, for principals of every room only */
  const registry = new Registry();
  gauge(registry, 'roomwatch_sensor_connections', 'Sensor TCP connections open now.', () => src.connections());
  mirroredCounter(registry, 'roomwatch_sensor_connections_accepted_total', 'Sensor TCP connections accepted.', () =>
    src.connectionsAccepted(),
  );
  mirroredCounter(registry, 'roomwatch_tls_handshake_failures_total', 'Sensor connections whose TLS handshake failed.', () =>
    src.tlsHandshakeFailures(),
  );
  mirroredCounter(registry, 'roomwatch_messages_total', 'Valid sensor messages received.', () => src.ingest.messages);
  mirroredCounter(
    registry,
    'roomwatch_readings_received_total',
    'Valid readings received from sensors.',
    () => src.ingest.readingsReceived,
  );
  mirroredCounter(
    registry,
    'roomwatch_readings_stored_total',
    'Readings newly stored (sensors, reports and uploads).',
    () => src.commits.rowsStored + src.uploads.rowsStored,
  );
  mirroredCounter(registry, 'roomwatch_readings_uploaded_total', 'Readings newly stored by uploads.', () => src.uploads.rowsStored);
  mirroredCounter(
    registry,
    'roomwatch_duplicates_total',
    'Readings that repeated a stored identity and were not stored again.',
    () => src.commits.duplicates + src.uploads.duplicates,
  );
  mirroredCounter(registry, 'roomwatch_acks_total', 'Acks sent to sensors.', () => src.ingest.acksSent);
  mirroredCounter(registry, 'roomwatch_commits_total', 'Group commits to the store.', () => src.commits.commits);
  mirroredCounter(registry, 'roomwatch_commit_failures_total', 'Group commits that failed.', () => src.commits.failedCommits);
  mirroredCounter(registry, 'roomwatch_commit_seconds_total', 'Time spent in group commits.', () => src.commits.flushMsTotal / 1000);
  mirroredCounter(
    registry,
    'roomwatch_commit_rows_checked_total',
    'Readings a commit checked against the stored identities (not known to be new).',
    () => src.commits.rowsChecked,
  );
  gauge(registry, 'roomwatch_last_commit_seconds', 'Duration of the last group commit.', () => src.commits.lastFlushMs / 1000);
  gauge(registry, 'roomwatch_buffered_readings', 'Readings received and waiting for their commit.', () => src.bufferedRows());
  mirroredCounter(registry, 'roomwatch_report_now_rounds_total', 'Report-now requests.', () => src.reportNow.rounds);
  mirroredCounter(
    registry,
    'roomwatch_report_now_commands_total',
    'Report-now commands sent to sensors.',
    () => src.reportNow.commandsSent,
  );
  mirroredCounter(registry, 'roomwatch_reports_total', 'Report messages received.', () => src.reportNow.reports);
  gauge(registry, 'roomwatch_stream_subscribers', 'Live stream subscribers now.', () => src.stream.subscribers);
  mirroredCounter(registry, 'roomwatch_stream_messages_total', 'Readings sent to stream subscribers.', () => src.stream.sent);
  mirroredCounter(registry, 'roomwatch_stream_dropped_total', 'Readings dropped for slow stream subscribers.', () => src.stream.dropped);
  gauge(registry, 'roomwatch_stream_queued_bytes', 'Bytes held for stream subscribers (queued and unsent).', () => src.streamHeldBytes());
  mirroredCounter(
    registry,
    'roomwatch_stream_closed_slow_total',
    'Stream subscribers closed (1013) for reading too slowly.',
    () => src.stream.closedSlow,
  );
  gauge(registry, 'roomwatch_exports_running', 'History exports running now.', () => src.exportsRunning());
  mirroredCounter(
    registry,
    'roomwatch_activity_events_dropped_total',
    'Activity events that could not be stored (each is in the hub log).',
    () => src.activityEventsDropped(),
  );
  new Counter({
    name: 'roomwatch_rejected_total',
    help: 'Sensor messages answered with an error, by contract error code.',
    labelNames: ['code'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [code, n] of src.ingest.rejected) this.inc({ code: String(code) }, n);
    },
  });
  addInputFamilies(registry, src);
  if (src.mqtt) addMqttFamilies(registry, src.mqtt);
  for (const add of src.families ?? []) add(registry);
  app.get('/metrics', async (request, reply) => {
    const scope = scopeOf(request.principal);
    const rooms = new Registry();
    addSensorGauges(rooms, src.registry, scope);
    addReadingGauges(rooms, src.latest, scopeFilters(request.principal, NO_FILTERS));
    const hubWide = scope.all ? await registry.metrics() : '';
    return reply.type(registry.contentType).send(hubWide + (await rooms.metrics()));
  });
}

/** What each way in took (readings accepted into a commit) and refused, by reason. */
function addInputFamilies(registry: Registry, src: MetricsSources): void {
  new Counter({
    name: 'roomwatch_input_readings_total',
    help: 'Readings taken by each way in (tcp, upload, mqtt, influx, prometheus): accepted for storage, duplicates included.',
    labelNames: ['source'],
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ source: 'tcp' }, src.ingest.readingsReceived);
      this.inc({ source: 'upload' }, src.uploads.rowsStored + src.uploads.duplicates);
      for (const [source, n] of src.inputs.taken) this.inc({ source }, n);
    },
  });
  new Counter({
    name: 'roomwatch_input_refused_total',
    help: 'Readings, lines or samples an input did not store, by source and reason (docs/API.md "Metrics").',
    labelNames: ['source', 'reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const r of src.inputs.refusals()) this.inc({ source: r.source, reason: r.reason }, r.n);
    },
  });
}

/** The MQTT bridge's counters (hub/mqtt/mqtt-stats.ts): messages by outcome, refusals by reason. */
function addMqttFamilies(registry: Registry, mqtt: { stats: MqttStats; connectedLinks(): number }): void {
  const { stats } = mqtt;
  gauge(registry, 'roomwatch_mqtt_links_connected', 'MQTT bridge connections to the broker up now.', () => mqtt.connectedLinks());
  const byLabel = (name: string, help: string, label: string, read: () => Map<string, number>) =>
    new Counter({
      name,
      help,
      labelNames: [label],
      registers: [registry],
      collect() {
        this.reset();
        for (const [key, n] of read()) this.inc({ [label]: key }, n);
      },
    });
  byLabel(
    'roomwatch_mqtt_messages_total',
    'MQTT messages taken, by outcome (stored, retained, ignored, unmapped, refused).',
    'outcome',
    () => stats.messages,
  );
  byLabel('roomwatch_mqtt_refused_total', 'MQTT messages and readings refused, by reason.', 'reason', () => stats.refused);
  mirroredCounter(
    registry,
    'roomwatch_mqtt_readings_stored_total',
    'Readings from MQTT accepted into a commit.',
    () => stats.readingsStored,
  );
  mirroredCounter(
    registry,
    'roomwatch_mqtt_readings_retained_total',
    'Readings from retained MQTT messages put into latest only.',
    () => stats.readingsRetained,
  );
  mirroredCounter(
    registry,
    'roomwatch_mqtt_submit_retries_total',
    'MQTT batches held unacknowledged because the hub was busy or its store failing.',
    () => stats.submitRetries,
  );
}

/** The sensor counts, over the sensors whose current room is in `scope` (as `GET /api/v1/sensors` lists them). */
function addSensorGauges(registry: Registry, sensors: SensorRegistry, scope: RoomScope): void {
  const count = (connectedOnly: boolean) => () => {
    let n = 0;
    for (const r of sensors.records.values()) if ((!connectedOnly || r.connected) && inScope(scope, r.room)) n++;
    return n;
  };
  gauge(registry, 'roomwatch_sensors_connected', 'Sensors connected (said hello) now, in your rooms.', count(true));
  gauge(registry, 'roomwatch_sensors_known', 'Sensors ever seen, in your rooms.', count(false));
}

function addReadingGauges(registry: Registry, latest: LatestView, filters: Filters): void {
  new Gauge({
    name: 'roomwatch_reading',
    help: 'The latest value of each sensor and metric.',
    labelNames: ['sensor', 'room', 'metric', 'unit'],
    registers: [registry],
    collect() {
      this.reset();
      for (const r of latest.readings(filters)) this.set({ sensor: r.sensor, room: r.room, metric: r.metric, unit: r.unit }, r.value);
    },
  });
  new Gauge({
    name: 'roomwatch_reading_timestamp_seconds',
    help: 'When the latest value of each sensor and metric was taken.',
    labelNames: ['sensor', 'room', 'metric'],
    registers: [registry],
    collect() {
      this.reset();
      for (const r of latest.readings(filters)) this.set({ sensor: r.sensor, room: r.room, metric: r.metric }, r.ts / 1000);
    },
  });
}
