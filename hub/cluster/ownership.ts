/**
 * Who holds a sensor's connection, across hubs: the owners bucket maps each sensor (ownerKey)
 * to a hub id. A hello claims the key by compare-and-swap; every hub watches the bucket, and a
 * hub whose sensor was claimed by another after its own claim closes its session with 409,
 * exactly as a single hub does when a newer connection takes over. A hub whose sensor
 * disconnects deletes the key if it is still its own (compare-and-swap again), so the bucket
 * is the set of connected sensors: other hubs show them connected while their owner is alive
 * (liveness.ts), disconnected once it is not.
 *
 * The claim runs after the hello is answered (ingest never waits on NATS); a failed claim is
 * retried every few seconds while the session lasts.
 */
import type { KV, KvWatchEntry } from '@nats-io/kv';
import type { QueuedIterator } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { DEFAULT_ROOM } from '../../protocol/names.ts';
import type { SensorRegistry } from '../sensors/sensor-registry.ts';
import { HUB_REFRESH_MS, ownerKey, sensorOfOwnerKey } from './cluster-names.ts';
import { remoteRecord } from './remote-record.ts';

export interface OwnershipTargets {
  registry: SensorRegistry;
  /** the session that speaks for `sensor` on this hub, if any */
  localSession(sensor: string): { replaced(): void } | undefined;
  isAlive(hubId: string): boolean;
}

export interface OwnershipStats {
  claims: number;
  /** claims that lost a race and read the key again */
  casRetries: number;
  failedClaims: number;
  /** local sessions closed with 409 because another hub took their sensor */
  takenOver: number;
  /** keys naming this hub with no connection here (its previous run's), deleted */
  leftovers: number;
}

/** A claim that keeps losing the compare-and-swap gives up after this many tries (and retries later). */
const CAS_ATTEMPTS = 5;

export class Ownership {
  /** by sensor: the hub the bucket last named, and the revision that did */
  readonly owners = new Map<string, { hub: string; rev: number }>();
  /** by sensor: the revision of this hub's claim that stands */
  private readonly mine = new Map<string, number>();
  /** by sensor: a claim in flight, with the highest revision by another hub seen meanwhile */
  private readonly pending = new Map<string, number>();
  /** sensors whose claim failed (NATS unreachable): tried again while their session lasts */
  private readonly unclaimed = new Set<string>();
  readonly stats: OwnershipStats = { claims: 0, casRetries: 0, failedClaims: 0, takenOver: 0, leftovers: 0 };
  private kv: KV | null = null;
  private watch: QueuedIterator<KvWatchEntry> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopping = false;

  constructor(
    private readonly hubId: string,
    private readonly t: OwnershipTargets,
    private readonly log: Logger,
  ) {}

  async start(kv: KV): Promise<void> {
    this.kv = kv;
    const watch = await kv.watch();
    this.watch = watch;
    void (async () => {
      for await (const e of watch) this.onEntry(e);
    })().catch((err: Error) => this.log.error({ err }, 'watching sensor ownership stopped'));
    this.timer = setInterval(() => this.retryUnclaimed(), HUB_REFRESH_MS);
    this.timer.unref();
  }

  /** A hello was accepted here: this hub now holds the sensor. */
  claim(sensor: string): void {
    if (this.stopping || this.pending.has(sensor)) return;
    this.pending.set(sensor, 0);
    this.unclaimed.delete(sensor);
    this.stats.claims++;
    this.casClaim(sensor).then(
      (rev) => {
        const otherSince = this.pending.get(sensor) ?? 0;
        this.pending.delete(sensor);
        if (otherSince > rev) this.lose(sensor);
        else {
          this.mine.set(sensor, rev);
          // The session ended while the claim was in flight: the key it left is not a connection.
          if (!this.t.localSession(sensor)) this.released(sensor);
        }
      },
      (err: Error) => {
        this.pending.delete(sensor);
        this.stats.failedClaims++;
        if (this.t.localSession(sensor)) this.unclaimed.add(sensor);
        this.log.warn({ err, sensor }, 'could not record this hub as the sensor’s owner in NATS; retrying');
      },
    );
  }

  /** Compare-and-swap until this hub is the owner; resolves with the revision that says so. */
  private async casClaim(sensor: string): Promise<number> {
    const kv = this.kv!;
    const key = ownerKey(sensor);
    for (let attempt = 1; ; attempt++) {
      const current = await kv.get(key);
      try {
        if (!current || current.operation !== 'PUT') return await kv.create(key, this.hubId);
        if (current.string() === this.hubId) return current.revision;
        return await kv.update(key, this.hubId, current.revision);
      } catch (err) {
        // Another hub wrote the key between our read and our write: read it again.
        if (attempt >= CAS_ATTEMPTS || !/wrong last sequence|key exists/i.test((err as Error).message)) throw err;
        this.stats.casRetries++;
      }
    }
  }

  /** This hub's session of `sensor` closed; if no other session of it is here, the key goes (if still ours). */
  released(sensor: string): void {
    if (this.t.localSession(sensor)) return;
    this.unclaimed.delete(sensor);
    const rev = this.mine.get(sensor);
    this.mine.delete(sensor);
    // A stopping hub deletes its liveness key instead: one delete rather than one per sensor.
    if (rev !== undefined && !this.stopping) {
      this.kv!.delete(ownerKey(sensor), { previousSeq: rev }).catch(() => {
        // Claimed by another hub meanwhile (or NATS is away): the key is not ours to delete.
      });
    }
    this.show(sensor);
  }

  private onEntry(e: KvWatchEntry): void {
    const sensor = sensorOfOwnerKey(e.key);
    if (e.operation === 'PUT') {
      const hub = e.string();
      this.owners.set(sensor, { hub, rev: e.revision });
      if (hub === this.hubId && !this.pending.has(sensor) && !this.mine.has(sensor) && !this.t.localSession(sensor)) {
        // Left by this hub id's previous run (killed): no connection here stands behind it.
        this.kv!.delete(e.key, { previousSeq: e.revision }).catch(() => {});
        this.stats.leftovers++;
      } else if (hub !== this.hubId) {
        const inFlight = this.pending.get(sensor);
        if (inFlight !== undefined) this.pending.set(sensor, Math.max(inFlight, e.revision));
        else {
          const mine = this.mine.get(sensor);
          if (mine !== undefined && e.revision > mine) this.lose(sensor);
        }
      }
    } else {
      this.owners.delete(sensor);
    }
    this.show(sensor);
  }

  /** Another hub claimed `sensor` after this one did: the local session ends with 409, as on takeover. */
  private lose(sensor: string): void {
    this.mine.delete(sensor);
    const session = this.t.localSession(sensor);
    if (!session) return;
    this.stats.takenOver++;
    session.replaced();
  }

  /** A sensor held elsewhere shows as connected here while its hub is alive. */
  private show(sensor: string): void {
    if (this.t.localSession(sensor)) return;
    const owner = this.owners.get(sensor);
    const remote = owner !== undefined && owner.hub !== this.hubId && this.t.isAlive(owner.hub);
    const rec = this.t.registry.records.get(sensor) ?? (remote ? remoteRecord(this.t.registry, sensor, DEFAULT_ROOM) : undefined);
    if (rec) rec.connected = remote;
  }

  /** The set of live hubs changed: sensors of hubs that died show as disconnected, and back. */
  hubsChanged(): void {
    for (const [sensor, owner] of this.owners) if (owner.hub !== this.hubId) this.show(sensor);
  }

  /** Sensors held by other live hubs, for report-now's `missing`. */
  heldElsewhere(): Map<string, string> {
    const out = new Map<string, string>();
    for (const [sensor, owner] of this.owners) {
      if (owner.hub !== this.hubId && this.t.isAlive(owner.hub) && !this.t.localSession(sensor)) out.set(sensor, owner.hub);
    }
    return out;
  }

  private retryUnclaimed(): void {
    for (const sensor of [...this.unclaimed]) {
      if (this.t.localSession(sensor)) this.claim(sensor);
      else this.unclaimed.delete(sensor);
    }
  }

  /** Stops watching; keys are left to the liveness of this hub (it deletes its own key). */
  stop(): void {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.watch?.stop();
    this.watch = null;
  }
}
