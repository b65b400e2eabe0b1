/**
 * How many stream replays read the store at once, hub-wide. A replay is a query on a store
 * connection of its own; thousands at once (a subscribe flood, every dashboard reconnecting
 * after a restart) would hold the store's threads and memory, and delay commits and acks.
 * Beyond the limit they wait their turn, first come first served; each connection has at most
 * one replay running or waiting (stream-connection.ts), so the line is at most as long as the
 * number of open streams.
 */

export interface ReplayTurn {
  /** resolves when this replay may read the store */
  readonly ready: Promise<void>;
  /** gives the turn back once the replay's work is done; safe to call twice */
  release(): void;
  /** leaves the line if the turn has not come yet (the client went away); a running one is released when done */
  leave(): void;
}

export class ReplayGate {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly maxConcurrent: number) {}

  get active(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting.length;
  }

  turn(): ReplayTurn {
    let started = false;
    let released = false;
    let go!: () => void;
    const ready = new Promise<void>((resolve) => (go = resolve));
    const start = () => {
      started = true;
      this.running++;
      go();
    };
    if (this.running < this.maxConcurrent) start();
    else this.waiting.push(start);
    const leave = () => {
      if (started || released) return;
      released = true;
      const at = this.waiting.indexOf(start);
      if (at >= 0) this.waiting.splice(at, 1);
    };
    return {
      ready,
      leave,
      release: () => {
        if (!started) return leave();
        if (released) return;
        released = true;
        this.running--;
        this.waiting.shift()?.();
      },
    };
  }
}
