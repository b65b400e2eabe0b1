/**
 * A bulk upload's commit in cluster mode: the scan is the single hub's (DuckDB's CSV reader into
 * the stage, upload-sql.ts, on the in-memory upload reader); the rows then go to PostgreSQL in
 * one transaction: the stage, joined with the series PostgreSQL numbers, is written by DuckDB as
 * a tab-separated file beside the spool and COPYed into a temporary table, from which
 * `INSERT ... ON CONFLICT (channel, ts) DO NOTHING` keeps the first row of each identity the file
 * repeats (file order) and drops those already stored, whoever stored them. Nothing is visible
 * before the COMMIT; the counts are the INSERT's own. Memory: neither side holds the file.
 *
 * Under retention, rows older than the horizon are counted `expired` and left out, as on the
 * single hub (rollup-upload.ts), and so are rows below the mark of days already dropped, should
 * the mark pass the horizon the upload was given (pg-retention.ts): no dropped day comes back.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import copyStreams from 'pg-copy-streams';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { UploadCommitRequest } from '../upload/upload-commit.ts';
import type { UploadCommitResult } from '../upload/upload-sql.ts';
import { sqlPath, stagePath } from '../upload/upload-stage.ts';
import type { Columns, SeriesDef } from '../store/store-messages.ts';
import { DAY_MS, RAW_KEPT_FROM_KEY, heldMark, type Partitions } from './partitions.ts';
import type { SeriesResolver } from './pg-series.ts';
import { addCounts, UPLOADS_COUNTER } from './pg-counts.ts';

export interface PgUploadDeps {
  pool: pg.Pool;
  series: SeriesResolver;
  partitions: Partitions;
  /** the hub's series by local id (the mapping's series ids are the hub catalog's) */
  seriesDef(id: number): SeriesDef | undefined;
  /** runs `work` on a connection of the upload reader (upload-reader.ts) */
  reader<T>(work: (c: DuckDBConnection) => Promise<T>): Promise<T>;
  /** rows with a ts below this are not stored (retention, pg-retention.ts); null: none */
  horizon?: number | null;
  /** told how many rows were left out for the horizon, once the upload is committed */
  expired?: (n: number) => void;
}

/** Window k's new rows, for live subscribers: tab-separated (local series id, ts, value), in ts order. */
function newsFile(spool: string, k: number): string {
  // Beside the spool file, with its prefix: removeStaged takes it with the rest.
  return `${spool}.pg-news-${k}.tsv`;
}

async function writeNews(c: pg.ClientBase, path: string, localOf: Map<number, number>, lo: number, hi: number): Promise<void> {
  // Integers only, so they may stand in the SQL: COPY takes no parameters.
  const ids = [...localOf];
  const map = `SELECT unnest('{${ids.map(([pgId]) => pgId).join(',')}}'::int[]) AS series, unnest('{${ids.map(([, local]) => local).join(',')}}'::int[]) AS local`;
  const sql = `SELECT m.local, n.ts, n.value FROM upload_new n JOIN (${map}) m USING (series)
    WHERE n.ts >= ${Math.trunc(lo)} AND n.ts < ${Math.trunc(hi)} ORDER BY n.ts, m.local`;
  await pipeline(c.query(copyStreams.to(`COPY (${sql}) TO STDOUT`)), createWriteStream(path));
}

/** Window k of a committed upload's new rows (as the single hub's readNews), read back from its news file. */
export async function readPgNews(spool: string, k: number): Promise<Columns> {
  const text = await readFile(newsFile(spool, k), 'latin1');
  const lines = text.split('\n').filter((l) => l !== '');
  const out: Columns = {
    n: lines.length,
    series: new Int32Array(lines.length),
    ts: new Float64Array(lines.length),
    value: new Float64Array(lines.length),
  };
  lines.forEach((line, i) => {
    const [sid, ts, value] = line.split('\t');
    out.series[i] = Number(sid);
    out.ts[i] = Number(ts);
    out.value[i] = Number(value);
  });
  return out;
}

export async function pgCommitUpload(deps: PgUploadDeps, req: UploadCommitRequest): Promise<UploadCommitResult> {
  const { mapping, file } = req;
  const defs = mapping.map((m) => {
    const d = deps.seriesDef(m.seriesId);
    if (!d) throw new Error(`the upload names series ${m.seriesId}, which the hub does not know`);
    return d;
  });
  const tsv = `${file.path}.pg.tsv`;
  const c = await deps.pool.connect();
  let open = false;
  try {
    const pgSeries = await deps.series.resolve(c, defs);
    const localOf = new Map(pgSeries.map((s, i) => [s.id, mapping[i]!.seriesId]));
    const horizon = deps.horizon ?? null;
    const recent = horizon === null ? 'true' : `x.ts >= ${Math.trunc(horizon)}`;
    const { days, expired } = await deps.reader(async (d) => {
      await d.run('CREATE OR REPLACE TEMP TABLE pg_map (key UBIGINT, channel INTEGER, series INTEGER)');
      const a = await d.createAppender('pg_map', 'main', 'temp');
      mapping.forEach((m, i) => {
        a.appendUBigInt(BigInt(m.key));
        a.appendInteger(pgSeries[i]!.channel);
        a.appendInteger(pgSeries[i]!.id);
        a.endRow();
      });
      a.closeSync();
      const stage = sqlPath(stagePath(file.path));
      await d.run(`COPY (SELECT x.file_row_number, m.channel, m.series, x.ts, x.v
          FROM read_parquet(${stage}, file_row_number = true) x JOIN pg_map m ON m.key = x.key WHERE NOT x.bad AND ${recent})
        TO ${sqlPath(tsv)} (FORMAT csv, DELIMITER '\t', HEADER false)`);
      const rows = (
        await d.runAndReadAll(`SELECT DISTINCT floor(ts / ${DAY_MS})::BIGINT FROM read_parquet(${stage}) x WHERE ${recent}`)
      ).getRows();
      const old =
        horizon === null
          ? 0
          : Number(
              (
                await d.runAndReadAll(`SELECT count(*) FROM read_parquet(${stage}) x SEMI JOIN pg_map m ON m.key = x.key
                  WHERE NOT x.bad AND x.ts < ${Math.trunc(horizon)}`)
              ).getRows()[0]?.[0] ?? 0,
            );
      await d.run('DROP TABLE pg_map');
      return { days: rows.map(([day]) => Number(day)), expired: old };
    });
    await deps.partitions.ensure(c, days);
    await c.query('BEGIN');
    open = true;
    await c.query(
      `CREATE TEMP TABLE upload_in (ord bigint, channel integer, series integer, ts bigint, value double precision) ON COMMIT DROP`,
    );
    await pipeline(createReadStream(tsv), c.query(copyStreams.from('COPY upload_in FROM STDIN')));
    await c.query(`CREATE TEMP TABLE upload_new (series integer, ts bigint, value double precision) ON COMMIT DROP`);
    // Rows of days retention dropped meanwhile: no partition takes them, and they are not stored.
    await heldMark(c);
    const gone = await c.query<{ n: number; mark: number | null }>(
      `SELECT count(*)::bigint AS n, (SELECT value::bigint FROM meta WHERE key = $1) AS mark FROM upload_in
       WHERE ts < (SELECT value::bigint FROM meta WHERE key = $1)`,
      [RAW_KEPT_FROM_KEY],
    );
    const late = Number(gone.rows[0]?.n ?? 0);
    const mark = gone.rows[0]?.mark ?? null;
    await c.query(
      `WITH ins AS (
         INSERT INTO readings (channel, series, ts, value)
           SELECT DISTINCT ON (channel, ts) channel, series, ts, value FROM upload_in
           WHERE ts >= coalesce((SELECT value::bigint FROM meta WHERE key = $1), ${Number.MIN_SAFE_INTEGER})
           ORDER BY channel, ts, ord
         ON CONFLICT (channel, ts) DO NOTHING RETURNING series, ts, value)
       INSERT INTO upload_new SELECT series, ts, value FROM ins`,
      [RAW_KEPT_FROM_KEY],
    );
    const stored = await c.query<{ series: number; ts: number; value: number; n: number }>(
      `SELECT DISTINCT ON (series) series, ts, value, count(*) OVER (PARTITION BY series) AS n FROM upload_new ORDER BY series, ts DESC`,
    );
    const accepted = stored.rows.reduce((n, r) => n + Number(r.n), 0);
    const total = mapping.reduce((n, m) => n + m.rows, 0);
    const left = expired + late;
    await addCounts(c, UPLOADS_COUNTER, { batches: 1, bundles: 0, inserted: accepted, duplicates: total - accepted - left });
    const news = req.publish && stored.rows.length > 0 ? req.windows.length - 1 : 0;
    for (let k = 0; k < news; k++) await writeNews(c, newsFile(file.path, k), localOf, req.windows[k]!, req.windows[k + 1]!);
    await c.query('COMMIT');
    open = false;
    deps.expired?.(left);
    return {
      accepted,
      duplicates: total - accepted - left,
      expired: left,
      retainedFromMs: left > 0 ? Math.max(horizon ?? -Infinity, mark === null ? -Infinity : Number(mark)) : null,
      newest: stored.rows.map((r) => ({ seriesId: localOf.get(r.series)!, ts: Number(r.ts), value: Number(r.value) })),
      newsWindows: news,
      taken: [],
    };
  } finally {
    if (open) await c.query('ROLLBACK').catch(() => {});
    c.release();
    await rm(tsv, { force: true });
  }
}
