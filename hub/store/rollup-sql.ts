/**
 * The SQL of rollups, shared by the store's background steps (rollup-runner.ts) and the history
 * export (hub/history/rollup-query.ts), so a bucket is the same rows whichever made it.
 *
 * Every level is rows of (series_id, bucket, n, total, lo, hi): a raw reading is a bucket of one
 * (bucket = its ts, n = 1, total = lo = hi = its value). A level is rolled into wider buckets by
 * one rule: n and total summed, the least lo and the greatest hi. The sum keeps buckets
 * mergeable exactly (a mean of means would not be), and `fsum` (compensated summation) makes
 * it, to the last bit in all but pathological cases, independent of the order DuckDB's threads
 * add the rows in. Tier 1 is raw rolled into its width; tier j is tier j-1 rolled into its width;
 * an export of `every` is its tier rolled into `every`.
 */

/** A tier's table: rollup_<width>ms (rollup-tiers.ts tierTable). */
export function tierTableDdl(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${table} (
    series_id INTEGER NOT NULL, bucket BIGINT NOT NULL, n BIGINT NOT NULL, total DOUBLE NOT NULL, lo DOUBLE NOT NULL, hi DOUBLE NOT NULL)`;
}

/** Raw readings as buckets of one, filtered by `where` (on readings' columns). */
export function rawLevel(where: string): string {
  return `SELECT series_id, ts AS bucket, 1::BIGINT AS n, value AS total, value AS lo, value AS hi FROM readings WHERE ${where}`;
}

/** A tier's buckets, filtered by `where` (on its columns). */
export function tierLevel(table: string, where: string): string {
  return `SELECT series_id, bucket, n, total, lo, hi FROM ${table} WHERE ${where}`;
}

/** `level` rolled into buckets of `widthMs`, aligned to the epoch. */
export function rollInto(level: string, widthMs: number): string {
  const w = Math.trunc(widthMs);
  return `SELECT series_id, (bucket // ${w}) * ${w} AS bucket, sum(n)::BIGINT AS n, fsum(total) AS total, min(lo) AS lo, max(hi) AS hi
    FROM (${level}) GROUP BY series_id, (bucket // ${w}) * ${w}`;
}

/** `level` rolled through each width in turn (the chain of tiers above it). */
export function rollThrough(level: string, widthsMs: readonly number[]): string {
  return widthsMs.reduce((sql, w) => rollInto(sql, w), level);
}

/** `ts >= lo AND ts < hi` on `column`, leaving out an infinite side. */
export function between(column: string, lo: number, hi: number): string {
  const parts: string[] = [];
  if (Number.isFinite(lo)) parts.push(`${column} >= ${Math.trunc(lo)}`);
  if (Number.isFinite(hi)) parts.push(`${column} < ${Math.trunc(hi)}`);
  return parts.length > 0 ? parts.join(' AND ') : 'true';
}

/**
 * The buckets of the tier at `chain.length - 1` for the late marks in the temp table
 * `late_buckets (series_id, b)` (b a bucket start of that tier), recomputed from raw readings
 * through the whole chain: the same rows the rollups would have made had the readings come on time.
 */
export function recomputeLate(chainWidthsMs: readonly number[], lo: number, hi: number): string {
  const w = Math.trunc(chainWidthsMs.at(-1)!);
  const raw = `SELECT r.series_id, r.ts AS bucket, 1::BIGINT AS n, r.value AS total, r.value AS lo, r.value AS hi
    FROM readings r SEMI JOIN late_buckets l ON l.series_id = r.series_id AND l.b = (r.ts // ${w}) * ${w}
    WHERE ${between('r.ts', lo, hi)}`;
  return rollThrough(raw, chainWidthsMs);
}
