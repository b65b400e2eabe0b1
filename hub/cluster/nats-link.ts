/**
 * This process's connection to the NATS cluster: connect to the server list (any one will do;
 * the client moves to another when one dies), make sure the stream, the writers' consumer and
 * the KV buckets exist with the contract's settings, and answer the two positions exports wait
 * on. Hubs and writers both use it; whichever connects first creates what is missing.
 */
import { connect, nanos, type NatsConnection } from '@nats-io/transport-node';
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type JetStreamClient,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { Logger } from 'pino';
import { ClusterError } from './cluster-error.ts';

export { parseServers } from './cluster-options.ts';
import {
  DUPLICATE_WINDOW_MS,
  HUB_TTL_MS,
  HUBS_BUCKET,
  MAX_REPLICAS,
  OWNERS_BUCKET,
  STREAM_NAME,
  STREAM_SUBJECTS,
  WRITERS_ACK_WAIT_MS,
  WRITERS_CONSUMER,
  WRITERS_MAX_ACK_PENDING,
} from './cluster-names.ts';

export interface NatsLinkOptions {
  /** nats://host:port, at least one */
  servers: string[];
  /** shown by the servers' monitoring (`connz`) */
  name: string;
  log: Logger;
  /** how long the first connection and each management call may take */
  timeoutMs?: number;
  /** the stream's size limit: a full stream refuses commits (sensors get 503) until writers catch up */
  streamMaxBytes?: number;
}

/** Readings not yet written to PostgreSQL may take this much of the stream before commits stop. */
export const DEFAULT_STREAM_MAX_BYTES = 1024 * 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 10_000;
/** how long stop() lets subscriptions and publishes finish before it closes the connection */
const STOP_DRAIN_MS = 5_000;

export class NatsLink {
  readonly js: JetStreamClient;
  private kvm: Kvm;
  /** min(3, servers given): the stream's and buckets' replicas */
  readonly replicas: number;

  private constructor(
    readonly nc: NatsConnection,
    readonly jsm: JetStreamManager,
    private readonly o: Required<Omit<NatsLinkOptions, 'log'>> & { log: Logger },
  ) {
    this.js = jetstream(nc, { timeout: o.timeoutMs });
    this.kvm = new Kvm(this.js);
    this.replicas = Math.min(MAX_REPLICAS, o.servers.length);
  }

  static async connect(options: NatsLinkOptions): Promise<NatsLink> {
    const o = { timeoutMs: DEFAULT_TIMEOUT_MS, streamMaxBytes: DEFAULT_STREAM_MAX_BYTES, ...options };
    let nc: NatsConnection;
    try {
      nc = await connect({
        servers: o.servers,
        name: o.name,
        timeout: o.timeoutMs,
        // A cluster outlives any one server: never give up, try the others meanwhile.
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
        // A dead server (kill -9, a cut cable) is noticed within seconds, not minutes.
        pingInterval: 2_000,
        maxPingOut: 2,
      });
    } catch (err) {
      throw new ClusterError(
        'unavailable',
        `could not connect to any NATS server of ${o.servers.join(', ')}: ${(err as Error).message}; start nats-server (docs/CLUSTER.md) or check --cluster`,
        { cause: err },
      );
    }
    const jsm = await jetstreamManager(nc, { timeout: o.timeoutMs }).catch((err: Error) => {
      void nc.close();
      // A timeout is a cluster still electing its JetStream leader, or one too busy to answer; anything else is JetStream off.
      const problem = /timeout/i.test(err.message)
        ? `did not answer JetStream's API within ${o.timeoutMs} ms (${err.message}): the servers may still be electing a leader, or be overloaded; try again`
        : `has no JetStream (${err.message}): start it with jetstream enabled (docs/CLUSTER.md)`;
      throw new ClusterError('unavailable', `NATS at ${nc.getServer()} ${problem}`);
    });
    const link = new NatsLink(nc, jsm, o);
    link.watchStatus();
    return link;
  }

  private watchStatus(): void {
    void (async () => {
      for await (const s of this.nc.status()) {
        if (s.type === 'disconnect') this.o.log.warn({ server: s.server }, 'lost the NATS server; trying the others');
        else if (s.type === 'reconnect') this.o.log.warn({ server: s.server }, 'connected to NATS again');
        else if (s.type === 'error') this.o.log.error({ err: s.error }, 'NATS connection error');
      }
    })().catch(() => {});
  }

  /** The stream as the contract describes it. */
  streamConfig(): Partial<StreamConfig> & { name: string } {
    return {
      name: STREAM_NAME,
      subjects: [STREAM_SUBJECTS],
      // Kept until the writers' consumer has acked (hubs' followers are ordered consumers that
      // ack nothing), so the stream holds only what PostgreSQL does not have yet.
      retention: RetentionPolicy.Interest,
      storage: StorageType.File,
      num_replicas: this.replicas,
      duplicate_window: nanos(DUPLICATE_WINDOW_MS),
      // Full (writers far behind): publishes fail, commits stop and sensors get 503, nothing is dropped.
      discard: DiscardPolicy.New,
      max_bytes: this.o.streamMaxBytes,
    };
  }

  /**
   * Creates the stream and the writers' consumer, or checks the ones there. The consumer is made
   * here too: with interest retention, a message published while no consumer exists is dropped.
   */
  async ensureStream(): Promise<void> {
    const want = this.streamConfig();
    try {
      const info = await this.jsm.streams.info(STREAM_NAME).catch(async (err: Error) => {
        if (!/stream not found/i.test(err.message)) throw err;
        return this.jsm.streams.add(want).catch(async (addErr: Error) => {
          // Another hub or writer created it meanwhile.
          if (/already in use|already exists/i.test(addErr.message)) return this.jsm.streams.info(STREAM_NAME);
          throw addErr;
        });
      });
      const c = info.config;
      if (c.retention !== want.retention || !c.subjects?.includes(STREAM_SUBJECTS)) {
        throw new ClusterError(
          'bad_setup',
          `the NATS stream ${STREAM_NAME} exists with retention ${c.retention} and subjects ${String(c.subjects)}, ` +
            `this hub needs ${want.retention} on ${STREAM_SUBJECTS}: delete it (nats stream rm ${STREAM_NAME}) once the writers have caught up`,
        );
      }
      await this.ensureWritersConsumer();
    } catch (err) {
      throw asClusterError(err, `could not create or check the NATS stream ${STREAM_NAME}`);
    }
  }

  private async ensureWritersConsumer(): Promise<void> {
    const config = {
      durable_name: WRITERS_CONSUMER,
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(WRITERS_ACK_WAIT_MS),
      max_ack_pending: WRITERS_MAX_ACK_PENDING,
      deliver_policy: DeliverPolicy.All,
    };
    try {
      await this.jsm.consumers.info(STREAM_NAME, WRITERS_CONSUMER);
    } catch (err) {
      if (!/consumer not found/i.test((err as Error).message)) throw err;
      await this.jsm.consumers.add(STREAM_NAME, config).catch(async (addErr: Error) => {
        if (/already (in use|exists)/i.test(addErr.message)) return this.jsm.consumers.info(STREAM_NAME, WRITERS_CONSUMER);
        throw addErr;
      });
    }
  }

  /** Sensor id (ownerKey) -> hubId. */
  ownersKv(): Promise<KV> {
    return this.bucket(OWNERS_BUCKET, { history: 1 });
  }

  /** hubId -> HubAnnouncement, expiring HUB_TTL_MS after its last refresh. */
  hubsKv(): Promise<KV> {
    return this.bucket(HUBS_BUCKET, { history: 1, ttl: HUB_TTL_MS });
  }

  private async bucket(name: string, opts: { history: number; ttl?: number }): Promise<KV> {
    try {
      return await this.kvm.create(name, { ...opts, replicas: this.replicas, storage: StorageType.File, timeout: this.o.timeoutMs });
    } catch (err) {
      throw asClusterError(err, `could not create or open the NATS key-value bucket ${name}`);
    }
  }

  /** The sequence of the newest message in the stream: an export waits until the writers pass it. */
  async streamLastSeq(): Promise<number> {
    try {
      return (await this.jsm.streams.info(STREAM_NAME)).state.last_seq;
    } catch (err) {
      throw asClusterError(err, `could not read the position of the NATS stream ${STREAM_NAME}`);
    }
  }

  /** Every message up to this sequence is written to PostgreSQL and acked by a writer. */
  async writersAckFloor(): Promise<number> {
    try {
      return (await this.jsm.consumers.info(STREAM_NAME, WRITERS_CONSUMER)).ack_floor.stream_seq;
    } catch (err) {
      throw asClusterError(err, `could not read how far the writers are (consumer ${WRITERS_CONSUMER})`);
    }
  }

  get isClosed(): boolean {
    return this.nc.isClosed();
  }

  /** Lets subscriptions finish what they hold, flushes what was published, then closes. */
  async stop(drainMs = STOP_DRAIN_MS): Promise<void> {
    if (this.nc.isClosed()) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      // With the servers unreachable a drain waits for them: a stopping hub does not.
      await Promise.race([
        this.nc.drain(),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`not drained within ${drainMs} ms`)), drainMs))),
      ]);
    } catch (err) {
      this.o.log.warn({ err }, 'NATS connection did not drain; closed');
      await this.nc.close().catch(() => {});
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Any NATS failure as a ClusterError: `unavailable` (retryable) unless it already says otherwise. */
export function asClusterError(err: unknown, what: string): ClusterError {
  if (err instanceof ClusterError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new ClusterError('unavailable', `${what}: ${message}`, { cause: err });
}
