/**
 * The last timestamps a channel accepted, for a channel whose readings come out of order (a
 * device's messages spread over several MQTT sessions): every ts accepted since the set started
 * and above `floor` is in it, so a reading above the floor and not in it is certainly new
 * (series-catalog.ts claimTs). Kept only for channels that needed it; a few doubles each.
 */

/** ts kept per channel: readings overtaken by up to this many later ones are still known */
export const RECENT_TS = 16;

export class RecentTs {
  /** accepted ts at or below it are not known */
  floor: number;
  private n = 0;
  /** ascending */
  private readonly ts = new Float64Array(RECENT_TS);

  constructor(floor: number) {
    this.floor = floor;
  }

  /** Whether `ts` is known not to be accepted yet. */
  isFree(ts: number): boolean {
    if (ts <= this.floor) return false;
    const a = this.ts;
    for (let i = this.n - 1; i >= 0; i--) {
      const t = a[i]!;
      if (t === ts) return false;
      if (t < ts) return true;
    }
    return true;
  }

  /** `ts` is accepted (or may be stored): kept, the smallest given up (the floor rises to it) when full. */
  add(ts: number): void {
    if (ts <= this.floor || !this.isFree(ts)) return;
    const a = this.ts;
    if (this.n === RECENT_TS) {
      if (ts <= a[0]!) {
        this.floor = ts;
        return;
      }
      this.floor = a[0]!;
      a.copyWithin(0, 1, this.n);
      this.n--;
    }
    let i = this.n;
    while (i > 0 && a[i - 1]! > ts) {
      a[i] = a[i - 1]!;
      i--;
    }
    a[i] = ts;
    this.n++;
  }
}
