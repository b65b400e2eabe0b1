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

export class Subscriber {
  private queue: string[] = [];
  private head = 0;
  private dropped = 0;
  /** by series id: whether it matches the filters (1) or not (2); 0 unknown */
  private matchCache = new Uint8Array(0);
  /** while the replay is read, live messages wait here */
  private held: { seriesId: number; ts: number; line: string }[] | null = null;

  constructor(
    readonly ws: WebSocket,
    readonly filters: Filters,
    private readonly limits: StreamLimits,
    private readonly stats: StreamStats,
  ) {}

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
  finishReplay(replay: { seriesId: number; ts: number; line: string }[]): void {
    const seen = new Set(replay.map((r) => `${r.seriesId}:${r.ts}`));
    const held = this.held ?? [];
    this.held = null;
    for (const r of replay) this.enqueue(r.line);
    for (const h of held) if (!seen.has(`${h.seriesId}:${h.ts}`)) this.enqueue(h.line);
  }

  deliver(seriesId: number, ts: number, line: string): void {
    if (this.held) {
      if (this.held.length < this.limits.maxQueuedMessages) this.held.push({ seriesId, ts, line });
      else this.dropped++;
      return;
    }
    this.enqueue(line);
  }

  private enqueue(line: string): void {
    if (this.queue.length - this.head >= this.limits.maxQueuedMessages) {
      this.head++;
      this.dropped++;
      this.stats.dropped++;
    }
    this.queue.push(line);
    this.pump();
  }

  /** Writes queued messages while the socket has room; called again as the socket drains. */
  pump = (): void => {
    const ws = this.ws;
    if (ws.readyState !== WS_OPEN) return;
    while (this.head < this.queue.length && ws.bufferedAmount < this.limits.highWaterBytes) {
      if (this.dropped > 0) {
        ws.send(`{"type":"dropped","count":${this.dropped}}`);
        this.dropped = 0;
      }
      const line = this.queue[this.head++]!;
      this.stats.sent++;
      // The callback fires once the message is handed to the socket: room for more.
      ws.send(line, this.head === this.queue.length || ws.bufferedAmount >= this.limits.highWaterBytes ? this.afterSend : undefined);
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  };

  private afterSend = (err?: Error): void => {
    if (!err) setImmediate(this.pump);
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
  line(seriesId: number, ts: number, value: number): string {
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
  }

  /** Publishes committed rows; `mask` marks which rows were stored (the others were duplicates). */
  publish(rows: Columns, mask?: Uint8Array): void {
    if (this.subscribers.size === 0) return;
    const subs = [...this.subscribers];
    for (let i = 0; i < rows.n; i++) {
      if (mask && mask[i] === 0) continue;
      const sid = rows.series[i]!;
      let line: string | null = null;
      for (const s of subs) {
        if (!s.wants(sid, this.catalog)) continue;
        line ??= this.line(sid, rows.ts[i]!, rows.value[i]!);
        s.deliver(sid, rows.ts[i]!, line);
      }
    }
  }

  publishList(rows: { seriesId: number; ts: number; value: number }[]): void {
    if (this.subscribers.size === 0 || rows.length === 0) return;
    const cols: Columns = {
      n: rows.length,
      series: new Int32Array(rows.length),
      ts: new Float64Array(rows.length),
      value: new Float64Array(rows.length),
    };
    rows.forEach((r, i) => {
      cols.series[i] = r.seriesId;
      cols.ts[i] = r.ts;
      cols.value[i] = r.value;
    });
    this.publish(cols);
  }
}
