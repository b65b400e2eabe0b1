/**
 * Rollup tiers in cluster mode (`--rollups`, the single hub's tiers: rollup-tiers.ts). In
 * PostgreSQL a tier is made of the days retention drops, when it drops them (pg-retention.ts):
 * the day is detached first, so no insert reaches it any more, and every tier gets its buckets
 * from the day's raw readings in the transaction that drops it. Days are dropped only below the
 * mark, and no reading below the mark is stored after (partitions.ts), so a tier bucket never
 * changes once made and there are no late readings to recompute: the rows the mark is below
 * live in the tiers, the rows above it in `readings`, and a bucketed export reads both
 * (pg-export.ts), the same rows either way.
 *
 * Two marks in `meta`: `raw_kept_from` (partitions.ts) is raised first, so no reading below it
 * is stored after; `rollup_below` moves with each day rolled, in its transaction: the tiers are
 * complete below it, and an export reads the tiers below it and the raw readings from it on,
 * in one snapshot (pg-export.ts), so a day is counted once whatever the drop is doing.
 *
 * A bucket holds count, an exact sum (numeric: buckets merge without rounding, so a mean is the
 * same whichever way it was summed), min and max, per series (PostgreSQL's series id). A bucket
 * cut by a day's end (a width that does not divide a day) is merged by upsert. A tier's buckets
 * older than its keep are deleted after each drop; its mark `rollup_kept_from_<width>` in `meta`.
 */
import type pg from 'pg';
import { alignDown, tierTable, type RollupTier } from '../store/rollup-tiers.ts';
import { SCHEMA_LOCK } from './pg-schema.ts';
import { DAY_MS, RAW_KEPT_FROM_KEY } from './partitions.ts';

/** meta key: every tier holds every reading below it (raw readings there may be gone) */
export const ROLLED_BELOW_KEY = 'rollup_below';
/** meta key: the first ms any tier holds */
export const ROLLED_FROM_KEY = 'rollup_from';

export function keptFromKey(widthMs: number): string {
  return `rollup_kept_from_${Math.trunc(widthMs)}`;
}

/**
 * Makes the tiers' tables (or finds them), under the schema lock: hubs may start together. A
 * tier made after days were rolled holds none of them: its mark says its buckets start there.
 */
export async function ensureTierTables(c: pg.ClientBase, tiers: readonly RollupTier[]): Promise<void> {
  if (tiers.length === 0) return;
  await c.query('BEGIN');
  try {
    await c.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
    for (const t of tiers) {
      const table = tierTable(t.widthMs);
      if ((await c.query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [table])).rows[0]?.present === true)
        continue;
      // Keyed by bucket first: exports read a tier by time range.
      await c.query(`CREATE TABLE ${table} (
        series integer NOT NULL, bucket bigint NOT NULL, n bigint NOT NULL, total numeric NOT NULL,
        lo double precision NOT NULL, hi double precision NOT NULL, PRIMARY KEY (bucket, series))`);
      await c.query(
        // Nothing below what was rolled, nor below what was dropped (by a holder without tiers).
        `INSERT INTO meta SELECT $1, max(value::bigint)::text FROM meta WHERE key = ANY($2::text[]) HAVING count(*) > 0
         ON CONFLICT (key) DO UPDATE SET value = greatest(meta.value::bigint, excluded.value::bigint)::text`,
        [keptFromKey(t.widthMs), [ROLLED_BELOW_KEY, RAW_KEPT_FROM_KEY]],
      );
    }
    await c.query('COMMIT');
  } catch (err) {
    await c.query('ROLLBACK').catch(() => {});
    throw err;
  }
}

/**
 * The buckets of every tier from the day partition `table`, [lo, hi), in one transaction: the
 * day is locked against inserts first (SHARE: reads go on; a writer that read the old raw mark
 * finishes first), and `rollup_below` moves to its end in the same transaction.
 */
export async function rollDay(
  c: pg.ClientBase,
  table: string,
  day: { lo: number; hi: number },
  tiers: readonly RollupTier[],
): Promise<void> {
  await c.query('BEGIN');
  try {
    await c.query(`LOCK TABLE ${table} IN SHARE MODE`);
    await rollInto(c, table, day, tiers);
    await setMark(c, ROLLED_BELOW_KEY, day.hi, 'greatest');
    await setMark(c, ROLLED_FROM_KEY, day.lo, 'least');
    await c.query('COMMIT');
  } catch (err) {
    await c.query('ROLLBACK').catch(() => {});
    throw err;
  }
}

/** Moves a mark of `meta` up (greatest) or down (least), never back. */
export async function setMark(c: pg.ClientBase, key: string, value: number, way: 'greatest' | 'least'): Promise<void> {
  await c.query(
    `INSERT INTO meta VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = ${way}(meta.value::bigint, excluded.value::bigint)::text`,
    [key, String(Math.trunc(value))],
  );
}

async function rollInto(c: pg.ClientBase, table: string, day: { lo: number; hi: number }, tiers: readonly RollupTier[]): Promise<void> {
  const withinDay = (w: number) => DAY_MS % w === 0;
  for (let j = 0; j < tiers.length; j++) {
    const w = Math.trunc(tiers[j]!.widthMs);
    const tt = tierTable(w);
    const below = tiers[j - 1];
    // Where both widths divide a day, the buckets of the day in the tier below hold this day's
    // readings alone (just written): the tier is made of them, not of another scan of the day.
    const level =
      below && withinDay(w) && withinDay(below.widthMs)
        ? `SELECT series, bucket AS ts, n, total, lo, hi FROM ${tierTable(below.widthMs)} WHERE bucket >= ${day.lo} AND bucket < ${day.hi}`
        : `SELECT series, ts, 1 AS n, value::numeric AS total, value AS lo, value AS hi FROM ${table}`;
    // Buckets aligned to the epoch, floored before it too (as the export's).
    await c.query(`INSERT INTO ${tt} (series, bucket, n, total, lo, hi)
      SELECT series, ts - ((ts % ${w}) + ${w}) % ${w}, sum(n), sum(total), min(lo), max(hi) FROM (${level}) l GROUP BY 1, 2
      ON CONFLICT (series, bucket) DO UPDATE SET n = ${tt}.n + excluded.n, total = ${tt}.total + excluded.total,
        lo = least(${tt}.lo, excluded.lo), hi = greatest(${tt}.hi, excluded.hi)`);
  }
}

/**
 * Each finite tier's buckets older than its keep, deleted once the next tier holds them (the next
 * is made of the same days, so it always does; its width sets the alignment). Returns the buckets deleted per tier.
 */
export async function dropTierBuckets(c: pg.ClientBase, tiers: readonly RollupTier[], now: number, rawMark: number): Promise<number[]> {
  const dropped: number[] = [];
  for (let j = 0; j < tiers.length; j++) {
    const t = tiers[j]!;
    if (t.keepMs === null) {
      dropped.push(0);
      continue;
    }
    const next = tiers[j + 1];
    // Only what the tiers hold: below the raw mark (above it the raw readings answer).
    const upTo = Math.min(alignDown(now - t.keepMs, next?.widthMs ?? t.widthMs), rawMark);
    const key = keptFromKey(t.widthMs);
    const before = await c.query<{ value: string }>('SELECT value FROM meta WHERE key = $1', [key]);
    if (before.rows[0] && Number(before.rows[0].value) >= upTo) {
      dropped.push(0);
      continue;
    }
    await c.query('BEGIN');
    try {
      const n = (await c.query(`DELETE FROM ${tierTable(t.widthMs)} WHERE bucket < $1`, [upTo])).rowCount ?? 0;
      await c.query(`INSERT INTO meta VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, [key, String(upTo)]);
      await c.query('COMMIT');
      dropped.push(n);
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {});
      throw err;
    }
  }
  return dropped;
}

/** Each tier's mark (buckets below it deleted), by width; absent: none deleted. */
export async function tierKeptFrom(c: pg.ClientBase, tiers: readonly RollupTier[]): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  if (tiers.length === 0) return out;
  const rows = await c.query<{ key: string; value: string }>('SELECT key, value FROM meta WHERE key = ANY($1::text[])', [
    tiers.map((t) => keptFromKey(t.widthMs)),
  ]);
  for (const t of tiers) {
    const r = rows.rows.find((x) => x.key === keptFromKey(t.widthMs));
    if (r) out.set(t.widthMs, Number(r.value));
  }
  return out;
}

/** The rollup marks: tiers complete below `below`, from `from`; null where no day was rolled. */
export async function rollupMarks(c: pg.ClientBase): Promise<{ below: number | null; from: number | null }> {
  const rows = await c.query<{ key: string; value: string }>('SELECT key, value FROM meta WHERE key = ANY($1::text[])', [
    [ROLLED_BELOW_KEY, ROLLED_FROM_KEY],
  ]);
  const get = (k: string) => {
    const r = rows.rows.find((x) => x.key === k);
    return r ? Number(r.value) : null;
  };
  return { below: get(ROLLED_BELOW_KEY), from: get(ROLLED_FROM_KEY) };
}
