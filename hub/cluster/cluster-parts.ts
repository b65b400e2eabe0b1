/**
 * Cluster mode's parts of a hub, built by buildHub when `--cluster` and `--history` are given
 * (hub.ts keeps one small branch): the NATS link, the commit publisher behind ClusterStore
 * (PostgreSQL for everything but commits), the follower, ownership, liveness and report-now
 * across hubs. Everything else in the hub is the single hub's code.
 *
 * buildHub is synchronous and connecting is not: `store` is a stand-in that forwards to the
 * ClusterStore once connect() has made it (at start, before the store is opened).
 */
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { AccessControl } from '../access/access-control.ts';
import type { SeriesCatalog } from '../ingest/series-catalog.ts';
import type { SensorSession } from '../ingest/sensor-session.ts';
import type { SensorRegistry } from '../sensors/sensor-registry.ts';
import { ClusterStore } from '../pg/cluster-store.ts';
import { PgHistory } from '../pg/pg-history.ts';
import { StoreError, type HubStore } from '../store/hub-store.ts';
import type { Columns } from '../store/store-messages.ts';
import type { RetentionConfig } from '../store/rollup-tiers.ts';
import { AccessReload } from './access-reload.ts';
import { alertDutyHub } from './alert-duty.ts';
import { defaultHubId } from './cluster-names.ts';
import { parseServers, type ClusterOptions } from './cluster-options.ts';
import type { ClusterReportNow } from './cluster-report-now.ts';
import { CommitPublisher } from './commit-publisher.ts';
import { Follower } from './follower.ts';
import { Liveness } from './liveness.ts';
import { NatsLink } from './nats-link.ts';
import { Ownership } from './ownership.ts';
import { RecentIdentities } from './recent-identities.ts';
import { UploadAnnouncer } from './upload-announcer.ts';

export interface ClusterDeps {
  log: Logger;
  now: () => number;
  catalog: SeriesCatalog;
  registry: SensorRegistry;
  /** the sensor port as asked for (0: a free one); part of the default hub id */
  tcpPort: number;
  /** the upload reader's spill folder and threads */
  tempDir: string;
  threads: number;
  /** a PubAck not in by then fails the commit (it is retried, and after storeUnavailableAfterMs sensors get 503) */
  publishTimeoutMs: number;
  /** raw retention (hub/pg/pg-retention.ts); none when absent */
  retention?: RetentionConfig;
}

/** What the cluster parts feed and answer with, once the hub has made them. */
export interface ClusterJoin {
  liveStream: { publish(rows: Columns, mask?: Uint8Array): void };
  alerts: {
    committed(catalog: SeriesCatalog, rows: Columns, mask?: Uint8Array): void;
    announceOnly(announces: (sensor: string) => boolean): void;
    reloadRules(): Promise<void>;
  };
  reportNow: ClusterReportNow;
  access: AccessControl;
  /** by sensor id: the session on this hub that speaks for it */
  localSession: (sensor: string) => SensorSession | undefined;
}

export class ClusterParts {
  readonly hubId: string;
  readonly store: HubStore;
  private readonly bindStore: (inner: ClusterStore) => void;
  private readonly servers: string[];
  /** the recent identities per channel, shared by the publisher and the follower (recent-identities.ts) */
  private readonly recent = new RecentIdentities();
  private link: NatsLink | null = null;
  private clusterStore: ClusterStore | null = null;
  private publisher: CommitPublisher | null = null;
  private follower: Follower | null = null;
  private ownership: Ownership | null = null;
  private liveness: Liveness | null = null;
  private joined: ClusterJoin | null = null;
  private accessReload: AccessReload | null = null;

  constructor(
    private readonly options: ClusterOptions & { cluster: string; history: string },
    private readonly d: ClusterDeps,
  ) {
    this.servers = parseServers(options.cluster);
    this.hubId = options.hubId ?? defaultHubId(hostname(), d.tcpPort);
    const late = lateStore((write) => this.accessReload?.track(write));
    this.store = late.store;
    this.bindStore = late.bind;
    this.uploads = new UploadAnnouncer(this.hubId, d.catalog.series, () => this.link?.nc ?? null, d.log);
  }

  /** Connects to NATS (stream, consumer, buckets) and PostgreSQL (schema): before the store is opened. */
  async connect(): Promise<void> {
    const { log } = this.d;
    const link = await NatsLink.connect({ servers: this.servers, name: `roomwatch hub ${this.hubId}`, log });
    this.link = link;
    await link.ensureStream();
    const history = await PgHistory.connect(this.options.history);
    const publisher = new CommitPublisher({
      js: link.js,
      hubId: this.hubId,
      series: this.d.catalog.series,
      maxPayload: () => link.nc.info?.max_payload ?? 1024 * 1024,
      publishTimeoutMs: this.d.publishTimeoutMs,
      identities: { recent: this.recent, channelOf: (id) => this.d.catalog.channel(id).id },
    });
    this.publisher = publisher;
    this.clusterStore = new ClusterStore({
      history,
      publish: (req) => publisher.commit(req),
      position: link,
      hubId: this.hubId,
      now: this.d.now,
      catalog: this.d.catalog,
      tempDir: this.d.tempDir,
      threads: this.d.threads,
      warn: (fields, message) => this.d.log.warn(fields, message),
      retention: this.d.retention,
    });
    this.bindStore(this.clusterStore);
  }

  /**
   * After the store was opened and loaded: follow the other hubs' commits, watch who owns which
   * sensor, answer report-now for other hubs, reload access when another hub changes it.
   */
  async join(j: ClusterJoin): Promise<void> {
    const link = this.link!;
    const { log, catalog, registry } = this.d;
    this.joined = j;
    // Until announce() starts liveness, only this hub counts as alive.
    const isAlive = (h: string): boolean => this.liveness?.isAlive(h) ?? h === this.hubId;
    this.ownership = new Ownership(this.hubId, { registry, localSession: (sensor) => j.localSession(sensor), isAlive }, log);
    await this.ownership.start(await link.ownersKv());
    this.follower = new Follower(this.hubId, { catalog, registry, liveStream: j.liveStream, alerts: j.alerts, recent: this.recent }, log);
    await this.follower.start(link);
    j.reportNow.attachCluster({
      nc: link.nc,
      hubId: this.hubId,
      hubs: () => this.liveness?.hubs() ?? new Set([this.hubId]),
      heldElsewhere: () => this.ownership!.heldElsewhere(),
      registry,
      log,
    });
    // Every hub keeps every alert's state; the hub alertDutyHub picks stores and sends a sensor's events.
    j.alerts.announceOnly((sensor) => alertDutyHub(sensor, this.liveness?.hubs() ?? [this.hubId]) === this.hubId);
    const reload = new AccessReload(() => this.clusterStore!.loadAccess(), j.access, log);
    this.accessReload = reload;
    // One reload of the rules at a time, in the order the changes were heard.
    let rulesReload = Promise.resolve();
    const reloadRules = (): void => {
      rulesReload = rulesReload.then(() =>
        j.alerts.reloadRules().catch((err: Error) => log.warn({ err }, 'could not reload the alert rules another hub changed')),
      );
    };
    await this.clusterStore!.onSharedChanges({ access: () => reload.changed(), alertRules: reloadRules }, (err) =>
      log.warn({ err }, 'listening for access and alert rule changes in PostgreSQL failed; reconnecting'),
    );
  }

  /** Once the ports are known: announce this hub as alive (and its ports, for people and tests). */
  async announce(address: { httpPort: number; tcpPort: number }): Promise<void> {
    const liveness = new Liveness(
      this.hubId,
      { http: String(address.httpPort), tcp: String(address.tcpPort), started: Date.now() },
      this.d.log,
    );
    liveness.onChange(() => this.ownership?.hubsChanged());
    this.liveness = liveness;
    await liveness.start(await this.link!.hubsKv());
    this.ownership?.hubsChanged();
  }

  /** An upload was stored here: the other hubs' latest and live subscribers hear of it (upload-announcer.ts). */
  readonly uploads: UploadAnnouncer;

  /** A hello was accepted here. */
  claimed(sensor: string): void {
    this.ownership?.claim(sensor);
  }

  /** A session of `sensor` closed here. */
  released(sensor: string): void {
    this.ownership?.released(sensor);
  }

  /** For health and /metrics. */
  stats(): Record<string, unknown> {
    const p = this.publisher?.stats;
    const f = this.follower?.stats;
    const o = this.ownership?.stats;
    return {
      hub_id: this.hubId,
      hubs_alive: this.liveness ? [...this.liveness.hubs()].sort() : [this.hubId],
      // commits published to JetStream, and parts it already had (a retried commit's)
      ...(p
        ? {
            commits_published: p.commits,
            messages_published: p.messages,
            bytes_published: p.bytes,
            publish_repeats: p.repeats,
            publish_failures: p.failures,
          }
        : {}),
      // other hubs' bundles applied here, messages in the stream that were not bundles, and
      // late readings the writers announced as new, streamed here
      ...(f ? { bundles_followed: f.bundles, readings_followed: f.readings, bad_messages: f.bad, late_readings_streamed: f.late } : {}),
      ...(o ? { sensors_taken_over: o.takenOver, failed_claims: o.failedClaims } : {}),
    };
  }

  /** After the last commit: leave the cluster (liveness key first, so the others know at once), then NATS. */
  async stop(): Promise<void> {
    // Each step is bounded: with NATS unreachable, a stopping hub still stops.
    await within(this.liveness?.stop(), STOP_STEP_MS);
    this.ownership?.stop();
    this.joined?.reportNow.detachCluster();
    await within(this.follower?.stop(), STOP_STEP_MS);
    await this.link?.stop();
  }
}

/** How long each part may take to leave the cluster when the hub stops. */
const STOP_STEP_MS = 3_000;

/** Waits for `p`, at most `ms`; what it still does after that is left to finish on its own. */
async function within(p: Promise<unknown> | undefined, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p?.catch(() => {}), new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

/**
 * A HubStore that forwards to the one bound at start; before that, every call fails retryably.
 * Access writes are shown to `onAccessWrite` (a reload must not lose one under way).
 */
function lateStore(onAccessWrite: (write: Promise<unknown>) => void): { store: HubStore; bind: (inner: HubStore) => void } {
  let inner: HubStore | null = null;
  const notYet = () => Promise.reject(new StoreError('cluster mode is still connecting to NATS and PostgreSQL', true));
  const store = new Proxy({} as HubStore, {
    get(_target, key) {
      if (!inner) {
        if (key === 'compaction' || key === 'retention') return null;
        if (key === 'close') return () => Promise.resolve();
        if (key === 'pollCommits') return () => {};
        return notYet;
      }
      const value: unknown = Reflect.get(inner, key, inner);
      if (key === 'writeAccess') {
        const write = inner.writeAccess.bind(inner);
        return (...args: Parameters<HubStore['writeAccess']>) => {
          const p = write(...args);
          onAccessWrite(p);
          return p;
        };
      }
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(inner) : value;
    },
  });
  return { store, bind: (s) => (inner = s) };
}
