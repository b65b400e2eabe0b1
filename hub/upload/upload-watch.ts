/**
 * What sensors store while an upload's transaction is open. The upload inserts its rows in a
 * transaction of its own, beside the sensor commits, and checks them against the store as its
 * snapshot shows it; a sensor commit meanwhile cannot see the upload's rows, nor the upload
 * the sensor's. So from the moment the upload's snapshot is taken (in the store's queue, so no
 * commit is half done) until its COMMIT (in the queue again), every sensor commit reports here
 * the rows it stored; those of the upload's channels within its ts range are the identities the
 * upload must give up before it commits (a sensor row stored first is the one kept, as the
 * contract keeps the first stored). Few in practice: the series catalog sends a live reading at
 * or below an upload's newest ts through the duplicate check, and live readings are new.
 */
import type { Columns, SeriesDef } from '../store/store-messages.ts';

/** Identities a watch keeps at most; an upload that meets more is refused, to be sent again. */
export const MAX_WATCHED_ROWS = 1_000_000;

export class UploadWatch {
  /** series id -> channel, for the series of the upload's channels */
  private readonly series = new Map<number, number>();
  readonly taken: { channel: number; ts: number }[] = [];
  overflow = false;

  constructor(
    private readonly channels: ReadonlySet<number>,
    series: Iterable<[number, number]>,
    private readonly lo: number,
    private readonly hi: number,
  ) {
    for (const [id, channel] of series) this.series.set(id, channel);
  }

  /** A sensor commit's stored rows: `mask` null when every row was stored, else 1 where row i was. */
  committed(newSeries: readonly SeriesDef[], rows: Columns, mask: Uint8Array | null): void {
    for (const d of newSeries) if (this.channels.has(d.channel)) this.series.set(d.id, d.channel);
    for (let i = 0; i < rows.n; i++) {
      if (mask && mask[i] !== 1) continue;
      const ts = rows.ts[i]!;
      if (ts < this.lo || ts > this.hi) continue;
      const channel = this.series.get(rows.series[i]!);
      if (channel === undefined) continue;
      if (this.taken.length >= MAX_WATCHED_ROWS) {
        this.overflow = true;
        return;
      }
      this.taken.push({ channel, ts });
    }
  }
}

/** The watches of the uploads whose transaction is open now. */
const open = new Set<UploadWatch>();

export function openWatch(watch: UploadWatch): void {
  open.add(watch);
}

export function closeWatch(watch: UploadWatch): void {
  open.delete(watch);
}

/** Called by the store worker after each sensor commit that succeeded. */
export function noteCommitted(newSeries: readonly SeriesDef[], rows: Columns, mask: Uint8Array | null): void {
  for (const w of open) w.committed(newSeries, rows, mask);
}
