/**
 * Live readings for WebSocket subscribers (PROTOCOL.md §2 "Live stream"). Rows are published
 * after they are committed (never a duplicate). Each subscriber has a bounded queue: when its
 * socket falls behind, its oldest unsent messages are dropped and it is told how many, so a
 * slow client never slows ingest or the other clients. With no subscriber, publishing costs
 * one comparison per commit.
 */
import type { WebSocket } from 'ws';
import { matches, type Filters } from './http/filters.ts';
import type { SeriesCatalog } from './ingest/series-catalog.ts';
import type { Columns } from './store/store-messages.ts';

export interface StreamLimits {
  /** messages held for a subscriber whose socket is full; beyond, the oldest are dropped */
  maxQueuedMessages: number;
  /** bytes the socket may hold unsent before messages wait in the queue */
  highWaterBytes: number;
}

export interface StreamStats {
  subscribers: number;
  sent: number;
  dropped: number;
}

const WS_OPEN = 1;

export type RenderReading = (seriesId: number, ts: number, value: number) => string;

export class Subscriber {
  // A ring of queued readings, `count` of them from `first`, kept as numbers: the JSON is
  // built only for what is actually sent, so dropping for a slow client costs next to nothing.
  private readonly ringSeries: Int32Array;
  private readonly ringTs: Float64Array;
  private readonly ringValue: Float64Array;
  private first = 0;
  private count = 0;
  private dropped = 0;
  private corked = false;
  private waitingForDrain = false;
  /** by series id: whether it matches the filters (1) or not (2); 0 unknown */
  private matchCache = new Uint8Array(0);
  /** while the replay is read, live messages wait here */
  private held: { seriesId: number; ts: number; value: number }[] | null = null;

  constructor(
    readonly ws: WebSocket,
    readonly filters: Filters,
    private readonly limits: StreamLimits,
    private readonly stats: StreamStats,
    private readonly render: RenderReading,
  ) {
    this.ringSeries = new Int32Array(limits.maxQueuedMessages);
    this.ringTs = new Float64Array(limits.maxQueuedMessages);
    this.ringValue = new Float64Array(limits.maxQueuedMessages);
  }

  get open(): boolean {
    return this.ws.readyState === WS_OPEN;
  }

  wants(seriesId: number, catalog: SeriesCatalog): boolean {
    if (seriesId >= this.matchCache.length) {
      const grown = new Uint8Array(Math.max(seriesId + 1, this.matchCache.length * 2, 64));
      grown.set(this.matchCache);
      this.matchCache = grown;
    }
    let m = this.matchCache[seriesId]!;
    if (m === 0) {
      const s = catalog.series[seriesId]!;
      m = matches(this.filters, s.sensor, s.room, s.metric) ? 1 : 2;
      this.matchCache[seriesId] = m;
    }
    return m === 1;
  }

  holdLive(): void {
    this.held = [];
  }

  /** Sends the replay, then what arrived meanwhile, skipping what the replay already held. */
  finishReplay(replay: { seriesId: number; ts: number; value: number }[]): void {
    const seen = new Set(replay.map((r) => `${r.seriesId}:${r.ts}`));
    const held = this.held ?? [];
    this.held = null;
    for (const r of replay) this.enqueue(r.seriesId, r.ts, r.value);
    for (const h of held) if (!seen.has(`${h.seriesId}:${h.ts}`)) this.enqueue(h.seriesId, h.ts, h.value);
    this.pump();
  }

  /** Queues one reading; the caller pumps once per batch (see LiveStream.publish). */
  deliver(seriesId: number, ts: number, value: number): void {
    if (this.held) {
      if (this.held.length < this.limits.maxQueuedMessages) this.held.push({ seriesId, ts, value });
      else this.dropped++;
      return;
    }
    this.enqueue(seriesId, ts, value);
  }

  private enqueue(seriesId: number, ts: number, value: number): void {
    const size = this.ringSeries.length;
    if (this.count === size) {
      // Full: the oldest unsent message gives way to the newest.
      this.first = (this.first + 1) % size;
      this.count--;
      this.dropped++;
      this.stats.dropped++;
    }
    const at = (this.first + this.count) % size;
    this.ringSeries[at] = seriesId;
    this.ringTs[at] = ts;
    this.ringValue[at] = value;
    this.count++;
  }

  /** Writes queued messages while the socket has room; called again when the socket drains. */
  pump = (): void => {
    const ws = this.ws;
    if (ws.readyState !== WS_OPEN || this.count === 0) return;
    const socket = (ws as unknown as { _socket?: NodeJS.WritableStream & { cork(): void; uncork(): void } })._socket;
    // One socket write for the whole burst instead of one per message.
    if (socket && !this.corked) {
      this.corked = true;
      socket.cork();
      process.nextTick(() => {
        this.corked = false;
        socket.uncork();
      });
    }
    const size = this.ringSeries.length;
    while (this.count > 0 && ws.bufferedAmount < this.limits.highWaterBytes) {
      if (this.dropped > 0) {
        ws.send(`{"type":"dropped","count":${this.dropped}}`);
        this.dropped = 0;
      }
      const line = this.render(this.ringSeries[this.first]!, this.ringTs[this.first]!, this.ringValue[this.first]!);
      this.first = (this.first + 1) % size;
      this.count--;
      this.stats.sent++;
      ws.send(line);
    }
    // Still more queued: the socket is full, so carry on when it has drained.
    if (this.count > 0 && socket && !this.waitingForDrain) {
      this.waitingForDrain = true;
      socket.once('drain', () => {
        this.waitingForDrain = false;
        this.pump();
      });
    }
  };
}

export class LiveStream {
  private readonly subscribers = new Set<Subscriber>();
  readonly stats: StreamStats = { subscribers: 0, sent: 0, dropped: 0 };
  /** by series id: the JSON of a reading up to its value, and between value and ts */
  private prefixes: ({ head: string; mid: string } | undefined)[] = [];

  constructor(
    private readonly catalog: SeriesCatalog,
    readonly limits: StreamLimits,
  ) {}

  add(s: Subscriber): void {
    this.subscribers.add(s);
    this.stats.subscribers = this.subscribers.size;
  }

  remove(s: Subscriber): void {
    this.subscribers.delete(s);
    this.stats.subscribers = this.subscribers.size;
  }

  get hasSubscribers(): boolean {
    return this.subscribers.size > 0;
  }

  /** The contract's reading message, built from a cached per-series prefix. */
  line = (seriesId: number, ts: number, value: number): string => {
    let p = this.prefixes[seriesId];
    if (!p) {
      const s = this.catalog.series[seriesId]!;
      p = {
        head: `{"type":"reading","sensor":${JSON.stringify(s.sensor)},"room":${JSON.stringify(s.room)},"metric":${JSON.stringify(s.metric)},"value":`,
        mid: `,"unit":${JSON.stringify(s.unit)},"ts":`,
      };
      this.prefixes[seriesId] = p;
    }
    return `${p.head}${value}${p.mid}${ts}}`;
  };

  /** Publishes committed rows; `mask` marks which rows were stored (the others were duplicates). */
  publish(rows: Columns, mask?: Uint8Array): void {
    if (this.subscribers.size === 0) return;
    const subs = [...this.subscribers].filter((s) => s.open);
    if (subs.length === 0) return;
    for (let i = 0; i < rows.n; i++) {
      if (mask && mask[i] === 0) continue;
      const sid = rows.series[i]!;
      for (const s of subs) if (s.wants(sid, this.catalog)) s.deliver(sid, rows.ts[i]!, rows.value[i]!);
    }
    for (const s of subs) s.pump();
  }
}
