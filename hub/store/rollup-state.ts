/**
 * The rollups' state in the store (rollup-runner.ts): each configured tier's table and marks,
 * loaded (or started) at open, and the recomputation of the buckets late readings marked.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { alignDown, tierTable, type RetentionConfig } from './rollup-tiers.ts';
import { between, recomputeLate, tierTableDdl } from './rollup-sql.ts';
import { inTransaction } from './transaction.ts';
import { clusterKey } from './rollup-cluster.ts';

/** meta key: raw readings below it were dropped */
export const RAW_KEPT_FROM_KEY = 'raw_kept_from';

export interface Tier {
  widthMs: number;
  keepMs: number | null;
  table: string;
  rolledBelow: number;
  keptFrom: number | null;
  /** the time span of the next slice, adapted to STEP_TARGET_MS */
  spanMs: number;
  bucketsDropped: number;
}

export interface RollupState {
  tiers: Tier[];
  /** tier tables of earlier configurations, left as they are */
  unmaintained: string[];
  rawKeptFrom: number | null;
  lateMarks: number;
}

/**
 * Each configured tier's state, in one transaction on `c`: a tier stored before keeps its marks;
 * a new one (or one configured again) starts empty at the oldest data of the level below it. A
 * tier no longer configured loses its state row; its table stays (health lists it).
 */
export async function loadRollupState(c: DuckDBConnection, config: RetentionConfig): Promise<RollupState> {
  const tiers: Tier[] = [];
  let unmaintained: string[] = [];
  let rawKeptFrom: number | null = null;
  let lateMarks = 0;
  const q = async (sql: string) => (await c.runAndReadAll(sql)).getRows();
  await inTransaction(c, async () => {
    const stored = new Map((await q('SELECT width_ms, rolled_below, kept_from FROM rollup_tiers')).map((r) => [Number(r[0]), r]));
    const configured = new Set(config.tiers.map((t) => t.widthMs));
    for (const width of stored.keys()) if (!configured.has(width)) await c.run(`DELETE FROM rollup_tiers WHERE width_ms = ${width}`);
    const tables = (
      await q(
        `SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND table_name LIKE 'rollup\\_%ms' ESCAPE '\\'`,
      )
    ).map((r) => String(r[0]));
    unmaintained = tables.filter((t) => !config.tiers.some((tier) => tierTable(tier.widthMs) === t));
    let below: Tier | null = null;
    for (const t of config.tiers) {
      const table = tierTable(t.widthMs);
      const row = stored.get(t.widthMs);
      let tier: Tier;
      if (row)
        tier = {
          ...t,
          table,
          rolledBelow: Number(row[1]),
          keptFrom: row[2] === null ? null : Number(row[2]),
          spanMs: t.widthMs,
          bucketsDropped: 0,
        };
      else {
        // New (or configured again after a while without it): built afresh from the level below.
        await c.run(`DROP TABLE IF EXISTS ${table}`);
        await c.run(`DELETE FROM meta WHERE key = '${clusterKey(t.widthMs)}'`);
        const source = below ? `SELECT min(bucket) FROM ${below.table}` : 'SELECT min(ts) FROM readings';
        const first = (await q(source))[0]?.[0];
        // Nothing below yet: from the epoch, so the first step starts at the first data to come, and
        // a backfill into a new hub is rolled up in slices rather than marked late bucket by bucket.
        const start = first === null || first === undefined ? 0 : Number(first);
        tier = { ...t, table, rolledBelow: alignDown(start, t.widthMs), keptFrom: null, spanMs: t.widthMs, bucketsDropped: 0 };
        await c.run(`INSERT INTO rollup_tiers VALUES (${t.widthMs}, ${tier.rolledBelow}, NULL)`);
      }
      await c.run(tierTableDdl(table));
      tiers.push(tier);
      below = tier;
    }
    const kept = (await q(`SELECT value FROM meta WHERE key = '${RAW_KEPT_FROM_KEY}'`))[0]?.[0];
    rawKeptFrom = kept === undefined ? null : Number(kept);
    lateMarks = Number((await q('SELECT count(*) FROM rollup_late'))[0]?.[0] ?? 0);
  });
  return { tiers, unmaintained, rawKeptFrom, lateMarks };
}

/** Recomputes the buckets of up to `maxMarks` late marks from raw readings, removing the marks, in one transaction; returns how many. */
export function recomputeLateMarks(c: DuckDBConnection, tiers: Tier[], maxMarks: number): Promise<number> {
  return inTransaction(
    c,
    async () => {
      await c.run(`CREATE OR REPLACE TEMP TABLE late_taken AS SELECT rowid AS rid, series_id, lo FROM rollup_late LIMIT ${maxMarks}`);
      const widths: number[] = [];
      for (const t of tiers) {
        widths.push(t.widthMs);
        // Only buckets this tier has rolled and still keeps; the others it rolls later from what is stored then.
        const b = `(lo // ${t.widthMs}) * ${t.widthMs}`;
        await c.run(`CREATE OR REPLACE TEMP TABLE late_buckets AS
          SELECT DISTINCT series_id, ${b} AS b FROM late_taken WHERE ${between(b, t.keptFrom ?? -Infinity, t.rolledBelow)}`);
        const [lo, hi] = (await c.runAndReadAll('SELECT min(b), max(b) FROM late_buckets')).getRows()[0] ?? [];
        if (lo === null || lo === undefined) continue;
        // The bucket bounds let DuckDB skip the tier's row groups outside them (they lie in bucket order).
        await c.run(`DELETE FROM ${t.table} USING late_buckets l WHERE ${t.table}.series_id = l.series_id AND ${t.table}.bucket = l.b
          AND ${between(`${t.table}.bucket`, Number(lo), Number(hi) + 1)}`);
        await c.run(`INSERT INTO ${t.table} ${recomputeLate(widths, Number(lo), Number(hi) + t.widthMs)}`);
      }
      const n = Number((await c.run('DELETE FROM rollup_late WHERE rowid IN (SELECT rid FROM late_taken)')).rowsChanged);
      return n;
    },
    async () => {
      await c.run('DROP TABLE IF EXISTS late_taken');
      await c.run('DROP TABLE IF EXISTS late_buckets');
    },
  );
}
