/**
 * Late rows in a writer batch: the rows a hub marked late in its bundles (bundle.ts: rows it
 * could not tell new), which no hub streamed. The batch inserts them
 * after the in-order rows with RETURNING, so it knows exactly which PostgreSQL found new; the
 * writer announces those after its commit (late-announcer.ts), and every hub streams them. A
 * redelivered batch finds them stored and announces nothing: each reaches the stream once.
 *
 * In-order rows go in first because the hubs streamed them as they committed: a late repeat of
 * one in the same batch must not be stored, and announced, in its place.
 */
import type pg from 'pg';
import { lateFromOf, type BundleSeries, type ReadingBundle } from '../cluster/bundle.ts';

/** The rows as a bundle of their own (late-announcer.ts names the writer as its hub). */
export type LateRows = Omit<ReadingBundle, 'hub'>;

/** A batch's bundles with PostgreSQL's series of each bundle series (same order). */
export type ResolvedBundles = readonly { b: ReadingBundle; ids: readonly { id: number; channel: number }[] }[];

export function noLateRows(n = 0): LateRows {
  return {
    gen: 0,
    partition: 0,
    series: [],
    n,
    seriesIndex: new Int32Array(n),
    ts: new Float64Array(n),
    value: new Float64Array(n),
    sensors: [],
  };
}

export function lateRowCount(resolved: ResolvedBundles): number {
  let n = 0;
  for (const { b } of resolved) n += b.n - lateFromOf(b);
  return n;
}

/**
 * Inserts the staged late rows (`staging.late`, and `where`, a condition on staging's columns)
 * and returns how many were new and which, by name. Sorted by the key, as the other insert, so
 * two writers take the keys' locks in the same order.
 */
export async function insertLateRows(
  c: pg.ClientBase,
  resolved: ResolvedBundles,
  where = 'true',
): Promise<{ inserted: number; rows: LateRows }> {
  const res = await c.query<{ series: number; ts: number | string; value: number }>(`INSERT INTO readings (channel, series, ts, value)
    SELECT DISTINCT ON (channel, ts) channel, series, ts, value FROM staging WHERE late AND ${where}
    ORDER BY channel, ts, ord
    ON CONFLICT (channel, ts) DO NOTHING RETURNING series, ts, value`);
  return { inserted: res.rowCount ?? 0, rows: byName(resolved, res.rows) };
}

/** The inserted rows, from PostgreSQL's series ids back to the names the bundles gave them. */
function byName(resolved: ResolvedBundles, inserted: readonly { series: number; ts: number | string; value: number }[]): LateRows {
  const out = noLateRows(inserted.length);
  if (inserted.length === 0) return out;
  const names = new Map<number, BundleSeries>();
  for (const { b, ids } of resolved) ids.forEach((s, k) => names.set(s.id, b.series[k]!));
  const indexOf = new Map<number, number>();
  inserted.forEach((r, i) => {
    const name = names.get(r.series);
    if (!name) throw new Error(`PostgreSQL returned series ${r.series}, which no bundle of the batch names`);
    let index = indexOf.get(r.series);
    if (index === undefined) {
      index = out.series.length;
      out.series.push(name);
      indexOf.set(r.series, index);
    }
    out.seriesIndex[i] = index;
    out.ts[i] = Number(r.ts);
    out.value[i] = r.value;
  });
  return out;
}
