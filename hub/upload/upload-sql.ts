/**
 * The store worker's half of a bulk upload: DuckDB reads the spooled CSV file (its reader is
 * about five times faster than a JS parser here) in two passes. The scan checks every row
 * and lists the distinct series; the commit, after the main thread has named the series,
 * inserts the rows whose (sensor, metric, ts) is new, in one transaction.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Columns } from '../store/store-messages.ts';
import { MAX_RECORD_BYTES, sqlRowExpressions, type UploadColumn } from './csv-row-rules.ts';

export interface UploadFile {
  path: string;
  /** the header's column names, in file order */
  columns: string[];
  nowMs: number;
}

/** A distinct (sensor, room, metric, unit) of the file; room and unit null where the file gives none. */
export interface UploadCombo {
  sensor: string;
  room: string | null;
  metric: string;
  unit: string | null;
  rows: number;
  maxTs: number;
}

export type ScanResult =
  | { kind: 'ok'; rows: number; combos: UploadCombo[] }
  | { kind: 'invalid'; badRows: number }
  | { kind: 'unreadable'; message: string }
  | { kind: 'too-many-series' };

/**
 * Distinct (sensor, room, metric, unit) in one file. Each becomes a series and maybe a sensor
 * in the hub's memory; a file of millions of made-up sensor ids must not become that.
 */
export const MAX_UPLOAD_SERIES = 100_000;

export interface UploadMapping extends UploadCombo {
  seriesId: number;
  channel: number;
}

export interface UploadCommitResult {
  accepted: number;
  duplicates: number;
  /** per series that got rows: its newest new row, for `latest` */
  newest: { seriesId: number; ts: number; value: number }[];
  /** every new row in ts order, for live subscribers (null when none was listening) */
  published: Columns | null;
}

// Stands for "the file gives none" in join keys, where NULL would not compare equal.
const NONE = '\u0001';

function source(f: UploadFile): { from: string; col: (c: UploadColumn) => string | null } {
  const struct = f.columns.map((_, i) => `'c${i}': 'VARCHAR'`).join(', ');
  const path = f.path.replaceAll("'", "''");
  const col = (c: UploadColumn) => {
    const i = f.columns.indexOf(c);
    return i < 0 ? null : `c${i}`;
  };
  // nullstr that no CSV field can be: every field reads as text, an empty one as ''.
  const from = `read_csv('${path}', columns={${struct}}, header=true, auto_detect=false, delim=',', quote='"', escape='"',
    strict_mode=true, null_padding=false, nullstr='${NONE}NULL${NONE}', max_line_size=${MAX_RECORD_BYTES})`;
  return { from, col };
}

function keyColumns(col: (c: UploadColumn) => string | null): string {
  return `${col('sensor')} AS sensor, ${col('room') ? `coalesce(nullif(${col('room')}, ''), '${NONE}')` : `'${NONE}'`} AS room,
    ${col('metric')} AS metric, ${col('unit') ? col('unit') : `'${NONE}'`} AS unit`;
}

export async function scanUpload(c: DuckDBConnection, f: UploadFile): Promise<ScanResult> {
  const { from, col } = source(f);
  const e = sqlRowExpressions(col, f.nowMs);
  let rows: unknown[][];
  try {
    // Names repeat on every row: they are checked once per distinct (sensor, room, metric, unit)
    // by the caller; only ts and value are checked per row here. At most one series more than
    // the limit leaves DuckDB; the totals over all of them come with each.
    rows = (
      await c.runAndReadAll(`SELECT *, count(*) OVER () AS series, sum(bad) OVER () AS all_bad, sum(n) OVER () AS all_rows FROM (
         SELECT sensor, room, metric, unit, count(*) AS n, count_if(bad) AS bad, max(ts) AS max_ts FROM (
           SELECT ${keyColumns(col)}, ${e.ts} AS ts, ${e.rowBad} AS bad FROM ${from}) GROUP BY ALL) LIMIT ${MAX_UPLOAD_SERIES + 1}`)
    ).getRows();
  } catch (err) {
    return { kind: 'unreadable', message: err instanceof Error ? err.message : String(err) };
  }
  // Every row carries the totals: (series, all_bad, all_rows) at 7, 8 and 9.
  const totals = rows[0]?.slice(7).map(Number) ?? [0, 0, 0];
  const [series, badRows, total] = totals as [number, number, number];
  if (badRows > 0) return { kind: 'invalid', badRows };
  if (series > MAX_UPLOAD_SERIES) return { kind: 'too-many-series' };
  const combos: UploadCombo[] = [];
  for (const [sensor, room, metric, unit, n, , maxTs] of rows) {
    combos.push({
      sensor: sensor === null ? '' : String(sensor),
      room: room === NONE ? null : String(room),
      metric: metric === null ? '' : String(metric),
      unit: unit === NONE ? null : String(unit),
      rows: Number(n),
      maxTs: Number(maxTs),
    });
  }
  return { kind: 'ok', rows: total, combos };
}

/** Inserts the new rows; the caller holds the transaction. */
export async function commitUpload(
  c: DuckDBConnection,
  f: UploadFile,
  mapping: UploadMapping[],
  publish: boolean,
): Promise<UploadCommitResult> {
  const { from, col } = source(f);
  const e = sqlRowExpressions(col, f.nowMs);
  await c.run(
    'CREATE OR REPLACE TEMP TABLE upload_map (sensor VARCHAR, room VARCHAR, metric VARCHAR, unit VARCHAR, series_id INTEGER, channel INTEGER)',
  );
  const a = await c.createAppender('upload_map', 'main', 'temp');
  for (const m of mapping) {
    a.appendVarchar(m.sensor);
    a.appendVarchar(m.room ?? NONE);
    a.appendVarchar(m.metric);
    a.appendVarchar(m.unit ?? NONE);
    a.appendInteger(m.seriesId);
    a.appendInteger(m.channel);
    a.endRow();
  }
  a.closeSync();
  // No stored row above the file's newest ts can repeat one of its rows: a bound DuckDB prunes by.
  const hi = mapping.reduce((m, x) => Math.max(m, x.maxTs), 0);
  const rowsOf = (withOrder: boolean) => `CREATE OR REPLACE TEMP TABLE upload_rows AS
    SELECT ${withOrder ? 'x.rn, ' : ''}m.series_id, m.channel, x.ts, x.v FROM (
      SELECT ${withOrder ? 'row_number() OVER () AS rn, ' : ''}${keyColumns(col)}, ${e.ts} AS ts, ${e.value} AS v FROM ${from}) x
    JOIN upload_map m ON m.sensor = x.sensor AND m.room = x.room AND m.metric = x.metric AND m.unit = x.unit`;
  await c.run(rowsOf(false));
  const repeats = Number(
    (await c.runAndReadAll('SELECT count(*) FROM (SELECT channel, ts FROM upload_rows GROUP BY ALL HAVING count(*) > 1)')).getRows()[0]![0],
  );
  if (repeats > 0) {
    // A file that repeats itself keeps the first of each identity: numbering rows in file order
    // is slow in DuckDB, so only such files pay for it.
    await c.run(rowsOf(true));
    await c.run(
      'CREATE OR REPLACE TEMP TABLE upload_rows AS SELECT series_id, channel, ts, v FROM upload_rows QUALIFY row_number() OVER (PARTITION BY channel, ts ORDER BY rn) = 1',
    );
  }
  await c.run(`CREATE OR REPLACE TEMP TABLE upload_new AS
    SELECT u.series_id, u.ts, u.v FROM upload_rows u
    WHERE NOT EXISTS (SELECT 1 FROM readings r JOIN series s ON s.id = r.series_id WHERE r.ts <= ${hi} AND s.channel = u.channel AND r.ts = u.ts)`);
  await c.run('DROP TABLE upload_rows');
  // Sorted by series, the new rows compress like live ones.
  await c.run('INSERT INTO readings SELECT series_id, ts, v FROM upload_new ORDER BY series_id, ts');
  const accepted = Number((await c.runAndReadAll('SELECT count(*) FROM upload_new')).getRows()[0]![0]);
  const newest = (await c.runAndReadAll('SELECT series_id, max(ts), arg_max(v, ts) FROM upload_new GROUP BY series_id')).getRows();
  const published = publish ? await readColumns(c, 'SELECT series_id, ts, v FROM upload_new ORDER BY ts, series_id') : null;
  await c.run('DROP TABLE upload_new');
  await c.run('DROP TABLE upload_map');
  const total = mapping.reduce((s, m) => s + m.rows, 0);
  const row = ([sid, ts, v]: unknown[]) => ({ seriesId: Number(sid), ts: Number(ts), value: Number(v) });
  return { accepted, duplicates: total - accepted, newest: newest.map(row), published };
}

/** Reads (series id, ts, value) rows into columns, a chunk at a time. */
async function readColumns(c: DuckDBConnection, sql: string): Promise<Columns> {
  const result = await c.stream(sql);
  let cols: Columns = { n: 0, series: new Int32Array(4096), ts: new Float64Array(4096), value: new Float64Array(4096) };
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const n = chunk.rowCount;
    if (cols.n + n > cols.series.length) cols = grow(cols, Math.max(cols.series.length * 2, cols.n + n));
    const sid = (chunk.getColumnVector(0) as unknown as { items: Int32Array }).items;
    const ts = (chunk.getColumnVector(1) as unknown as { items: BigInt64Array }).items;
    const v = (chunk.getColumnVector(2) as unknown as { items: Float64Array }).items;
    cols.series.set(sid.subarray(0, n), cols.n);
    for (let i = 0; i < n; i++) cols.ts[cols.n + i] = Number(ts[i]);
    cols.value.set(v.subarray(0, n), cols.n);
    cols.n += n;
  }
  return cols;
}

function grow(cols: Columns, size: number): Columns {
  const out: Columns = { n: cols.n, series: new Int32Array(size), ts: new Float64Array(size), value: new Float64Array(size) };
  out.series.set(cols.series.subarray(0, cols.n));
  out.ts.set(cols.ts.subarray(0, cols.n));
  out.value.set(cols.value.subarray(0, cols.n));
  return out;
}
