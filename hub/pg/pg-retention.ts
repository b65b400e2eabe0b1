/**
 * Raw retention in cluster mode (`--retention` with `--cluster`; docs/CLUSTER.md "Running for years").
 * As on the single hub, readings older than the horizon (rollup-tiers.ts acceptHorizon) are
 * acked and not stored (cluster-store.ts, pg-upload.ts, the writers by the mark); here the
 * readings past it go a whole UTC day partition at a time: detached CONCURRENTLY (reads and
 * inserts of other days go on; the detach waits for queries that still use the day) and
 * dropped, never DELETEd row by row, so PostgreSQL gets the space back at once, without VACUUM.
 *
 * One process does it at a time: the hub holding the session advisory lock RETENTION_LOCK on a
 * connection of its own. If that hub dies, its connection ends, the lock is free, and another
 * hub given --retention takes the duty at its next round. The holder first raises the mark
 * `raw_kept_from` (once no transaction storing readings holds it, partitions.ts heldMark; under
 * the partition lock: no partition is made below it after that, no reading stored below it), then
 * drops the days below it, counting their rows out of writer_counts in the drop's transaction,
 * so the readings' count stays exact. Every hub reads the mark each round (export headers, health).
 * Before a day is dropped, every rollup tier gets its buckets (pg-rollups.ts).
 */
import pg from 'pg';
import type { RetentionStatus } from '../store/store-messages.ts';
import { acceptHorizon, alignDown, type RetentionConfig } from '../store/rollup-tiers.ts';
import { addCounts } from './pg-counts.ts';
import { DAY_MS, Partitions, RAW_KEPT_FROM_KEY, partitionRanges, rawKeptFrom } from './partitions.ts';
import { MARK_LOCK, PARTITION_LOCK, RETENTION_LOCK } from './pg-schema.ts';
import { dropTierBuckets, ensureTierTables, rollDay, rollupMarks, ROLLED_BELOW_KEY, setMark, tierKeptFrom } from './pg-rollups.ts';

/** writer_counts row of the readings retention dropped (a negative `inserted`) */
export const RETENTION_COUNTER = 'retention';
export const RETENTION_ROUND_MS = 60_000;
const MARK_TRIES = 50;
const MARK_RETRY_MS = 100;

export interface PgRetentionOptions {
  pool: pg.Pool;
  /** for the duty's own connection, which holds the lock */
  url: string;
  config: RetentionConfig;
  /** the hub clock */
  now: () => number;
  roundMs?: number;
  warn?: (fields: Record<string, unknown>, message: string) => void;
}

export class PgRetention {
  private keptFrom: number | null = null;
  /** the rollup tiers hold every reading below this (pg-rollups.ts) */
  private rolledBelow: number | null = null;
  private rolledFrom: number | null = null;
  private tierKept = new Map<number, number>();
  private readonly bucketsDropped = new Map<number, number>();
  private readonly counts = { readingsDropped: 0, readingsExpired: 0, daysDropped: 0 };
  private lastError: string | null = null;
  private lastStepAt: number | null = null;
  private idle = true;
  private duty: pg.Client | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly partitions = new Partitions();

  constructor(private readonly o: PgRetentionOptions) {}

  /** Readings with a ts below this are refused (not stored); null: no retention. */
  horizon(): number | null {
    return acceptHorizon(this.o.config, this.o.now());
  }

  /** Whether this hub holds the duty now. */
  get holder(): boolean {
    return this.duty !== null;
  }

  /** For health, /metrics and the export headers; null when this hub has no retention and none was ever applied. */
  get status(): RetentionStatus | null {
    if (this.o.config.retentionMs === null && this.keptFrom === null) return null;
    return {
      retentionMs: this.o.config.retentionMs,
      horizonMs: this.horizon(),
      rawKeptFromMs: this.keptFrom,
      readingsDropped: this.counts.readingsDropped,
      readingsExpired: this.counts.readingsExpired,
      lateMarks: 0,
      lateRecomputed: 0,
      tiers: this.o.config.tiers.map((t) => ({
        widthMs: t.widthMs,
        keepMs: t.keepMs,
        // In PostgreSQL the tiers are made of the days retention drops: rolled up to where raw readings start.
        rolledBelowMs: this.rolledBelow ?? 0,
        // Days dropped by a holder without tiers (another --rollups) are in no tier: said from the raw mark.
        keptFromMs: this.tierKept.get(t.widthMs) ?? (this.rolledBelow === null ? this.keptFrom : null),
        lagMs: this.rolledBelow === null ? 0 : Math.max(0, this.o.now() - this.rolledBelow),
        bucketsDropped: this.bucketsDropped.get(t.widthMs) ?? 0,
      })),
      idle: this.idle,
      unmaintained: [],
      lastError: this.lastError,
      lastStepAt: this.lastStepAt,
    };
  }

  noteExpired(n: number): void {
    this.counts.readingsExpired += n;
  }

  /** Reads the mark now (for the first exports), then runs a round every roundMs in the background. */
  async start(): Promise<void> {
    const c = await this.o.pool.connect();
    try {
      await ensureTierTables(c, this.o.config.tiers);
    } finally {
      c.release();
    }
    await this.refresh();
    if (!this.timer) this.schedule(0);
  }

  /** Reads the mark (another hub may hold the duty): before an export, whose headers say where raw readings start. */
  async refresh(): Promise<void> {
    const c = await this.o.pool.connect();
    try {
      this.keptFrom = await rawKeptFrom(c);
      const marks = await rollupMarks(c);
      this.rolledBelow = marks.below;
      this.rolledFrom = marks.from;
      this.tierKept = await tierKeptFrom(c, this.o.config.tiers);
    } finally {
      c.release();
    }
  }

  /** What a bucketed export reads of the tiers (pg-export.ts): their widths and where they hold days. */
  get rollups(): { tiers: readonly { widthMs: number }[]; from: number | null } {
    return { tiers: this.o.config.tiers, from: this.rolledFrom };
  }

  /** One round now, after the one under way (tests; the timer otherwise). */
  round(): Promise<void> {
    const next = this.running.then(() => this.roundOnce());
    this.running = next.catch(() => {});
    return next;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.round()
        .catch(() => {})
        .finally(() => this.schedule(this.o.roundMs ?? RETENTION_ROUND_MS));
    }, ms);
    this.timer.unref();
  }

  private async roundOnce(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.refresh();
      const horizon = this.horizon();
      if (horizon !== null && (await this.takeDuty())) await this.dropDays(this.duty!, horizon);
      this.lastError = null;
    } catch (err) {
      this.lastError = (err as Error).message;
      this.o.warn?.({ err: this.lastError }, 'retention: a round failed; trying again at the next');
      // A broken duty connection is given up (its lock with it); the next round takes the duty again if free.
      await this.dropDuty();
      throw err;
    } finally {
      this.lastStepAt = this.o.now();
    }
  }

  /** Holds the lock on a connection of its own, or finds another hub holding it. */
  private async takeDuty(): Promise<boolean> {
    if (this.duty) return true;
    const c = new pg.Client({ connectionString: this.o.url });
    c.on('error', () => {
      if (this.duty === c) void this.dropDuty();
    });
    await c.connect();
    const got = (await c.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [RETENTION_LOCK])).rows[0]?.ok === true;
    if (!got) {
      await c.end().catch(() => {});
      return false;
    }
    this.duty = c;
    return true;
  }

  private async dropDuty(): Promise<void> {
    const c = this.duty;
    this.duty = null;
    await c?.end().catch(() => {});
  }

  /** The duty: raise the mark to the last whole day below the horizon, then drop every day below it. */
  private async dropDays(c: pg.Client, horizon: number): Promise<void> {
    const upTo = alignDown(horizon, DAY_MS);
    // Today's and tomorrow's partitions ahead of time: a writer rarely has to attach one while a detach holds the table.
    const today = Math.floor(this.o.now() / DAY_MS);
    await this.partitions.ensure(c, [today, today + 1]);
    const attached = await partitionRanges(c);
    const doomed = attached.filter((p) => p.hi <= upTo).sort((a, b) => a.lo - b.lo);
    const leftovers = await this.detachedLeftovers(c, upTo);
    this.idle = doomed.length === 0 && leftovers.length === 0;
    // No mark before there is something to drop: an export would say readings were dropped.
    if (doomed.length === 0 && leftovers.length === 0 && this.keptFrom === null) return;
    if ((this.keptFrom === null || this.keptFrom < upTo) && !(await this.raiseMark(c, upTo))) return;
    const tiers = this.o.config.tiers;
    for (const p of doomed) {
      if (this.stopped) return;
      // Rolled up first, in a transaction of its own (a crash after it leaves the day to drop, not to roll again).
      if (tiers.length > 0 && (this.rolledBelow ?? -Infinity) < p.hi) {
        await rollDay(c, p.name, p, tiers);
        this.rolledBelow = p.hi;
      }
      // Not in a transaction: CONCURRENTLY takes only a lock that lets reads and inserts of the other days go on.
      await c.query(`ALTER TABLE readings DETACH PARTITION ${p.name} CONCURRENTLY`);
      await this.dropTable(c, p.name);
    }
    for (const name of leftovers) await this.dropTable(c, name);
    if (tiers.length > 0 && this.keptFrom !== null) {
      // Days with no partition (nothing written) are rolled too: nothing to add.
      await setMark(c, ROLLED_BELOW_KEY, this.keptFrom, 'greatest');
      const dropped = await dropTierBuckets(c, tiers, this.o.now(), this.keptFrom);
      dropped.forEach((n, j) => {
        const w = tiers[j]!.widthMs;
        this.bucketsDropped.set(w, (this.bucketsDropped.get(w) ?? 0) + n);
      });
      await this.refresh();
    }
  }

  /**
   * Raises the mark to `upTo` once no transaction storing readings holds it (heldMark): tried,
   * never waited for in line (a waiting exclusive lock would hold every writer behind it, and an
   * upload may hold the mark for minutes). False: still held after MARK_TRIES; the next round tries again.
   */
  private async raiseMark(c: pg.ClientBase, upTo: number): Promise<boolean> {
    for (let i = 0; i < MARK_TRIES && !this.stopped; i++) {
      await c.query('BEGIN');
      try {
        const got = (await c.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [MARK_LOCK])).rows[0]?.ok === true;
        if (got) {
          await c.query('SELECT pg_advisory_xact_lock($1)', [PARTITION_LOCK]);
          await setMark(c, RAW_KEPT_FROM_KEY, upTo, 'greatest');
        }
        await c.query('COMMIT');
        if (got) {
          this.keptFrom = await rawKeptFrom(c);
          return true;
        }
      } catch (err) {
        await c.query('ROLLBACK').catch(() => {});
        throw err;
      }
      await new Promise((r) => setTimeout(r, MARK_RETRY_MS));
    }
    return false;
  }

  /**
   * Days a holder that died mid-round left: a detach left pending (finished here), or a day
   * detached and not dropped. Only tables named as day partitions, of days below `upTo`.
   */
  private async detachedLeftovers(c: pg.ClientBase, upTo: number): Promise<string[]> {
    const pending = await c.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
       WHERE i.inhparent = 'readings'::regclass AND i.inhdetachpending`,
    );
    for (const { name } of pending.rows) await c.query(`ALTER TABLE readings DETACH PARTITION ${name} FINALIZE`);
    const loose = await c.query<{ name: string }>(
      `SELECT relname AS name FROM pg_class WHERE relkind = 'r' AND NOT relispartition AND relname ~ '^readings_[0-9]{8}$'`,
    );
    return loose.rows.map((r) => r.name).filter((name) => dayStart(name) + DAY_MS <= upTo);
  }

  /** Drops a detached day, counting its rows out of writer_counts in the same transaction. */
  private async dropTable(c: pg.ClientBase, name: string): Promise<void> {
    await c.query('BEGIN');
    try {
      const n = Number((await c.query<{ n: number }>(`SELECT count(*) AS n FROM ${name}`)).rows[0]?.n ?? 0);
      await addCounts(c, RETENTION_COUNTER, { batches: 0, bundles: 0, inserted: -n, duplicates: 0 });
      await c.query(`DROP TABLE ${name}`);
      await c.query('COMMIT');
      this.counts.readingsDropped += n;
      this.counts.daysDropped++;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {});
      throw err;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
    await this.dropDuty();
  }
}

/** The first ms of the day a partition named `readings_YYYYMMDD` holds. */
function dayStart(name: string): number {
  const d = name.slice('readings_'.length);
  return Date.UTC(Number(d.slice(0, 4)), Number(d.slice(4, 6)) - 1, Number(d.slice(6, 8)));
}
