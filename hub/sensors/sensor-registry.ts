/**
 * Every sensor ever seen: its room, declared metrics, last sighting, whether it is
 * connected and from where, and its connection history. Kept in memory, persisted with
 * the commits (at most once a second for last-seen times, at once for connects).
 */
import type { SensorInfo } from '../../protocol/api.ts';
import { DEFAULT_ROOM } from '../../protocol/names.ts';
import type { ConnectionEvent, LoadedState, SensorRow } from '../store/store-messages.ts';

/** How a sensor's readings arrive: its TCP connection, an upload, or an input (hub/ingest/batch-ingest.ts). */
export type Source = 'tcp' | 'mqtt' | 'influx' | 'prometheus' | 'upload';

export interface SensorRecord {
  readonly sensor: string;
  room: string;
  firstSeen: number;
  lastSeen: number;
  address: string | null;
  /**
   * metric -> unit, as declared in hello. Always made by `declaredTable`: no prototype, so a
   * metric named `constructor` or `__proto__` is an entry like any other, for `[]` and `in` too.
   */
  declaredMetrics: Readonly<Record<string, string>>;
  /** metrics with stored readings */
  readonly metrics: Set<string>;
  connected: boolean;
  connectionId: number;
  /**
   * How its readings arrived last. Kept in memory only: after a restart, 'tcp' for a sensor
   * that has connected to the sensor port (it has an address), else null until it is heard from.
   */
  source: Source | null;
}

export class SensorRegistry {
  /** by sensor id */
  readonly records = new Map<string, SensorRecord>();
  private readonly dirty = new Set<SensorRecord>();
  private events: ConnectionEvent[] = [];
  private nextConnectionId = 1;
  private lastPersistMs = 0;

  constructor(private readonly persistIntervalMs = 1_000) {}

  load(state: LoadedState): void {
    for (const row of state.sensors) {
      // The row's JSON was parsed with a prototype: rebuilt without one before any lookup.
      this.records.set(row.sensor, {
        ...row,
        declaredMetrics: declaredTable(row.declaredMetrics),
        metrics: new Set(),
        connected: false,
        connectionId: 0,
        source: row.address === null ? null : 'tcp',
      });
    }
    // Readings are committed before the registry row of a new sensor may be: never lose the sensor.
    for (const s of state.series) {
      let rec = this.records.get(s.sensor);
      if (!rec) {
        rec = this.create(s.sensor, s.room, 0);
        this.dirty.add(rec);
      }
      rec.metrics.add(s.metric);
    }
    this.nextConnectionId = state.maxConnectionId + 1;
  }

  /** A sensor said hello: returns its record, now connected. */
  connect(
    sensor: string,
    room: string,
    address: string,
    declaredMetrics: ReadonlyMap<string, string> | Readonly<Record<string, string>>,
    now: number,
  ): SensorRecord {
    const rec = this.records.get(sensor) ?? this.create(sensor, room, now);
    rec.room = room;
    rec.address = address;
    rec.declaredMetrics = declaredTable(declaredMetrics);
    rec.lastSeen = now;
    rec.connected = true;
    rec.source = 'tcp';
    rec.connectionId = this.nextConnectionId++;
    this.events.push({ kind: 'connect', id: rec.connectionId, sensor, address, at: now });
    this.dirty.add(rec);
    return rec;
  }

  /** The connection `connectionId` ended; the sensor stays connected if a newer one took over. */
  disconnect(rec: SensorRecord, connectionId: number, now: number): void {
    this.events.push({ kind: 'disconnect', id: connectionId, at: now });
    if (rec.connectionId === connectionId) rec.connected = false;
    rec.lastSeen = now;
    this.dirty.add(rec);
  }

  touch(rec: SensorRecord, now: number): void {
    rec.lastSeen = now;
    this.dirty.add(rec);
  }

  /** A sensor known only from data (an upload): registered in the room of its rows. */
  seenInData(sensor: string, room: string, metric: string, now: number): SensorRecord {
    let rec = this.records.get(sensor);
    if (!rec) {
      rec = this.create(sensor, room, now);
      this.dirty.add(rec);
    }
    if (!rec.metrics.has(metric)) {
      rec.metrics.add(metric);
      this.dirty.add(rec);
    }
    rec.source = 'upload';
    return rec;
  }

  /**
   * Readings of `sensor` arrived from an input (hub/ingest/batch-ingest.ts): registered if new,
   * moved to `room` if they name one (as a hello moves it), and seen now.
   */
  heardFrom(sensor: string, room: string | undefined, source: Source, now: number): SensorRecord {
    const rec = this.records.get(sensor) ?? this.create(sensor, room ?? DEFAULT_ROOM, now);
    if (room !== undefined) rec.room = room;
    rec.source = source;
    rec.lastSeen = now;
    this.dirty.add(rec);
    return rec;
  }

  noteMetric(rec: SensorRecord, metric: string): void {
    rec.metrics.add(metric);
  }

  /** What to persist now: connection events always, sensor rows at most once per interval unless forced. */
  takeChanges(now: number, force: boolean): { sensors: SensorRow[]; connections: ConnectionEvent[] } {
    const connections = this.events;
    this.events = [];
    let sensors: SensorRow[] = [];
    if (this.dirty.size > 0 && (force || connections.length > 0 || now - this.lastPersistMs >= this.persistIntervalMs)) {
      sensors = [...this.dirty].map((r) => ({
        sensor: r.sensor,
        room: r.room,
        firstSeen: r.firstSeen,
        lastSeen: r.lastSeen,
        address: r.address,
        declaredMetrics: r.declaredMetrics,
      }));
      this.dirty.clear();
      this.lastPersistMs = now;
    }
    return { sensors, connections };
  }

  /** Whether anything waits to be persisted. */
  get hasChanges(): boolean {
    return this.events.length > 0 || this.dirty.size > 0;
  }

  /** Gives back changes whose commit failed. */
  restore(changes: { sensors: SensorRow[]; connections: ConnectionEvent[] }): void {
    this.events = changes.connections.concat(this.events);
    for (const s of changes.sensors) {
      const rec = this.records.get(s.sensor);
      if (rec) this.dirty.add(rec);
    }
  }

  view(rec: SensorRecord): SensorInfo {
    const metrics = new Set([...rec.metrics, ...Object.keys(rec.declaredMetrics)]);
    return {
      sensor: rec.sensor,
      room: rec.room,
      connected: rec.connected,
      last_seen: rec.lastSeen > 0 ? rec.lastSeen : null,
      metrics: [...metrics].sort(),
      source: rec.source,
    };
  }

  get connectedCount(): number {
    let n = 0;
    for (const r of this.records.values()) if (r.connected) n++;
    return n;
  }

  private create(sensor: string, room: string, now: number): SensorRecord {
    const rec: SensorRecord = {
      sensor,
      room,
      firstSeen: now,
      lastSeen: now,
      address: null,
      declaredMetrics: declaredTable(new Map()),
      metrics: new Set(),
      connected: false,
      connectionId: 0,
      source: null,
    };
    this.records.set(sensor, rec);
    return rec;
  }
}

/**
 * A metric -> unit table without a prototype, from a Map or from an object's own entries (a
 * hello's, or a stored row's parsed JSON). Entries whose unit is not a string are dropped: a
 * stored row is read back from disk, and a unit is never anything else.
 */
export function declaredTable(source: ReadonlyMap<string, string> | Readonly<Record<string, unknown>>): Readonly<Record<string, string>> {
  const table = Object.create(null) as Record<string, string>;
  const entries: Iterable<[string, unknown]> = source instanceof Map ? source.entries() : Object.entries(source);
  // With no prototype there is no `__proto__` setter: assigning that key makes an own entry.
  for (const [metric, unit] of entries) if (typeof unit === 'string') table[metric] = unit;
  return table;
}
