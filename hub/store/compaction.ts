/**
 * Background compaction of the readings table, in the store worker. Group commits write each
 * commit's rows side by side, so the readings of every sensor and second are interleaved, and
 * DuckDB compresses them poorly (6 to 7 bytes a reading in the bench, file included). Once
 * readings are cold (their ts more than COLD_AFTER_MS behind the clock) this rewrites them in
 * slices of at most MAX_SLICE_ROWS, sorted by (ts, series_id): a row group then covers a short
 * span of time, its timestamps differ by a few ms from row to row and its series ids repeat a
 * pattern, which bit-packing and ALP store in about 3.5 bytes a reading. (Sorted by series
 * first, the jump from one series' last ts to the next one's first costs each bit-packing group
 * of 2,048 timestamps about 20 bits a value: 0.9 bytes a reading more on the bench's data,
 * measured, and no better on jittered timestamps.)
 *
 * Each slice is one short transaction on the commit connection, run between commits: its rows
 * are copied sorted, deleted and inserted again, and the mark below which readings are sorted
 * (meta `sorted_below`) moves in the same transaction. Readers on other connections see the
 * slice before or after, never half of it; a crash mid-slice loses that transaction and nothing
 * else. Readings that arrive later with a ts below the mark (a sensor's old backlog, an upload
 * of old data) are left as written; while readings arrive cold, compaction waits for them.
 *
 * Then it reclaims the space. DuckDB writes new data to the lowest free block and cuts the
 * file when its last blocks are free, but the slices' output lands after the rows they replace
 * (those are freed only once every slice is done), and the file would keep that size. So the
 * readings in blocks past the used count are moved (copied, deleted, inserted again, at most
 * MAX_SLICE_ROWS per transaction) after the small tables are rewritten once, and a checkpoint
 * writes them into the low free blocks and frees the tail.
 */
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { CompactionStatus } from './store-messages.ts';
import { planSlices, type Slice } from './compaction-plan.ts';
import { inTransaction as inSharedTransaction } from './transaction.ts';

/** readings this much older than the clock are cold: live data still arriving is left alone */
export const COLD_AFTER_MS = 10 * 60_000;
/**
 * Rows rewritten per transaction at most: about as long as a big group commit, and under a
 * row group (122,880 rows), which DuckDB would write to its own blocks at once, half empty.
 */
export const MAX_SLICE_ROWS = 100_000;
/** free space worth moving row groups for (4 of DuckDB's default 256 KB blocks; storage-format.ts) */
const RECLAIM_MIN_FREE_BYTES = 1 << 20;
/** rounds of moving (each ends with a checkpoint) per plan: a tail that will not move is left */
const MAX_RECLAIM_ROUNDS = 3;
/** committed rows per second above which compaction keeps out of the way of ingest */
const BUSY_ROWS_PER_S = 50_000;
/** readings that are cold on arrival (a backfill) hold compaction off until this long after the last */
const BACKFILL_QUIET_MS = 2_000;
/** ...but it runs a step at least this often all the same */
const MAX_WAIT_WHEN_BUSY_MS = 60_000;
/** how often to look for newly cold readings when there was nothing to do */
const IDLE_RECHECK_MS = 30_000;
/** ...or sooner, once this many readings were committed since (they may have an old ts) */
const REPLAN_AFTER_ROWS = 10_000;
/** after a failed step */
const RETRY_AFTER_FAILURE_MS = 30_000;
const SORTED_BELOW_KEY = 'sorted_below';

export interface CompactorHooks {
  /** the database (it changes when the store reopens) */
  instance(): DuckDBInstance;
  /** the connection commits run on (it changes when the store reopens) */
  connection(): DuckDBConnection;
  /** runs `work` in the store's write queue, after the writes queued before it */
  enqueue(work: () => Promise<void>): void;
  /** a step failed with this error (a fatal one means the database must be reopened) */
  failed(err: unknown): void;
  /** status for health */
  report(status: CompactionStatus): void;
  /** test-only fault injection: called inside a slice's transaction, before COMMIT */
  beforeSliceCommit?(): Promise<void>;
}

type Next = 'again' | 'rest';

export class Compactor {
  private readonly status: CompactionStatus = {
    state: 'idle',
    sliceOpen: false,
    pendingReadings: -1,
    sortedBelowMs: null,
    freeBytes: 0,
    slices: 0,
    readingsRewritten: 0,
    rowGroupsMoved: 0,
    lastSliceMs: 0,
    lastError: null,
    plannedAt: null,
  };
  private plan: Slice[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** a plan or a step is queued or under way: one at a time */
  private working: Promise<void> | null = null;
  /** the planning queries under way, off the write queue */
  private planning: Promise<unknown> | null = null;
  private planConnection: DuckDBConnection | null = null;
  private stopped = false;
  /** a CHECKPOINT is due before the next step (freed blocks are free only after one) */
  private checkpointDue = false;
  /** moving row groups out of the file's tail; rounds of it since the last slices */
  /** the steps of reclaiming: the small tables, then the readings in the tail */
  private reclaiming: 'tables' | 'readings' | null = null;
  private reclaimRounds = 0;
  /** rewriting the other tables failed once (a table this code does not know): not tried again */
  private tablesStay = false;
  private lastStepAt = performance.now();
  /** [time, rows] of the commits of the last second, to tell a busy store */
  private readonly recentCommits: [number, number][] = [];
  private writesQueued = 0;
  /** when readings that were cold on arrival were last committed (a backfill, an upload) */
  private lastColdArrival = -Infinity;
  /** readings committed since the last plan */
  private rowsSincePlan = 0;
  /** waiting IDLE_RECHECK_MS because the last plan found nothing to do */
  private resting = false;

  constructor(private readonly hooks: CompactorHooks) {}

  /** A write entered the store's queue: compaction waits for the queue to empty. */
  writeQueued(): void {
    this.writesQueued++;
  }

  /** A write left the queue, having committed `rows` readings, `cold` of them already cold. */
  writeDone(rows: number, cold = 0): void {
    this.writesQueued--;
    if (rows > 0) this.recentCommits.push([performance.now(), rows]);
    if (cold > 0) this.lastColdArrival = performance.now();
    this.rowsSincePlan += rows;
    // Resting (nothing was cold): new readings may be cold already (an old ts).
    if (this.resting && this.rowsSincePlan >= REPLAN_AFTER_ROWS && this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.writesQueued === 0) this.kick(0);
  }

  /** Schedules the next step in `delayMs`, unless one is due or under way. */
  kick(delayMs: number): void {
    if (this.stopped || this.timer || this.working) return;
    this.resting = false;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.tick();
    }, delayMs);
  }

  private busy(): boolean {
    const since = performance.now() - 1000;
    while (this.recentCommits.length > 0 && this.recentCommits[0]![0] < since) this.recentCommits.shift();
    let rows = 0;
    for (const [, n] of this.recentCommits) rows += n;
    const now = performance.now();
    // Cold readings still arriving would land below the mark once it passed them, and stay unsorted.
    const backfilling = now - this.lastColdArrival < BACKFILL_QUIET_MS;
    return (rows > BUSY_ROWS_PER_S || backfilling) && now - this.lastStepAt < MAX_WAIT_WHEN_BUSY_MS;
  }

  private tick(): void {
    if (this.stopped || this.working || this.writesQueued > 0) return; // the queue's end kicks again
    if (this.busy()) return this.kick(1000);
    // Readings committed since the plan may fall in its slices and make them too big: plan again.
    if (this.rowsSincePlan >= MAX_SLICE_ROWS && this.plan.length > 0) this.plan = [];
    let step: Promise<Next>;
    if (this.checkpointDue) step = this.queued(() => this.checkpoint());
    else if (this.plan.length > 0) {
      const slice = this.plan.shift()!;
      step = this.queued(() => this.runSlice(slice));
    } else if (this.reclaiming === 'readings') step = this.queued(() => this.moveFromTail());
    else if (this.reclaiming === 'tables') step = this.queued(() => this.moveTables());
    else step = this.makePlan();
    this.working = step.then(
      (next) => {
        this.working = null;
        this.lastStepAt = performance.now();
        if (next === 'again') return this.kick(0);
        this.status.state = 'idle';
        this.report();
        this.kick(IDLE_RECHECK_MS);
        this.resting = true;
      },
      (err: unknown) => {
        this.working = null;
        this.plan = [];
        this.reclaiming = null;
        // The database may have been reopened: the next plan connects afresh.
        this.planConnection?.closeSync();
        this.planConnection = null;
        this.status.state = 'idle';
        this.status.lastError = err instanceof Error ? err.message : String(err);
        this.report();
        this.hooks.failed(err);
        this.kick(RETRY_AFTER_FAILURE_MS);
      },
    );
  }

  /** Runs `work` in the store's write queue, between commits. */
  private queued(work: () => Promise<Next>): Promise<Next> {
    return new Promise<Next>((resolve, reject) =>
      this.hooks.enqueue(() => (this.stopped ? Promise.resolve<Next>('rest') : work()).then(resolve, reject)),
    );
  }

  private report(): void {
    this.hooks.report({ ...this.status });
  }

  /**
   * Plans the next slices from a histogram of the cold readings not yet sorted, on a connection
   * of its own (a read, beside the commits). With none, and free blocks in the file, reclaims.
   */
  private async makePlan(): Promise<Next> {
    const reading = this.readPlan();
    this.planning = reading.catch(() => {});
    return reading.finally(() => (this.planning = null));
  }

  private async readPlan(): Promise<Next> {
    const c = (this.planConnection ??= await this.hooks.instance().connect());
    const q = async (sql: string) => (await c.runAndReadAll(sql)).getRows();
    this.rowsSincePlan = 0;
    this.status.plannedAt = Date.now();
    const mark = (await q(`SELECT value FROM meta WHERE key = '${SORTED_BELOW_KEY}'`))[0]?.[0];
    this.status.sortedBelowMs = mark === undefined ? null : Number(mark);
    const planned = await planSlices(q, this.status.sortedBelowMs, Date.now() - COLD_AFTER_MS, MAX_SLICE_ROWS);
    if (this.stopped) return 'rest';
    this.status.pendingReadings = planned.pending;
    this.plan = planned.slices;
    if (this.plan.length > 0) {
      this.status.state = 'sorting';
      this.reclaimRounds = 0;
      // What the commits wrote goes to its blocks now, while the file is at its smallest: a
      // small table checkpointed later, while the slices' output makes the file grow, could
      // land in its last block and keep the file from shrinking when the slices are done.
      this.checkpointDue = true;
      this.report();
      return 'again';
    }
    const [size] = await q('SELECT free_blocks, block_size FROM pragma_database_size()');
    this.status.freeBytes = Number(size?.[0] ?? 0) * Number(size?.[1] ?? 0);
    if (this.status.freeBytes < RECLAIM_MIN_FREE_BYTES || this.reclaimRounds >= MAX_RECLAIM_ROUNDS) return 'rest';
    this.reclaimRounds++;
    // The small tables first, while the blocks the slices freed lie low; then the readings.
    this.reclaiming = 'tables';
    this.status.state = 'reclaiming';
    this.report();
    return 'again';
  }

  /** One slice: its rows copied sorted, deleted, inserted again, and the mark moved, in one transaction. */
  private async runSlice(s: Slice): Promise<Next> {
    const c = this.hooks.connection();
    const started = performance.now();
    const where = `ts >= ${s.lo} AND ts < ${s.hi}`;
    const rows = await inTransaction(c, async () => {
      await c.run(`CREATE OR REPLACE TEMP TABLE compaction_rows AS
        SELECT rowid AS rid, series_id, ts, value FROM readings WHERE ${where} ORDER BY ts, series_id`);
      const n = await rewrite(c, 'ts, series_id');
      await c.run(`INSERT OR REPLACE INTO meta VALUES ('${SORTED_BELOW_KEY}', '${s.hi}')`);
      this.status.sliceOpen = true;
      this.report();
      try {
        await this.hooks.beforeSliceCommit?.();
      } finally {
        this.status.sliceOpen = false;
      }
      return n;
    });
    // After the plan's last slice, a checkpoint frees the blocks of the row groups they emptied.
    if (this.plan.length === 0) this.checkpointDue = true;
    Object.assign(this.status, {
      sortedBelowMs: s.hi,
      slices: this.status.slices + 1,
      readingsRewritten: this.status.readingsRewritten + rows,
      pendingReadings: this.plan.length === 0 ? 0 : Math.max(0, this.status.pendingReadings - rows),
      lastSliceMs: Math.round(performance.now() - started),
      lastError: null,
    });
    this.report();
    return 'again';
  }

  private async checkpoint(): Promise<Next> {
    await this.hooks.connection().run('CHECKPOINT');
    this.checkpointDue = false;
    return 'again';
  }

  /**
   * Moves up to MAX_SLICE_ROWS readings of the first row group that holds a block past the
   * used ones; they are written to the lowest free blocks at the next checkpoint, which also frees
   * their old blocks and cuts the file's free tail. With none left there, that checkpoint is due.
   */
  private async moveFromTail(): Promise<Next> {
    const c = this.hooks.connection();
    const moved = await inTransaction(c, async () => {
      const range = await tailRows(c);
      if (!range) return 0;
      await c.run(`CREATE OR REPLACE TEMP TABLE compaction_rows AS SELECT rowid AS rid, series_id, ts, value FROM readings
        WHERE rowid >= ${range.start} AND rowid < ${range.end} ORDER BY rowid LIMIT ${MAX_SLICE_ROWS}`);
      // The mark again, unchanged: meta is then written at the next checkpoint with the moved
      // rows, in the low free blocks; left where the last slices' checkpoint put it, it would
      // hold the file's last block.
      await c.run(`UPDATE meta SET value = value WHERE key = '${SORTED_BELOW_KEY}'`);
      return rewrite(c, 'rid');
    });
    if (moved > 0) {
      this.status.rowGroupsMoved++;
      this.report();
    } else {
      // None left in the tail: the checkpoint writes the moved rows low and frees their old blocks.
      this.reclaiming = null;
      this.checkpointDue = true;
    }
    return 'again';
  }

  /**
   * The other tables, if one still has a block past the used ones, or metadata does (written
   * there by a checkpoint while the file was at its largest, and not changed since, it would
   * keep the file from shrinking): each small one rewritten whole, all in one transaction,
   * before the readings are moved, so the next checkpoint writes them together into the low
   * free blocks.
   */
  private async moveTables(): Promise<Next> {
    this.reclaiming = 'readings';
    if (this.tablesStay) return 'again';
    const c = this.hooks.connection();
    try {
      const moved = await inTransaction(c, async () => {
        const used = Number((await c.runAndReadAll('SELECT used_blocks FROM pragma_database_size()')).getRows()[0]?.[0] ?? 0);
        const tables = (
          await c.runAndReadAll(`SELECT table_name, estimated_size FROM duckdb_tables()
            WHERE database_name = current_database() AND schema_name = 'main' AND table_name <> 'readings'`)
        ).getRows();
        // A table's metadata (its row groups' pointers) stays where the checkpoint that last
        // changed the table wrote it: a small table unchanged since the file was at its largest
        // pins the file's last block with that alone, its data lying low (seen: 163 of 330 blocks
        // free and not given back). Rewritten, its metadata goes to the low free blocks too.
        const topMetadata = (await c.runAndReadAll('SELECT max(block_id) FROM pragma_metadata_info()')).getRows()[0]?.[0];
        let inTail = topMetadata !== null && topMetadata !== undefined && Number(topMetadata) >= used;
        for (const [name] of tables) {
          const top = (
            await c.runAndReadAll(`SELECT max(block_id) FROM pragma_storage_info('${String(name).replaceAll("'", "''")}')`)
          ).getRows()[0]?.[0];
          if (top !== null && top !== undefined && Number(top) >= used) inTail = true;
        }
        if (!inTail) return false;
        for (const [name, size] of tables) if (Number(size) <= MAX_SLICE_ROWS) await rewriteTable(c, String(name));
        return true;
      });
      if (moved) this.checkpointDue = true;
    } catch (err) {
      this.tablesStay = true;
      this.status.lastError = `the other tables could not be moved (left where they are): ${err instanceof Error ? err.message : String(err)}`;
    }
    return 'again';
  }

  /**
   * Stops scheduling and waits for a planning query under way. A step waiting in the write
   * queue does nothing once stopped (the queue's close comes before it, or after it is done).
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.planConnection?.interrupt();
    await this.planning;
    this.planConnection?.closeSync();
    this.planConnection = null;
  }
}

/** A step's transaction; its copy of the rows is dropped after, whatever happened. */
function inTransaction<T>(c: DuckDBConnection, work: () => Promise<T>): Promise<T> {
  return inSharedTransaction(c, work, () => c.run('DROP TABLE IF EXISTS compaction_rows'));
}

/**
 * Deletes the rows copied to `compaction_rows` (by rowid, in this transaction's snapshot) and
 * inserts the copy instead, in `order`, checking that as many went as came: no reading lost or
 * doubled.
 */
async function rewrite(c: DuckDBConnection, order: 'ts, series_id' | 'rid'): Promise<number> {
  const copied = Number((await c.runAndReadAll('SELECT count(*) FROM compaction_rows')).getRows()[0]?.[0] ?? 0);
  if (copied === 0) return 0;
  const deleted = Number((await c.run('DELETE FROM readings WHERE rowid IN (SELECT rid FROM compaction_rows)')).rowsChanged);
  if (deleted !== copied) throw new Error(`compaction copied ${copied} readings but would delete ${deleted}; rolled back`);
  await c.run(`INSERT INTO readings SELECT series_id, ts, value FROM compaction_rows ORDER BY ${order}`);
  return copied;
}

/** Deletes a table's rows and inserts them again, in their order, checking the count. */
async function rewriteTable(c: DuckDBConnection, table: string): Promise<void> {
  const quoted = `"${table.replaceAll('"', '""')}"`;
  await c.run(`CREATE OR REPLACE TEMP TABLE compaction_table AS SELECT rowid AS rid, * FROM ${quoted}`);
  const copied = Number((await c.runAndReadAll('SELECT count(*) FROM compaction_table')).getRows()[0]?.[0] ?? 0);
  const deleted = Number((await c.run(`DELETE FROM ${quoted}`)).rowsChanged);
  if (deleted !== copied) throw new Error(`compaction copied ${copied} rows of ${table} but would delete ${deleted}; rolled back`);
  await c.run(`INSERT INTO ${quoted} SELECT * EXCLUDE (rid) FROM compaction_table ORDER BY rid`);
  await c.run('DROP TABLE compaction_table');
}

/**
 * The rowids of the first readings row group with rows left that holds a block past the used
 * ones, or null. Rowids are positions: a row group's rows, deleted ones
 * included, are its first column's segment counts.
 */
async function tailRows(c: DuckDBConnection): Promise<{ start: number; end: number } | null> {
  const used = Number((await c.runAndReadAll('SELECT used_blocks FROM pragma_database_size()')).getRows()[0]?.[0] ?? 0);
  const groups = (
    await c.runAndReadAll(`SELECT row_group_id, sum(count) FILTER (WHERE column_path = '[0]'), max(block_id)
      FROM pragma_storage_info('readings') GROUP BY row_group_id ORDER BY row_group_id`)
  ).getRows();
  const inTail: { start: number; end: number; top: number }[] = [];
  let start = 0;
  for (const [, n, top] of groups) {
    const rows = Number(n ?? 0);
    if (top !== null && Number(top) >= used) inTail.push({ start, end: start + rows, top: Number(top) });
    start += rows;
  }
  // In table order, which is ts order for sorted row groups: moved, they stay sorted.
  for (const g of inTail) {
    const left = Number(
      (await c.runAndReadAll(`SELECT count(*) FROM readings WHERE rowid >= ${g.start} AND rowid < ${g.end}`)).getRows()[0]?.[0],
    );
    if (left > 0) return g;
  }
  return null;
}

/** How many of the rows are cold already (their ts older than COLD_AFTER_MS). */
export function coldRows(now: number, ...cols: { n: number; ts: Float64Array }[]): number {
  const cold = now - COLD_AFTER_MS;
  let count = 0;
  for (const c of cols) for (let i = 0; i < c.n; i++) if (c.ts[i]! < cold) count++;
  return count;
}

/** The status as `GET /api/v1/health` shows it (docs/ADMIN.md "Compaction"). */
export function compactionHealth(s: CompactionStatus): Record<string, unknown> {
  return {
    state: s.state,
    slice_open: s.sliceOpen,
    pending_readings: s.pendingReadings,
    sorted_below: s.sortedBelowMs === null ? null : new Date(s.sortedBelowMs).toISOString(),
    free_bytes: s.freeBytes,
    slices: s.slices,
    readings_rewritten: s.readingsRewritten,
    row_groups_moved: s.rowGroupsMoved,
    last_slice_ms: s.lastSliceMs,
    planned_at: s.plannedAt === null ? null : new Date(s.plannedAt).toISOString(),
    ...(s.lastError ? { last_error: s.lastError } : {}),
  };
}
