/**
 * A growable column buffer of (series id, ts, value) rows. take() hands the arrays themselves
 * to the commit and continues with recycled ones, so steady ingest allocates nothing per commit.
 * The arrays are on SharedArrayBuffers: the store worker reads them in place, and they come back
 * with its answer as the same memory. Transferred arrays would come back as new ArrayBuffers,
 * which V8 counts as fresh external memory: a full garbage collection every ~60 MB of commits.
 */
import type { Columns } from '../store/store-messages.ts';

function ids(n: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(n * Int32Array.BYTES_PER_ELEMENT));
}

function doubles(n: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer(n * Float64Array.BYTES_PER_ELEMENT));
}

export class ColumnBuffer {
  n = 0;
  private series: Int32Array;
  private ts: Float64Array;
  private value: Float64Array;
  private readonly spares: Columns[] = [];

  constructor(private readonly initialRows = 16_384) {
    this.series = ids(initialRows);
    this.ts = doubles(initialRows);
    this.value = doubles(initialRows);
  }

  push(seriesId: number, ts: number, value: number): void {
    if (this.n === this.series.length) this.grow();
    const i = this.n++;
    this.series[i] = seriesId;
    this.ts[i] = ts;
    this.value[i] = value;
  }

  /** The rows so far (rows 0..n-1 of the arrays); the buffer continues empty on other arrays. */
  take(): Columns {
    const out: Columns = { n: this.n, series: this.series, ts: this.ts, value: this.value };
    const spare = this.spares.pop();
    this.series = spare?.series ?? ids(Math.max(this.initialRows, this.n));
    this.ts = spare?.ts ?? doubles(this.series.length);
    this.value = spare?.value ?? doubles(this.series.length);
    this.n = 0;
    return out;
  }

  /** Takes back arrays given out by take() once the commit is done with them. */
  recycle(cols: Columns): void {
    if (this.spares.length < 2 && cols.series.length >= this.initialRows) this.spares.push(cols);
  }

  private grow(): void {
    const size = this.series.length * 2;
    const series = ids(size);
    series.set(this.series);
    const ts = doubles(size);
    ts.set(this.ts);
    const value = doubles(size);
    value.set(this.value);
    this.series = series;
    this.ts = ts;
    this.value = value;
  }
}
