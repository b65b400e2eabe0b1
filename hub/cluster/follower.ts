/**
 * Follows the readings stream from its end, so this hub's latest, live stream, alerts,
 * catalog and registry show every hub's sensors, not only its own. Its own bundles are
 * skipped by their Roomwatch-Hub header: the commit already fed them here.
 *
 * An ordered consumer (ephemeral, acks nothing, recreated by the client at the next sequence
 * after a server or connection failure) keeps the order of each partition. Other hubs'
 * series get ids in this hub's catalog by name; their registry rows update records here
 * without marking them for writing (the hub that sent them had them written).
 *
 * Never a duplicate on the live stream: a bundle's in-order rows are streamed unless they repeat
 * one of the channel's recent identities; its late rows (bundle.ts) never are. Those come back
 * from the writer that stored them, on LATE_ROWS_SUBJECT, only if PostgreSQL found them new, and
 * every hub streams them from there (this one too, whichever hub committed them).
 */
import { DeliverPolicy, type ConsumerMessages } from '@nats-io/jetstream';
import type { Subscription } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { SeriesCatalog } from '../ingest/series-catalog.ts';
import { declaredTable, type SensorRecord, type SensorRegistry, type Source } from '../sensors/sensor-registry.ts';
import type { RecentIdentities } from './recent-identities.ts';
import { remoteRecord } from './remote-record.ts';
import type { Columns, SensorRow } from '../store/store-messages.ts';
import { decodeBundle, lateFromOf, type ReadingBundle } from './bundle.ts';
import { HEADER_HUB, LATE_ROWS_SUBJECT, STREAM_NAME, UPLOADED_ROWS_SUBJECT, UPLOADED_SUBJECT } from './cluster-names.ts';
import type { NatsLink } from './nats-link.ts';

export interface FollowerTargets {
  catalog: SeriesCatalog;
  registry: SensorRegistry;
  liveStream: { publish(rows: Columns, mask?: Uint8Array): void };
  alerts: { committed(catalog: SeriesCatalog, rows: Columns, mask?: Uint8Array): void };
  /** shared with the hub's CommitPublisher: a reading this hub saw already is not streamed again */
  recent?: RecentIdentities;
}

export interface FollowerStats {
  bundles: number;
  readings: number;
  /** this hub's own bundles, skipped */
  own: number;
  /** messages that were not bundles (logged, then skipped) */
  bad: number;
  /** other hubs' upload announcements applied to latest */
  uploads: number;
  /** late readings the writers stored as new, streamed here */
  late: number;
}

/** A follower whose hub stopped asking for this long is deleted by the server. */
const FOLLOWER_INACTIVE_MS = 30_000;

/** Bad messages logged one by one up to this many; after that only counted. */
const BAD_LOGGED = 10;

export class Follower {
  readonly stats: FollowerStats = { bundles: 0, readings: 0, own: 0, bad: 0, uploads: 0, late: 0 };
  private messages: ConsumerMessages | null = null;
  private uploads: Subscription | null = null;
  private uploadRows: Subscription | null = null;
  private lateRows: Subscription | null = null;
  private loop: Promise<void> | null = null;

  constructor(
    private readonly hubId: string,
    private readonly t: FollowerTargets,
    private readonly log: Logger,
  ) {}

  /** Starts at the stream's end: what other hubs commit from now on. */
  async start(link: NatsLink): Promise<void> {
    const consumer = await link.js.consumers.get(STREAM_NAME, {
      deliver_policy: DeliverPolicy.New,
      // The stream keeps a message while any consumer has not had it: a killed hub's follower
      // must not hold the stream for the client's default 5 minutes.
      inactive_threshold: FOLLOWER_INACTIVE_MS,
    });
    this.uploads = link.nc.subscribe(UPLOADED_SUBJECT, {
      callback: (err, m) => {
        if (!err) this.onUploaded(m.data);
      },
    });
    this.uploadRows = link.nc.subscribe(UPLOADED_ROWS_SUBJECT, {
      callback: (err, m) => {
        if (!err) this.onUploadedRows(m.data);
      },
    });
    this.lateRows = link.nc.subscribe(LATE_ROWS_SUBJECT, {
      callback: (err, m) => {
        if (!err) this.onLateRows(m.data);
      },
    });
    const messages = await consumer.consume({ max_messages: 256 });
    this.messages = messages;
    this.loop = (async () => {
      for await (const m of messages) this.onMessage(m.headers?.get(HEADER_HUB), m.data);
    })().catch((err: Error) => this.log.error({ err }, 'following the readings stream stopped; latest shows only this hub'));
  }

  async stop(): Promise<void> {
    this.uploads?.unsubscribe();
    this.uploadRows?.unsubscribe();
    this.lateRows?.unsubscribe();
    this.uploads = null;
    this.uploadRows = null;
    this.lateRows = null;
    await this.messages?.close().catch(() => {});
    await this.loop;
    this.messages = null;
  }

  /** One stream message: skipped if this hub sent it, else applied. */
  onMessage(sender: string | undefined, data: Uint8Array): void {
    if (sender === this.hubId) {
      this.stats.own++;
      return;
    }
    let bundle: ReadingBundle;
    try {
      bundle = decodeBundle(data);
    } catch (err) {
      if (++this.stats.bad <= BAD_LOGGED) this.log.error({ err, sender }, 'a message in the readings stream is not a bundle; skipped');
      return;
    }
    if (bundle.hub === this.hubId) {
      this.stats.own++;
      return;
    }
    this.apply(bundle);
  }

  /** Another hub's committed bundle: into the catalog, registry, latest, live stream and alerts. */
  apply(b: ReadingBundle): void {
    const { catalog, registry } = this.t;
    this.stats.bundles++;
    for (const row of b.sensors) this.applySensorRow(row);
    const ids = b.series.map((s) => {
      const id = catalog.seriesId(s.sensor, s.room, s.metric, s.unit);
      registry.noteMetric(this.record(s.sensor, s.room), s.metric);
      return id;
    });
    if (b.n === 0) return;
    const series = new Int32Array(b.n);
    for (let i = 0; i < b.n; i++) {
      const id = ids[b.seriesIndex[i]!]!;
      series[i] = id;
      // A sensor that moves to this hub and resends what the other hub stored: checked as a maybe-duplicate.
      catalog.raiseBound(catalog.channel(id), b.ts[i]!);
    }
    const rows: Columns = { n: b.n, series, ts: b.ts, value: b.value };
    // 1: streamed (in order, not a recent repeat); late rows wait for the writer's word, for latest too.
    const mask = new Uint8Array(b.n);
    const late = lateFromOf(b);
    const recent = this.t.recent;
    for (let i = 0; i < b.n; i++) {
      const repeat = recent?.repeat(catalog.channel(series[i]!).id, b.ts[i]!) ?? false;
      mask[i] = i < late && !repeat ? 1 : 0;
    }
    catalog.applyCommitted(rows, mask);
    this.t.liveStream.publish(rows, mask);
    this.t.alerts.committed(catalog, rows, mask);
    this.stats.readings += b.n;
  }

  /** Another hub's upload: its newest reading per series moves latest here (never backwards), as it did there. */
  onUploaded(data: Uint8Array): void {
    const b = this.decodeOther(data);
    if (!b) return;
    const { catalog, registry } = this.t;
    for (const row of b.sensors) this.applySensorRow(row);
    const ids = b.series.map((s) => {
      const id = catalog.seriesId(s.sensor, s.room, s.metric, s.unit);
      registry.noteMetric(this.record(s.sensor, s.room), s.metric);
      return id;
    });
    for (let i = 0; i < b.n; i++) {
      const id = ids[b.seriesIndex[i]!]!;
      catalog.raiseBound(catalog.channel(id), b.ts[i]!);
      catalog.offerLatest(id, b.ts[i]!, b.value[i]!);
      const rec = registry.records.get(b.series[b.seriesIndex[i]!]!.sensor);
      if (rec && rec.source === null) rec.source = 'upload';
    }
    this.stats.uploads++;
  }

  /** Another hub's upload's new rows: to this hub's live subscribers (not alerts: an upload feeds none on its own hub either). */
  onUploadedRows(data: Uint8Array): void {
    const b = this.decodeOther(data);
    if (!b || b.n === 0) return;
    const { catalog } = this.t;
    const ids = b.series.map((s) => catalog.seriesId(s.sensor, s.room, s.metric, s.unit));
    const series = new Int32Array(b.n);
    const mask = new Uint8Array(b.n).fill(1);
    for (let i = 0; i < b.n; i++) {
      series[i] = ids[b.seriesIndex[i]!]!;
      if (this.t.recent?.repeat(catalog.channel(series[i]!).id, b.ts[i]!)) mask[i] = 0;
    }
    this.t.liveStream.publish({ n: b.n, series, ts: b.ts, value: b.value }, mask);
  }

  /**
   * Late readings a writer stored as new (PostgreSQL's key said so, once for the whole cluster):
   * to latest (never backwards), the live subscribers and alerts, on every hub.
   */
  onLateRows(data: Uint8Array): void {
    let b: ReadingBundle;
    try {
      b = decodeBundle(data);
    } catch (err) {
      if (++this.stats.bad <= BAD_LOGGED) this.log.error({ err }, 'a late readings announcement is not a bundle; skipped');
      return;
    }
    if (b.n === 0) return;
    const { catalog } = this.t;
    const ids = b.series.map((s) => catalog.seriesId(s.sensor, s.room, s.metric, s.unit));
    const series = new Int32Array(b.n);
    for (let i = 0; i < b.n; i++) {
      series[i] = ids[b.seriesIndex[i]!]!;
      catalog.raiseBound(catalog.channel(series[i]!), b.ts[i]!);
    }
    const rows: Columns = { n: b.n, series, ts: b.ts, value: b.value };
    catalog.applyCommitted(rows);
    this.t.liveStream.publish(rows);
    this.t.alerts.committed(catalog, rows);
    this.stats.late += b.n;
  }

  private decodeOther(data: Uint8Array): ReadingBundle | null {
    try {
      const b = decodeBundle(data);
      return b.hub === this.hubId ? null : b;
    } catch (err) {
      if (++this.stats.bad <= BAD_LOGGED) this.log.error({ err }, 'an upload announcement is not a bundle; skipped');
      return null;
    }
  }

  private applySensorRow(row: SensorRow): void {
    const rec = this.record(row.sensor, row.room, row.firstSeen);
    if (row.lastSeen > rec.lastSeen) rec.lastSeen = row.lastSeen;
    if (!row.lastSeenOnly) {
      rec.room = row.room;
      rec.address = row.address;
      rec.declaredMetrics = declaredTable(row.declaredMetrics);
      if (row.firstSeen < rec.firstSeen) rec.firstSeen = row.firstSeen;
      rec.source = sourceOf(row) ?? rec.source;
    }
    // Written by the hub that sent it: this hub's last-seen scan must not write it again.
    rec.persistedSeen = rec.lastSeen;
  }

  private record(sensor: string, room: string, firstSeen = 0): SensorRecord {
    return remoteRecord(this.t.registry, sensor, room, firstSeen);
  }
}

const SOURCES: ReadonlySet<string> = new Set<Source>(['tcp', 'mqtt', 'influx', 'prometheus', 'upload']);

/** How the row's sensor sends: the registry keeps it in the row under '@source' ('tcp' with an address without it). */
function sourceOf(row: SensorRow): Source | null {
  const v = Object.hasOwn(row.declaredMetrics, '@source') ? row.declaredMetrics['@source'] : undefined;
  if (typeof v === 'string' && SOURCES.has(v)) return v as Source;
  return row.address !== null ? 'tcp' : null;
}
