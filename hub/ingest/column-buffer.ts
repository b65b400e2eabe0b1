/**
 * A growable column buffer of (series id, ts, value) rows. take() hands the arrays themselves
 * to the commit (they travel to the store worker and back by transfer, never copied) and
 * continues with recycled ones, so steady ingest allocates nothing per commit.
 */
import type { Columns } from '../store/store-messages.ts';

export class ColumnBuffer {
  n = 0;
  private series: Int32Array;
  private ts: Float64Array;
  private value: Float64Array;
  private readonly spares: Columns[] = [];

  constructor(private readonly initialRows = 16_384) {
    this.series = new Int32Array(initialRows);
    this.ts = new Float64Array(initialRows);
    this.value = new Float64Array(initialRows);
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
    this.series = spare?.series ?? new Int32Array(Math.max(this.initialRows, this.n));
    this.ts = spare?.ts ?? new Float64Array(this.series.length);
    this.value = spare?.value ?? new Float64Array(this.series.length);
    this.n = 0;
    return out;
  }

  /** Takes back arrays given out by take() once the commit is done with them. */
  recycle(cols: Columns): void {
    if (this.spares.length < 2 && cols.series.length >= this.initialRows) this.spares.push(cols);
  }

  private grow(): void {
    const size = this.series.length * 2;
    const series = new Int32Array(size);
    series.set(this.series);
    const ts = new Float64Array(size);
    ts.set(this.ts);
    const value = new Float64Array(size);
    value.set(this.value);
    this.series = series;
    this.ts = ts;
    this.value = value;
  }
}
