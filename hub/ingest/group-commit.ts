/**
 * Group commit: readings from every connection collect here and are committed together,
 * at most `flushIntervalMs` after the first one arrived, or at once when `maxRowsPerFlush`
 * have collected. One commit is in flight at a time; the next fills meanwhile. Acks go out
 * only after the commit that holds a message's data has returned from the store.
 * When `maxBufferedRows` wait, ingest is paused (backpressure) until the store catches up.
 */
import type { ReadingStore } from '../store/reading-store.ts';
import type { Columns, CommitResult } from '../store/store-messages.ts';
import type { SensorRegistry } from '../sensor-registry.ts';
import { ColumnBuffer } from './column-buffer.ts';
import type { SeriesCatalog } from './series-catalog.ts';

/** A connection that is owed an ack once what it sent is committed. */
export interface AckTarget {
  /** highest seq received (stored or answered with an error) */
  readonly receivedSeq: number;
  ackCommitted(seq: number): void;
}

/** What a commit stored. The arrays are recycled after onCommitted returns: copy what you keep. */
export interface Committed {
  fresh: Columns;
  maybeDuplicate: Columns;
  result: CommitResult;
}

export interface GroupCommitOptions {
  flushIntervalMs: number;
  maxRowsPerFlush: number;
  maxBufferedRows: number;
  now: () => number;
}

export interface GroupCommitHooks {
  /** after a commit: latest has moved; publish what was newly stored */
  onCommitted?(c: Committed): void;
  onFailed?(err: Error): void;
  onSaturated?(): void;
  onDrained?(): void;
}

export interface CommitStats {
  commits: number;
  failedCommits: number;
  rowsStored: number;
  duplicates: number;
  lastFlushMs: number;
  flushMsTotal: number;
}

export class GroupCommit {
  private fresh = new ColumnBuffer();
  private maybe = new ColumnBuffer();
  /** connections with a seq to acknowledge after the next commit */
  private owed = new Set<AckTarget>();
  private afterNext: (() => void)[] = [];
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  private flushAgain = false;
  private saturated = false;
  private gen = 0;
  readonly stats: CommitStats = { commits: 0, failedCommits: 0, rowsStored: 0, duplicates: 0, lastFlushMs: 0, flushMsTotal: 0 };

  constructor(
    private readonly store: ReadingStore,
    private readonly catalog: SeriesCatalog,
    private readonly registry: SensorRegistry,
    private readonly options: GroupCommitOptions,
    private readonly hooks: GroupCommitHooks = {},
  ) {}

  /** A reading whose ts is above every accepted ts of its channel. */
  addFresh(seriesId: number, ts: number, value: number): void {
    this.fresh.push(seriesId, ts, value);
    this.rowAdded();
  }

  /** A reading that may repeat a stored (sensor, metric, ts): the store checks. */
  addMaybeDuplicate(seriesId: number, ts: number, value: number): void {
    this.maybe.push(seriesId, ts, value);
    this.rowAdded();
  }

  owe(target: AckTarget): void {
    this.owed.add(target);
    this.schedule();
  }

  /** Runs `fn` after the next commit (or at once if nothing is pending or in flight). */
  afterNextCommit(fn: () => void): void {
    this.afterNext.push(fn);
    this.flushSoon();
  }

  /** Resolves once everything received so far is committed (or its commit has failed). */
  committed(): Promise<void> {
    return new Promise((resolve) => this.afterNextCommit(resolve));
  }

  get bufferedRows(): number {
    return this.fresh.n + this.maybe.n;
  }

  get isSaturated(): boolean {
    return this.saturated;
  }

  /** Commits everything received so far; resolves when it is stored (or failed). */
  async drain(): Promise<void> {
    // A store that keeps failing must not hold the hub's shutdown forever: give up after a few tries.
    for (let failures = 0; this.hasWork();) {
      if (!this.inFlight) this.seal(true);
      const before = this.stats.failedCommits;
      await this.inFlight;
      if (this.stats.failedCommits > before && ++failures >= 3)
        throw new Error('the store keeps failing; what was not acknowledged is not stored');
    }
  }

  private hasWork(): boolean {
    return this.inFlight !== null || this.bufferedRows > 0 || this.owed.size > 0 || this.afterNext.length > 0 || this.registry.hasChanges;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private rowAdded(): void {
    const n = this.fresh.n + this.maybe.n;
    if (n >= this.options.maxRowsPerFlush) this.flushSoon();
    else this.schedule();
    if (!this.saturated && n >= this.options.maxBufferedRows) {
      this.saturated = true;
      this.hooks.onSaturated?.();
    }
  }

  private schedule(): void {
    if (this.timer || this.inFlight) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.seal(false);
    }, this.options.flushIntervalMs);
  }

  private flushSoon(): void {
    if (this.inFlight) {
      this.flushAgain = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.seal(false);
  }

  private seal(force: boolean): void {
    if (this.inFlight) {
      this.flushAgain = true;
      return;
    }
    const now = this.options.now();
    const changes = this.registry.takeChanges(now, force);
    const newSeries = this.catalog.takeUnsaved();
    const fresh = this.fresh.take();
    const maybeDuplicate = this.maybe.take();
    const acks = [...this.owed].map((t) => [t, t.receivedSeq] as const);
    this.owed.clear();
    const after = this.afterNext;
    this.afterNext = [];
    const gen = ++this.gen;
    this.inFlight = this.store
      .commit({ gen, newSeries, fresh, maybeDuplicate, sensors: changes.sensors, connections: changes.connections })
      .then(
        (result) => {
          const { fresh, maybeDuplicate } = result;
          this.stats.commits++;
          this.stats.rowsStored += fresh.n + result.inserted;
          this.stats.duplicates += result.duplicates;
          this.stats.lastFlushMs = result.flushMs;
          this.stats.flushMsTotal += result.flushMs;
          this.catalog.applyCommitted(fresh);
          if (maybeDuplicate.n > 0) this.catalog.applyCommitted(maybeDuplicate, result.storedMask);
          // Acks are one socket write each (10,000 sensors: 10,000 writes): they go out on the
          // next turn, so whoever waits for this commit (report-now, bye) is answered first.
          if (acks.length > 0) setImmediate(() => acks.forEach(([target, seq]) => target.ackCommitted(seq)));
          this.hooks.onCommitted?.({ fresh, maybeDuplicate, result });
          this.fresh.recycle(fresh);
          this.maybe.recycle(maybeDuplicate);
        },
        (err: Error) => {
          this.stats.failedCommits++;
          // Nothing of this commit is stored and nothing of it was acked: the senders resend.
          this.catalog.restoreUnsaved(newSeries);
          this.registry.restore(changes);
          this.hooks.onFailed?.(err);
        },
      )
      .finally(() => {
        this.inFlight = null;
        for (const fn of after) fn();
        const n = this.bufferedRows;
        if (this.saturated && n < this.options.maxBufferedRows / 2) {
          this.saturated = false;
          this.hooks.onDrained?.();
        }
        if (this.flushAgain || n >= this.options.maxRowsPerFlush) {
          this.flushAgain = false;
          this.seal(false);
        } else if (n > 0 || this.owed.size > 0 || this.afterNext.length > 0) {
          this.schedule();
        }
      });
  }
}
