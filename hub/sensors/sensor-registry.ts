/**
 * Every sensor ever seen: its room, declared metrics, last sighting, whether it is
 * connected and from where, and its connection history. Kept in memory, persisted with
 * the commits: connection events at once, a row whose room, address or metrics changed
 * within a second, and last-seen times alone only once a minute (every message moves them:
 * writing 10,000 rows a second held up the commits sensors and report-now wait for), as a
 * one-column update; a stopping hub writes them all.
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
  /** metrics with stored readings, as an array of just their number (see addMetric) */
  metrics: readonly string[];
  connected: boolean;
  connectionId: number;
  /** the last_seen the store has (or will have once the commit under way lands) */
  persistedSeen: number;
  /**
   * How its readings arrived last; persisted with the row (see SOURCE_KEY). A row written before
   * it was: 'tcp' for a sensor that has connected to the sensor port (it has an address), else null.
   */
  source: Source | null;
}

export class SensorRegistry {
  /** by sensor id */
  readonly records = new Map<string, SensorRecord>();
  /** rows to write whole: a new sensor, or a new room, address or metrics */
  private readonly dirty = new Set<SensorRecord>();
  /** last_seen alone, with the next commit (a disconnect's time goes with its connection event) */
  private readonly seenSoon = new Set<SensorRecord>();
  private events: ConnectionEvent[] = [];
  private nextConnectionId = 1;
  private lastPersistMs = 0;
  private lastSeenPersistMs = 0;

  constructor(
    private readonly persistIntervalMs = 1_000,
    /** how often last-seen times alone are written: after a crash they are at most this old */
    private readonly seenPersistIntervalMs = SEEN_PERSIST_INTERVAL_MS,
  ) {}

  load(state: LoadedState): void {
    for (const row of state.sensors) {
      // The row's JSON was parsed with a prototype: rebuilt without one before any lookup.
      this.records.set(row.sensor, {
        ...row,
        declaredMetrics: declaredTable(row.declaredMetrics),
        metrics: [],
        connected: false,
        connectionId: 0,
        persistedSeen: row.lastSeen,
        source: storedSource(row.declaredMetrics) ?? (row.address === null ? null : 'tcp'),
      });
    }
    // Readings are committed before the registry row of a new sensor may be: never lose the sensor.
    for (const s of state.series) {
      let rec = this.records.get(s.sensor);
      if (!rec) {
        rec = this.create(s.sensor, s.room, 0);
        this.dirty.add(rec);
      }
      addMetric(rec, s.metric);
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
    this.seenSoon.add(rec);
  }

  /** A message arrived: only the time moves, written with the once-a-minute last-seen update. */
  touch(rec: SensorRecord, now: number): void {
    rec.lastSeen = now;
  }

  /** A sensor known only from data (an upload): registered in the room of its rows. */
  seenInData(sensor: string, room: string, metric: string, now: number): SensorRecord {
    let rec = this.records.get(sensor);
    if (!rec) {
      rec = this.create(sensor, room, now);
      this.dirty.add(rec);
    }
    if (addMetric(rec, metric)) this.dirty.add(rec);
    if (rec.source !== 'upload') this.dirty.add(rec);
    rec.source = 'upload';
    return rec;
  }

  /**
   * Readings of `sensor` arrived from an input (hub/ingest/batch-ingest.ts): registered if new,
   * moved to `room` if they name one (as a hello moves it), and seen now.
   */
  heardFrom(sensor: string, room: string | undefined, source: Source, now: number): SensorRecord {
    let rec = this.records.get(sensor);
    if (!rec) {
      rec = this.create(sensor, room ?? DEFAULT_ROOM, now);
      this.dirty.add(rec);
    }
    if (room !== undefined && room !== rec.room) {
      rec.room = room;
      this.dirty.add(rec);
    }
    if (rec.source !== source) this.dirty.add(rec);
    rec.source = source;
    rec.lastSeen = now;
    return rec;
  }

  noteMetric(rec: SensorRecord, metric: string): void {
    addMetric(rec, metric);
  }

  /**
   * What to persist now: connection events always; changed rows at most once per interval,
   * or with connection events; last-seen times alone once per seen interval. All when forced.
   */
  takeChanges(now: number, force: boolean): { sensors: SensorRow[]; connections: ConnectionEvent[] } {
    const connections = this.events;
    this.events = [];
    const sensors: SensorRow[] = [];
    // A row written whole (now or later) carries its last_seen anyway.
    for (const r of this.seenSoon) if (!this.dirty.has(r)) sensors.push(sensorRow(r, true));
    this.seenSoon.clear();
    if (this.dirty.size > 0 && (force || connections.length > 0 || now - this.lastPersistMs >= this.persistIntervalMs)) {
      for (const r of this.dirty) sensors.push(sensorRow(r, false));
      this.dirty.clear();
      this.lastPersistMs = now;
    }
    if (force || now - this.lastSeenPersistMs >= this.seenPersistIntervalMs) {
      // A scan, once a minute: nothing is kept per message to find them.
      for (const r of this.records.values()) if (r.lastSeen !== r.persistedSeen && !this.dirty.has(r)) sensors.push(sensorRow(r, true));
      this.lastSeenPersistMs = now;
    }
    return { sensors, connections };
  }

  /** Whether anything waits to be persisted (a stopping hub commits until nothing does). */
  get hasChanges(): boolean {
    if (this.events.length > 0 || this.dirty.size > 0) return true;
    for (const r of this.records.values()) if (r.lastSeen !== r.persistedSeen) return true;
    return false;
  }

  /** Gives back changes whose commit failed. */
  restore(changes: { sensors: SensorRow[]; connections: ConnectionEvent[] }): void {
    this.events = changes.connections.concat(this.events);
    for (const s of changes.sensors) {
      const rec = this.records.get(s.sensor);
      if (!rec) continue;
      if (s.lastSeenOnly) this.seenSoon.add(rec);
      else this.dirty.add(rec);
    }
  }

  view(rec: SensorRecord): SensorInfo {
    const metrics = new Set([...rec.metrics, ...Object.keys(rec.declaredMetrics)]);
    return {
      sensor: rec.sensor,
      room: rec.room,
      connected: rec.connected,
      last_seen: rec.lastSeen > 0 ? rec.lastSeen : null,
      address: rec.address,
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
      metrics: [],
      connected: false,
      connectionId: 0,
      persistedSeen: -1,
      source: null,
    };
    this.records.set(sensor, rec);
    return rec;
  }
}

/** Adds a metric the sensor has readings of; false if it was known (called once per new series, not per reading). */
function addMetric(rec: SensorRecord, metric: string): boolean {
  if (rec.metrics.includes(metric)) return false;
  // concat() makes an array of the exact size (3 metrics: ~80 bytes); push() or a spread leave
  // room for 16 more (~200 bytes), a Set takes ~160.
  rec.metrics = rec.metrics.concat(metric);
  return true;
}

const NOTHING_DECLARED: Readonly<Record<string, string>> = Object.freeze(Object.create(null) as Record<string, string>);

/** Last-seen times alone are written this often (a crash loses at most this much of them). */
export const SEEN_PERSIST_INTERVAL_MS = 60_000;

/** The row as the store keeps it; marked `lastSeenOnly` when only last_seen needs writing. */
function sensorRow(r: SensorRecord, lastSeenOnly: boolean): SensorRow {
  r.persistedSeen = r.lastSeen;
  const row: SensorRow = {
    sensor: r.sensor,
    room: r.room,
    firstSeen: r.firstSeen,
    lastSeen: r.lastSeen,
    address: r.address,
    // 'tcp' with an address is what a row without a source means: such rows stay as they were.
    declaredMetrics:
      r.source === null || (r.source === 'tcp' && r.address !== null)
        ? r.declaredMetrics
        : { ...r.declaredMetrics, [SOURCE_KEY]: r.source },
  };
  if (lastSeenOnly) row.lastSeenOnly = true;
  return row;
}

/**
 * A metric -> unit table without a prototype, from a Map or from an object's own entries (a
 * hello's, or a stored row's parsed JSON). Entries whose unit is not a string are dropped: a
 * stored row is read back from disk, and a unit is never anything else.
 */
export function declaredTable(source: ReadonlyMap<string, string> | Readonly<Record<string, unknown>>): Readonly<Record<string, string>> {
  // Most sensors declare nothing: they share one empty table (a table of its own costs each ~200 bytes).
  if (source instanceof Map ? source.size === 0 : Object.keys(source).length === 0) return NOTHING_DECLARED;
  const table = Object.create(null) as Record<string, string>;
  const entries: Iterable<[string, unknown]> = source instanceof Map ? source.entries() : Object.entries(source);
  // With no prototype there is no `__proto__` setter: assigning that key makes an own entry.
  for (const [metric, unit] of entries) if (typeof unit === 'string' && metric !== SOURCE_KEY) table[metric] = unit;
  return Object.keys(table).length === 0 ? NOTHING_DECLARED : table;
}

/**
 * A row keeps its sensor's source in its declared-metrics JSON under this key, which no metric
 * name can be (they start with a-z): persisted with the row, and no change of the store's schema.
 */
const SOURCE_KEY = '@source';
const SOURCES: ReadonlySet<string> = new Set<Source>(['tcp', 'mqtt', 'influx', 'prometheus', 'upload']);

function storedSource(declared: Readonly<Record<string, unknown>>): Source | null {
  const v = Object.hasOwn(declared, SOURCE_KEY) ? declared[SOURCE_KEY] : undefined;
  return typeof v === 'string' && SOURCES.has(v) ? (v as Source) : null;
}
