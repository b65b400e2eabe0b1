/**
 * Bucketed exports (`every`) out of the rollup tiers (docs/API.md "Retention"): the coarsest tier
 * whose width divides `every` answers, for the whole tier buckets it holds; what it does not hold
 * (not rolled up yet, dropped past its keep, or a bucket cut by `from`/`to`) comes from the finer
 * tiers, then from raw readings, each rolled through the same chain of tiers
 * (hub/store/rollup-sql.ts). So an answer is the same bytes whichever level a bucket came from, and
 * stays so once raw readings are dropped.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { alignDown, alignUp, tierTable } from '../store/rollup-tiers.ts';
import { between, rawLevel, rollInto, rollThrough, tierLevel } from '../store/rollup-sql.ts';
import { seriesWhere, type HistoryQuery } from './history-query.ts';

export interface RollupState {
  /** finest first */
  tiers: { widthMs: number; rolledBelow: number; keptFrom: number | null; table: string }[];
  /** raw readings below this were dropped; null: none */
  rawKeptFrom: number | null;
  /**
   * The span of the late marks of the query's series (rollup-runner.ts): buckets there may miss
   * readings committed since they were rolled, until the marks are done, so raw readings (kept
   * there: late readings are never older than the horizon) answer for it meanwhile.
   */
  stale: Range | null;
}

/** The tiers the store keeps (rollup_tiers), the raw horizon and the query's late marks, in one snapshot. */
export async function readRollupState(c: DuckDBConnection, q: HistoryQuery): Promise<RollupState> {
  const [state] = (
    await c.runAndReadAll(`SELECT (SELECT value FROM meta WHERE key = 'raw_kept_from'), min(lo), max(hi) FROM rollup_late
      WHERE series_id IN (SELECT id FROM series s WHERE ${seriesWhere(q)})`)
  ).getRows();
  const [kept, staleLo, staleHi] = state ?? [];
  const tiers = (await c.runAndReadAll('SELECT width_ms, rolled_below, kept_from FROM rollup_tiers ORDER BY width_ms')).getRows();
  return {
    tiers: tiers.map(([w, below, from]) => ({
      widthMs: Number(w),
      rolledBelow: Number(below),
      keptFrom: from === null ? null : Number(from),
      table: tierTable(Number(w)),
    })),
    rawKeptFrom: kept === null || kept === undefined ? null : Number(kept),
    stale: staleLo === null || staleLo === undefined ? null : [Number(staleLo), Number(staleHi)],
  };
}

/** The index of the coarsest tier whose width divides `everyMs`, or -1 (raw readings answer). */
export function tierFor(state: RollupState, everyMs: number): number {
  for (let j = state.tiers.length - 1; j >= 0; j--) if (everyMs % state.tiers[j]!.widthMs === 0) return j;
  return -1;
}

type Range = [lo: number, hi: number];

/** From tier k down to raw: the ranges each level answers, whole buckets of its width, none twice. */
export function levelRanges(state: RollupState, k: number, fromMs: number | null, toMs: number | null): { tiers: Range[][]; raw: Range[] } {
  let open: Range[] = [[fromMs ?? -Infinity, toMs ?? Infinity]];
  const tiers: Range[][] = [];
  for (let j = k; j >= 0; j--) {
    const t = state.tiers[j]!;
    const took: Range[] = [];
    const left: Range[] = [];
    const held: Range[] = state.stale
      ? [
          [t.keptFrom ?? -Infinity, Math.min(t.rolledBelow, state.stale[0])],
          [Math.max(t.keptFrom ?? -Infinity, state.stale[1]), t.rolledBelow],
        ]
      : [[t.keptFrom ?? -Infinity, t.rolledBelow]];
    for (const piece of open) {
      let rest: Range[] = [piece];
      for (const [hLo, hHi] of held) {
        const next: Range[] = [];
        for (const [lo, hi] of rest) {
          const a = alignUp(Math.max(lo, hLo), t.widthMs);
          const b = alignDown(Math.min(hi, hHi), t.widthMs);
          if (!(a < b)) {
            next.push([lo, hi]);
            continue;
          }
          took.push([a, b]);
          if (lo < a) next.push([lo, a]);
          if (b < hi) next.push([b, hi]);
        }
        rest = next;
      }
      left.push(...rest);
    }
    tiers[j] = took;
    open = left;
  }
  return { tiers, raw: open };
}

function anyOf(column: string, ranges: Range[]): string {
  return `(${ranges.map(([lo, hi]) => between(column, lo, hi)).join(' OR ')})`;
}

function seriesIn(q: HistoryQuery): string {
  return `series_id IN (SELECT id FROM series s WHERE ${seriesWhere(q)})`;
}

/**
 * Raw readings of each range, one scan per range: DuckDB prunes a scan of readings by its ts
 * zonemaps for one range, not for an OR of ranges (a bucket cut by `from` and the recent tail
 * were a scan of every reading: 110-510 ms on 36M readings, against 2-12 ms as two scans).
 */
function rawRanges(ranges: Range[], series: string): string {
  return ranges.map(([lo, hi]) => `SELECT * FROM (${rawLevel(`${between('ts', lo, hi)} AND ${series}`)})`).join('\nUNION ALL\n');
}

/** The rows of tier k's buckets in the query's range, from whichever level holds each. */
function levels(q: HistoryQuery, state: RollupState, k: number, r = levelRanges(state, k, q.fromMs, q.toMs)): string {
  const series = seriesIn(q);
  const widths = state.tiers.map((t) => t.widthMs);
  const parts: string[] = [];
  for (let j = k; j >= 0; j--) {
    if (r.tiers[j]!.length === 0) continue;
    parts.push(rollThrough(tierLevel(state.tiers[j]!.table, `${anyOf('bucket', r.tiers[j]!)} AND ${series}`), widths.slice(j + 1, k + 1)));
  }
  if (r.raw.length > 0) parts.push(rollThrough(rawRanges(r.raw, series), widths.slice(0, k + 1)));
  return parts.length > 0 ? parts.join('\nUNION ALL\n') : `SELECT * FROM (${rawLevel('false')})`;
}

/** Like bucketSql (history-query.ts): (series_id, bucket, count, min, max, mean, k), by bucket and series order. */
export function tieredBucketSql(q: HistoryQuery, state: RollupState, k: number): string {
  const r = levelRanges(state, k, q.fromMs, q.toMs);
  const tier = state.tiers[k]!;
  // Tier k alone answers, in its own width: its rows are the buckets (one per series and bucket),
  // so the GROUP BY that merges levels would only copy them (a third of a room's year query).
  const alone = q.everyMs === tier.widthMs && r.raw.length === 0 && r.tiers.every((t, j) => j === k || t.length === 0);
  const buckets =
    alone && r.tiers[k]!.length > 0
      ? tierLevel(tier.table, `${anyOf('bucket', r.tiers[k]!)} AND ${seriesIn(q)}`)
      : rollInto(levels(q, state, k, r), q.everyMs!);
  return `WITH s AS (SELECT id, dense_rank() OVER (ORDER BY sensor, metric, room, unit) AS k FROM series),
    b AS (${buckets})
    SELECT b.series_id, b.bucket, b.n, b.lo, b.hi, b.total / b.n AS mean, s.k FROM b JOIN s ON s.id = b.series_id
    ORDER BY b.bucket, s.k`;
}

/** The ts range of what a tiered query can return (tier k's buckets and raw readings), to cut it into windows. */
export function tieredExtentSql(q: HistoryQuery, state: RollupState, k: number): string {
  return `SELECT min(lo), max(hi) FROM (SELECT min(bucket) AS lo, max(bucket) AS hi FROM (${levels(q, state, k)}))`;
}
