/**
 * A history request (`GET /api/v1/history.csv`, PROTOCOL.md §2), checked and in plain data,
 * so it can cross to the store worker; and the SQL that answers it.
 */

export interface HistoryQuery {
  sensors: string[] | null;
  rooms: string[] | null;
  metrics: string[] | null;
  /** inclusive */
  fromMs: number | null;
  /** exclusive */
  toMs: number | null;
  /** bucket length; null for raw rows */
  everyMs: number | null;
  time: 'iso' | 'ms';
}

// Names are checked against the contract's patterns before they get here, and none of the
// patterns admits a quote; the doubling is a second line of defence.
function list(values: string[]): string {
  // An empty list (a user with no rooms) matches nothing; `IN ()` would not parse.
  if (values.length === 0) return 'NULL';
  return values.map((v) => `'${v.replaceAll("'", "''")}'`).join(', ');
}

/** The query's filters on the series table (as `s`), or `true`. */
export function seriesWhere(q: HistoryQuery): string {
  const parts = seriesParts(q);
  return parts.length ? parts.join(' AND ') : 'true';
}

function seriesParts(q: HistoryQuery): string[] {
  const parts: string[] = [];
  if (q.sensors) parts.push(`s.sensor IN (${list(q.sensors)})`);
  if (q.rooms) parts.push(`s.room IN (${list(q.rooms)})`);
  if (q.metrics) parts.push(`s.metric IN (${list(q.metrics)})`);
  return parts;
}

function where(q: HistoryQuery): string {
  const parts = seriesParts(q);
  if (q.fromMs !== null) parts.push(`r.ts >= ${Math.trunc(q.fromMs)}`);
  if (q.toMs !== null) parts.push(`r.ts < ${Math.trunc(q.toMs)}`);
  return parts.length ? `WHERE ${parts.join(' AND ')}` : '';
}

/** Count and ts range of what a query selects, to cut it into windows. */
export function extentSql(q: HistoryQuery): string {
  return `SELECT count(*), min(r.ts), max(r.ts) FROM readings r JOIN series s ON s.id = r.series_id ${where(q)}`;
}

/** Whether a series of the catalog is one the query's filters select (its readings' ts aside). */
export function selectsSeries(q: HistoryQuery, s: { sensor: string; room: string; metric: string }): boolean {
  return (
    (!q.sensors || q.sensors.includes(s.sensor)) && (!q.rooms || q.rooms.includes(s.room)) && (!q.metrics || q.metrics.includes(s.metric))
  );
}

/**
 * The most rows a query can return: its readings raw; with buckets, also no more than one
 * bucket per selected series per bucket length in [minTs, maxTs] (usually far fewer than the
 * readings: a week of 1 Hz in 10 min buckets is 1,008 per series, not 604,800).
 */
export function outputBound(q: HistoryQuery, count: number, minTs: number, maxTs: number, seriesCount: number): number {
  if (q.everyMs === null) return count;
  const buckets = Math.floor(maxTs / q.everyMs) - Math.floor(minTs / q.everyMs) + 1;
  return Math.min(count, buckets * seriesCount);
}

/**
 * The query cut to [fromMs, toMs) windows of about `rowsPerWindow` output rows each (assuming an
 * even spread; `rows` from outputBound): each window is sorted on its own, so the sort's memory
 * (and with buckets the GROUP BY's, one entry per bucket) is one window's, not the export's.
 * With buckets, windows are whole buckets, so no bucket is split across two, and a chart's few
 * thousand buckets are one query however many readings they fold.
 */
export function windows(q: HistoryQuery, rows: number, minTs: number, maxTs: number, rowsPerWindow: number): HistoryQuery[] {
  const n = Math.max(1, Math.ceil(rows / rowsPerWindow));
  const align = q.everyMs ?? 1;
  const start = Math.floor(minTs / align) * align;
  const end = maxTs + 1;
  let width = Math.ceil((end - start) / n / align) * align;
  if (width <= 0) width = align;
  const out: HistoryQuery[] = [];
  for (let lo = start; lo < end; lo += width) {
    out.push({
      ...q,
      fromMs: Math.max(lo, q.fromMs ?? -Infinity),
      toMs: Math.min(lo + width, q.toMs ?? Infinity),
    });
  }
  return out;
}

/**
 * Raw rows: (series_id, ts, value), ordered by ts, sensor, metric. The order key of a series
 * is precomputed as a small integer, so the sort compares integers, not strings.
 */
export function rawSql(q: HistoryQuery): string {
  return `WITH s AS (SELECT id, sensor, room, metric, dense_rank() OVER (ORDER BY sensor, metric, room, unit) AS k FROM series)
    SELECT r.series_id, r.ts, r.value FROM readings r JOIN s ON s.id = r.series_id
    ${where(q)}
    ORDER BY r.ts, s.k`;
}

/** Buckets aligned to the epoch: (series_id, bucket start, count, min, max, mean). */
export function bucketSql(q: HistoryQuery): string {
  const every = Math.trunc(q.everyMs!);
  return `WITH s AS (SELECT id, sensor, room, metric, dense_rank() OVER (ORDER BY sensor, metric, room, unit) AS k FROM series)
    SELECT r.series_id, (r.ts // ${every}) * ${every} AS bucket, count(*) AS n, min(r.value) AS lo, max(r.value) AS hi, avg(r.value) AS mean, any_value(s.k) AS k
    FROM readings r JOIN s ON s.id = r.series_id
    ${where(q)}
    GROUP BY r.series_id, bucket
    ORDER BY bucket, k`;
}
