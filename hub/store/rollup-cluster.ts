/**
 * Keeps each rollup tier clustered by series where its buckets have settled (rollup-runner.ts
 * runs this as its last kind of step). A tier is appended to in bucket order (each roll adds a
 * few buckets of every series), so each of its row groups spans every series, and a query of
 * one series or one room reads the whole tier: a year of hourly buckets of 3,000 series is 26M
 * rows for 8,760 of them. Settled buckets (rolled, and a day behind the clock) are rewritten in
 * eras of about ERA_ROWS rows, each era in (series_id, bucket) order, so DuckDB's min and max of
 * series_id per row group let a filtered query skip all but a row group or two of each era.
 *
 * An era is rewritten in slices of at most MAX_SLICE_ROWS rows (a range of series), each one
 * short transaction in the store's write queue, between commits, as the compaction's slices
 * (compaction.ts): the slice's rows copied, deleted, inserted again in order, and the mark moved
 * (meta `rollup_clustered_<width>`: the era's start, its end, the next series), in the same
 * transaction, so a crash loses one slice and the next start goes on from the mark. Slices go in
 * series order, so an era's rows end up in series order at the table's end. Rows are moved,
 * never changed: every bucket answers the same bytes.
 *
 * A bucket that late readings change after its era was rewritten (rollup-state.ts
 * recomputeLateMarks) is deleted and inserted at the table's end: still right, a row or so less
 * clustered. An era is rewritten once; the blocks of the rows it replaced are free after the
 * checkpoint the runner makes when an era is done.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { MAX_SLICE_ROWS } from './compaction.ts';
import { alignDown } from './rollup-tiers.ts';
import { between } from './rollup-sql.ts';
import { inTransaction } from './transaction.ts';

export interface ClusterOptions {
  /** rows an era aims at: a series' part of an era then fills a row group (122,880 rows) or less */
  eraRows: number;
  /** rows rewritten per transaction at most */
  sliceRows: number;
  /** buckets this much behind the clock (and rolled) are settled; late readings rarely reach them */
  settledMs: number;
}

export const DEFAULT_CLUSTER: ClusterOptions = { eraRows: 2_000_000, sliceRows: MAX_SLICE_ROWS, settledMs: 86_400_000 };
/** buckets counted to estimate an era's span */
const PROBE_BUCKETS = 64;

/** What the meta row says: below `below` every era is rewritten; [below, eraHi) is under way from series `next`. */
interface Mark {
  below: number | null;
  eraHi: number;
  next: number;
}

export type ClusterStep = 'planned' | 'slice' | 'era-done' | false;

export function clusterKey(widthMs: number): string {
  return `rollup_clustered_${Math.trunc(widthMs)}`;
}

export class TierClusterer {
  /** as committed; null: read it from meta at the next step */
  private mark: Mark | null = null;
  /** the era's series still to rewrite, cut into slices: slice i is [cuts[i], cuts[i + 1]) */
  private cuts: number[] | null = null;

  constructor(
    private readonly table: string,
    private readonly widthMs: number,
    private readonly o: ClusterOptions = DEFAULT_CLUSTER,
  ) {}

  /** The mark as committed (tests, health): null before the first era. */
  get clusteredBelow(): number | null {
    return this.mark?.below ?? null;
  }

  /**
   * One step, one transaction on `c`: a slice of the era under way, or the next era planned.
   * `rolledBelow` and `keptFrom` are the tier's marks; false when there is nothing to do.
   */
  async step(c: DuckDBConnection, tier: { rolledBelow: number; keptFrom: number | null }, nowMs: number): Promise<ClusterStep> {
    try {
      const out: { next: { mark: Mark; cuts: number[] | null } | null } = { next: null };
      const result = await inTransaction(
        c,
        async () => {
          const mark = this.mark ?? (await this.load(c));
          if (mark.eraHi > (mark.below ?? Infinity)) {
            out.next = await this.slice(c, mark);
            return out.next.cuts === null ? 'era-done' : 'slice';
          }
          const limit = Math.min(tier.rolledBelow, alignDown(nowMs - this.o.settledMs, this.widthMs));
          const era = await this.nextEra(c, Math.max(mark.below ?? -Infinity, tier.keptFrom ?? -Infinity), limit);
          if (!era) {
            this.mark = mark;
            return false;
          }
          out.next = { mark: { below: era.lo, eraHi: era.hi, next: -2_147_483_648 }, cuts: null };
          await this.save(c, out.next.mark);
          return 'planned';
        },
        () => c.run('DROP TABLE IF EXISTS cluster_rows'),
      );
      // Only what committed: a failed step is tried again from the mark in the store.
      if (out.next) ({ mark: this.mark, cuts: this.cuts } = out.next);
      return result;
    } catch (err) {
      this.mark = null;
      this.cuts = null;
      throw err;
    }
  }

  private async load(c: DuckDBConnection): Promise<Mark> {
    const value = (await c.runAndReadAll(`SELECT value FROM meta WHERE key = '${clusterKey(this.widthMs)}'`)).getRows()[0]?.[0];
    if (value === undefined || value === null) return { below: null, eraHi: -Infinity, next: 0 };
    const [below, eraHi, next] = String(value).split(':').map(Number);
    return { below: below!, eraHi: eraHi!, next: next! };
  }

  private async save(c: DuckDBConnection, m: Mark): Promise<void> {
    await c.run(`INSERT OR REPLACE INTO meta VALUES ('${clusterKey(this.widthMs)}', '${m.below}:${m.eraHi}:${m.next}')`);
  }

  private async count(c: DuckDBConnection, lo: number, hi: number): Promise<number> {
    return Number((await c.runAndReadAll(`SELECT count(*) FROM ${this.table} WHERE ${between('bucket', lo, hi)}`)).getRows()[0]?.[0] ?? 0);
  }

  /**
   * The next era: from the first bucket at or above `from`, a span of about eraRows rows (from the
   * rows of its first PROBE_BUCKETS buckets, then checked), if all of it is settled (below `limit`).
   */
  private async nextEra(c: DuckDBConnection, from: number, limit: number): Promise<{ lo: number; hi: number } | null> {
    const w = this.widthMs;
    const first = (
      await c.runAndReadAll(`SELECT min(bucket) FROM ${this.table} WHERE ${between('bucket', from, limit)}`)
    ).getRows()[0]?.[0];
    if (first === null || first === undefined) return null;
    const lo = alignDown(Number(first), w);
    const probe = Math.max(1, await this.count(c, lo, lo + PROBE_BUCKETS * w));
    let span = Math.max(1, Math.floor((this.o.eraRows * PROBE_BUCKETS) / probe));
    if (lo + span * w > limit) {
      // The probe may be sparse (one sensor at first, many later): the settled rows decide.
      const settled = await this.count(c, lo, limit);
      // Not an era's worth settled yet: wait (a smaller era would cost queries a row group more).
      if (settled < this.o.eraRows) return null;
      span = Math.max(1, Math.floor((((limit - lo) / w) * this.o.eraRows) / settled));
    }
    for (let tries = 0; tries < 4 && span > 1; tries++) {
      const n = await this.count(c, lo, lo + span * w);
      if (n <= 2 * this.o.eraRows) break;
      span = Math.max(1, Math.floor((span * this.o.eraRows) / n));
    }
    return { lo, hi: lo + span * w };
  }

  /** Rewrites the era's next slice of series; cuts null once the era is done (the mark then moves past it). */
  private async slice(c: DuckDBConnection, mark: Mark): Promise<{ mark: Mark; cuts: number[] | null }> {
    const era = between('bucket', mark.below!, mark.eraHi);
    const cuts = this.cuts ?? (await this.plan(c, era, mark.next));
    if (cuts.length >= 2) {
      const [lo, hi] = cuts as [number, number];
      // The same rows three times in one transaction (nothing else writes meanwhile): copied, deleted, inserted in order.
      const rows = `${era} AND series_id >= ${lo} AND series_id < ${hi}`;
      await c.run(`CREATE OR REPLACE TEMP TABLE cluster_rows AS SELECT * FROM ${this.table} WHERE ${rows}`);
      const copied = Number((await c.runAndReadAll('SELECT count(*) FROM cluster_rows')).getRows()[0]?.[0] ?? 0);
      const deleted = Number((await c.run(`DELETE FROM ${this.table} WHERE ${rows}`)).rowsChanged);
      if (deleted !== copied) throw new Error(`clustering ${this.table} copied ${copied} rows but would delete ${deleted}; rolled back`);
      await c.run(`INSERT INTO ${this.table} SELECT * FROM cluster_rows ORDER BY series_id, bucket`);
    }
    const left = cuts.slice(1);
    const done = left.length < 2;
    const next: Mark = done ? { below: mark.eraHi, eraHi: mark.eraHi, next: 0 } : { ...mark, next: left[0]! };
    await this.save(c, next);
    return { mark: next, cuts: done ? null : left };
  }

  /** The era's series from `from` on, cut into slices of at most sliceRows rows (a series alone may have more). */
  private async plan(c: DuckDBConnection, era: string, from: number): Promise<number[]> {
    const counts = (
      await c.runAndReadAll(
        `SELECT series_id, count(*) FROM ${this.table} WHERE ${era} AND series_id >= ${from} GROUP BY series_id ORDER BY series_id`,
      )
    ).getRows();
    const cuts: number[] = [];
    let rows = 0;
    for (const [id, n] of counts) {
      const k = Number(n);
      if (cuts.length === 0 || (rows > 0 && rows + k > this.o.sliceRows)) {
        cuts.push(Number(id));
        rows = 0;
      }
      rows += k;
    }
    const last = counts.at(-1)?.[0];
    if (last !== undefined) cuts.push(Number(last) + 1);
    return cuts;
  }
}
