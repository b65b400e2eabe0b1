/**
 * A stream subscriber's own queue: readings it must still be sent that are not in the shared
 * log (stream-log.ts): a replay, and the rows of log chunks let go before it read them. A ring
 * of numbers that grows by doubling up to its limit, so an idle subscriber costs little, a full
 * one allocates nothing more per reading, and dropping the oldest is O(1). Entries are encoded
 * only when they are sent.
 */

/** what one queued entry costs: a series id and two doubles */
export const QUEUE_ENTRY_BYTES = 20;

const INITIAL_CAPACITY = 16;

export class ReadingQueue {
  private series: Int32Array;
  private ts: Float64Array;
  private value: Float64Array;
  private first = 0;
  private n = 0;

  constructor(
    private readonly max: number,
    /** shared by every queue of one stream: what they hold in all */
    private readonly held: { queuedBytes: number },
  ) {
    const capacity = Math.min(INITIAL_CAPACITY, max);
    this.series = new Int32Array(capacity);
    this.ts = new Float64Array(capacity);
    this.value = new Float64Array(capacity);
  }

  get length(): number {
    return this.n;
  }

  /** Appends; when full, the oldest entry gives way. Returns whether one was dropped. */
  push(seriesId: number, ts: number, value: number): boolean {
    let dropped = false;
    if (this.n === this.series.length) {
      if (this.n < this.max) this.grow();
      else {
        this.drop(1);
        dropped = true;
      }
    }
    const at = (this.first + this.n) % this.series.length;
    this.series[at] = seriesId;
    this.ts[at] = ts;
    this.value[at] = value;
    this.n++;
    this.held.queuedBytes += QUEUE_ENTRY_BYTES;
    return dropped;
  }

  /** The oldest entry's fields (the queue must not be empty); shift() then takes it out. */
  get firstSeries(): number {
    return this.series[this.first]!;
  }

  get firstTs(): number {
    return this.ts[this.first]!;
  }

  get firstValue(): number {
    return this.value[this.first]!;
  }

  shift(): void {
    this.drop(1);
  }

  /** Takes out the `k` oldest entries (at most all of them). */
  drop(k: number): void {
    k = Math.min(k, this.n);
    this.first = (this.first + k) % this.series.length;
    this.n -= k;
    this.held.queuedBytes -= k * QUEUE_ENTRY_BYTES;
  }

  /** Empties the queue and returns its entries, oldest first (to queue again what is kept). */
  takeAll(): { series: number[]; ts: number[]; value: number[] } {
    const out = { series: [] as number[], ts: [] as number[], value: [] as number[] };
    for (let i = 0; i < this.n; i++) {
      const at = (this.first + i) % this.series.length;
      out.series.push(this.series[at]!);
      out.ts.push(this.ts[at]!);
      out.value.push(this.value[at]!);
    }
    this.clear();
    return out;
  }

  clear(): void {
    this.drop(this.n);
  }

  private grow(): void {
    const capacity = Math.min(this.series.length * 2, this.max);
    const series = new Int32Array(capacity);
    const ts = new Float64Array(capacity);
    const value = new Float64Array(capacity);
    for (let i = 0; i < this.n; i++) {
      const at = (this.first + i) % this.series.length;
      series[i] = this.series[at]!;
      ts[i] = this.ts[at]!;
      value[i] = this.value[at]!;
    }
    this.series = series;
    this.ts = ts;
    this.value = value;
    this.first = 0;
  }
}
