/**
 * The store worker's half of a bulk upload: DuckDB reads the spooled CSV file (its reader is
 * about five times faster than a JS parser here) in two passes, both on the scan's own
 * connection, beside the commits. The first checks every row and lists the distinct series;
 * the second stages the rows, parsed, as (series index, ts, value) in memory (upload-stage.ts).
 * The commit, after the main thread has named the series, runs in the store's queue and so
 * holds up sensor commits: it only joins the staged rows to their series and inserts the ones
 * whose (sensor, metric, ts) is new, in one transaction; it no longer reads the file.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { isRetryableStoreError, type Columns } from '../store/store-messages.ts';
import { MAX_RECORD_BYTES, sqlRowExpressions, type UploadColumn } from './csv-row-rules.ts';
import { openStage, stageTable } from './upload-stage.ts';

export interface UploadFile {
  path: string;
  /** the header's column names, in file order */
  columns: string[];
  nowMs: number;
  /** set from the scan: whether the file repeats an identity (sensor, metric, ts) within itself */
  repeats?: boolean;
}

/** A distinct (sensor, room, metric, unit) of the file; room and unit null where the file gives none. */
export interface UploadCombo {
  /** its number in the staged rows */
  index: number;
  sensor: string;
  room: string | null;
  metric: string;
  unit: string | null;
  rows: number;
  maxTs: number;
  minTs: number;
}

export type ScanResult =
  | { kind: 'ok'; rows: number; combos: UploadCombo[]; repeats: boolean }
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
    await c.run(`CREATE OR REPLACE TEMP TABLE scan_combos AS
      SELECT row_number() OVER () - 1 AS idx, * FROM (
        SELECT sensor, room, metric, unit, count(*) AS n, count_if(bad) AS bad, max(ts) AS max_ts, min(ts) AS min_ts FROM (
          SELECT ${keyColumns(col)}, ${e.ts} AS ts, ${e.rowBad} AS bad FROM ${from}) GROUP BY ALL)`);
    rows = (
      await c.runAndReadAll(`SELECT sensor, room, metric, unit, n, bad, max_ts, count(*) OVER () AS series, sum(bad) OVER () AS all_bad,
        sum(n) OVER () AS all_rows, idx, min_ts FROM scan_combos ORDER BY idx LIMIT ${MAX_UPLOAD_SERIES + 1}`)
    ).getRows();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    // Out of memory, a disk error, an interrupt: the store failed, not the file (503, never 422).
    if (isRetryableStoreError(message)) throw err;
    return { kind: 'unreadable', message };
  }
  // Every row carries the totals: (series, all_bad, all_rows) at 7, 8 and 9.
  const totals = rows[0]?.slice(7).map(Number) ?? [0, 0, 0];
  const [series, badRows, total] = totals as [number, number, number];
  if (badRows > 0) return { kind: 'invalid', badRows };
  if (series > MAX_UPLOAD_SERIES) return { kind: 'too-many-series' };
  const combos: UploadCombo[] = [];
  for (const [sensor, room, metric, unit, n, , maxTs, , , , idx, minTs] of rows) {
    // The key columns are VARCHAR: a name is a string, or NULL where the file has no such column.
    combos.push({
      index: Number(idx),
      sensor: typeof sensor === 'string' ? sensor : '',
      room: room === NONE ? null : String(room),
      metric: typeof metric === 'string' ? metric : '',
      unit: unit === NONE ? null : String(unit),
      rows: Number(n),
      maxTs: Number(maxTs),
      minTs: Number(minTs),
    });
  }
  let repeats = false;
  if (total > 0) {
    // File order is kept (DuckDB preserves insertion order), so a repeat within the file can
    // keep its first row at commit.
    await openStage(c, f.path);
    await c.run(`CREATE TABLE ${stageTable(f.path)} AS
      SELECT k.idx::INTEGER AS idx, x.ts, x.v FROM (SELECT ${keyColumns(col)}, ${e.ts} AS ts, ${e.value} AS v FROM ${from}) x
      JOIN scan_combos k ON k.sensor = x.sensor AND k.room = x.room AND k.metric = x.metric AND k.unit = x.unit`);
    // Identity is (sensor, metric, ts): one number per (sensor, metric) of the file, as a channel is.
    const count = await c.runAndReadAll(`SELECT count(*) FROM (SELECT p.pair, x.ts FROM ${stageTable(f.path)} x
      JOIN (SELECT idx, dense_rank() OVER (ORDER BY sensor, metric) AS pair FROM scan_combos) p ON p.idx = x.idx GROUP BY ALL HAVING count(*) > 1)`);
    repeats = Number(count.getRows()[0]![0]) > 0;
  }
  await c.run('DROP TABLE scan_combos');
  return { kind: 'ok', rows: total, combos, repeats };
}

/** Inserts the new rows, from the rows the scan staged; the caller holds the transaction. */
export async function commitUpload(
  c: DuckDBConnection,
  f: UploadFile,
  mapping: UploadMapping[],
  publish: boolean,
): Promise<UploadCommitResult> {
  await c.run('CREATE OR REPLACE TEMP TABLE upload_map (idx INTEGER, series_id INTEGER, channel INTEGER)');
  const a = await c.createAppender('upload_map', 'main', 'temp');
  for (const m of mapping) {
    a.appendInteger(m.index);
    a.appendInteger(m.seriesId);
    a.appendInteger(m.channel);
    a.endRow();
  }
  a.closeSync();
  // No stored row outside the file's ts range can repeat one of its rows: bounds DuckDB prunes row groups by.
  const hi = mapping.reduce((m, x) => Math.max(m, x.maxTs), 0);
  const lo = mapping.reduce((m, x) => Math.min(m, x.minTs), hi);
  // A file that repeats itself (the scan says) keeps the first of each identity: the staged rows
  // are in file order. Ordering by it is slow in DuckDB, so only such files pay for it.
  const repeats = f.repeats !== false;
  await c.run(`CREATE OR REPLACE TEMP TABLE upload_rows AS
    SELECT ${repeats ? 'x.rowid AS rn, ' : ''}m.series_id, m.channel, x.ts, x.v FROM ${stageTable(f.path)} x JOIN upload_map m ON m.idx = x.idx`);
  if (repeats) {
    await c.run(
      'CREATE OR REPLACE TEMP TABLE upload_rows AS SELECT series_id, channel, ts, v FROM upload_rows QUALIFY row_number() OVER (PARTITION BY channel, ts ORDER BY rn) = 1',
    );
  }
  await c.run(`CREATE OR REPLACE TEMP TABLE upload_new AS
    SELECT u.series_id, u.ts, u.v FROM upload_rows u ANTI JOIN (
      SELECT s.channel, r.ts FROM readings r JOIN series s ON s.id = r.series_id WHERE r.ts BETWEEN ${lo} AND ${hi}) stored
    ON stored.channel = u.channel AND stored.ts = u.ts`);
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
