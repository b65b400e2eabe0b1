/**
 * Retention and rollups for an upload's commit (hub/upload/upload-commit.ts), on the upload's
 * own connection and in its transaction: rows older than the horizon are counted and left out
 * (their raw data may be dropped, so their identity cannot be checked), and the rows it stores
 * below the finest tier's mark get late marks (rollup-runner.ts), committed with them.
 *
 * The mark moves while the upload runs, and a rollup step cannot see the upload's rows before
 * its COMMIT: each window marks its new rows below the mark as it is then, and the last step (in
 * the store's queue, where no rollup step runs beside it) marks the file's rows between the mark
 * the first window saw and the mark now. A row marked twice is a bucket recomputed once more.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { sqlPath, stagePath } from '../upload/upload-stage.ts';

export interface UploadRetentionHooks {
  /** readings below this are refused; null: no retention */
  horizonMs: number | null;
  /** the finest tier: its width, and its mark now; null: no rollups */
  finest(): { widthMs: number; rolledBelow: number } | null;
  /** after the upload's COMMIT */
  committed(lateMarks: number, expired: number): void;
}

export class UploadRetention {
  expired = 0;
  private marks = 0;
  private firstMark: number | null = null;

  constructor(private readonly hooks: UploadRetentionHooks) {}

  /** ts below which the upload's rows are left out */
  get floor(): number {
    return this.hooks.horizonMs ?? -Infinity;
  }

  /** Counts the file's rows below the horizon (they are not stored). */
  async begin(c: DuckDBConnection, spool: string): Promise<void> {
    if (this.hooks.horizonMs === null) return;
    const rows = await c.runAndReadAll(`SELECT count(*) FROM read_parquet(${sqlPath(stagePath(spool))}) x
      SEMI JOIN upload_map m ON m.key = x.key WHERE x.ts < ${this.hooks.horizonMs}`);
    this.expired = Number(rows.getRows()[0]?.[0] ?? 0);
  }

  /** After a window's insert: late marks for its new rows (the window's news file) below the mark now. */
  async window(c: DuckDBConnection, news: string): Promise<void> {
    const f = this.hooks.finest();
    if (!f) return;
    this.firstMark ??= f.rolledBelow;
    this.marks += await mark(c, `SELECT series_id, ts FROM read_parquet(${sqlPath(news)}) WHERE ts < ${f.rolledBelow}`, f.widthMs);
  }

  /** In the queue, before the COMMIT: the rows between the first window's mark and the mark now. */
  async end(c: DuckDBConnection, spool: string): Promise<void> {
    const f = this.hooks.finest();
    if (!f || this.firstMark === null || f.rolledBelow <= this.firstMark) return;
    this.marks += await mark(
      c,
      `SELECT m.series_id, x.ts FROM read_parquet(${sqlPath(stagePath(spool))}) x JOIN upload_map m ON m.key = x.key
        WHERE x.ts >= ${Math.max(this.firstMark, this.floor)} AND x.ts < ${f.rolledBelow}`,
      f.widthMs,
    );
  }

  committed(): void {
    this.hooks.committed(this.marks, this.expired);
  }
}

async function mark(c: DuckDBConnection, rows: string, widthMs: number): Promise<number> {
  const w = Math.trunc(widthMs);
  const r = await c.run(
    `INSERT INTO rollup_late SELECT DISTINCT series_id, (ts // ${w}) * ${w}, (ts // ${w}) * ${w} + ${w} FROM (${rows})`,
  );
  return Number(r.rowsChanged);
}
