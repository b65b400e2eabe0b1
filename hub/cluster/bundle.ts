/**
 * A bundle: one partition's readings of one group commit, as one JetStream message. The rows
 * travel as three typed arrays copied byte for byte, so 10,000 readings cost a memcpy, not a
 * JSON.stringify of each; the few names (series, sensors' registry rows) ride as JSON after them.
 *
 * Layout, little-endian, 32-byte header, 8-byte aligned:
 *   0  'RWB' + version (1)      4  reserved (0)
 *   8  gen (f64)               16  partition (u32)   20  n (u32)
 *  24  meta length (u32)       28  reserved (0)
 *  32  ts (n f64)  then  value (n f64)  then  seriesIndex (n i32)  then  meta (UTF-8 JSON)
 * meta = { hub, series: [[sensor, room, metric, unit], ...], sensors: SensorRow[], late?: k }
 *
 * `late` (optional, so bundles without late rows are byte for byte what they were, and a hub or
 * writer of the previous release reads these): rows k..n-1 are late: the publishing hub could
 * not tell them new (its catalog's claimTs: not above its channel's newest, nor in a stretch
 * known to be empty), so they may repeat a stored reading. No hub streams them from the bundle; the writer that
 * stores them announces those PostgreSQL found new (LATE_ROWS_SUBJECT).
 */
import type { SensorRow } from '../store/store-messages.ts';
import { ClusterError } from './cluster-error.ts';
import { PARTITIONS } from './cluster-names.ts';

export interface BundleSeries {
  sensor: string;
  room: string;
  metric: string;
  unit: string;
}

export interface ReadingBundle {
  hub: string;
  gen: number;
  partition: number;
  /** the series the rows use, by name (series ids are per hub) */
  series: BundleSeries[];
  n: number;
  /** row i is series[seriesIndex[i]] */
  seriesIndex: Int32Array;
  ts: Float64Array;
  value: Float64Array;
  /** registry updates of this partition's sensors */
  sensors: SensorRow[];
  /** rows from this index on are late (see the layout above); absent: none is */
  lateFrom?: number;
}

/** The index of a bundle's first late row (n when none is late). */
export function lateFromOf(b: ReadingBundle): number {
  return b.lateFrom === undefined ? b.n : Math.min(b.lateFrom, b.n);
}

const MAGIC = [0x52, 0x57, 0x42]; // 'RWB'
const VERSION = 1;
const HEADER_BYTES = 32;
/** 8 + 8 + 4 bytes a row */
export const BUNDLE_ROW_BYTES = 20;
/** a bound far above any message NATS accepts (its max_payload is at most 64 MiB) */
const MAX_ROWS = 64 * 1024 * 1024;

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

export function encodeBundle(b: ReadingBundle): Uint8Array {
  if (b.seriesIndex.length < b.n || b.ts.length < b.n || b.value.length < b.n) {
    throw new ClusterError('bad_bundle', `a bundle of ${b.n} rows has shorter columns`);
  }
  const n = b.n;
  const late = lateFromOf(b);
  const meta = utf8.encode(
    JSON.stringify({
      hub: b.hub,
      series: b.series.map((s) => [s.sensor, s.room, s.metric, s.unit]),
      sensors: b.sensors,
      ...(late < n ? { late } : {}),
    }),
  );
  const out = new Uint8Array(HEADER_BYTES + n * BUNDLE_ROW_BYTES + meta.length);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  out[3] = VERSION;
  view.setFloat64(8, b.gen, true);
  view.setUint32(16, b.partition, true);
  view.setUint32(20, n, true);
  view.setUint32(24, meta.length, true);
  let at = HEADER_BYTES;
  // Typed arrays are in the platform's byte order; every platform Node runs on here is little-endian.
  out.set(new Uint8Array(b.ts.buffer, b.ts.byteOffset, n * 8), at);
  at += n * 8;
  out.set(new Uint8Array(b.value.buffer, b.value.byteOffset, n * 8), at);
  at += n * 8;
  out.set(new Uint8Array(b.seriesIndex.buffer, b.seriesIndex.byteOffset, n * 4), at);
  at += n * 4;
  out.set(meta, at);
  return out;
}

/**
 * Rows from..to-1 of `b` (views, not copies) with `sensors`, naming only the series those rows
 * use; the late mark follows the rows.
 */
export function sliceBundle(b: ReadingBundle, from: number, to: number, sensors: SensorRow[]): ReadingBundle {
  const n = to - from;
  const remap = new Map<number, number>();
  const series: BundleSeries[] = [];
  const seriesIndex = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const old = b.seriesIndex[from + i]!;
    let idx = remap.get(old);
    if (idx === undefined) {
      idx = series.length;
      series.push(b.series[old]!);
      remap.set(old, idx);
    }
    seriesIndex[i] = idx;
  }
  const late = Math.max(0, lateFromOf(b) - from);
  return {
    ...b,
    n,
    series,
    seriesIndex,
    ts: b.ts.subarray(from, to),
    value: b.value.subarray(from, to),
    sensors,
    lateFrom: late < n ? late : undefined,
  };
}

function bad(why: string): never {
  throw new ClusterError('bad_bundle', `not a Roomwatch bundle: ${why}`);
}

/** Decodes and checks a bundle; the columns are copies, independent of `bytes`. */
export function decodeBundle(bytes: Uint8Array): ReadingBundle {
  if (bytes.length < HEADER_BYTES) bad(`${bytes.length} bytes, shorter than the header`);
  if (bytes[0] !== MAGIC[0] || bytes[1] !== MAGIC[1] || bytes[2] !== MAGIC[2]) bad('the magic bytes differ');
  if (bytes[3] !== VERSION) bad(`version ${bytes[3]}, this hub reads version ${VERSION}: run one version in a cluster`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const gen = view.getFloat64(8, true);
  const partition = view.getUint32(16, true);
  const n = view.getUint32(20, true);
  const metaLength = view.getUint32(24, true);
  if (!Number.isSafeInteger(gen) || gen < 0) bad(`gen ${gen}`);
  if (partition >= PARTITIONS) bad(`partition ${partition} of ${PARTITIONS}`);
  if (n > MAX_ROWS || HEADER_BYTES + n * BUNDLE_ROW_BYTES + metaLength !== bytes.length) {
    bad(`${n} rows and ${metaLength} bytes of names do not make ${bytes.length} bytes`);
  }
  let at = bytes.byteOffset + HEADER_BYTES;
  const ts = new Float64Array(bytes.buffer.slice(at, at + n * 8));
  at += n * 8;
  const value = new Float64Array(bytes.buffer.slice(at, at + n * 8));
  at += n * 8;
  const seriesIndex = new Int32Array(bytes.buffer.slice(at, at + n * 4));
  at += n * 4;
  const meta = parseMeta(bytes.subarray(at - bytes.byteOffset));
  const count = meta.series.length;
  for (let i = 0; i < n; i++) {
    const s = seriesIndex[i]!;
    if (s < 0 || s >= count) bad(`row ${i} names series ${s} of ${count}`);
    if (!Number.isFinite(ts[i]!)) bad(`row ${i} has ts ${ts[i]}`);
  }
  const out: ReadingBundle = { hub: meta.hub, gen, partition, series: meta.series, n, seriesIndex, ts, value, sensors: meta.sensors };
  if (meta.late !== undefined) {
    if (!Number.isSafeInteger(meta.late) || meta.late < 0 || meta.late > n) bad(`its late rows start at ${meta.late} of ${n}`);
    out.lateFrom = meta.late;
  }
  return out;
}

function parseMeta(bytes: Uint8Array): { hub: string; series: BundleSeries[]; sensors: SensorRow[]; late?: number } {
  let raw: unknown;
  try {
    raw = JSON.parse(utf8Strict.decode(bytes));
  } catch (e) {
    bad(`its names are not UTF-8 JSON (${(e as Error).message})`);
  }
  if (!isRecord(raw) || typeof raw.hub !== 'string' || raw.hub === '') bad('no hub id');
  if (!Array.isArray(raw.series) || !Array.isArray(raw.sensors)) bad('no series or sensors list');
  const series = raw.series.map((s: unknown, i): BundleSeries => {
    if (!Array.isArray(s) || s.length !== 4 || !s.every((x) => typeof x === 'string')) bad(`series ${i} is not 4 names`);
    const [sensor, room, metric, unit] = s as [string, string, string, string];
    return { sensor, room, metric, unit };
  });
  const sensors = raw.sensors.map((r: unknown, i) => {
    if (!isSensorRow(r)) bad(`sensor row ${i} is malformed`);
    return r;
  });
  const late = raw.late;
  if (late !== undefined && typeof late !== 'number') bad('its late mark is not a number');
  return { hub: raw.hub, series, sensors, ...(late === undefined ? {} : { late }) };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isSensorRow(r: unknown): r is SensorRow {
  return (
    isRecord(r) &&
    typeof r.sensor === 'string' &&
    typeof r.room === 'string' &&
    typeof r.firstSeen === 'number' &&
    typeof r.lastSeen === 'number' &&
    (r.address === null || typeof r.address === 'string') &&
    isRecord(r.declaredMetrics) &&
    Object.values(r.declaredMetrics).every((u) => typeof u === 'string') &&
    (r.lastSeenOnly === undefined || r.lastSeenOnly === true)
  );
}
