/**
 * Cluster mode keeps users, tokens and logins in PostgreSQL; a hub that changes them announces
 * it (PostgreSQL NOTIFY, ClusterStore.onSharedChanges) and every other hub reloads them here,
 * replacing what it holds (AccessControl.reload tells the connections admitted under the old
 * rights). A change of this hub's own under way while the rows were read may be missing from
 * them and would be lost from memory: then they are read again. Reloads asked for meanwhile
 * run once more after.
 */
import type { Logger } from 'pino';
import type { AccessControl } from '../access/access-control.ts';
import type { AccessState } from '../access/access-records.ts';

/** Reads again at most this many times while this hub's own writes keep overlapping. */
const MAX_ATTEMPTS = 20;
const RETRY_MS = 50;

export class AccessReload {
  private started = 0;
  private inFlight = 0;
  private reloading = false;
  private again = false;

  constructor(
    private readonly load: () => Promise<AccessState>,
    private readonly access: Pick<AccessControl, 'reload'>,
    private readonly log: Logger,
  ) {}

  /** This hub writes an access change (its store's writeAccess). */
  track(write: Promise<unknown>): void {
    this.started++;
    this.inFlight++;
    const done = () => void this.inFlight--;
    write.then(done, done);
  }

  /** Another hub changed access: reload (now, or once the reload under way is done). */
  changed(): void {
    if (this.reloading) {
      this.again = true;
      return;
    }
    this.reloading = true;
    this.run()
      .catch((err: Error) => this.log.error({ err }, 'could not reload users and tokens after another hub changed them'))
      .finally(() => {
        this.reloading = false;
        if (this.again) this.changed();
      });
  }

  private async run(): Promise<void> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      this.again = false;
      const started = this.started;
      const quiet = this.inFlight === 0;
      const state = await this.load();
      if (quiet && started === this.started && !this.again) {
        this.access.reload(state);
        return;
      }
      await new Promise((r) => setTimeout(r, RETRY_MS));
    }
    this.log.warn('this hub kept changing users and tokens while reloading them; reloading at the next change');
  }
}
