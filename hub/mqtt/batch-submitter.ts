/**
 * Messages into commits: what arrived in one turn of the event loop goes to the inputs' seam
 * (hub/ingest/batch-ingest.ts) as one submit, so one group commit covers thousands of messages,
 * and each message is settled (its PUBACK sent, in order) once the submit resolves.
 *
 * - The hub busy or its store failing (`store_unavailable`): the messages stay unacknowledged
 *   and are submitted again, backing off up to the Retry-After the hub gives. The links' bounds
 *   stop reading meanwhile, so the broker keeps the rest.
 * - The store refusing the rows themselves (one submit is one message to the group commit): the
 *   batch is halved until the message it cannot take is found; it is refused and acknowledged,
 *   as a sensor's message answered 500 is not sent again, and the others are stored.
 */
import { HubError } from '../hub-error.ts';
import type { BatchIngest, ExternalReading, Rights } from '../ingest/batch-ingest.ts';
import type { Held, MqttLink } from './mqtt-link.ts';
import type { MqttStats, RefusalReason } from './mqtt-stats.ts';

/** A message waiting to be submitted: its readings and what it owes the broker. */
export interface Pending {
  link: MqttLink;
  held: Held;
  readings: ExternalReading[];
  topic: string;
}

export interface SubmitterDeps {
  ingest: BatchIngest;
  rights: Rights;
  stats: MqttStats;
  refuse(reason: RefusalReason, topic: string, detail: string, n?: number): void;
  /** the hub cannot take readings now: said once in a while, not per batch */
  holding(messages: number, retryInMs: number, reason: string): void;
}

const RETRY_FIRST_MS = 100;
const STOP_WAIT_MS = 10_000;

export class BatchSubmitter {
  private pending: Pending[] = [];
  private flushQueued = false;
  private stopping = false;
  /** submits not yet answered */
  private readonly inFlight = new Set<Promise<void>>();
  private readonly retryTimers = new Set<NodeJS.Timeout>();

  constructor(private readonly deps: SubmitterDeps) {}

  add(p: Pending): void {
    this.pending.push(p);
    if (!this.flushQueued) {
      this.flushQueued = true;
      setImmediate(this.flush);
    }
  }

  /**
   * Submits nothing more and waits for the submits under way (their PUBACKs go out). What was
   * not yet submitted is not acknowledged: the broker delivers it again.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const t of this.retryTimers) clearTimeout(t);
    this.retryTimers.clear();
    this.pending = [];
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.inFlight]), new Promise((r) => (timer = setTimeout(r, STOP_WAIT_MS)))]);
    clearTimeout(timer);
  }

  private readonly flush = (): void => {
    this.flushQueued = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length > 0 && !this.stopping) this.submit(batch, 0);
  };

  private submit(batch: Pending[], attempt: number): void {
    const { stats } = this.deps;
    let readings = batch[0]!.readings;
    if (batch.length > 1) {
      readings = [];
      for (const p of batch) for (const r of p.readings) readings.push(r);
    }
    const done = this.deps.ingest
      .submit(readings, this.deps.rights, 'mqtt')
      .then(
        (outcome) => {
          stats.readingsStored += outcome.stored;
          for (const r of outcome.refused)
            this.deps.refuse(r.code === 403 ? 'forbidden' : r.code === 507 ? 'limit' : 'invalid', topicOf(batch, r.index), r.reason);
          stats.message('stored', batch.length);
          for (const p of batch) p.link.settle(p.held);
        },
        (err: unknown) => {
          if (this.stopping) return;
          if (err instanceof HubError && err.code === 'store_unavailable') return this.retryLater(batch, attempt, err);
          if (batch.length > 1) {
            const half = batch.length >> 1;
            this.submit(batch.slice(0, half), 0);
            this.submit(batch.slice(half), 0);
            return;
          }
          this.deps.refuse('store_refused', batch[0]!.topic, (err as Error).message);
          stats.message('refused');
          batch[0]!.link.settle(batch[0]!.held);
        },
      )
      .finally(() => this.inFlight.delete(done));
    this.inFlight.add(done);
  }

  private retryLater(batch: Pending[], attempt: number, err: HubError): void {
    this.deps.stats.submitRetries++;
    const maxMs = Math.max(RETRY_FIRST_MS, (err.extra.retryAfterS ?? 2) * 1000);
    const ms = Math.min(maxMs, RETRY_FIRST_MS * 2 ** attempt);
    this.deps.holding(batch.length, ms, err.message);
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      // QoS 1 messages of a connection since lost come again; only the rest is tried again.
      const alive = batch.filter((p) => p.held.messageId === 0 || p.link.isCurrent(p.held));
      if (!this.stopping && alive.length > 0) this.submit(alive, attempt + 1);
    }, ms);
    this.retryTimers.add(timer);
  }
}

/** The topic of the message that reading `index` of a batch came from. */
function topicOf(batch: Pending[], index: number): string {
  let i = index;
  for (const p of batch) {
    if (i < p.readings.length) return p.topic;
    i -= p.readings.length;
  }
  return '?';
}
