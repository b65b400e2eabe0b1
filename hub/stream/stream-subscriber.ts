/**
 * One WebSocket subscription (PROTOCOL.md §2 "Live stream"): its filters, and what it has yet
 * to be sent. Live readings wait in the stream's shared log (stream-log.ts), where this
 * subscriber keeps a cursor; its own queue holds only a replay and the rows of log chunks let go
 * before it read them. A reading is encoded only when it is written to the socket.
 *
 * Every write to the socket goes through pump(): at most highWaterBytes wait in the socket, the
 * rest in the log or the queue; past maxQueuedMessages the oldest are dropped and the client is
 * told (`{"type":"dropped","count":N}`). A socket that takes nothing for drainTimeoutMs is closed
 * with 1013; the hub-wide byte budget (LiveStream) trims or closes the longest stalled first.
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { Filters } from '../../protocol/filters.ts';
import { FrameParts, LogCursor, type LogCursorHost } from './log-cursor.ts';
import { BATCH_CLOSE, batchFrameHead, droppedFrame } from './stream-frames.ts';
import type { LogChunk, LogReader } from './stream-log.ts';
import type { SeriesMatchers } from './stream-matcher.ts';
import { ReadingQueue } from './stream-queue.ts';

export interface SubscriberLimits {
  /** readings queued for one subscriber; beyond, its oldest are dropped */
  maxQueuedMessages: number;
  /** bytes a socket may hold unsent before readings wait in the hub */
  highWaterBytes: number;
  /** a subscriber whose socket takes nothing for this long is closed (1013) */
  drainTimeoutMs: number;
}

/** Counters shared by all subscribers of one LiveStream. */
export interface StreamStats {
  subscribers: number;
  sent: number;
  dropped: number;
  /** bytes held for subscribers: the shared log's rows, and the entries of their own queues */
  queuedBytes: number;
  /** subscribers closed for reading too slowly (1013) */
  closedSlow: number;
}

export interface SubscriberHost extends LogCursorHost {
  readonly matchers: SeriesMatchers;
  readonly limits: SubscriberLimits;
  readonly stats: StreamStats;
  /** this subscriber read from the log: chunks may be let go */
  moved(): void;
  /** called once this subscriber has closed its socket for being slow */
  closedSlow(s: Subscriber): void;
}

export const WS_OPEN = 1;

type WsSocket = Pick<Socket, 'cork' | 'uncork' | 'write' | 'writableNeedDrain' | 'once'>;

export class Subscriber implements LogReader {
  /** its place in the log, and what it takes there */
  private readonly place: LogCursor;
  /** readings not in the log: a replay, rows of chunks let go before it read them */
  private readonly queue: ReadingQueue;
  private dropped = 0;
  private waitingForDrain = false;
  private drainTimer: NodeJS.Timeout | null = null;
  /** performance.now() since when the socket has had more than it took; 0 while it keeps up */
  stalledSince = 0;
  private replaying = false;
  private closed = false;

  constructor(
    readonly ws: WebSocket,
    filters: Filters,
    private readonly host: SubscriberHost,
    /** the client asked for `readings` messages: each socket write is one message (batchFrameHead) */
    private readonly batched = false,
  ) {
    this.queue = new ReadingQueue(host.limits.maxQueuedMessages, host.stats);
    // Its matcher says which series it takes: shared with every subscriber of the same filters.
    this.place = new LogCursor(host, host.matchers.acquire(filters));
  }

  /** the number of the next log row it reads */
  get cursor(): number {
    return this.place.cursor;
  }

  get open(): boolean {
    return !this.closed && this.ws.readyState === WS_OPEN;
  }

  get filters(): Filters {
    return this.place.matcher.filters;
  }

  /** readings waiting to be sent */
  get queued(): number {
    return this.queue.length + this.place.backlog;
  }

  /** A chunk was appended to the log: what it takes of it waits there; beyond its limit, its oldest are dropped. */
  published(chunk: LogChunk): void {
    if (this.closed) return;
    this.place.published(chunk);
    this.keepToLimit();
  }

  /**
   * New filters (the user's rooms changed): readings waiting that no longer match are taken out
   * unsent (not counted as dropped: they are no longer this client's to see).
   */
  refilter(filters: Filters): void {
    if (this.closed) return;
    const old = this.place.matcher;
    const matcher = this.host.matchers.acquire(filters);
    this.host.matchers.release(old);
    const held = this.queue.takeAll();
    for (let i = 0; i < held.series.length; i++) {
      if (matcher.wants(held.series[i]!)) this.push(held.series[i]!, held.ts[i]!, held.value[i]!);
    }
    this.place.refilter(matcher);
    this.keepToLimit();
  }

  /** Until finishReplay, live readings wait behind the replay to come. */
  beginReplay(): void {
    this.replaying = true;
  }

  /** Sends the replay, then what arrived meanwhile, skipping what the replay already held. */
  finishReplay(replay: { seriesId: number; ts: number; value: number }[]): void {
    this.replaying = false;
    if (this.closed) return;
    // What arrived meanwhile goes into the queue behind the replay, so the log can let it go.
    for (const c of this.host.log.from(this.place.cursor)) this.leaving(c);
    const held = this.queue.takeAll();
    const seen = new Set<string>();
    for (const r of replay) {
      if (!this.place.matcher.wants(r.seriesId)) continue; // the rooms may have narrowed while it was read
      seen.add(`${r.seriesId}:${r.ts}`);
      this.push(r.seriesId, r.ts, r.value);
    }
    for (let i = 0; i < held.series.length; i++) {
      const sid = held.series[i]!;
      const ts = held.ts[i]!;
      if (seen.size === 0 || !seen.has(`${sid}:${ts}`)) this.push(sid, ts, held.value[i]!);
    }
    this.pump();
  }

  /** `chunk` is let go: the rows from the cursor on that it takes move into its own queue. */
  leaving(chunk: LogChunk): void {
    this.place.leave(chunk, this.push);
  }

  private readonly push = (seriesId: number, ts: number, value: number): void => {
    if (this.queue.push(seriesId, ts, value)) this.countDropped(1);
  };

  /** Drops every waiting reading (the client is told how many before its next one). */
  dropAll(): void {
    const n = this.queued;
    this.queue.clear();
    this.place.toHead();
    this.countDropped(n);
  }

  /** Past maxQueuedMessages waiting, the oldest are dropped: its own queue's first, then the log's. */
  private keepToLimit(): void {
    const excess = this.queued - this.host.limits.maxQueuedMessages;
    if (excess <= 0) return;
    const fromQueue = Math.min(excess, this.queue.length);
    this.queue.drop(fromQueue);
    this.place.drop(excess - fromQueue);
    this.countDropped(excess);
  }

  private countDropped(n: number): void {
    this.dropped += n;
    this.host.stats.dropped += n;
  }

  /**
   * Writes waiting readings while the socket has room, as one write of whole frames each time;
   * called again when the socket drains. Goes past ws.send, which would frame and write each
   * message on its own: frames written whole on the open socket keep ws's own messages (errors,
   * close) in order around them.
   */
  pump = (): void => {
    const ws = this.ws;
    if (this.replaying || !this.open || this.queued === 0) return;
    const socket = (ws as unknown as { _socket?: WsSocket })._socket;
    if (!socket) return;
    const highWater = this.host.limits.highWaterBytes;
    const from = this.place.cursor;
    while (this.queued > 0 && ws.bufferedAmount < highWater) {
      const room = highWater - ws.bufferedAmount;
      let told: Buffer | null = null;
      if (this.dropped > 0) {
        told = Buffer.from(droppedFrame(this.dropped), 'latin1');
        this.dropped = 0;
      }
      const before = this.queued;
      const space = room - (told?.length ?? 0);
      const out = new FrameParts();
      this.fromQueue(out, space);
      if (out.bytes < space && this.place.backlog > 0) this.place.frames(out, space, this.batched);
      this.host.stats.sent += before - this.queued;
      // One write of every part: the blocks' own bytes, shared by every subscriber of the same filters.
      socket.cork();
      if (told) socket.write(told);
      if (this.batched && out.bytes > 0) socket.write(batchFrameHead(out.bytes));
      for (const part of out.parts) socket.write(part);
      if (this.batched && out.bytes > 0) socket.write(BATCH_CLOSE);
      socket.uncork();
      if (this.queued === before) {
        this.place.toHead(); // never so: the log holds what the backlog counts; but never loop on it
        break;
      }
    }
    if (this.place.cursor !== from) this.host.moved();
    if (this.queued > 0) return this.waitForDrain(socket);
    // All handed to the socket: not behind (what the socket holds is bounded by highWaterBytes).
    this.stalledSince = 0;
    if (this.drainTimer) clearTimeout(this.drainTimer);
    this.drainTimer = null;
  };

  /** Frames of its own queue's readings (batched: the messages unframed, comma-separated), as one part. */
  private fromQueue(out: FrameParts, room: number): void {
    const q = this.queue;
    if (q.length === 0) return;
    const frames = this.host.frames;
    let text = '';
    while (q.length > 0 && text.length < room) {
      if (!this.batched) text += frames.frame(q.firstSeries, q.firstTs, q.firstValue);
      else text += (text.length > 0 ? ',' : '') + frames.body(q.firstSeries, q.firstTs, q.firstValue);
      q.shift();
    }
    out.add(Buffer.from(text, 'latin1'));
  }

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

  /** Ends the subscription and closes the socket; what was waiting is let go at once. */
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
    this.place.toHead();
    this.host.matchers.release(this.place.matcher);
  }
}
