/**
 * A history export from PostgreSQL: the same CSV bytes as the single hub's export of the same
 * rows (hub/history/export-worker.ts), rendered by the same code (hub/history/csv-rows.ts) in the
 * same order (ts, then series by sensor, metric, room, unit in byte order: COLLATE "C", which is
 * DuckDB's order). PostgreSQL sorts and streams the rows with COPY ... TO STDOUT, a window of
 * about a day at a time (exportWindows); the stream is read only as fast as the HTTP client takes
 * the CSV (credits, as the store worker's), so memory stays flat whatever the export's size. A cancel drops the connection, which ends the query.
 *
 * A bucketed export reads the rollup tiers (pg-rollups.ts) below `rollup_below`, where raw
 * readings may be gone, and the raw readings from there on; both are levels of (series, bucket,
 * n, exact sum, min, max) merged into the `every` buckets, so a bucket is the same row whether
 * its raw readings are still there. The whole export reads one snapshot (REPEATABLE READ): a
 * day rolled up and dropped meanwhile is neither missed nor counted twice.
 *
 * COPY takes no bind parameters: names are checked against the contract's patterns before they
 * get here (none admits a quote) and quotes are doubled all the same; numbers are truncated.
 */
import type pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { BUCKET_HEADER, CsvOut, IsoClock, RAW_HEADER, formatMean, seriesFields } from '../history/csv-rows.ts';
import type { HistoryQuery } from '../history/history-query.ts';
import type { ExportHandle } from '../store/hub-store.ts';
import type { SeriesDef } from '../store/store-messages.ts';
import { DAY_MS, partitionRanges } from './partitions.ts';
import { rollupMarks } from './pg-rollups.ts';
import { tierTable } from '../store/rollup-tiers.ts';

const INITIAL_CREDITS = 4;
const SEND_BYTES = 128 * 1024;

function list(values: string[]): string {
  if (values.length === 0) return 'NULL';
  return values.map((v) => `'${v.replaceAll("'", "''")}'`).join(', ');
}

function where(q: HistoryQuery, withTs = true): string {
  const parts: string[] = [];
  if (q.sensors) parts.push(`s.sensor IN (${list(q.sensors)})`);
  if (q.rooms) parts.push(`s.room IN (${list(q.rooms)})`);
  if (q.metrics) parts.push(`s.metric IN (${list(q.metrics)})`);
  if (withTs && q.fromMs !== null) parts.push(`r.ts >= ${Math.trunc(q.fromMs)}`);
  if (withTs && q.toMs !== null) parts.push(`r.ts < ${Math.trunc(q.toMs)}`);
  return parts.length ? `WHERE ${parts.join(' AND ')}` : '';
}

const RANKED = `WITH s AS (SELECT id, sensor, room, metric,
    dense_rank() OVER (ORDER BY sensor COLLATE "C", metric COLLATE "C", room COLLATE "C", unit COLLATE "C") AS k FROM series)`;

/** A tier that answers a bucketed export below `below`: its width divides `every`. */
export interface TierLevel {
  widthMs: number;
  /** the tier holds every reading below this; raw readings answer from here on */
  below: number;
}

export function exportSql(q: HistoryQuery, tier: TierLevel | null = null): string {
  if (q.everyMs === null) {
    return `${RANKED} SELECT r.series, r.ts, r.value FROM readings r JOIN s ON s.id = r.series ${where(q)} ORDER BY r.ts, s.k`;
  }
  const e = Math.trunc(q.everyMs);
  const from = q.fromMs ?? -Infinity;
  const to = q.toMs ?? Infinity;
  const split = tier ? Math.max(from, Math.min(to, tier.below)) : from;
  const levels: string[] = [];
  // A tier's bucket counts where it starts; the export's windows are whole `every` buckets.
  if (tier && from < split)
    levels.push(`SELECT series, bucket AS ts, n, total, lo, hi FROM ${tierTable(tier.widthMs)} WHERE ${range('bucket', from, split)}`);
  levels.push(
    `SELECT series, ts, 1::bigint AS n, value::numeric AS total, value AS lo, value AS hi FROM readings WHERE ${range('ts', split, to)}`,
  );
  // Buckets aligned to the epoch, floored for times before it too (as DuckDB's //). The sum is exact
  // (numeric), so a mean is the same whichever levels it was summed from.
  return `${RANKED} SELECT r.series, r.ts - ((r.ts % ${e}) + ${e}) % ${e} AS bucket, sum(r.n), min(r.lo), max(r.hi),
      (sum(r.total) / sum(r.n))::float8, min(s.k) AS k
    FROM (${levels.join(' UNION ALL ')}) r JOIN s ON s.id = r.series ${where(q, false)}
    GROUP BY r.series, bucket ORDER BY bucket, k`;
}

function range(column: string, lo: number, hi: number): string {
  const parts = ['true'];
  if (Number.isFinite(lo)) parts.push(`${column} >= ${Math.trunc(lo)}`);
  if (Number.isFinite(hi)) parts.push(`${column} < ${Math.trunc(hi)}`);
  return parts.join(' AND ');
}

/**
 * The export cut into ts windows of about a day (whole buckets: a multiple of the bucket length,
 * aligned to the epoch), only where a day partition exists: each window's sort is one day's rows,
 * in memory or spilled, not the whole export's, and the first rows come after one day's sort.
 */
export async function exportWindows(
  c: pg.ClientBase,
  q: HistoryQuery,
  rolled: [number, number] | null = null,
): Promise<[number, number][]> {
  const width = q.everyMs === null ? DAY_MS : Math.trunc(q.everyMs) * Math.ceil(DAY_MS / Math.trunc(q.everyMs));
  const keys = new Set<number>();
  const spans = (await partitionRanges(c)).map(({ lo, hi }) => [lo, hi]);
  // The days the tiers hold (a bucket may start up to a width before the first day: it is in the first window).
  if (rolled) spans.push(rolled);
  for (const [lo, hi] of spans) for (let k = Math.floor(lo! / width); k * width < hi!; k++) keys.add(k);
  const from = q.fromMs ?? -Infinity;
  const to = q.toMs ?? Infinity;
  return [...keys]
    .sort((a, b) => a - b)
    .map((k): [number, number] => [Math.max(k * width, from), Math.min((k + 1) * width, to)])
    .filter(([lo, hi]) => lo < hi);
}

export interface PgExportDeps {
  pool: pg.Pool;
  /** resolves once the export may read (the writers have passed the request's position); rejects with why not */
  ready(): Promise<void>;
  /** the rollup tiers kept (pg-rollups.ts); none: buckets from raw readings alone */
  tiers?: readonly { widthMs: number }[];
}

export function pgExport(deps: PgExportDeps, q: HistoryQuery, onData: (chunk: Buffer) => void): ExportHandle {
  let credits = INITIAL_CREDITS;
  let cancelled = false;
  let wake: (() => void) | null = null;
  const poke = () => {
    wake?.();
    wake = null;
  };
  const run = async (): Promise<{ rows: number }> => {
    await deps.ready();
    if (cancelled) return { rows: 0 };
    const c = await deps.pool.connect();
    // Until the export's transaction ends, the connection is mid-transaction (or mid-COPY): dropped on any way out but the end.
    let broken = true;
    let rows = 0;
    try {
      // One snapshot for the whole export: the marks, the series and every window agree.
      await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const series = (await c.query<SeriesDef>('SELECT id, channel, sensor, room, metric, unit FROM series')).rows;
      // The coarsest tier whose buckets are whole in the export's buckets and range (a `from` inside
      // an hour takes the minutes tier); none: raw readings alone answer.
      const whole = (ms: number | null, w: number) => ms === null || ms % w === 0;
      const tier =
        q.everyMs === null
          ? undefined
          : deps.tiers?.findLast((t) => q.everyMs! % t.widthMs === 0 && whole(q.fromMs, t.widthMs) && whole(q.toMs, t.widthMs));
      const marks = tier ? await rollupMarks(c) : null;
      const level = tier && marks?.below != null ? { widthMs: tier.widthMs, below: marks.below } : null;
      const fields = seriesFields(series);
      const out = new CsvOut(SEND_BYTES);
      const clock = new IsoClock();
      const iso = q.time === 'iso';
      const raw = q.everyMs === null;
      out.write(raw ? RAW_HEADER : BUCKET_HEADER);
      const send = async () => {
        while (credits === 0 && !cancelled) await new Promise<void>((r) => (wake = r));
        if (cancelled) return;
        credits--;
        onData(out.take());
      };
      const windows = await exportWindows(c, q, level ? [(marks!.from ?? level.below) - level.widthMs, level.below] : null);
      for (const [lo, hi] of windows) {
        if (cancelled) break;
        const stream = c.query(copyStreams.to(`COPY (${exportSql({ ...q, fromMs: lo, toMs: hi }, level)}) TO STDOUT`));
        let rest = '';
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          if (cancelled) break;
          const text = rest + chunk.toString('latin1');
          let start = 0;
          for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
            const f = text.slice(start, nl).split('\t');
            start = nl + 1;
            const sf = fields[Number(f[0])]!;
            const ts = Number(f[1]);
            const time = iso ? clock.format(ts) : String(ts);
            if (raw) out.write(`${time},${sf.names},${Number(f[2])},${sf.unit}\n`);
            else {
              const lo = Number(f[3]);
              const hi = Number(f[4]);
              out.write(`${time},${sf.names},${sf.unit},${f[2]},${lo},${hi},${formatMean(Number(f[5]), lo, hi)}\n`);
            }
            rows++;
          }
          rest = text.slice(start);
          if (out.full) await send();
        }
      }
      if (!cancelled) {
        await c.query('COMMIT');
        broken = false;
        if (!out.empty) await send();
      }
      return { rows };
    } finally {
      // A COPY left half read cannot be reused: the connection is dropped, which ends the query.
      c.release(broken);
    }
  };
  return {
    done: run(),
    credit: () => {
      credits++;
      poke();
    },
    cancel: () => {
      cancelled = true;
      poke();
    },
  };
}
