/**
 * Group commit: readings from every connection collect here and are committed together,
 * at most `flushIntervalMs` after the first one arrived, or at once when `maxRowsPerFlush`
 * have collected. One commit is in flight at a time; the next fills meanwhile. Acks go out
 * only after the commit that holds a message's data has returned from the store.
 * When `maxBufferedRows` wait, ingest is paused (backpressure) until the store catches up.
 *
 * A failed commit never acks and never loses the others: a store that cannot write (disk,
 * memory, I/O) is retried with backoff while health says so, and after
 * `storeUnavailableAfterMs` its sensors get 503 (they resend after reconnecting); a commit the
 * store refuses for its data is split until the one message it cannot take is found, which is
 * answered with 500, and the rest are stored and acknowledged.
 */
import { StoreError, type HubStore } from '../store/hub-store.ts';
import type { Columns, CommitResult } from '../store/store-messages.ts';
import type { SensorRegistry } from '../sensors/sensor-registry.ts';
import { ColumnBuffer } from './column-buffer.ts';
import { MessageSpans, splitCommit, type AckTarget, type SealedCommit } from './sealed-commit.ts';
import { RetryDelay, StoreCondition, type StoreProblem } from './store-condition.ts';
import type { SeriesCatalog } from './series-catalog.ts';

export type { AckTarget } from './sealed-commit.ts';

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
  /** a store failing this long: its sensors get 503 and new ones are turned away until it recovers */
  storeUnavailableAfterMs: number;
  /** stopping: give up on a failing store after this long (nothing unstored was acked) */
  giveUpAfterMs: number;
  now: () => number;
}

export interface GroupCommitHooks {
  /** after a commit: latest has moved; publish what was newly stored */
  onCommitted?(c: Committed): void;
  /** a commit failed and will be retried (reason: the store's message) */
  onStoreFailing?(reason: string): void;
  /** the store has failed for storeUnavailableAfterMs (or is gone) */
  onStoreUnavailable?(reason: string): void;
  /** a commit succeeded after failures */
  onStoreRecovered?(): void;
  /** messages the store refused for their data, answered with 500 */
  onRefused?(messages: number, reason: string): void;
  onSaturated?(): void;
  onDrained?(): void;
}

export interface CommitStats {
  commits: number;
  failedCommits: number;
  /** messages answered with 500 because the store could not take their data */
  refusedMessages: number;
  rowsStored: number;
  duplicates: number;
  /** rows the store checked against stored identities (not known to be new), stored or not */
  rowsChecked: number;
  lastFlushMs: number;
  flushMsTotal: number;
}

const RETRY_FIRST_MS = 50;
/** a power of two: while a full commit waits, how often the store's answer is looked for */
const POLL_EVERY_ROWS = 2_048;
const RETRY_MAX_MS = 2000;

export class GroupCommit {
  private fresh = new ColumnBuffer();
  private maybe = new ColumnBuffer();
  private spans = new MessageSpans();
  /** a sealed commit's spans, cleared, for the next one (they grow to the largest commit's messages) */
  private spareSpans: MessageSpans | null = null;
  private afterNext: (() => void)[] = [];
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  private flushAgain = false;
  private saturated = false;
  private gen = 0;
  private readonly condition: StoreCondition;
  /** between retries of a failing commit; abandoned when a stopping hub gives up */
  private readonly retryDelay = new RetryDelay(RETRY_FIRST_MS, RETRY_MAX_MS);
  readonly stats: CommitStats = {
    commits: 0,
    failedCommits: 0,
    refusedMessages: 0,
    rowsStored: 0,
    duplicates: 0,
    rowsChecked: 0,
    lastFlushMs: 0,
    flushMsTotal: 0,
  };

  constructor(
    private readonly store: HubStore,
    private readonly catalog: SeriesCatalog,
    private readonly registry: SensorRegistry,
    private readonly options: GroupCommitOptions,
    private hooks: GroupCommitHooks = {},
  ) {
    this.condition = new StoreCondition(options.storeUnavailableAfterMs);
  }

  /** Sets who hears about commits, once the parts that react to them (the sensor server) exist. */
  listen(hooks: GroupCommitHooks): void {
    this.hooks = hooks;
  }

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

  /**
   * Ends a message: the rows added since the last call are its own. With a seq, `target` is
   * owed an ack for it once they are committed (or, with no rows, once what came before is).
   */
  endMessage(target: AckTarget | null, seq: number | undefined): void {
    this.spans.push(target, seq ?? -1, this.fresh.n, this.maybe.n);
    if (seq !== undefined) this.schedule();
  }

  /** Runs `fn` after the next commit (or at once if nothing is pending or in flight). */
  afterNextCommit(fn: () => void): void {
    this.afterNext.push(fn);
    this.flushSoon();
  }

  /** Resolves once everything received so far is committed (or refused, or given up on). */
  committed(): Promise<void> {
    return new Promise((resolve) => this.afterNextCommit(resolve));
  }

  get bufferedRows(): number {
    return this.fresh.n + this.maybe.n;
  }

  get isSaturated(): boolean {
    return this.saturated;
  }

  /** The store's failure while commits fail, else null. */
  get storeProblem(): StoreProblem | null {
    return this.condition.current;
  }

  /** Commits everything received so far; throws if the store kept failing for giveUpAfterMs. */
  async drain(): Promise<void> {
    const giveUp = setTimeout(() => this.retryDelay.abandon(), this.options.giveUpAfterMs);
    try {
      while (this.hasWork() && !this.retryDelay.abandoned) {
        if (!this.inFlight) this.seal(true);
        await this.inFlight;
      }
    } finally {
      clearTimeout(giveUp);
    }
    if (this.retryDelay.abandoned)
      throw new Error(`the store keeps failing (${this.condition.current?.reason}); what was not acknowledged is not stored`);
  }

  private hasWork(): boolean {
    return (
      this.inFlight !== null || this.bufferedRows > 0 || this.spans.length > 0 || this.afterNext.length > 0 || this.registry.hasChanges
    );
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private rowAdded(): void {
    const n = this.fresh.n + this.maybe.n;
    if (n >= this.options.maxRowsPerFlush) {
      // A full commit waits for the one in flight: look for its answer now and then, rather than
      // when this turn of the event loop ends (reading every socket can take hundreds of ms).
      if (this.inFlight && (n & (POLL_EVERY_ROWS - 1)) === 0) this.store.pollCommits();
      this.flushSoon();
    } else this.schedule();
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
    const sealed: SealedCommit = {
      changes: this.registry.takeChanges(this.options.now(), force),
      newSeries: this.catalog.takeUnsaved(),
      fresh: this.fresh.take(),
      maybeDuplicate: this.maybe.take(),
      spans: this.spans,
    };
    this.spans = this.spareSpans ?? new MessageSpans();
    this.spareSpans = null;
    const after = this.afterNext;
    this.afterNext = [];
    this.inFlight = this.run(sealed, true).finally(() => {
      this.inFlight = null;
      for (const fn of after) fn();
      const n = this.bufferedRows;
      if (this.saturated && n < this.options.maxBufferedRows / 2) {
        this.saturated = false;
        this.hooks.onDrained?.();
      }
      if (this.retryDelay.abandoned) return;
      if (this.flushAgain || n >= this.options.maxRowsPerFlush) {
        this.flushAgain = false;
        this.seal(false);
      } else if (n > 0 || this.spans.length > 0 || this.afterNext.length > 0) {
        this.schedule();
      }
    });
  }

  /** Commits one sealed commit: retried while the store fails, split when the store refuses its data. */
  private async run(s: SealedCommit, recycle: boolean, afterFailure = false): Promise<void> {
    // One gen for every attempt: in cluster mode it names the commit's messages, and JetStream
    // drops a retry's parts that the failed attempt stored after all.
    const gen = ++this.gen;
    for (let attempt = 0; ; attempt++) {
      let result: CommitResult;
      // after any failure, fresh rows are checked against the store: the failed attempt may have stored them
      const recheckFresh = afterFailure || attempt > 0;
      try {
        result = await this.store.commit({
          gen,
          newSeries: s.newSeries,
          fresh: s.fresh,
          maybeDuplicate: s.maybeDuplicate,
          sensors: s.changes.sensors,
          connections: s.changes.connections,
          recheckFresh,
        });
      } catch (e) {
        const err = e instanceof StoreError ? e : new StoreError(String((e as Error)?.message ?? e), false);
        this.stats.failedCommits++;
        if (err.columns) {
          s.fresh = err.columns.fresh;
          s.maybeDuplicate = err.columns.maybeDuplicate;
        }
        if (!err.columns || this.retryDelay.abandoned) return this.giveUp(s, err.message);
        if (!err.retryable) return this.isolate(s, err.message);
        this.failing(err.message, s);
        await this.retryDelay.wait(attempt);
        continue;
      }
      this.succeeded(s, result, recycle);
      return;
    }
  }

  /** The store cannot write right now: say so, and after a while turn the sensors away. */
  private failing(reason: string, s: SealedCommit): void {
    const news = this.condition.failed(reason, this.options.now());
    if (news === 'first') this.hooks.onStoreFailing?.(reason);
    if (news === 'now-unavailable') {
      this.tellUnavailable(s, reason);
      this.hooks.onStoreUnavailable?.(reason);
    }
  }

  private tellUnavailable(s: SealedCommit, reason: string): void {
    const message = `the store is unavailable (${reason}); nothing after the last ack is stored: reconnect later`;
    for (let r = 0; r < s.spans.runs; r++) s.spans.runTarget(r)?.storeUnavailable(message);
  }

  /** Nothing of this commit can be stored now (the rows are gone, or the hub is stopping). */
  private giveUp(s: SealedCommit, reason: string): void {
    this.catalog.restoreUnsaved(s.newSeries);
    this.registry.restore(s.changes);
    this.condition.lost(reason, this.options.now());
    this.tellUnavailable(s, reason);
    this.hooks.onStoreUnavailable?.(reason);
  }

  /** The store refuses this commit's data: split it until the messages it cannot take are found. */
  private async isolate(s: SealedCommit, reason: string): Promise<void> {
    if (s.spans.length === 0) {
      // Registry changes and series no row uses: dropped (and logged), never retried for ever.
      this.hooks.onRefused?.(0, reason);
      return;
    }
    if (s.spans.length === 1) {
      const seq = s.spans.seq(0);
      const target = s.spans.target(0);
      this.stats.refusedMessages++;
      this.hooks.onRefused?.(1, reason);
      if (target && seq >= 0) target.refused(seq, `the hub could not store this message (${reason}); it was not stored`);
      // Its series may be fine and needed by later rows: they go with the next commit.
      this.catalog.restoreUnsaved(s.newSeries);
      return;
    }
    const { meta, halves } = splitCommit(s);
    if (meta.newSeries.length > 0 || meta.changes.sensors.length > 0 || meta.changes.connections.length > 0) {
      await this.run(meta, false, true);
    }
    for (const half of halves) await this.run(half, false, true);
  }

  private succeeded(s: SealedCommit, result: CommitResult, recycle: boolean): void {
    const { fresh, maybeDuplicate } = result;
    this.stats.commits++;
    this.stats.rowsStored += result.freshInserted + result.inserted;
    this.stats.duplicates += fresh.n - result.freshInserted + result.duplicates;
    this.stats.rowsChecked += maybeDuplicate.n + (result.freshStoredMask === null ? 0 : fresh.n);
    this.stats.lastFlushMs = result.flushMs;
    this.stats.flushMsTotal += result.flushMs;
    if (this.condition.recovered()) this.hooks.onStoreRecovered?.();
    this.catalog.applyCommitted(fresh, result.freshStoredMask ?? undefined);
    if (maybeDuplicate.n > 0) this.catalog.applyCommitted(maybeDuplicate, result.storedMask);
    const owed = new Set<AckTarget>();
    const spans = s.spans;
    for (let r = 0; r < spans.runs; r++) {
      const t = spans.runTarget(r);
      const seq = spans.runSeq(r);
      if (t && seq >= 0) {
        t.committed(seq);
        owed.add(t);
      }
    }
    // Acks are one socket write each (10,000 sensors: 10,000 writes): they go out on the
    // next turn, so whoever waits for this commit (report-now, bye) is answered first.
    if (owed.size > 0) setImmediate(() => owed.forEach((t) => t.flushAck()));
    this.hooks.onCommitted?.({ fresh, maybeDuplicate, result });
    if (recycle) {
      this.fresh.recycle(fresh);
      this.maybe.recycle(maybeDuplicate);
      spans.clear();
      this.spareSpans = spans;
    }
  }
}
