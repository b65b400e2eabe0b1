/**
 * A writer: pulls bundles from the shared durable consumer, writes a batch of them to
 * PostgreSQL (write-batch.ts), and acks them only after the commit. Any number of writers share
 * the consumer; JetStream hands each bundle to one of them and again after the ack wait if it
 * was never acked (a writer killed mid-batch), and the key of `readings` makes that harmless.
 *
 * Memory is bounded by the fetch (at most `batch` bundles at once, each at most NATS's max
 * payload) and by the consumer's max ack pending. A batch PostgreSQL refuses for its state (down, paused,
 * a deadlock) is tried again, the bundles kept in progress meanwhile; a bundle that cannot be
 * decoded, or holds a value PostgreSQL refuses, is logged and given up (acked unstored: it can
 * never be stored, and must not hold the others).
 */
import type { Logger } from 'pino';
import type pg from 'pg';
import type { Consumer, JsMsg } from '@nats-io/jetstream';
import { decodeBundle, type ReadingBundle } from '../cluster/bundle.ts';
import { STREAM_NAME, WRITERS_ACK_WAIT_MS, WRITERS_CONSUMER } from '../cluster/cluster-names.ts';
import type { NatsLink } from '../cluster/nats-link.ts';
import { Partitions } from '../pg/partitions.ts';
import { SeriesResolver } from '../pg/pg-series.ts';
import { announceLateRows } from './late-announcer.ts';
import { hasLateRows, LATE_ORDER_POLL_MS, LATE_RETRY_MS, seqRuns } from './late-order.ts';
import { writeBatch, type BatchCounts } from './write-batch.ts';

export interface WriterOptions {
  link: NatsLink;
  pool: pg.Pool;
  log: Logger;
  /** this writer's name in writer_counts and the logs */
  name: string;
  /** bundles per batch, at most (a bundle is one partition of one hub's group commit: ~20 bytes a reading) */
  batch: number;
  /** test-only: before each batch's commit */
  beforeCommit?: () => Promise<void>;
  /** test-only: after each batch's commit, before its acks */
  afterCommit?: () => Promise<void>;
}

export interface WriterStats {
  batches: number;
  bundles: number;
  rows: number;
  inserted: number;
  duplicates: number;
  /** readings of days retention dropped already: not stored (pg-retention.ts) */
  expired: number;
  /** late readings stored as new and announced to the hubs' live streams (late-announcer.ts) */
  lateAnnounced: number;
  /** bundles with late rows given back (nak) to come again once the bundles before them are stored (late-order.ts) */
  lateDeferred: number;
  badBundles: number;
  failedBatches: number;
  /** when the last batch committed (ms since the epoch), 0 before the first */
  lastCommitAt: number;
}

const RETRY_MIN_MS = 200;
const RETRY_MAX_MS = 5_000;
/** a fetch waits this long for bundles before asking again (JetStream's minimum is 1 s) */
const FETCH_EXPIRES_MS = 1_000;

export class Writer {
  readonly stats: WriterStats = {
    batches: 0,
    bundles: 0,
    rows: 0,
    inserted: 0,
    duplicates: 0,
    expired: 0,
    lateAnnounced: 0,
    lateDeferred: 0,
    badBundles: 0,
    failedBatches: 0,
    lastCommitAt: 0,
  };
  private stopping = false;
  private stopFetch: (() => void) | null = null;
  private wakeRetry: (() => void) | null = null;
  private readonly series = new SeriesResolver();
  private readonly partitions = new Partitions();

  constructor(private readonly o: WriterOptions) {}

  /**
   * Runs until stop(): the batch under way is finished (committed and acked) first. NATS
   * failing (a server killed, the stream's leader moving) is waited out, never the end.
   */
  async run(): Promise<void> {
    let consumer: Consumer | null = null;
    for (let failures = 0; !this.stopping;) {
      const msgs: JsMsg[] = [];
      try {
        consumer ??= await this.o.link.js.consumers.get(STREAM_NAME, WRITERS_CONSUMER);
        const iter = await consumer.fetch({ max_messages: this.o.batch, expires: FETCH_EXPIRES_MS });
        this.stopFetch = () => iter.stop();
        for await (const m of iter) msgs.push(m);
        failures = 0;
      } catch (err) {
        // What arrived before the failure is written below; the rest comes again after the ack wait.
        failures++;
        this.o.log.warn({ err, failures }, 'could not fetch bundles from NATS; trying again');
      } finally {
        this.stopFetch = null;
      }
      if (msgs.length > 0) await this.store(msgs);
      else if (failures > 0) await this.pause(Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** Math.min(failures, 8)));
    }
  }

  /** Waits `ms`, or less if stop() is called. */
  private pause(ms: number): Promise<void> {
    return new Promise<void>((r) => {
      const t = setTimeout(r, ms);
      this.wakeRetry = () => {
        clearTimeout(t);
        r();
      };
    }).finally(() => (this.wakeRetry = null));
  }

  /** Writes one batch, trying again while PostgreSQL fails, then acks it. */
  private async store(msgs: JsMsg[]): Promise<void> {
    const bundles: ReadingBundle[] = [];
    const good: JsMsg[] = [];
    for (const m of msgs) {
      try {
        bundles.push(decodeBundle(m.data));
        good.push(m);
      } catch (err) {
        this.stats.badBundles++;
        this.o.log.error({ err, seq: m.seq, subject: m.subject }, 'a message of the stream is not a bundle; given up, not stored');
        // Acked, not terminated: a terminated message holds the consumer's ack floor (nats-server
        // 2.9), and exports wait for that floor to pass.
        m.ack();
      }
    }
    // While the batch is written (PostgreSQL slow, paused, or down), JetStream must not hand it to another writer.
    const held = new Set(good);
    const inProgress = setInterval(() => {
      for (const m of held) m.working();
    }, WRITERS_ACK_WAIT_MS / 3);
    try {
      if (!bundles.some(hasLateRows)) await this.writeAndAck(good, bundles);
      else {
        let deferring = false;
        for (const run of seqRuns(good, bundles)) {
          if (this.stopping) return; // the rest comes again after the ack wait
          // Once a run waits, every later run with late rows would wait for it too.
          if (run.late && (deferring || !(await this.afterEarlier(run.first)))) {
            deferring = true;
            for (const m of run.msgs) {
              held.delete(m);
              m.nak(LATE_RETRY_MS);
            }
            this.stats.lateDeferred += run.msgs.length;
            continue;
          }
          await this.writeAndAck(run.msgs, run.bundles);
          for (const m of run.msgs) held.delete(m);
        }
      }
    } finally {
      clearInterval(inProgress);
    }
  }

  /** Whether every message before stream sequence `seq` is acked by a writer, asked for a short while (late-order.ts). */
  private async afterEarlier(seq: number): Promise<boolean> {
    const deadline = Date.now() + LATE_ORDER_POLL_MS;
    for (let wait = 10; ; wait = Math.min(200, wait * 2)) {
      const floor = await this.o.link.writersAckFloor().catch(() => -1);
      if (floor >= seq - 1) return true;
      if (this.stopping || Date.now() >= deadline) return false;
      await this.pause(wait);
    }
  }

  private async writeAndAck(good: JsMsg[], bundles: ReadingBundle[]): Promise<void> {
    let counts: BatchCounts | null = null;
    for (let attempt = 0; counts === null; attempt++) {
      // A connection of its own each attempt: one that broke (PostgreSQL restarted) is dropped, not reused.
      let client: pg.PoolClient | null = null;
      try {
        client = await this.o.pool.connect();
        const deps = { series: this.series, partitions: this.partitions, writer: this.o.name, beforeCommit: this.o.beforeCommit };
        counts = await writeBatch(client, deps, bundles);
        client.release();
      } catch (err) {
        client?.release(true);
        this.stats.failedBatches++;
        if (isDataError(err)) {
          // Not PostgreSQL's state but a value it refuses: trying the same batch again would hold it
          // for ever. Bundle by bundle, the others are stored and the one refused is given up.
          if (bundles.length > 1) {
            for (let i = 0; i < bundles.length; i++) await this.writeAndAck([good[i]!], [bundles[i]!]);
            return;
          }
          this.stats.badBundles++;
          this.o.log.error(
            { err, seq: good[0]?.seq, hub: bundles[0]?.hub, gen: bundles[0]?.gen },
            'PostgreSQL refuses a value of this bundle; its readings are not stored (given up)',
          );
          good[0]?.ack();
          return;
        }
        const wait = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** Math.min(attempt, 8));
        this.o.log.error(
          { err, bundles: bundles.length, attempt },
          `a batch could not be written to PostgreSQL; trying again in ${wait} ms`,
        );
        await this.pause(wait);
        // A stop while PostgreSQL is down leaves the batch unacked: another writer gets it after the ack wait.
        if (this.stopping && attempt >= 2) return;
      }
    }
    await this.o.afterCommit?.();
    // Before the acks: a crash in between redelivers the batch, which announces nothing again.
    const announced = announceLateRows(this.o.link.nc, this.o.name, counts.late, this.o.log);
    for (const m of good) m.ack();
    // Acks that do not reach the server (NATS down now) only mean a redelivery: its rows count as duplicates.
    await this.o.link.nc.flush().catch((err: Error) => this.o.log.warn({ err }, 'the acks of a written batch may not have reached NATS'));
    const s = this.stats;
    s.batches++;
    s.bundles += counts.bundles;
    s.rows += counts.rows;
    s.inserted += counts.inserted;
    s.duplicates += counts.duplicates;
    s.expired += counts.expired;
    s.lateAnnounced += announced;
    s.lastCommitAt = Date.now();
    this.o.log.debug({ ...counts, late: counts.late.n }, 'batch written');
  }

  /** Asks the loop to end after the batch under way. */
  stop(): void {
    this.stopping = true;
    this.stopFetch?.();
    this.wakeRetry?.();
  }
}

/** SQLSTATE class 22 (data exception: a value out of range, a bad number): the batch's data, not PostgreSQL's state. */
function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('22');
}
