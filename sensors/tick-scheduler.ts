/**
 * One timer for many periodic ticks. Due times are absolute (first + k * interval on a
 * monotonic clock), so ticks do not drift the way chained setInterval callbacks do, and
 * 10,000 sensors cost one pending timer and a heap, not 10,000 timers.
 */

export interface TickHandle {
  cancel(): void;
}

/** What the scheduler needs of time; tests pass a fake one and move time by hand. */
export interface TimerClock {
  /** A monotonic clock in ms: wall-clock steps must not bunch or skip ticks. */
  now(): number;
  setTimeout(fire: () => void, delayMs: number): unknown;
  clearTimeout(timer: unknown): void;
}

/** The process's own: performance.now() and the global timers. */
export const processClock: TimerClock = {
  now: () => performance.now(),
  setTimeout: (fire, delayMs) => setTimeout(fire, delayMs),
  clearTimeout: (timer) => clearTimeout(timer as NodeJS.Timeout),
};

export interface TickSchedulerOptions {
  clock?: TimerClock;
}

interface Entry {
  dueMs: number;
  intervalMs: number;
  /** Insertion order, so ticks due at the same moment run in the order they were added. */
  order: number;
  tick: (dueMs: number) => void;
  cancelled: boolean;
}

export class TickScheduler {
  private readonly clock: TimerClock;
  /** Min-heap by (dueMs, order). */
  private readonly heap: Entry[] = [];
  private live = 0;
  private nextOrder = 0;
  private timer: unknown = null;
  private timerDueMs = Infinity;

  constructor(options: TickSchedulerOptions = {}) {
    this.clock = options.clock ?? processClock;
  }

  /** Calls `tick(dueMs)` after `firstDelayMs`, then every `intervalMs` until cancelled. */
  add(intervalMs: number, firstDelayMs: number, tick: (dueMs: number) => void): TickHandle {
    if (!(intervalMs > 0)) throw new RangeError(`intervalMs must be above 0, got ${intervalMs}`);
    const entry: Entry = {
      dueMs: this.clock.now() + Math.max(0, firstDelayMs),
      intervalMs,
      order: this.nextOrder++,
      tick,
      cancelled: false,
    };
    this.push(entry);
    this.live++;
    this.arm();
    return {
      cancel: () => {
        if (entry.cancelled) return;
        entry.cancelled = true;
        this.live--;
        if (this.live === 0) this.stop();
      },
    };
  }

  /** Number of ticks still scheduled. */
  get size(): number {
    return this.live;
  }

  /** Drops every tick and the timer. */
  stop(): void {
    for (const e of this.heap) e.cancelled = true;
    this.heap.length = 0;
    this.live = 0;
    this.disarm();
  }

  private arm(): void {
    const top = this.heap[0];
    if (top === undefined) return this.disarm();
    if (this.timer !== null && top.dueMs >= this.timerDueMs) return;
    this.disarm();
    this.timerDueMs = top.dueMs;
    this.timer = this.clock.setTimeout(() => this.fire(), Math.max(0, top.dueMs - this.clock.now()));
  }

  private disarm(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    this.timerDueMs = Infinity;
  }

  private fire(): void {
    this.timer = null;
    this.timerDueMs = Infinity;
    const nowMs = this.clock.now();
    // Timers may fire a hair early; a tick within a millisecond of its due time is due.
    for (let top = this.heap[0]; top !== undefined && top.dueMs <= nowMs + 1; top = this.heap[0]) {
      this.pop();
      if (top.cancelled) continue;
      const dueMs = top.dueMs;
      // A process that fell behind skips the missed ticks instead of firing them in a burst,
      // as a real sensor that was busy would not take five readings at once.
      const missed = Math.max(0, Math.floor((nowMs - dueMs) / top.intervalMs));
      top.dueMs = dueMs + (missed + 1) * top.intervalMs;
      this.push(top);
      top.tick(dueMs);
    }
    if (this.live > 0) this.arm();
  }

  private less(a: Entry, b: Entry): boolean {
    return a.dueMs < b.dueMs || (a.dueMs === b.dueMs && a.order < b.order);
  }

  private push(entry: Entry): void {
    const h = this.heap;
    h.push(entry);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = h[parent]!;
      if (!this.less(entry, p)) break;
      h[i] = p;
      i = parent;
    }
    h[i] = entry;
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop();
    if (last === undefined || h.length === 0) return;
    let i = 0;
    const n = h.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const child = r < n && this.less(h[r]!, h[l]!) ? r : l;
      const c = h[child]!;
      if (!this.less(c, last)) break;
      h[i] = c;
      i = child;
    }
    h[i] = last;
  }
}
