/**
 * The messages a sensor has produced and the hub has not yet acknowledged, oldest first.
 * Bounded: when full, the oldest goes, because for a room sensor the newest readings are
 * the ones worth keeping through a long outage.
 */

export class UnackedBuffer<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be an integer of at least 1, got ${capacity}`);
  }

  get length(): number {
    return this.items.length - this.head;
  }

  /** The i-th oldest item. */
  at(i: number): T | undefined {
    return i >= 0 && i < this.length ? this.items[this.head + i] : undefined;
  }

  /** Adds the newest item; returns the oldest one if it had to go to make room. */
  push(item: T): T | undefined {
    const dropped = this.length >= this.capacity ? this.shift() : undefined;
    this.items.push(item);
    return dropped;
  }

  shift(): T | undefined {
    if (this.length === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head++;
    // Compact now and then, so shifting stays O(1) amortised and memory follows the contents.
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}
