/**
 * A clock for tests that moves only when told to: `now`, `setTimeout` and `clearTimeout` to
 * inject into what runs on timers (sensors/tick-scheduler.ts TimerClock), `advance(ms)` to let
 * time pass and run what falls due, in due order, each at its own time, and `spend(ms)` for
 * time a callback takes (a busy process), which runs nothing. No test then waits for real time
 * or busy-waits to make a tick late.
 */

interface Pending {
  dueMs: number;
  /** Creation order, so timers due at the same moment run in the order they were set. */
  order: number;
  fire: () => void;
}

export class FakeClock {
  private nowMs: number;
  private nextId = 1;
  /** by timer id */
  private readonly pending = new Map<number, Pending>();

  constructor(startMs = 0) {
    this.nowMs = startMs;
  }

  readonly now = (): number => this.nowMs;

  readonly setTimeout = (fire: () => void, delayMs: number): unknown => {
    const id = this.nextId++;
    this.pending.set(id, { dueMs: this.nowMs + Math.max(0, delayMs), order: id, fire });
    return id;
  };

  readonly clearTimeout = (timer: unknown): void => {
    if (typeof timer === 'number') this.pending.delete(timer);
  };

  /** Timers set and not yet fired or cleared. */
  get pendingTimers(): number {
    return this.pending.size;
  }

  /** Moves time forward by `ms`, firing every timer due up to then at its due time (or now, if a callback overran it). */
  advance(ms: number): void {
    const endMs = this.nowMs + ms;
    for (let next = this.earliest(endMs); next !== undefined; next = this.earliest(endMs)) {
      this.pending.delete(next[0]);
      this.nowMs = Math.max(this.nowMs, next[1].dueMs);
      next[1].fire();
    }
    this.nowMs = Math.max(this.nowMs, endMs);
  }

  /** Time a callback takes: the clock moves, and nothing fires until the callback returns. */
  spend(ms: number): void {
    this.nowMs += ms;
  }

  private earliest(untilMs: number): [number, Pending] | undefined {
    let best: [number, Pending] | undefined;
    for (const entry of this.pending) {
      const p = entry[1];
      if (p.dueMs > untilMs) continue;
      if (best === undefined || p.dueMs < best[1].dueMs || (p.dueMs === best[1].dueMs && p.order < best[1].order)) best = entry;
    }
    return best;
  }
}
