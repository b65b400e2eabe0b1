/**
 * Live readings for WebSocket subscribers (PROTOCOL.md §2 "Live stream"). Rows are published
 * after they are committed (never a duplicate). Each reading is encoded once, as one WebSocket
 * frame (a Line) that every subscriber wanting it queues and writes. With no subscriber,
 * publishing costs one comparison per commit.
 *
 * Memory is bounded three ways: each subscriber's queue (maxQueuedMessages, then its oldest
 * are dropped), each socket's unsent bytes (highWaterBytes), and all of them together
 * (maxQueuedBytes, counting each queued Line once). Over that budget the subscribers that have
 * taken nothing for longest give way first: their queues are dropped, and once stalled for
 * stallGraceMs they are closed (1013); a subscriber that keeps up is the last to lose anything.
 */
import type { WebSocket } from 'ws';
import type { SeriesCatalog } from '../ingest/series-catalog.ts';
import type { Columns } from '../store/store-messages.ts';
import { SeriesMatchers } from './stream-matcher.ts';
import { textFrame } from './stream-queue.ts';
import { Subscriber, WS_OPEN, type Line, type StreamStats, type SubscriberHost, type SubscriberLimits } from './stream-subscriber.ts';

export { Subscriber, type StreamStats } from './stream-subscriber.ts';

export interface StreamLimits extends SubscriberLimits {
  /** bytes held for all subscribers together (queues and unsent socket bytes) */
  maxQueuedBytes: number;
  /** under the budget, a subscriber stalled this long is closed rather than trimmed */
  stallGraceMs: number;
}

export class LiveStream implements SubscriberHost {
  private readonly subscribers = new Set<Subscriber>();
  /** sockets closed for being slow whose close has not completed: their unsent bytes still count */
  private readonly closing = new Set<WebSocket>();
  readonly stats: StreamStats = { subscribers: 0, sent: 0, dropped: 0, queuedBytes: 0, closedSlow: 0 };
  private budgetCheck: NodeJS.Immediate | null = null;
  readonly matchers: SeriesMatchers;
  /** by series id: the JSON of a reading up to its value, and between value and ts */
  private prefixes: ({ head: string; mid: string } | undefined)[] = [];

  constructor(
    readonly catalog: SeriesCatalog,
    readonly limits: StreamLimits,
  ) {
    this.matchers = new SeriesMatchers(catalog);
  }

  add(s: Subscriber): void {
    this.subscribers.add(s);
    this.stats.subscribers = this.subscribers.size;
  }

  remove(s: Subscriber): void {
    s.detach();
    this.subscribers.delete(s);
    this.stats.subscribers = this.subscribers.size;
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

  /** The contract's reading message, built from a cached per-series prefix. */
  encode(seriesId: number, ts: number, value: number): Line {
    let p = this.prefixes[seriesId];
    if (!p) {
      const s = this.catalog.series[seriesId]!;
      p = {
        head: `{"type":"reading","sensor":${JSON.stringify(s.sensor)},"room":${JSON.stringify(s.room)},"metric":${JSON.stringify(s.metric)},"value":`,
        mid: `,"unit":${JSON.stringify(s.unit)},"ts":`,
      };
      this.prefixes[seriesId] = p;
    }
    return { frame: textFrame(`${p.head}${value}${p.mid}${ts}}`), refs: 0 };
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
    const subs = [...this.subscribers].filter((s) => s.open);
    if (subs.length === 0) return;
    for (let i = 0; i < rows.n; i++) {
      if (mask && mask[i] === 0) continue;
      const sid = rows.series[i]!;
      let line: Line | null = null;
      for (const s of subs) {
        if (!s.wants(sid)) continue;
        line ??= this.encode(sid, rows.ts[i]!, rows.value[i]!);
        s.deliver(sid, rows.ts[i]!, line);
      }
    }
    for (const s of subs) s.pump();
    // Once the sockets have taken what they can (their corks come off on the next tick, and
    // subscribers that keep up drain at once), so a burst does not count against them.
    if (!this.budgetCheck)
      this.budgetCheck = setImmediate(() => {
        this.budgetCheck = null;
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
    for (const s of stalled) {
      if (!over()) return;
      if (now - s.stalledSince >= this.limits.stallGraceMs) close(s);
      else s.dropAll();
    }
    for (const s of stalled) {
      if (!over()) return;
      if (s.open) close(s);
    }
    for (const s of [...this.subscribers].sort((a, b) => b.queued - a.queued)) {
      if (!over()) return;
      s.dropAll();
    }
  }

  /** Ends every subscription's timers (the sockets close with the HTTP server). */
  stop(): void {
    if (this.budgetCheck) clearImmediate(this.budgetCheck);
    this.budgetCheck = null;
    for (const s of [...this.subscribers]) this.remove(s);
  }
}
