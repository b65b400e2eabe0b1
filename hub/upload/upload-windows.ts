/**
 * The SQL of an upload's commit, on the upload's own connection of the store, in windows of ts
 * (upload-sql.ts cuts them): each window reads its rows from the stage, keeps the first of each
 * identity the file repeats, drops those already stored, and inserts the rest sorted by (ts,
 * series), as compaction sorts cold readings. A window's joins and sort take memory for its
 * rows only; the inserted rows go to the database file as DuckDB writes them (large appends are
 * written before the commit), so the transaction does not hold the file in memory either.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { bigIntsAsNumbers } from '../store/column-chunks.ts';
import type { Columns } from '../store/store-messages.ts';
import { newsPath, sqlPath, stagePath } from './upload-stage.ts';
import type { UploadMapping } from './upload-sql.ts';

/** The map from a key of the stage to its series and channel, on the upload's connection. */
export async function createUploadMap(c: DuckDBConnection, mapping: UploadMapping[]): Promise<void> {
  await c.run('CREATE OR REPLACE TEMP TABLE upload_map (key UBIGINT, series_id INTEGER, channel INTEGER)');
  const a = await c.createAppender('upload_map', 'main', 'temp');
  for (const m of mapping) {
    a.appendUBigInt(BigInt(m.key));
    a.appendInteger(m.seriesId);
    a.appendInteger(m.channel);
    a.endRow();
  }
  a.closeSync();
}

/** The series of the upload's channels (series id, channel), as the caller's transaction sees them. */
export async function channelSeries(c: DuckDBConnection): Promise<[number, number][]> {
  const rows = (await c.runAndReadAll('SELECT id, channel FROM series WHERE channel IN (SELECT channel FROM upload_map)')).getRows();
  return rows.map(([id, channel]) => [Number(id), Number(channel)]);
}

export interface WindowResult {
  accepted: number;
  newest: [seriesId: number, ts: number, value: number][];
}

/**
 * Stores window `k`, [lo, hi), of the stage. Its new rows are written to the window's news file
 * (ts order) and inserted from there: a temporary table would do too, but one dropped inside a
 * transaction keeps its rows in memory until the commit, window after window.
 */
export async function storeWindow(c: DuckDBConnection, spool: string, k: number, lo: number, hi: number): Promise<WindowResult> {
  const news = sqlPath(newsPath(spool, k));
  // Only the stored rows of the upload's channels in the window: the anti join's other side.
  await c.run(`COPY (
    SELECT u.series_id, u.channel, u.ts, u.v FROM (
      SELECT m.series_id, m.channel, x.ts, x.v, x.file_row_number AS pos
      FROM read_parquet(${sqlPath(stagePath(spool))}, file_row_number = true) x JOIN upload_map m ON m.key = x.key
      WHERE x.ts >= ${lo} AND x.ts < ${hi}) u
    ANTI JOIN (
      SELECT s.channel, r.ts FROM readings r JOIN (SELECT id, channel FROM series WHERE channel IN (SELECT channel FROM upload_map)) s
        ON s.id = r.series_id
      WHERE r.ts >= ${lo} AND r.ts < ${hi}) stored
    ON stored.channel = u.channel AND stored.ts = u.ts
    QUALIFY row_number() OVER (PARTITION BY u.channel, u.ts ORDER BY u.pos) = 1
    ORDER BY u.ts, u.series_id) TO ${news} (FORMAT parquet)`);
  // In the news file's order, (ts, series): the order compaction sorts cold readings into, which
  // compresses better than by series first (compaction.ts), and no second sort of the window.
  await c.run(`INSERT INTO readings SELECT series_id, ts, v FROM read_parquet(${news})`);
  const newest = (
    await c.runAndReadAll(`SELECT series_id, max(ts), arg_max(v, ts), count(*) FROM read_parquet(${news}) GROUP BY series_id`)
  ).getRows();
  return {
    accepted: newest.reduce((n, r) => n + Number(r[3]), 0),
    newest: newest.map(([s, t, v]) => [Number(s), Number(t), Number(v)]),
  };
}

/**
 * Before the commit, in the store's queue: removes the upload's rows of the identities sensors
 * stored meanwhile (upload-watch.ts). Only the upload's own rows can match: its snapshot holds
 * no row of these identities, or the sensor's duplicate check would have refused them.
 */
export async function giveUp(c: DuckDBConnection, taken: { channel: number; ts: number }[]): Promise<number> {
  if (taken.length === 0) return 0;
  await c.run('CREATE OR REPLACE TEMP TABLE upload_taken (channel INTEGER, ts BIGINT)');
  const a = await c.createAppender('upload_taken', 'main', 'temp');
  let lo = Infinity;
  let hi = -Infinity;
  for (const t of taken) {
    a.appendInteger(t.channel);
    a.appendBigInt(BigInt(t.ts));
    a.endRow();
    lo = Math.min(lo, t.ts);
    hi = Math.max(hi, t.ts);
  }
  a.closeSync();
  const deleted = await c.runAndReadAll(`DELETE FROM readings WHERE rowid IN (
    SELECT r.rowid FROM readings r JOIN (SELECT id, channel FROM series WHERE channel IN (SELECT channel FROM upload_map)) s ON s.id = r.series_id
    SEMI JOIN upload_taken t ON t.channel = s.channel AND t.ts = r.ts WHERE r.ts BETWEEN ${lo} AND ${hi})`);
  await c.run('DROP TABLE upload_taken');
  return Number(deleted.getRows()[0]?.[0] ?? 0);
}

/** The new rows of window `k` for live subscribers, but those of `skip` (identities a sensor took); a chunk of DuckDB at a time. */
export async function readNews(c: DuckDBConnection, spool: string, k: number, skip: { channel: number; ts: number }[]): Promise<Columns> {
  const drop = new Set(skip.map((t) => `${t.channel}:${t.ts}`));
  const result = await c.stream(
    `SELECT series_id, channel, ts, v FROM read_parquet(${sqlPath(newsPath(spool, k))}) ORDER BY ts, series_id`,
  );
  let out: Columns = { n: 0, series: new Int32Array(4096), ts: new Float64Array(4096), value: new Float64Array(4096) };
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const n = chunk.rowCount;
    if (out.n + n > out.series.length) out = grow(out, Math.max(out.series.length * 2, out.n + n));
    const sid = (chunk.getColumnVector(0) as unknown as { items: Int32Array }).items;
    const channel = (chunk.getColumnVector(1) as unknown as { items: Int32Array }).items;
    const ts = bigIntsAsNumbers((chunk.getColumnVector(2) as unknown as { items: BigInt64Array }).items, n);
    const v = (chunk.getColumnVector(3) as unknown as { items: Float64Array }).items;
    for (let i = 0; i < n; i++) {
      if (drop.size > 0 && drop.has(`${channel[i]}:${ts[i]}`)) continue;
      out.series[out.n] = sid[i]!;
      out.ts[out.n] = ts[i]!;
      out.value[out.n] = v[i]!;
      out.n++;
    }
  }
  return out;
}

function grow(cols: Columns, size: number): Columns {
  const out: Columns = { n: cols.n, series: new Int32Array(size), ts: new Float64Array(size), value: new Float64Array(size) };
  out.series.set(cols.series.subarray(0, cols.n));
  out.ts.set(cols.ts.subarray(0, cols.n));
  out.value.set(cols.value.subarray(0, cols.n));
  return out;
}
