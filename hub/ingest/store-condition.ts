/**
 * Whether the store commits: since when it has been failing, and whether its sensors have
 * been told it is unavailable. The group commit reports each failure and success here; health
 * and hellos read it.
 */
export interface StoreProblem {
  reason: string;
  sinceMs: number;
  /** failing for longer than the grace period, or gone: sensors get 503 */
  unavailable: boolean;
}

export type FailureNews = 'first' | 'now-unavailable' | null;

export class StoreCondition {
  private problem: StoreProblem | null = null;

  constructor(private readonly unavailableAfterMs: number) {}

  get current(): StoreProblem | null {
    return this.problem;
  }

  /** A commit failed at `now` and will be retried: what changed. */
  failed(reason: string, now: number): FailureNews {
    if (this.problem === null) {
      this.problem = { reason, sinceMs: now, unavailable: false };
      return this.unavailableAfterMs <= 0 ? this.markUnavailable() : 'first';
    }
    this.problem.reason = reason;
    if (!this.problem.unavailable && now - this.problem.sinceMs >= this.unavailableAfterMs) return this.markUnavailable();
    return null;
  }

  /** Nothing of a commit can be stored (its rows are gone, or the hub gave up): unavailable at once. */
  lost(reason: string, now: number): void {
    this.problem ??= { reason, sinceMs: now, unavailable: true };
    this.problem.reason = reason;
    this.problem.unavailable = true;
  }

  /** A commit succeeded: true if it was failing until now. */
  recovered(): boolean {
    const was = this.problem !== null;
    this.problem = null;
    return was;
  }

  private markUnavailable(): FailureNews {
    this.problem!.unavailable = true;
    return 'now-unavailable';
  }
}

/** Waits between retries (doubling up to a cap); abandon() wakes a wait at once and stops further ones. */
export class RetryDelay {
  private wake: (() => void) | null = null;
  abandoned = false;

  constructor(
    private readonly firstMs: number,
    private readonly maxMs: number,
  ) {}

  wait(attempt: number): Promise<void> {
    if (this.abandoned) return Promise.resolve();
    const ms = Math.min(this.maxMs, this.firstMs * 2 ** Math.min(attempt, 16));
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  abandon(): void {
    this.abandoned = true;
    this.wake?.();
  }
}
