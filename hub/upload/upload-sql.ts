/**
 * The scan of a bulk upload, on the upload reader (upload-reader.ts), beside the commits: DuckDB
 * reads the spooled CSV file once (its reader is about five times faster than a JS parser here)
 * into the stage (upload-stage.ts): every row with its key columns, their hash, the parsed ts
 * and value, and whether the row is bad, in file order. The checks and the list of distinct
 * series are then read from the stage, not the file; so are the ts bounds of the commit's
 * windows (upload-windows.ts), each about UPLOAD_WINDOW_ROWS rows.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { isRetryableStoreError } from '../store/store-messages.ts';
import { MAX_RECORD_BYTES, sqlRowExpressions, type UploadColumn } from './csv-row-rules.ts';
import { sqlPath, stagePath } from './upload-stage.ts';

export interface UploadFile {
  path: string;
  /** the header's column names, in file order */
  columns: string[];
  nowMs: number;
}

/** A distinct (sensor, room, metric, unit) of the file; room and unit null where the file gives none. */
export interface UploadCombo {
  /** the hash of its key columns in the stage (a decimal string: it is a UBIGINT) */
  key: string;
  sensor: string;
  room: string | null;
  metric: string;
  unit: string | null;
  rows: number;
  maxTs: number;
  minTs: number;
}

export type ScanResult =
  | { kind: 'ok'; rows: number; combos: UploadCombo[]; windows: number[] }
  | { kind: 'invalid'; badRows: number }
  | { kind: 'unreadable'; message: string }
  | { kind: 'too-many-series' };

/**
 * Distinct (sensor, room, metric, unit) in one file. Each becomes a series and maybe a sensor
 * in the hub's memory; a file of millions of made-up sensor ids must not become that.
 */
export const MAX_UPLOAD_SERIES = 100_000;

/**
 * Rows a window of the commit takes at once (about): bounds its joins and sort whatever the
 * file's size. Their memory is most of an upload's: the hub's RSS grew 120-160 MB for a file of
 * 1M rows with windows of 500,000, 72-89 MB (1M and 3M rows) with 250,000 (docs/BENCHMARKS.md
 * "Upload memory"). Smaller windows read the stage more often for a file not in ts order.
 */
export const UPLOAD_WINDOW_ROWS = 250_000;

export interface UploadMapping extends UploadCombo {
  seriesId: number;
  channel: number;
}

export interface UploadCommitResult {
  accepted: number;
  duplicates: number;
  /** rows older than the retention horizon, not stored (docs/API.md "Retention") */
  expired?: number;
  /** that horizon, when rows were refused for it */
  retainedFromMs?: number | null;
  /** per series that got rows: its newest new row, for `latest` */
  newest: { seriesId: number; ts: number; value: number }[];
  /** windows whose new rows wait in news files for live subscribers (0: none was listening) */
  newsWindows: number;
  /** identities a sensor stored while the upload ran: the upload's rows of them were not stored */
  taken: { channel: number; ts: number }[];
}

// Stands for "the file gives none" in join keys, where NULL would not compare equal.
const NONE = '\u0001';

function source(f: UploadFile): { from: string; col: (c: UploadColumn) => string | null } {
  const struct = f.columns.map((_, i) => `'c${i}': 'VARCHAR'`).join(', ');
  const col = (c: UploadColumn) => {
    const i = f.columns.indexOf(c);
    return i < 0 ? null : `c${i}`;
  };
  // nullstr that no CSV field can be: every field reads as text, an empty one as ''. A small
  // buffer_size: DuckDB's default (16 x max_line_size per thread) is memory for nothing here.
  const from = `read_csv(${sqlPath(f.path)}, columns={${struct}}, header=true, auto_detect=false, delim=',', quote='"', escape='"',
    strict_mode=true, null_padding=false, nullstr='${NONE}NULL${NONE}', max_line_size=${MAX_RECORD_BYTES}, buffer_size=${16 * MAX_RECORD_BYTES})`;
  return { from, col };
}

function keyColumns(col: (c: UploadColumn) => string | null): string {
  return `${col('sensor')} AS sensor, ${col('room') ? `coalesce(nullif(${col('room')}, ''), '${NONE}')` : `'${NONE}'`} AS room,
    ${col('metric')} AS metric, ${col('unit') ? col('unit') : `'${NONE}'`} AS unit`;
}

export async function scanUpload(c: DuckDBConnection, f: UploadFile): Promise<ScanResult> {
  const { from, col } = source(f);
  const e = sqlRowExpressions(col, f.nowMs);
  const stage = sqlPath(stagePath(f.path));
  let rows: unknown[][];
  try {
    // Names repeat on every row: they are checked once per distinct (sensor, room, metric, unit)
    // by the caller; only ts and value are checked per row here.
    await c.run(`COPY (SELECT *, hash(sensor, room, metric, unit) AS key FROM (
        SELECT ${keyColumns(col)}, ${e.ts} AS ts, ${e.value} AS v, ${e.rowBad} AS bad FROM ${from}))
      TO ${stage} (FORMAT parquet, ROW_GROUP_SIZE 100000)`);
    // At most one series more than the limit leaves DuckDB; the totals over all of them come with each.
    await c.run(`CREATE OR REPLACE TEMP TABLE scan_combos AS
      SELECT sensor, room, metric, unit, key, count(*) AS n, count_if(bad) AS bad, max(ts) AS max_ts, min(ts) AS min_ts
      FROM read_parquet(${stage}) GROUP BY ALL`);
    rows = (
      await c.runAndReadAll(`SELECT sensor, room, metric, unit, n, bad, max_ts, count(*) OVER () AS series, sum(bad) OVER () AS all_bad,
        sum(n) OVER () AS all_rows, key::VARCHAR, min_ts, count(DISTINCT key) OVER () AS keys FROM scan_combos LIMIT ${MAX_UPLOAD_SERIES + 1}`)
    ).getRows();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    // Out of memory, a disk error, an interrupt: the store failed, not the file (503, never 422).
    if (isRetryableStoreError(message)) throw err;
    return { kind: 'unreadable', message };
  } finally {
    await c.run('DROP TABLE IF EXISTS scan_combos');
  }
  // Every row carries the totals: (series, all_bad, all_rows) at 7, 8 and 9, distinct keys at 12.
  const [series, badRows, total] = (rows[0]?.slice(7, 10).map(Number) ?? [0, 0, 0]) as [number, number, number];
  if (badRows > 0) return { kind: 'invalid', badRows };
  if (series > MAX_UPLOAD_SERIES) return { kind: 'too-many-series' };
  // Two series of one hash would mix their rows: never seen (64 bits, at most 100,000 series), but checked.
  if (series > 0 && Number(rows[0]![12]) !== series)
    throw new Error('two series of the file have the same hash; upload them in separate files');
  const combos: UploadCombo[] = [];
  for (const [sensor, room, metric, unit, n, , maxTs, , , , key, minTs] of rows) {
    // The key columns are VARCHAR: a name is a string, or NULL where the file has no such column.
    combos.push({
      key: String(key),
      sensor: typeof sensor === 'string' ? sensor : '',
      room: room === NONE ? null : String(room),
      metric: typeof metric === 'string' ? metric : '',
      unit: unit === NONE ? null : String(unit),
      rows: Number(n),
      maxTs: Number(maxTs),
      minTs: Number(minTs),
    });
  }
  return { kind: 'ok', rows: total, combos, windows: total > 0 ? await windowBounds(c, stage, total) : [] };
}

/**
 * The ts bounds that cut the file into windows of about UPLOAD_WINDOW_ROWS rows: window k is
 * [bounds[k], bounds[k + 1]), from the file's smallest ts to one past its largest. Every row of
 * one identity has the same ts, so it falls in one window (a file whose rows share one ts is one
 * window, however many rows it has).
 */
export async function windowBounds(c: DuckDBConnection, stage: string, total: number, perWindow = UPLOAD_WINDOW_ROWS): Promise<number[]> {
  const parts = Math.ceil(total / perWindow);
  const fractions = Array.from({ length: parts - 1 }, (_, i) => (i + 1) / parts);
  const q = fractions.length > 0 ? `, approx_quantile(ts, [${fractions.join(', ')}])` : '';
  const [lo, hi, cuts] = (await c.runAndReadAll(`SELECT min(ts), max(ts)${q} FROM read_parquet(${stage})`)).getRows()[0]!;
  const inner = ((cuts as { items?: unknown[] } | undefined)?.items ?? []).map(Number);
  const bounds = [Number(lo), ...inner.filter((t) => t > Number(lo) && t <= Number(hi)), Number(hi) + 1];
  return [...new Set(bounds)].sort((a, b) => a - b);
}
