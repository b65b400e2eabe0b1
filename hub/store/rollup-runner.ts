/**
 * Rollups and retention in the background, in the store worker (docs/ADMIN.md "Retention and
 * rollups"). Each step is one short transaction in the store's write queue, run when the queue is
 * empty, so commits wait at most for one step (a slice sized to take about STEP_TARGET_MS):
 *
 * 1. late marks: buckets that readings stored after their tier rolled them up (an upload of old
 *    data, a sensor's old outbox) are recomputed from raw readings, through the chain of tiers,
 *    and the marks removed, in one transaction. The commit that stored the readings wrote the
 *    marks, so a crash in between leaves them to do.
 * 2. rolling: each tier's buckets up to a settled time (tier 1: the hub clock less SETTLE_MS;
 *    tier j: as far as tier j-1 has rolled), from the level below, and its `rolled_below` mark.
 * 3. retention: raw readings below min(horizon, every tier's mark) deleted, then each finite
 *    tier's buckets past their keep (once the next tier covers them). A CHECKPOINT after the
 *    deletes makes their blocks free for new data, so the file stops growing; the compaction's
 *    reclaiming (compaction.ts) only moves data when free blocks are left over after that.
 * 4. clustering: each tier's settled buckets rewritten in series order, an era at a time
 *    (rollup-cluster.ts), so a query of a series or a room reads a row group or two of each era.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Columns, RetentionStatus } from './store-messages.ts';
import { acceptHorizon, alignDown, type RetentionConfig } from './rollup-tiers.ts';
import { between, rawLevel, rollInto, tierLevel } from './rollup-sql.ts';
import { inTransaction } from './transaction.ts';
import { loadRollupState, RAW_KEPT_FROM_KEY, recomputeLateMarks, type Tier } from './rollup-state.ts';
import { UploadRetention } from './rollup-upload.ts';
import { TierClusterer } from './rollup-cluster.ts';

/** tier 1 rolls a bucket this long after it ended: readings that late go the late-mark way */
export const SETTLE_MS = 60_000;
/** a step aims at about this long, so a commit waits no longer behind it */
const STEP_TARGET_MS = 40;
/** while commits flow, at least this long between two steps */
const BUSY_GAP_MS = 100;
/** how often to look again when there was nothing to do */
const IDLE_RECHECK_MS = 2_000;
/** while the write queue never empties, a step is queued behind the writes this often */
const FORCE_STEP_AFTER_MS = 1_000;
const RETRY_AFTER_FAILURE_MS = 10_000;
/** late marks recomputed per step at most */
const LATE_MARKS_PER_STEP = 5_000;

export interface RollupHooks {
  /** the connection commits run on (it changes when the store reopens) */
  connection(): DuckDBConnection;
  /** runs `work` in the store's write queue, after the writes queued before it */
  enqueue(work: () => Promise<void>): void;
  failed(err: unknown): void;
  report(status: RetentionStatus): void;
  /** the hub clock */
  now(): number;
}

type Step = () => Promise<boolean>;

export class RollupRunner {
  private tiers: Tier[] = [];
  private clusterers: TierClusterer[] = [];
  private rawKeptFrom: number | null = null;
  private rawSpanMs = 3_600_000;
  private lateMarks = 0;
  private readonly counts = { readingsDropped: 0, readingsExpired: 0, lateRecomputed: 0 };
  private unmaintained: string[] = [];
  private lastError: string | null = null;
  private lastStepAt: number | null = null;
  private checkpointDue = false;
  private idle = false;
  private timer: NodeJS.Timeout | null = null;
  private working = false;
  private stopped = false;
  private writesQueued = 0;
  private lastCommitAt = -Infinity;
  /** when the last step was queued (performance.now) */
  private lastStepPerf = performance.now();

  constructor(
    private readonly config: RetentionConfig,
    private readonly hooks: RollupHooks,
  ) {}

  /** Loads (or starts) each tier's state and makes its table, on the commit connection at open. */
  async open(c: DuckDBConnection): Promise<void> {
    Object.assign(this, await loadRollupState(c, this.config));
    this.clusterers = this.tiers.map((t) => new TierClusterer(t.table, t.widthMs));
    this.report();
    this.kick(0);
  }

  /** Readings with a ts below this are refused: their raw data may be gone (rollup-tiers.ts). */
  horizon(): number | null {
    return acceptHorizon(this.config, this.hooks.now());
  }

  /** The finest tier's width and mark: readings stored below the mark need a late mark. */
  get finest(): { widthMs: number; rolledBelow: number } | null {
    return this.tiers[0] ?? null;
  }

  noteExpired(n: number): void {
    this.counts.readingsExpired += n;
  }

  /**
   * In the caller's transaction: marks the finest buckets of rows just stored (`stored`: null for
   * all, else 1 where row i was) below the finest tier's mark, to recompute. Returns the marks.
   */
  async markLate(c: DuckDBConnection, rows: Columns, stored: Uint8Array | null): Promise<number> {
    const f = this.finest;
    if (!f) return 0;
    const marks = new Map<string, [number, number]>();
    for (let i = 0; i < rows.n; i++) {
      if (rows.ts[i]! >= f.rolledBelow || (stored && stored[i] !== 1)) continue;
      const b = alignDown(rows.ts[i]!, f.widthMs);
      marks.set(`${rows.series[i]}:${b}`, [rows.series[i]!, b]);
    }
    if (marks.size === 0) return 0;
    const a = await c.createAppender('rollup_late');
    for (const [sid, b] of marks.values()) {
      a.appendInteger(sid);
      a.appendBigInt(BigInt(b));
      a.appendBigInt(BigInt(b + f.widthMs));
      a.endRow();
    }
    a.closeSync();
    return marks.size;
  }

  /** A commit that wrote `marks` late marks committed. */
  lateMarked(marks: number): void {
    if (marks === 0) return;
    this.lateMarks += marks;
    this.idle = false;
    // Said before the commit's answer leaves: whoever waits on health sees the work to do.
    this.report();
  }

  writeQueued(): void {
    this.writesQueued++;
  }

  writeDone(rows: number): void {
    this.writesQueued--;
    if (rows > 0) this.lastCommitAt = performance.now();
    if (this.writesQueued === 0) this.kick(performance.now() - this.lastCommitAt < 1000 ? BUSY_GAP_MS : 0);
    // A store whose queue never empties (ingest at full speed) still gets a step now and then,
    // queued behind the writes: else retention would wait for the load to drop, and the disk fill.
    else if (!this.working && performance.now() - this.lastStepPerf > FORCE_STEP_AFTER_MS) this.tick(true);
  }

  kick(delayMs: number): void {
    if (this.stopped || this.timer || this.working) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.tick();
    }, delayMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private tick(forced = false): void {
    if (this.stopped || this.working || (this.writesQueued > 0 && !forced)) return; // the queue's end kicks again
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.working = true;
    this.lastStepPerf = performance.now();
    this.hooks.enqueue(async () => {
      let again = false;
      try {
        if (!this.stopped) again = await this.step();
        this.idle = !again;
        this.lastStepAt = this.hooks.now();
      } catch (err) {
        this.lastError = err instanceof Error ? err.message : String(err);
        this.hooks.failed(err);
        this.working = false;
        this.report();
        this.kick(RETRY_AFTER_FAILURE_MS);
        return;
      }
      this.working = false;
      this.report();
      this.kick(again ? (performance.now() - this.lastCommitAt < 1000 ? BUSY_GAP_MS : 0) : IDLE_RECHECK_MS);
    });
  }

  /** One step of the first kind with work to do; false when there was none. */
  private async step(): Promise<boolean> {
    const steps: Step[] = [() => this.recomputeLate(), ...this.tiers.map((t, j) => () => this.roll(j, t)), () => this.dropRaw()];
    for (let j = 0; j < this.tiers.length; j++) steps.push(() => this.dropTier(j));
    for (let j = 0; j < this.tiers.length; j++) steps.push(() => this.cluster(j));
    for (const step of steps) if (await step()) return true;
    if (this.checkpointDue) {
      this.checkpointDue = false;
      await this.hooks.connection().run('CHECKPOINT');
      return true;
    }
    this.lastError = null;
    return false;
  }

  private async recomputeLate(): Promise<boolean> {
    if (this.lateMarks === 0 || this.tiers.length === 0) return false;
    const done = await recomputeLateMarks(this.hooks.connection(), this.tiers, LATE_MARKS_PER_STEP);
    this.lateMarks = Math.max(0, this.lateMarks - done);
    this.counts.lateRecomputed += done;
    if (done === 0) this.lateMarks = 0;
    return true;
  }

  /** How far tier j may roll now. */
  private target(j: number): number {
    const t = this.tiers[j]!;
    const upTo = j === 0 ? this.hooks.now() - SETTLE_MS : this.tiers[j - 1]!.rolledBelow;
    return alignDown(upTo, t.widthMs);
  }

  private async roll(j: number, t: Tier): Promise<boolean> {
    const target = this.target(j);
    if (t.rolledBelow >= target) return false;
    const c = this.hooks.connection();
    const started = performance.now();
    const source = j === 0 ? null : this.tiers[j - 1]!;
    const col = source ? 'bucket' : 'ts';
    const from = source ? source.table : 'readings';
    await inTransaction(c, async () => {
      // Skip a stretch with nothing in it (a hub that was off) in one step.
      const first = (
        await c.runAndReadAll(`SELECT min(${col}) FROM ${from} WHERE ${between(col, t.rolledBelow, target)}`)
      ).getRows()[0]?.[0];
      if (first === null || first === undefined) {
        t.rolledBelow = target;
      } else {
        const lo = alignDown(Number(first), t.widthMs);
        const hi = Math.min(target, lo + Math.max(t.widthMs, alignDown(t.spanMs, t.widthMs)));
        const level = source ? tierLevel(source.table, between('bucket', lo, hi)) : rawLevel(between('ts', lo, hi));
        await c.run(`INSERT INTO ${t.table} SELECT * FROM (${rollInto(level, t.widthMs)}) ORDER BY bucket, series_id`);
        t.rolledBelow = hi;
      }
      await c.run(`UPDATE rollup_tiers SET rolled_below = ${t.rolledBelow} WHERE width_ms = ${t.widthMs}`);
    });
    t.spanMs = adapt(t.spanMs, performance.now() - started, t.widthMs);
    return true;
  }

  /** Raw readings below every tier's mark and the horizon, a slice at a time. */
  private async dropRaw(): Promise<boolean> {
    const horizon = this.horizon();
    if (horizon === null || this.lateMarks > 0) return false;
    const coarsest = this.tiers.at(-1)?.widthMs ?? 1;
    const upTo = Math.min(horizon, ...this.tiers.map((t) => alignDown(t.rolledBelow, coarsest)));
    if (this.rawKeptFrom !== null && this.rawKeptFrom >= upTo) return false;
    const c = this.hooks.connection();
    const started = performance.now();
    const dropped = await inTransaction(c, async () => {
      let from = this.rawKeptFrom;
      if (from === null) {
        const first = (await c.runAndReadAll(`SELECT min(ts) FROM readings WHERE ts < ${upTo}`)).getRows()[0]?.[0];
        // Nothing to drop yet: no mark either (an export would say readings were dropped).
        if (first === null || first === undefined) return -1;
        from = alignDown(Number(first), coarsest);
      }
      const hi = Math.min(upTo, from + Math.max(coarsest, alignDown(this.rawSpanMs, coarsest)));
      const n = Number((await c.run(`DELETE FROM readings WHERE ts < ${hi}`)).rowsChanged);
      await c.run(`INSERT OR REPLACE INTO meta VALUES ('${RAW_KEPT_FROM_KEY}', '${hi}')`);
      this.rawKeptFrom = hi;
      return n;
    });
    if (dropped < 0) return false;
    this.rawSpanMs = adapt(this.rawSpanMs, performance.now() - started, coarsest);
    this.counts.readingsDropped += dropped;
    if (dropped > 0) this.checkpointDue = true;
    return true;
  }

  /** Tier j's buckets past its keep, once the next tier holds them. */
  private async dropTier(j: number): Promise<boolean> {
    const t = this.tiers[j]!;
    if (t.keepMs === null) return false;
    const next = this.tiers[j + 1];
    let upTo = alignDown(this.hooks.now() - t.keepMs, next?.widthMs ?? t.widthMs);
    if (next) upTo = Math.min(upTo, next.rolledBelow);
    if (t.keptFrom !== null && t.keptFrom >= upTo) return false;
    const c = this.hooks.connection();
    const dropped = await inTransaction(c, async () => {
      const n = Number((await c.run(`DELETE FROM ${t.table} WHERE bucket < ${upTo}`)).rowsChanged);
      await c.run(`UPDATE rollup_tiers SET kept_from = ${upTo} WHERE width_ms = ${t.widthMs}`);
      return n;
    });
    t.keptFrom = upTo;
    t.bucketsDropped += dropped;
    if (dropped > 0) this.checkpointDue = true;
    return true;
  }

  /** A slice of tier j's settled buckets rewritten in series order; a checkpoint after each era frees the old rows' blocks. */
  private async cluster(j: number): Promise<boolean> {
    const done = await this.clusterers[j]!.step(this.hooks.connection(), this.tiers[j]!, this.hooks.now());
    if (done === 'era-done') this.checkpointDue = true;
    return done !== false;
  }

  private report(): void {
    const now = this.hooks.now();
    this.hooks.report({
      retentionMs: this.config.retentionMs,
      horizonMs: this.horizon(),
      rawKeptFromMs: this.rawKeptFrom,
      ...this.counts,
      lateMarks: this.lateMarks,
      tiers: this.tiers.map((t) => ({
        widthMs: t.widthMs,
        keepMs: t.keepMs,
        rolledBelowMs: t.rolledBelow,
        keptFromMs: t.keptFrom,
        lagMs: Math.max(0, now - t.rolledBelow),
        bucketsDropped: t.bucketsDropped,
      })),
      idle: this.idle,
      unmaintained: this.unmaintained,
      lastError: this.lastError,
      lastStepAt: this.lastStepAt,
    });
  }
}

/** The next slice's span: scaled toward STEP_TARGET_MS, at least one bucket, at most 30 days. */
function adapt(spanMs: number, tookMs: number, widthMs: number): number {
  const factor = Math.min(4, Math.max(0.25, STEP_TARGET_MS / Math.max(1, tookMs)));
  return Math.min(30 * 86_400_000, Math.max(widthMs, spanMs * factor));
}

/** An upload's part in retention and rollups (rollup-upload.ts), with the horizon as it is now. */
export function uploadRetention(r: RollupRunner): UploadRetention {
  return new UploadRetention({
    horizonMs: r.horizon(),
    finest: () => r.finest,
    committed: (marks, expired) => {
      r.lateMarked(marks);
      r.noteExpired(expired);
    },
  });
}
