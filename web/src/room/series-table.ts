/**
 * One metric's data in a room view, in the shape uPlot draws: one x array of bucket starts (ms),
 * and per sensor the bucket's mean, min, max and count, aligned on it (null where the sensor has
 * no reading in that bucket). Filled from history.csv's bucket rows (which come in ts order),
 * then from live readings, which fold into their bucket as the hub would have (buckets start at
 * whole multiples of their length since the epoch, docs/API.md), so the chart and a later export
 * of the same range agree.
 */

type Column = (number | null)[];

interface SensorColumns {
  mean: Column;
  min: Column;
  max: Column;
  count: Column;
}

export class SeriesTable {
  unit = '';
  /** bucket starts, ms, ascending */
  readonly xs: number[] = [];
  /** in the order their columns were made */
  readonly sensors: string[] = [];
  /** by sensor id */
  private readonly columns = new Map<string, SensorColumns>();

  constructor(
    readonly metric: string,
    readonly everyMs: number,
  ) {}

  get size(): number {
    return this.xs.length;
  }

  columnsOf(sensor: string): SensorColumns {
    let c = this.columns.get(sensor);
    if (!c) {
      const n = this.xs.length;
      c = {
        mean: new Array<number | null>(n).fill(null),
        min: new Array<number | null>(n).fill(null),
        max: new Array<number | null>(n).fill(null),
        count: new Array<number | null>(n).fill(null),
      };
      this.columns.set(sensor, c);
      this.sensors.push(sensor);
    }
    return c;
  }

  /** The index of bucket `x`, made (in order) when missing. */
  private indexOf(x: number): number {
    const xs = this.xs;
    const n = xs.length;
    if (n === 0 || xs[n - 1]! < x) {
      xs.push(x);
      for (const c of this.columns.values()) {
        c.mean.push(null);
        c.min.push(null);
        c.max.push(null);
        c.count.push(null);
      }
      return n;
    }
    if (xs[n - 1] === x) return n - 1;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (xs[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    if (xs[lo] === x) return lo;
    xs.splice(lo, 0, x);
    for (const c of this.columns.values()) {
      c.mean.splice(lo, 0, null);
      c.min.splice(lo, 0, null);
      c.max.splice(lo, 0, null);
      c.count.splice(lo, 0, null);
    }
    return lo;
  }

  /** A bucket row of the export. */
  addBucket(x: number, sensor: string, count: number, min: number, max: number, mean: number): void {
    const c = this.columnsOf(sensor);
    const i = this.indexOf(x);
    c.count[i] = count;
    c.min[i] = min;
    c.max[i] = max;
    c.mean[i] = mean;
  }

  /** A live reading, folded into its bucket. */
  addReading(ts: number, sensor: string, value: number): void {
    const x = Math.floor(ts / this.everyMs) * this.everyMs;
    const c = this.columnsOf(sensor);
    const i = this.indexOf(x);
    const n = c.count[i] ?? 0;
    if (n === 0) {
      c.count[i] = 1;
      c.min[i] = c.max[i] = c.mean[i] = value;
      return;
    }
    c.count[i] = n + 1;
    c.min[i] = Math.min(c.min[i]!, value);
    c.max[i] = Math.max(c.max[i]!, value);
    c.mean[i] = c.mean[i]! + (value - c.mean[i]!) / (n + 1);
  }

  /** Drops the buckets that end before `ms` (a sliding range has moved past them). */
  dropBefore(ms: number): void {
    let k = 0;
    while (k < this.xs.length && this.xs[k]! + this.everyMs <= ms) k++;
    if (k === 0) return;
    this.xs.splice(0, k);
    for (const c of this.columns.values()) {
      c.mean.splice(0, k);
      c.min.splice(0, k);
      c.max.splice(0, k);
      c.count.splice(0, k);
    }
  }

  /** Whether any bucket holds more than one reading: then the min-max band says something. */
  hasSpread(): boolean {
    for (const c of this.columns.values()) for (const n of c.count) if (n !== null && n > 1) return true;
    return false;
  }
}
