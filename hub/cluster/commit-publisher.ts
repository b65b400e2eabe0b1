/**
 * The commit seam of cluster mode: a group commit becomes one bundle per partition, published
 * to JetStream with a message id JetStream de-duplicates on, and the commit is done when every
 * PubAck is in. Only then does GroupCommit ack the sensors, exactly as after a DuckDB commit. A
 * publish that fails or times out fails the commit with a retryable StoreError carrying its rows
 * back, so GroupCommit retries (same gen, same ids: what got through is dropped as a repeat),
 * pauses sockets and, if it lasts, answers 503 as with a failing disk.
 *
 * Duplicates are not known for sure here: the writers judge them against PostgreSQL's key. The
 * fresh rows (SeriesCatalog.claimTs: above their channel's newest, or in a stretch below it
 * known to be empty) are certainly new as far as this hub knows: the
 * hub streams them at once, as do the other hubs as they follow. The maybe-duplicate rows are
 * late: each bundle marks them (bundle.ts `lateFrom`) and no hub streams them from it, here
 * included (storedMask 0); the writer that stores them announces the ones PostgreSQL found new,
 * and every hub streams those (follower.ts). A late row repeating one of its channel's recent
 * identities (RecentIdentities) counts as a duplicate here; other late rows count as stored (the
 * writers' counters are exact).
 */
import { headers } from '@nats-io/transport-node';
import type { JetStreamClient, PubAck } from '@nats-io/jetstream';
import { StoreError } from '../store/hub-store.ts';
import type { CommitRequest, CommitResult, SensorRow, SeriesDef } from '../store/store-messages.ts';
import { encodeBundle, sliceBundle, type BundleSeries, type ReadingBundle } from './bundle.ts';
import { HEADER_HUB, msgIdOf, PARTITIONS, partitionOf, subjectOf } from './cluster-names.ts';
import type { RecentIdentities } from './recent-identities.ts';

export interface CommitPublisherOptions {
  js: Pick<JetStreamClient, 'publish'>;
  hubId: string;
  /** the hub's series by id (SeriesCatalog.series): rows name series by local id */
  series: readonly (SeriesDef | undefined)[];
  /** the largest message the servers take (their max_payload) */
  maxPayload: () => number;
  /** a PubAck not in by then fails the commit (retried) */
  publishTimeoutMs: number;
  /**
   * Added to GroupCommit's gen (which starts at 1 in every process) in message ids and bundles,
   * so a hub restarted under the same --hub-id within the duplicate window never repeats an id
   * (JetStream would drop its new readings as repeats). Default: start time in ms x 1000.
   */
  genBase?: number;
  /** the recent identities per channel, and a series' channel id: to mark repeats (none: every row counts as stored) */
  identities?: { recent: RecentIdentities; channelOf: (seriesId: number) => number };
}

/** Room left in a message for its headers and the server's framing. */
const MESSAGE_HEADROOM_BYTES = 4_096;

export interface PublisherStats {
  commits: number;
  messages: number;
  bytes: number;
  /** messages JetStream had already (a retried commit's parts that got through before) */
  repeats: number;
  failures: number;
}

export class CommitPublisher {
  readonly genBase: number;
  readonly stats: PublisherStats = { commits: 0, messages: 0, bytes: 0, repeats: 0, failures: 0 };
  /** by series id: its partition, or -1 not yet known */
  private partitionOfSeries = new Int8Array(1024).fill(-1);

  constructor(private readonly o: CommitPublisherOptions) {
    this.genBase = o.genBase ?? Date.now() * 1000;
  }

  /** Publishes the commit; resolves once JetStream has stored every part of it. */
  async commit(req: CommitRequest): Promise<CommitResult> {
    const started = performance.now();
    const gen = this.genBase + req.gen;
    try {
      const parts = this.bundles(req, gen);
      const limit = this.o.maxPayload() - MESSAGE_HEADROOM_BYTES;
      const sends: Promise<PubAck>[] = [];
      for (const b of parts) {
        encodeWithin(b, limit).forEach((bytes, chunk) =>
          sends.push(this.send(b.partition, bytes, msgIdOf(this.o.hubId, gen, b.partition, chunk))),
        );
      }
      const acks = await Promise.all(sends);
      for (const a of acks) if (a.duplicate) this.stats.repeats++;
    } catch (err) {
      this.stats.failures++;
      const message = err instanceof Error ? err.message : String(err);
      throw new StoreError(`publishing the commit to NATS JetStream failed: ${message}`, true, {
        fresh: req.fresh,
        maybeDuplicate: req.maybeDuplicate,
      });
    }
    this.stats.commits++;
    // Late rows reach the live stream, latest and alerts only through the writer's announcement.
    const storedMask = new Uint8Array(req.maybeDuplicate.n);
    let duplicates = 0;
    const ids = this.o.identities;
    if (ids) {
      const { fresh, maybeDuplicate: md } = req;
      for (let i = 0; i < fresh.n; i++) ids.recent.add(ids.channelOf(fresh.series[i]!), fresh.ts[i]!);
      for (let i = 0; i < md.n; i++) if (ids.recent.repeat(ids.channelOf(md.series[i]!), md.ts[i]!)) duplicates++;
    }
    return {
      gen: req.gen,
      inserted: req.maybeDuplicate.n - duplicates,
      duplicates,
      storedMask,
      freshStoredMask: null,
      freshInserted: req.fresh.n,
      flushMs: performance.now() - started,
      fresh: req.fresh,
      maybeDuplicate: req.maybeDuplicate,
    };
  }

  private async send(partition: number, bytes: Uint8Array, msgID: string): Promise<PubAck> {
    const h = headers();
    h.set(HEADER_HUB, this.o.hubId);
    const ack = await this.o.js.publish(subjectOf(partition), bytes, { msgID, headers: h, timeout: this.o.publishTimeoutMs });
    this.stats.messages++;
    this.stats.bytes += bytes.length;
    return ack;
  }

  /**
   * One bundle per partition that has rows or registry rows, in partition order: its fresh rows
   * first, then its maybe-duplicate rows, marked late.
   */
  bundles(req: CommitRequest, gen: number): ReadingBundle[] {
    const counts = new Int32Array(PARTITIONS);
    const cols = [req.fresh, req.maybeDuplicate];
    for (const c of cols) for (let i = 0; i < c.n; i++) counts[this.partitionOf(c.series[i]!)]!++;
    const byPartition: (PartitionBuilder | undefined)[] = [];
    const builder = (p: number): PartitionBuilder => (byPartition[p] ??= new PartitionBuilder(counts[p]!));
    for (const c of cols) {
      const late = c === req.maybeDuplicate;
      for (let i = 0; i < c.n; i++) {
        const id = c.series[i]!;
        builder(this.partitionOf(id)).push(id, this.o.series[id]!, c.ts[i]!, c.value[i]!, late);
      }
    }
    for (const s of req.sensors) builder(partitionOf(s.sensor)).sensors.push(s);
    const out: ReadingBundle[] = [];
    byPartition.forEach((b, p) => {
      if (b) out.push(b.bundle(this.o.hubId, gen, p));
    });
    return out;
  }

  private partitionOf(seriesId: number): number {
    if (seriesId >= this.partitionOfSeries.length) {
      const grown = new Int8Array(Math.max(seriesId + 1, this.partitionOfSeries.length * 2)).fill(-1);
      grown.set(this.partitionOfSeries);
      this.partitionOfSeries = grown;
    }
    let p = this.partitionOfSeries[seriesId]!;
    if (p < 0) {
      const def = this.o.series[seriesId];
      if (!def) throw new Error(`a commit names series ${seriesId}, which the catalog does not know`);
      p = partitionOf(def.sensor);
      this.partitionOfSeries[seriesId] = p;
    }
    return p;
  }
}

/** One partition's rows as they are gathered. */
class PartitionBuilder {
  n = 0;
  readonly seriesIndex: Int32Array;
  readonly ts: Float64Array;
  readonly value: Float64Array;
  readonly series: BundleSeries[] = [];
  /** by local series id: its index in `series` */
  private readonly indexOf = new Map<number, number>();
  readonly sensors: SensorRow[] = [];
  /** the first late row: every fresh row is pushed before any late one */
  private lateFrom: number | undefined;

  constructor(rows: number) {
    this.seriesIndex = new Int32Array(rows);
    this.ts = new Float64Array(rows);
    this.value = new Float64Array(rows);
  }

  push(id: number, def: SeriesDef, ts: number, value: number, late: boolean): void {
    if (late) this.lateFrom ??= this.n;
    else if (this.lateFrom !== undefined) throw new Error('a fresh row after a late one: the bundle could not mark them');
    let idx = this.indexOf.get(id);
    if (idx === undefined) {
      idx = this.series.length;
      this.series.push({ sensor: def.sensor, room: def.room, metric: def.metric, unit: def.unit });
      this.indexOf.set(id, idx);
    }
    const i = this.n++;
    this.seriesIndex[i] = idx;
    this.ts[i] = ts;
    this.value[i] = value;
  }

  bundle(hub: string, gen: number, partition: number): ReadingBundle {
    const { n, seriesIndex, ts, value, series, sensors, lateFrom } = this;
    return { hub, gen, partition, series, n, seriesIndex, ts, value, sensors, ...(lateFrom === undefined ? {} : { lateFrom }) };
  }
}

/**
 * The bundle encoded in messages of at most `limit` bytes: one if it fits, else halves (rows
 * and registry rows), each with only the series its rows use. The cut depends only on the
 * bundle, so a retried commit makes the same messages with the same ids.
 */
export function encodeWithin(b: ReadingBundle, limit: number): Uint8Array[] {
  const bytes = encodeBundle(b);
  if (bytes.length <= limit) return [bytes];
  if (b.n <= 1 && b.sensors.length <= 1) {
    throw new Error(`one reading or registry row makes a message of ${bytes.length} bytes, above the servers' limit of ${limit}`);
  }
  const rowCut = b.n >> 1;
  const sensorCut = b.sensors.length >> 1;
  return [
    ...encodeWithin(sliceBundle(b, 0, rowCut, b.sensors.slice(0, sensorCut)), limit),
    ...encodeWithin(sliceBundle(b, rowCut, b.n, b.sensors.slice(sensorCut)), limit),
  ];
}
