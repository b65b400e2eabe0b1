/**
 * Live readings for WebSocket subscribers (PROTOCOL.md §2 "Live stream"). Rows are published
 * after they are committed (never a duplicate), into a log shared by every subscriber
 * (stream-log.ts): a commit costs one copy of its rows and a few operations per subscriber,
 * whatever its size, and a reading is encoded only when it is written to a socket, so readings
 * dropped for slow subscribers cost next to nothing. With no subscriber, publishing costs one
 * comparison per commit.
 *
 * Memory is bounded three ways: what waits for each subscriber (maxQueuedMessages, then its
 * oldest are dropped), each socket's unsent bytes (highWaterBytes), and all of them together
 * (maxQueuedBytes: the log's rows counted once, the subscribers' own queues, the sockets). Over
 * that budget the subscribers that have taken nothing for longest give way first: what waits
 * for them is dropped, and once stalled for stallGraceMs they are closed (1013); a subscriber
 * that keeps up is the last to lose anything.
 */
import type { WebSocket } from 'ws';
import type { SeriesCatalog } from '../ingest/series-catalog.ts';
import type { Columns } from '../store/store-messages.ts';
import { ReadingFrames } from './stream-frames.ts';
import { StreamLog } from './stream-log.ts';
import { SeriesMatchers } from './stream-matcher.ts';
import { Subscriber, WS_OPEN, type StreamStats, type SubscriberHost, type SubscriberLimits } from './stream-subscriber.ts';

export { Subscriber, type StreamStats } from './stream-subscriber.ts';

export interface StreamLimits extends SubscriberLimits {
  /** bytes held for all subscribers together (queues and unsent socket bytes) */
  maxQueuedBytes: number;
  /** under the budget, a subscriber stalled this long is closed rather than trimmed */
  stallGraceMs: number;
}

/** the shared log's least size, in rows (20 bytes each) */
const MIN_LOG_ROWS = 131_072;

export class LiveStream implements SubscriberHost {
  private readonly subscribers = new Set<Subscriber>();
  /** sockets closed for being slow whose close has not completed: their unsent bytes still count */
  private readonly closing = new Set<WebSocket>();
  readonly stats: StreamStats = { subscribers: 0, sent: 0, dropped: 0, queuedBytes: 0, closedSlow: 0 };
  private budgetCheck: NodeJS.Immediate | null = null;
  readonly matchers: SeriesMatchers;
  readonly log: StreamLog;
  readonly frames: ReadingFrames;

  constructor(
    readonly catalog: SeriesCatalog,
    readonly limits: StreamLimits,
  ) {
    this.matchers = new SeriesMatchers(catalog);
    this.frames = new ReadingFrames(catalog);
    // Enough rows that a subscriber to everything never needs its own queue; a narrower one
    // takes its rows out of chunks let go (at most maxQueuedMessages of them).
    this.log = new StreamLog(Math.max(4 * limits.maxQueuedMessages, MIN_LOG_ROWS), this.stats);
  }

  add(s: Subscriber): void {
    this.subscribers.add(s);
    this.stats.subscribers = this.subscribers.size;
  }

  remove(s: Subscriber): void {
    s.detach();
    this.subscribers.delete(s);
    this.stats.subscribers = this.subscribers.size;
    this.moved(); // what only it still had to read can go
  }

  get hasSubscribers(): boolean {
    return this.subscribers.size > 0;
  }

  /** Bytes held for subscribers now: queued readings (each once), and what their sockets have not sent. */
  get heldBytes(): number {
    return this.stats.queuedBytes + this.socketBytes();
  }

  private socketBytes(): number {
    let total = 0;
    for (const s of this.subscribers) total += s.ws.bufferedAmount;
    for (const ws of this.closing) total += ws.bufferedAmount;
    return total;
  }

  closedSlow(s: Subscriber): void {
    this.remove(s);
    const ws = s.ws;
    if (ws.readyState === WS_OPEN || ws.readyState === 2 /* CLOSING */) {
      this.closing.add(ws);
      ws.once('close', () => this.closing.delete(ws));
    }
  }

  /** Publishes committed rows; `mask` marks which rows were stored (the others were duplicates). */
  publish(rows: Columns, mask?: Uint8Array): void {
    if (this.subscribers.size === 0) return;
    const chunk = this.log.append(rows, mask);
    if (!chunk) return;
    for (const s of this.subscribers) s.published(chunk);
    for (const s of this.subscribers) s.pump();
    this.log.trim(this.subscribers);
    this.moved();
  }

  /**
   * A subscriber read from the log. Once the sockets have taken what they can (subscribers that
   * keep up drain at once, so a burst does not count against them), the log lets go of what all
   * have read, and what is held is brought within the budget.
   */
  moved(): void {
    this.budgetCheck ??= setImmediate(() => {
      this.budgetCheck = null;
      this.log.trim(this.subscribers);
      this.keepToBudget();
    });
  }

  /**
   * Brings what is held for subscribers within maxQueuedBytes, taking from the slowest first:
   * the sockets already closed for being slow are cut; then, longest stalled first, the
   * subscribers whose sockets took nothing for stallGraceMs are closed and the others stalled
   * lose their queued readings; if that is not enough the stalled ones are closed; only then
   * do subscribers that keep up lose their queued readings, the longest queue first.
   */
  keepToBudget(): void {
    const budget = this.limits.maxQueuedBytes;
    let sockets = this.socketBytes();
    const over = () => this.stats.queuedBytes + sockets > budget;
    if (!over()) return;
    const cut = (ws: WebSocket) => {
      sockets -= ws.bufferedAmount;
      ws.terminate();
      this.closing.delete(ws);
    };
    for (const ws of this.closing) {
      cut(ws);
      if (!over()) return;
    }
    const now = performance.now();
    const close = (s: Subscriber) => {
      s.closeSlow(`the hub holds too much for slow clients, and this one took nothing for ${Math.round((now - s.stalledSince) / 1000)} s`);
      // Its socket cannot take the close frame now either: when the budget needs them, its bytes go too.
      if (over()) cut(s.ws);
    };
    const stalled = [...this.subscribers].filter((s) => s.stalledSince > 0).sort((a, b) => a.stalledSince - b.stalledSince);
    // What a subscriber gives up leaves the log once no other subscriber needs it.
    const release = () => this.log.trim(this.subscribers);
    for (const s of stalled) {
      if (!over()) return;
      if (now - s.stalledSince >= this.limits.stallGraceMs) close(s);
      else s.dropAll();
      release();
    }
    for (const s of stalled) {
      if (!over()) return;
      if (s.open) close(s);
      release();
    }
    for (const s of [...this.subscribers].sort((a, b) => b.queued - a.queued)) {
      if (!over()) return;
      s.dropAll();
      release();
    }
  }

  /** Ends every subscription's timers (the sockets close with the HTTP server). */
  stop(): void {
    if (this.budgetCheck) clearImmediate(this.budgetCheck);
    this.budgetCheck = null;
    for (const s of [...this.subscribers]) this.remove(s);
    this.log.clear();
  }
}
