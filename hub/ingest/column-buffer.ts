/** A growable column buffer of (series id, ts, value) rows, reused across commits. */
import type { Columns } from '../store/store-messages.ts';

export class ColumnBuffer {
  n = 0;
  private series: Int32Array;
  private ts: Float64Array;
  private value: Float64Array;

  constructor(initialRows = 16_384) {
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

  /** Copies the rows out (exactly n, so nothing extra is cloned to the worker) and empties the buffer. */
  take(): Columns {
    const n = this.n;
    const out: Columns = { n, series: this.series.slice(0, n), ts: this.ts.slice(0, n), value: this.value.slice(0, n) };
    this.n = 0;
    return out;
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
