/**
 * The store worker's half of a history export: the query in ts windows, formatted as CSV and
 * posted to the main thread in chunks, never more than the granted credits ahead.
 */
import type { MessagePort } from 'node:worker_threads';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { DuckDBConnection, DuckDBInstance, DuckDBResult } from '@duckdb/node-api';
import { BUCKET_HEADER, CsvOut, IsoClock, RAW_HEADER, formatMean, seriesFields } from '../history/csv-rows.ts';
import { bucketSql, extentSql, outputBound, rawSql, selectsSeries, windows, type HistoryQuery } from '../history/history-query.ts';
import { bigIntsAsNumbers } from '../store/column-chunks.ts';
import { loadSeries } from '../store/read-queries.ts';
import { readRollupState, tierFor, tieredBucketSql, tieredExtentSql, type RollupState } from './rollup-query.ts';

/** A bucketed export out of the rollups: their state when it started, and the tier that answers. */
interface Tiered {
  state: RollupState;
  k: number;
}

/** An export under way: the credits the main thread has granted, and its connections (to close). */
interface ExportState {
  credits: number;
  wake: (() => void) | null;
  cancelled: boolean;
  connections: DuckDBConnection[];
}

/** Exports under way, by request id. */
const exportsInFlight = new Map<number, ExportState>();
const INITIAL_CREDITS = 4;
/** CSV bytes per message to the main thread */
const SEND_BYTES = 128 * 1024;
/** rows an export's query returns at once (raw readings, or buckets): bounds the sort's memory whatever the export's size */
const EXPORT_WINDOW_ROWS = 250_000;
/** DuckDB chunks (2,048 rows each) read between two collections of the dead ones */
const CHUNKS_PER_COLLECTION = 8;

/**
 * A young-generation collection. Each chunk DuckDB hands over holds about 50 KB of native
 * memory that V8 does not see: its wrappers are tiny, so V8 collects them when it pleases, and
 * an export of 3M rows left 60-85 MB of dead chunks in the process (measured). A scavenge every
 * CHUNKS_PER_COLLECTION chunks frees them (about a millisecond; the export got faster, not
 * slower, with less memory to touch). `gc` is exposed to a fresh context for this; where that
 * is refused, the export runs as before.
 */
const collectYoung: () => void = (() => {
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as (options?: { type: 'minor' | 'major' }) => void;
    return () => gc({ type: 'minor' });
  } catch {
    return () => {};
  }
})();

/**
 * The export's windows. Buckets over a closed range that cannot make more than one window's
 * rows (a chart's usual request) are one query, without first counting the readings (a scan
 * as long as the query's own); anything else is cut by the readings' count and ts range.
 */
async function plan(c: DuckDBConnection, q: HistoryQuery, seriesCount: number, tiered: Tiered | null): Promise<HistoryQuery[]> {
  if (q.everyMs !== null && q.fromMs !== null && q.toMs !== null) {
    if (q.toMs <= q.fromMs) return [];
    const bound = outputBound(q, Infinity, q.fromMs, q.toMs - 1, seriesCount);
    if (bound <= EXPORT_WINDOW_ROWS) return [q];
    // Out of the rollups the extent would only narrow the range, at the cost of a scan of every
    // level (70 ms of a room's year); windows with nothing in them cost a zonemap look each.
    if (tiered) return windows(q, bound, q.fromMs, q.toMs - 1, EXPORT_WINDOW_ROWS);
  }
  // Out of the rollups, the raw readings' count says nothing of the buckets: bound them by the range.
  const extent = tiered ? `SELECT 9e15, * FROM (${tieredExtentSql(q, tiered.state, tiered.k)})` : extentSql(q);
  const [count, minTs, maxTs] = ((await c.runAndReadAll(extent)).getRows()[0] ?? [0, null, null]).map((v) =>
    v === null ? null : Number(v),
  );
  if (minTs === null) return [];
  return count ? windows(q, outputBound(q, count, minTs!, maxTs!, seriesCount), minTs!, maxTs!, EXPORT_WINDOW_ROWS) : [];
}

/**
 * Streams a history export as CSV on a connection of its own, so commits go on meanwhile
 * (DuckDB's MVCC gives the export a consistent snapshot). Sends at most the granted number
 * of chunks ahead of the HTTP client; a cancel stops it at the next chunk (a window being
 * sorted is let finish: at most one window's work, and no query is interrupted mid-fetch).
 * Whatever happens, its connections are closed and no query it started is left unseen.
 */
export async function runExport(instance: DuckDBInstance, port: MessagePort, reqId: number, q: HistoryQuery): Promise<{ rows: number }> {
  const state: ExportState = { credits: INITIAL_CREDITS, wake: null, cancelled: false, connections: [] };
  exportsInFlight.set(reqId, state);
  let rows = 0;
  let next: Promise<DuckDBResult> | null = null;
  try {
    const c = await instance.connect();
    state.connections.push(c);
    // Only the selected series' fields: quoting all of them (3,000) cost more than a series' year of buckets.
    const selected = (await loadSeries(c)).filter((s) => selectsSeries(q, s));
    const fields = seriesFields(selected);
    const tiered = await tieredFor(c, q);
    const parts = await plan(c, q, selected.length, tiered);
    const clock = new IsoClock();
    const iso = q.time === 'iso';
    const out = new CsvOut(SEND_BYTES);
    out.write(q.everyMs !== null ? BUCKET_HEADER : RAW_HEADER);
    const send = async () => {
      while (state.credits === 0 && !state.cancelled) await new Promise<void>((r) => (state.wake = r));
      if (state.cancelled) return;
      state.credits--;
      const data = out.take();
      port.postMessage({ stream: reqId, data }, [data.buffer as ArrayBuffer]);
    };
    // The next window is queried (and sorted, in DuckDB's threads) on a second connection while
    // this one is formatted, so the sort and the formatting overlap.
    const c2 = parts.length > 1 ? await instance.connect() : c;
    if (c2 !== c) state.connections.push(c2);
    const start = (i: number): Promise<DuckDBResult> | null => {
      if (i >= parts.length || state.cancelled) return null;
      const sql = tiered
        ? tieredBucketSql(parts[i]!, tiered.state, tiered.k)
        : q.everyMs !== null
          ? bucketSql(parts[i]!)
          : rawSql(parts[i]!);
      const result = (i % 2 ? c2 : c).stream(sql);
      // Queried ahead, it may fail (out of memory) while the window before it is formatted: a
      // rejection nobody handles yet would end the whole store thread. Its error is seen when
      // it is awaited.
      result.catch(() => {});
      return result;
    };
    next = start(0);
    for (let i = 0; i < parts.length; i++) {
      if (state.cancelled || !next) break;
      const result = await next;
      next = start(i + 1);
      for (let chunks = 1; ; chunks++) {
        if (chunks % CHUNKS_PER_COLLECTION === 0) collectYoung();
        const chunk = await result.fetchChunk();
        if (!chunk || chunk.rowCount === 0 || state.cancelled) break;
        const n = chunk.rowCount;
        const sid = (chunk.getColumnVector(0) as unknown as { items: Int32Array }).items;
        const ts = bigIntsAsNumbers((chunk.getColumnVector(1) as unknown as { items: BigInt64Array }).items, n);
        if (q.everyMs === null) {
          const value = (chunk.getColumnVector(2) as unknown as { items: Float64Array }).items;
          for (let i = 0; i < n; i++) {
            const f = fields[sid[i]!]!;
            out.write(`${iso ? clock.format(ts[i]!) : ts[i]},${f.names},${value[i]},${f.unit}\n`);
          }
        } else {
          const count = bigIntsAsNumbers((chunk.getColumnVector(2) as unknown as { items: BigInt64Array }).items, n);
          const lo = (chunk.getColumnVector(3) as unknown as { items: Float64Array }).items;
          const hi = (chunk.getColumnVector(4) as unknown as { items: Float64Array }).items;
          const mean = (chunk.getColumnVector(5) as unknown as { items: Float64Array }).items;
          for (let i = 0; i < n; i++) {
            const f = fields[sid[i]!]!;
            out.write(
              `${iso ? clock.format(ts[i]!) : ts[i]},${f.names},${f.unit},${count[i]},${lo[i]},${hi[i]},${formatMean(mean[i]!, lo[i]!, hi[i]!)}\n`,
            );
          }
        }
        rows += n;
        if (out.full) await send();
      }
    }
    if (!out.empty && !state.cancelled) await send();
    return { rows };
  } finally {
    exportsInFlight.delete(reqId);
    // A window started but never read (cancelled, or the one before it failed) fails or ends here, not unseen.
    await next?.catch(() => {});
    for (const c of state.connections) c.closeSync();
  }
}

/** The tier that answers a bucketed export, if one divides its `every`. */
async function tieredFor(c: DuckDBConnection, q: HistoryQuery): Promise<Tiered | null> {
  if (q.everyMs === null) return null;
  const state = await readRollupState(c, q);
  const k = tierFor(state, q.everyMs);
  return k < 0 ? null : { state, k };
}

/** The main thread took a chunk (credit) or the client went away (cancel). */
export function steerExport(exportId: number, op: 'export-credit' | 'export-cancel'): void {
  const state = exportsInFlight.get(exportId);
  if (!state) return;
  if (op === 'export-credit') state.credits++;
  else state.cancelled = true;
  state.wake?.();
  state.wake = null;
}
