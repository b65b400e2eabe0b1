/**
 * One WebSocket subscription (PROTOCOL.md §2 "Live stream"): its filters, and a bounded queue
 * of the readings its socket has not taken yet. Readings arrive already encoded, one Line
 * shared by every subscriber (live-stream.ts), so a queued reading costs a reference here; a
 * Line's bytes are counted once, while any queue holds it.
 *
 * Every write to the socket goes through pump(): at most highWaterBytes wait in the socket,
 * the rest in the queue; past maxQueuedMessages the oldest are dropped and the client is told
 * (`{"type":"dropped","count":N}`). A socket that takes nothing for drainTimeoutMs is closed
 * with 1013; the hub-wide byte budget (LiveStream) trims or closes the longest stalled first.
 */
import type { WebSocket } from 'ws';
import type { Filters } from '../../protocol/filters.ts';
import type { SeriesMatcher, SeriesMatchers } from './stream-matcher.ts';
import { ReadingQueue, textFrame, type Line } from './stream-queue.ts';

export type { Line } from './stream-queue.ts';

export interface SubscriberLimits {
  /** readings queued for one subscriber; beyond, its oldest are dropped */
  maxQueuedMessages: number;
  /** bytes a socket may hold unsent before readings wait in the queue */
  highWaterBytes: number;
  /** a subscriber whose socket takes nothing for this long is closed (1013) */
  drainTimeoutMs: number;
}

/** Counters shared by all subscribers of one LiveStream. */
export interface StreamStats {
  subscribers: number;
  sent: number;
  dropped: number;
  /** bytes of the Lines held in any queue (each counted once), and of the queue entries */
  queuedBytes: number;
  /** subscribers closed for reading too slowly (1013) */
  closedSlow: number;
}

export interface SubscriberHost {
  readonly matchers: SeriesMatchers;
  readonly limits: SubscriberLimits;
  readonly stats: StreamStats;
  /** the reading message of series `seriesId`, encoded once for every subscriber */
  encode(seriesId: number, ts: number, value: number): Line;
  /** called once this subscriber has closed its socket for being slow */
  closedSlow(s: Subscriber): void;
}

export const WS_OPEN = 1;

type WsSocket = NodeJS.WritableStream & { writableNeedDrain: boolean };

export class Subscriber {
  /** readings not yet handed to the socket, with their series (to re-filter) and ts (to skip what a replay sent) */
  private readonly queue: ReadingQueue;
  private dropped = 0;
  private waitingForDrain = false;
  private drainTimer: NodeJS.Timeout | null = null;
  /** performance.now() since when the socket has had more than it took; 0 while it keeps up */
  stalledSince = 0;
  private replaying = false;
  private closed = false;
  /** which series it takes: shared with every subscriber of the same filters */
  private matcher: SeriesMatcher;

  constructor(
    readonly ws: WebSocket,
    filters: Filters,
    private readonly host: SubscriberHost,
  ) {
    this.queue = new ReadingQueue(host.limits.maxQueuedMessages, host.stats);
    this.matcher = host.matchers.acquire(filters);
  }

  get open(): boolean {
    return !this.closed && this.ws.readyState === WS_OPEN;
  }

  get filters(): Filters {
    return this.matcher.filters;
  }

  get queued(): number {
    return this.queue.length;
  }

  wants(seriesId: number): boolean {
    return this.matcher.wants(seriesId);
  }

  /**
   * New filters (the user's rooms changed): queued readings that no longer match are taken out
   * unsent (not counted as dropped: they are no longer this client's to see).
   */
  refilter(filters: Filters): void {
    if (this.closed) return;
    const old = this.matcher;
    this.matcher = this.host.matchers.acquire(filters);
    this.host.matchers.release(old);
    const held = this.queue.takeAll();
    for (let i = 0; i < held.lines.length; i++) {
      if (this.wants(held.series[i]!)) this.push(held.series[i]!, held.ts[i]!, held.lines[i]!);
    }
  }

  /** Until finishReplay, live readings wait in the queue behind the replay to come. */
  beginReplay(): void {
    this.replaying = true;
  }

  /** Sends the replay, then what arrived meanwhile, skipping what the replay already held. */
  finishReplay(replay: { seriesId: number; ts: number; value: number }[]): void {
    this.replaying = false;
    if (this.closed) return;
    const held = this.queue.takeAll();
    const seen = new Set<string>();
    for (const r of replay) {
      if (!this.wants(r.seriesId)) continue; // the rooms may have narrowed while it was read
      seen.add(`${r.seriesId}:${r.ts}`);
      this.push(r.seriesId, r.ts, this.host.encode(r.seriesId, r.ts, r.value));
    }
    for (let i = 0; i < held.lines.length; i++) {
      const sid = held.series[i]!;
      const ts = held.ts[i]!;
      if (seen.size === 0 || !seen.has(`${sid}:${ts}`)) this.push(sid, ts, held.lines[i]!);
    }
    this.pump();
  }

  /** Queues one reading; the caller pumps once per batch (LiveStream.publish). */
  deliver(seriesId: number, ts: number, line: Line): void {
    if (!this.closed) this.push(seriesId, ts, line);
  }

  private push(seriesId: number, ts: number, line: Line): void {
    if (this.queue.push(seriesId, ts, line)) this.countDropped(1);
  }

  /** Drops every queued reading (the client is told how many before its next one). */
  dropAll(): void {
    const n = this.queue.length;
    this.queue.clear();
    this.countDropped(n);
  }

  private countDropped(n: number): void {
    this.dropped += n;
    this.host.stats.dropped += n;
  }

  /**
   * Writes queued readings while the socket has room, as one write of whole frames each time
   * (the frames are the shared Lines', copied side by side); called again when the socket drains.
   * Goes past ws.send, which would frame and write each message on its own: frames written whole
   * on the open socket keep ws's own messages (errors, close) in order around them.
   */
  pump = (): void => {
    const ws = this.ws;
    if (this.replaying || !this.open || this.queued === 0) return;
    const socket = (ws as unknown as { _socket?: WsSocket })._socket;
    if (!socket) return;
    const highWater = this.host.limits.highWaterBytes;
    while (this.queued > 0 && ws.bufferedAmount < highWater) {
      const room = highWater - ws.bufferedAmount;
      const frames: Buffer[] = [];
      let size = 0;
      if (this.dropped > 0) {
        const notice = textFrame(`{"type":"dropped","count":${this.dropped}}`);
        this.dropped = 0;
        frames.push(notice);
        size += notice.length;
      }
      while (this.queued > 0 && size < room) {
        const frame = this.queue.shift().frame;
        frames.push(frame);
        size += frame.length;
        this.host.stats.sent++;
      }
      socket.write(frames.length === 1 ? frames[0]! : Buffer.concat(frames, size));
    }
    if (this.queued > 0) return this.waitForDrain(socket);
    // All handed to the socket: not behind (what the socket holds is bounded by highWaterBytes).
    this.stalledSince = 0;
    if (this.drainTimer) clearTimeout(this.drainTimer);
    this.drainTimer = null;
  };

  private waitForDrain(socket: WsSocket): void {
    if (this.waitingForDrain) return;
    this.waitingForDrain = true;
    if (this.stalledSince === 0) this.stalledSince = performance.now();
    this.drainTimer ??= setTimeout(() => {
      const seconds = this.host.limits.drainTimeoutMs / 1000;
      this.closeSlow(`this client took nothing for ${seconds} s; reconnect and read faster`);
    }, this.host.limits.drainTimeoutMs);
    // Full past its own limit, the socket says when it drains; below it (our limit is lower), look again soon.
    if (socket.writableNeedDrain) socket.once('drain', this.onDrain);
    else setImmediate(this.retry);
  }

  /** Looks again without counting it as progress: only a drain shows the client reads. */
  private readonly retry = (): void => {
    this.waitingForDrain = false;
    this.pump();
  };

  private readonly onDrain = (): void => {
    this.waitingForDrain = false;
    this.stalledSince = 0;
    if (this.drainTimer) clearTimeout(this.drainTimer);
    this.drainTimer = null;
    this.pump();
  };

  /** Closes with 1013 ("try again later"): the contract's answer to a client that reads too slowly. */
  closeSlow(reason: string): void {
    if (this.closed) return;
    this.host.stats.closedSlow++;
    this.close(1013, reason);
    this.host.closedSlow(this);
  }

  /** Ends the subscription and closes the socket; what was queued is let go at once. */
  close(code: number, reason: string): void {
    this.detach();
    if (this.ws.readyState === WS_OPEN) this.ws.close(code, reason.slice(0, 120)); // a close reason is at most 123 bytes
  }

  /** Ends the subscription (a new one replaces it, or the socket closed); the socket stays as it is. */
  detach(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.drainTimer) clearTimeout(this.drainTimer);
    this.drainTimer = null;
    this.queue.clear();
    this.host.matchers.release(this.matcher);
  }
}
