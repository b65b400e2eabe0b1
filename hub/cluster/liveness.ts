/**
 * Hub liveness: each hub puts its key in the hubs bucket every HUB_REFRESH_MS; the bucket
 * keeps a value HUB_TTL_MS. Every hub watches the bucket and counts a hub alive while it has
 * seen a put from it within the TTL (the bucket's own expiry sends no event on nats-server
 * 2.9, so the watch's puts and this hub's clock decide). A hub that stops deletes its key:
 * the others see it gone at once; one killed is gone after the TTL, and its sensors then
 * show as disconnected everywhere (ownership.ts).
 */
import type { KV, KvWatchEntry } from '@nats-io/kv';
import type { QueuedIterator } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { HUB_REFRESH_MS, HUB_TTL_MS, type HubAnnouncement } from './cluster-names.ts';

export interface LivenessOptions {
  refreshMs?: number;
  ttlMs?: number;
  /** Date.now by default: the puts' arrival, not the hub clock a test may fake */
  clock?: () => number;
}

export class Liveness {
  /** by hubId: when its last put arrived here, and what it said */
  private readonly seen = new Map<string, { at: number; announcement: HubAnnouncement | null }>();
  private alive = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private watch: QueuedIterator<KvWatchEntry> | null = null;
  private kv: KV | null = null;
  private listeners: ((alive: ReadonlySet<string>) => void)[] = [];
  private readonly refreshMs: number;
  private readonly ttlMs: number;
  private readonly clock: () => number;

  constructor(
    private readonly hubId: string,
    private readonly announcement: HubAnnouncement,
    private readonly log: Logger,
    options: LivenessOptions = {},
  ) {
    this.refreshMs = options.refreshMs ?? HUB_REFRESH_MS;
    this.ttlMs = options.ttlMs ?? HUB_TTL_MS;
    this.clock = options.clock ?? Date.now;
  }

  /** Called with the set of live hubs (this one included) whenever it changes. */
  onChange(fn: (alive: ReadonlySet<string>) => void): void {
    this.listeners.push(fn);
  }

  isAlive(hubId: string): boolean {
    return hubId === this.hubId || this.alive.has(hubId);
  }

  /** Live hubs, this one included. */
  hubs(): ReadonlySet<string> {
    return this.alive;
  }

  announcementOf(hubId: string): HubAnnouncement | null {
    return this.seen.get(hubId)?.announcement ?? null;
  }

  async start(kv: KV): Promise<void> {
    this.kv = kv;
    const previous = await kv.get(this.hubId).catch(() => null);
    if (previous?.operation === 'PUT') {
      this.log.warn(
        { hubId: this.hubId, previous: previous.string() },
        'another hub announced this hub id less than 10 s ago: if it still runs, give each hub its own --hub-id',
      );
    }
    await this.announce();
    const watch = await kv.watch();
    this.watch = watch;
    void (async () => {
      for await (const e of watch) this.onEntry(e);
    })().catch((err: Error) => this.log.error({ err }, 'watching hub liveness stopped'));
    this.timer = setInterval(() => {
      this.announce().catch((err: Error) => this.log.warn({ err }, 'could not refresh this hub’s liveness key; retrying'));
      this.expire();
    }, this.refreshMs);
    this.timer.unref();
  }

  private async announce(): Promise<void> {
    await this.kv!.put(this.hubId, JSON.stringify(this.announcement));
  }

  private onEntry(e: KvWatchEntry): void {
    if (e.operation === 'PUT') {
      let announcement: HubAnnouncement | null = null;
      try {
        announcement = e.json<HubAnnouncement>();
      } catch {
        // a value of another version: alive all the same
      }
      this.seen.set(e.key, { at: this.clock(), announcement });
      // A put read back from history may be old: its arrival is not its age. Delta 0 with a
      // creation time past the TTL is a value the bucket has not yet expired.
      if (this.clock() - e.created.getTime() > this.ttlMs) this.seen.delete(e.key);
    } else {
      this.seen.delete(e.key);
    }
    this.expire();
  }

  /** Drops hubs not heard from within the TTL, and tells the listeners if the set changed. */
  private expire(): void {
    const now = this.clock();
    const alive = new Set<string>([this.hubId]);
    for (const [hub, s] of this.seen) {
      if (now - s.at <= this.ttlMs) alive.add(hub);
      else this.seen.delete(hub);
    }
    if (alive.size === this.alive.size && [...alive].every((h) => this.alive.has(h))) return;
    const gone = [...this.alive].filter((h) => !alive.has(h));
    const came = [...alive].filter((h) => !this.alive.has(h));
    this.alive = alive;
    if (gone.length > 0 || came.length > 0) this.log.info({ gone, came, alive: [...alive] }, 'hubs in the cluster changed');
    for (const fn of this.listeners) fn(alive);
  }

  /** Stops refreshing and deletes this hub's key, so the others see it gone now. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.watch?.stop();
    this.watch = null;
    await this.kv?.delete(this.hubId).catch((err: Error) => this.log.warn({ err }, 'could not delete this hub’s liveness key; it expires'));
  }
}
