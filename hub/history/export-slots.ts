/**
 * How many history exports run at once, in all and per user: each holds a store connection, a
 * window of sorted rows in DuckDB's memory and a few CSV chunks, for as long as its client takes
 * to read. Beyond either limit an export is refused (429), never queued.
 */

export interface ExportLimits {
  /** exports running at once in the hub */
  maxExports: number;
  /** exports running at once per user (per address on an open hub) */
  maxExportsPerUser: number;
}

export type SlotVerdict = { ok: true; release: () => void } | { ok: false; message: string };

export class ExportSlots {
  private running = 0;
  /** by user name (or address): exports running */
  private readonly byUser = new Map<string, number>();

  constructor(private readonly limits: ExportLimits) {}

  get active(): number {
    return this.running;
  }

  take(user: string): SlotVerdict {
    const mine = this.byUser.get(user) ?? 0;
    if (mine >= this.limits.maxExportsPerUser) {
      return {
        ok: false,
        message: `you have ${mine} exports running, the most one user may run at once; wait for one to finish, then try again`,
      };
    }
    if (this.running >= this.limits.maxExports) {
      return {
        ok: false,
        message: `the hub is running ${this.running} exports, the most it runs at once; try again in a few seconds`,
      };
    }
    this.running++;
    this.byUser.set(user, mine + 1);
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        this.running--;
        const left = (this.byUser.get(user) ?? 1) - 1;
        if (left > 0) this.byUser.set(user, left);
        else this.byUser.delete(user);
      },
    };
  }
}
