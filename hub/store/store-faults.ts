/**
 * Fault injection for the store, to prove the ack promise under failure (test/faults/). Off
 * unless the hub is given `storeFaults` (or ROOMWATCH_STORE_FAULTS as JSON); never on by
 * default. Faults act inside the commit transaction, after the rows were appended and before
 * COMMIT, which is where a real disk or fsync would fail.
 */
import { existsSync } from 'node:fs';
import { seededRandom, type Random } from '../../sensors/random.ts';
import type { CommitRequest } from './store-messages.ts';

export interface StoreFaults {
  /** seeds the choice of failing commits, so a run repeats */
  seed: number;
  /** 0..1: the share of commits that throw a retryable "IO Error", like a failed write */
  commitFailureRate: number;
  /** waited before each COMMIT, like a slow fsync */
  commitDelayMs: number;
  /** a commit holding a reading of this metric throws a non-retryable error, like a row the store cannot take */
  poisonMetric?: string;
  /** waited inside each compaction slice's transaction, after its rows are rewritten and before COMMIT (a window to kill the hub in) */
  compactionStallMs?: number;
  /** while a file at this path exists, every commit fails as on a full disk (ENOSPC), for tests where mounting a small tmpfs is not allowed */
  diskFullFlagFile?: string;
}

/** Why `faults` is not a valid StoreFaults, or null. */
export function storeFaultsProblem(faults: unknown): string | null {
  if (typeof faults !== 'object' || faults === null) return 'storeFaults must be an object';
  const f = faults as Record<string, unknown>;
  if (!Number.isInteger(f.seed)) return 'storeFaults.seed must be an integer';
  if (typeof f.commitFailureRate !== 'number' || !(f.commitFailureRate >= 0 && f.commitFailureRate <= 1))
    return 'storeFaults.commitFailureRate must be a number from 0 to 1';
  if (!Number.isInteger(f.commitDelayMs) || (f.commitDelayMs as number) < 0)
    return 'storeFaults.commitDelayMs must be a whole number of ms';
  if (f.poisonMetric !== undefined && typeof f.poisonMetric !== 'string') return 'storeFaults.poisonMetric must be a metric name';
  if (f.diskFullFlagFile !== undefined && typeof f.diskFullFlagFile !== 'string') return 'storeFaults.diskFullFlagFile must be a file path';
  if (f.compactionStallMs !== undefined && (!Number.isInteger(f.compactionStallMs) || (f.compactionStallMs as number) < 0))
    return 'storeFaults.compactionStallMs must be a whole number of ms';
  return null;
}

export class FaultInjector {
  private readonly random: Random;
  /** series ids of the poisoned metric: the worker learns them from the series it is sent */
  private readonly poisoned = new Set<number>();

  constructor(private readonly faults: StoreFaults) {
    this.random = seededRandom(faults.seed);
  }

  /** Remembers the poisoned series of known series definitions (at open). */
  learn(series: readonly { id: number; metric: string }[]): void {
    for (const s of series) if (s.metric === this.faults.poisonMetric) this.poisoned.add(s.id);
  }

  /** Called inside the commit's transaction, just before COMMIT. */
  async beforeCommit(req: CommitRequest): Promise<void> {
    this.learn(req.newSeries);
    if (this.faults.commitDelayMs > 0) await new Promise((r) => setTimeout(r, this.faults.commitDelayMs));
    if (this.poisoned.size > 0 && (this.holdsPoison(req.fresh) || this.holdsPoison(req.maybeDuplicate)))
      throw new Error(`Conversion Error: injected fault: a reading of metric "${this.faults.poisonMetric}" cannot be stored`);
    if (this.faults.diskFullFlagFile !== undefined && existsSync(this.faults.diskFullFlagFile))
      throw new Error('IO Error: Could not write all bytes to file "roomwatch.duckdb.wal": No space left on device (injected fault)');
    if (this.random() < this.faults.commitFailureRate) throw new Error('IO Error: injected fault: could not write to the database file');
  }

  /** Called inside a compaction slice's transaction, just before COMMIT. */
  async beforeCompactionCommit(): Promise<void> {
    const ms = this.faults.compactionStallMs ?? 0;
    if (ms > 0) await new Promise((r) => setTimeout(r, ms));
  }

  private holdsPoison(rows: CommitRequest['fresh']): boolean {
    for (let i = 0; i < rows.n; i++) if (this.poisoned.has(rows.series[i]!)) return true;
    return false;
  }
}
