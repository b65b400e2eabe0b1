/**
 * What each way in took and refused, for `/metrics`: readings taken (accepted into a commit)
 * and refused by reason, per source. The reasons are a short fixed vocabulary (`invalid`,
 * `forbidden`, `busy`, `store_unavailable`, and the inputs' own such as `parse`, `not_numeric`,
 * `nan`, `stale`), never client text, so the label set stays small.
 */
import type { Source } from '../sensors/sensor-registry.ts';

export class SourceCounters {
  /** by source */
  readonly taken = new Map<Source, number>();
  /** by `${source}\0${reason}` */
  private readonly refusedBy = new Map<string, number>();

  took(source: Source, n: number): void {
    this.taken.set(source, (this.taken.get(source) ?? 0) + n);
  }

  refused(source: Source, reason: string, n = 1): void {
    const key = `${source}\0${reason}`;
    this.refusedBy.set(key, (this.refusedBy.get(key) ?? 0) + n);
  }

  /** Every (source, reason) with its count. */
  *refusals(): IterableIterator<{ source: Source; reason: string; n: number }> {
    for (const [key, n] of this.refusedBy) {
      const [source, reason] = key.split('\0') as [Source, string];
      yield { source, reason, n };
    }
  }
}
