/**
 * The day partitions of `readings`, made on demand: a batch (or an upload) names the UTC days
 * its readings fall on, and any partition missing is made first, in a short transaction of its
 * own, before the rows' transaction. A partition is made as a plain table and then attached:
 * ATTACH takes a lock that lets reads and inserts of other days go on (CREATE ... PARTITION OF
 * would lock the whole table, so a long export would hold every writer).
 *
 * Retention (pg-retention.ts) drops whole days below the mark `raw_kept_from` in `meta`; no
 * partition is made below that mark again (a writer's or an upload's rows that old are refused).
 */
import type pg from 'pg';
import { MARK_LOCK, PARTITION_LOCK } from './pg-schema.ts';

export const DAY_MS = 86_400_000;

/** meta key: raw readings below it were dropped by retention (pg-retention.ts) */
export const RAW_KEPT_FROM_KEY = 'raw_kept_from';

/** The retention mark: readings with a ts below it are gone and are not stored again; null: none dropped. */
export async function rawKeptFrom(c: pg.ClientBase): Promise<number | null> {
  const row = (await c.query<{ value: string }>('SELECT value FROM meta WHERE key = $1', [RAW_KEPT_FROM_KEY])).rows[0];
  return row ? Number(row.value) : null;
}

/**
 * In a transaction that stores readings: holds the mark where it is until the transaction ends
 * (the retention duty raises it only between such transactions), and reads it. So rows it lets
 * through are in their day before that day is rolled up and dropped (pg-retention.ts).
 */
export async function heldMark(c: pg.ClientBase): Promise<number | null> {
  await c.query('SELECT pg_advisory_xact_lock_shared($1)', [MARK_LOCK]);
  return rawKeptFrom(c);
}

export function dayOf(ts: number): number {
  return Math.floor(ts / DAY_MS);
}

/** `readings_20261207` for the UTC day `day` (days since the epoch). */
export function partitionName(day: number): string {
  const iso = new Date(day * DAY_MS).toISOString(); // +/-YYYYYY for far years: only digits are kept
  return `readings_${iso.slice(0, iso.indexOf('T')).replace(/[^0-9]/g, '')}${day < 0 ? 'b' : ''}`;
}

/** The distinct days of some timestamps. */
export function daysOf(ts: ArrayLike<number>, n = ts.length, into = new Set<number>()): Set<number> {
  let last = NaN;
  for (let i = 0; i < n; i++) {
    const d = Math.floor(ts[i]! / DAY_MS);
    if (d !== last) into.add((last = d));
  }
  return into;
}

/** The day partitions there are, newest first: name and [lo, hi) of ts. */
export async function partitionRanges(c: pg.ClientBase): Promise<{ name: string; lo: number; hi: number }[]> {
  const rows = await c.query<{ name: string; bound: string }>(
    `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'readings'::regclass`,
  );
  const out = [];
  for (const { name, bound } of rows.rows) {
    const m = /FROM \('?(-?\d+)'?\) TO \('?(-?\d+)'?\)/.exec(bound);
    if (m) out.push({ name, lo: Number(m[1]), hi: Number(m[2]) });
  }
  return out.sort((a, b) => b.lo - a.lo);
}

/** Remembers the partitions known to exist, so a batch of known days costs no query. */
export class Partitions {
  private readonly known = new Set<number>();

  /** Makes the partitions of `days` that do not exist yet. `c` must not be inside a transaction. */
  async ensure(c: pg.ClientBase, days: Iterable<number>): Promise<number> {
    const missing = [...days].filter((d) => !this.known.has(d));
    if (missing.length === 0) return 0;
    const names = missing.map(partitionName);
    const existing = new Set(
      (await c.query<{ relname: string }>(`SELECT relname FROM pg_class WHERE relname = ANY($1::text[])`, [names])).rows.map(
        (r) => r.relname,
      ),
    );
    let made = 0;
    for (let i = 0; i < missing.length; i++) {
      if (!existing.has(names[i]!)) made += await this.make(c, missing[i]!);
      this.known.add(missing[i]!);
    }
    return made;
  }

  private async make(c: pg.ClientBase, day: number): Promise<number> {
    const name = partitionName(day);
    const lo = day * DAY_MS;
    const hi = lo + DAY_MS;
    await c.query('BEGIN');
    try {
      // Two writers may want the same new day at once: one makes it, the other finds it.
      await c.query('SELECT pg_advisory_xact_lock($1)', [PARTITION_LOCK]);
      // A day retention dropped is not made again: its rows are filtered out by the mark (write-batch.ts, pg-upload.ts).
      const floor = await rawKeptFrom(c);
      if ((await c.query(`SELECT 1 FROM pg_class WHERE relname = $1`, [name])).rowCount || (floor !== null && hi <= floor)) {
        await c.query('COMMIT');
        return 0;
      }
      await c.query(`CREATE TABLE ${name} (LIKE readings INCLUDING DEFAULTS)`);
      // The constraint spares ATTACH a scan of the (empty) table for rows outside the range.
      await c.query(`ALTER TABLE ${name} ADD CONSTRAINT ${name}_range CHECK (ts >= ${lo} AND ts < ${hi})`);
      await c.query(`ALTER TABLE readings ATTACH PARTITION ${name} FOR VALUES FROM (${lo}) TO (${hi})`);
      await c.query(`ALTER TABLE ${name} DROP CONSTRAINT ${name}_range`);
      await c.query('COMMIT');
      return 1;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {});
      throw err;
    }
  }
}
