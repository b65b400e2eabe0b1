/**
 * A subscriber's place in the stream's shared log (stream-log.ts): the next row it reads, how
 * many of the rows from there on it takes (its backlog, kept exact as chunks come and go), and
 * reading them as WebSocket frames. Subscribers of the same filters are often at the same place
 * (each dropped to its newest maxQueuedMessages at the same commit): what one was just sent from
 * there, the next takes as it is, not encoded again.
 */
import type { ReadingFrames } from './stream-frames.ts';
import type { LogChunk, StreamLog } from './stream-log.ts';
import type { SeriesMatcher } from './stream-matcher.ts';

/** Frames encoded from a run of log rows, for the next subscriber of the same filters at the same place. */
export interface EncodedRun {
  chunk: LogChunk;
  /** the row number the run starts at */
  from: number;
  /** the frames, one after the other */
  text: string;
  /** by frame: the length of text up to its end */
  ends: number[];
  /** by frame: the cursor after it */
  next: number[];
}

export interface LogCursorHost {
  readonly log: StreamLog;
  readonly frames: ReadingFrames;
  /** by matcher: the frames last encoded from the log for a subscriber of those filters */
  readonly runs: WeakMap<SeriesMatcher, EncodedRun>;
}

export class LogCursor {
  /** the number of the next log row it reads */
  cursor: number;
  /** the log rows from the cursor on that the matcher takes */
  backlog = 0;

  constructor(
    private readonly host: LogCursorHost,
    public matcher: SeriesMatcher,
  ) {
    this.cursor = host.log.head;
  }

  /** A chunk was appended: what it takes of it is now behind the cursor. */
  published(chunk: LogChunk): void {
    this.backlog += chunk.count(this.matcher, chunk.start);
  }

  /** Takes `matcher` instead, and counts its backlog again. */
  refilter(matcher: SeriesMatcher): void {
    this.matcher = matcher;
    this.backlog = 0;
    for (const c of this.host.log.from(this.cursor)) this.backlog += c.count(matcher, this.cursor);
  }

  /** Skips the oldest `k` rows it takes (at most its backlog). */
  drop(k: number): void {
    for (const c of this.host.log.from(this.cursor)) {
      if (k <= 0) break;
      const here = c.count(this.matcher, this.cursor);
      const n = Math.min(here, k);
      this.cursor = n === here ? c.end : c.skip(this.matcher, this.cursor, n);
      this.backlog -= n;
      k -= n;
    }
  }

  /** Moves to the log's head: nothing behind it is taken any more. */
  toHead(): void {
    this.backlog = 0;
    this.cursor = this.host.log.head;
  }

  /** Hands `take` the rows it takes of `chunk` (which holds the cursor) and moves past it. */
  leave(chunk: LogChunk, take: (seriesId: number, ts: number, value: number) => void): void {
    if (this.cursor >= chunk.end) return;
    const m = this.matcher;
    if (m.takesAll) {
      for (let i = Math.max(this.cursor, chunk.start) - chunk.start; i < chunk.n; i++)
        take(chunk.series[i]!, chunk.ts[i]!, chunk.value[i]!);
    } else {
      const rows = chunk.rowsOf(m);
      for (let j = chunk.firstTaken(rows, this.cursor); j < rows.length; j++) {
        const i = rows[j]!;
        take(chunk.series[i]!, chunk.ts[i]!, chunk.value[i]!);
      }
    }
    this.backlog -= chunk.count(m, this.cursor);
    this.cursor = chunk.end;
  }

  /** Appends to `out` the frames of the rows it takes, while `out` is shorter than `room`. */
  frames(out: string, room: number): string {
    for (const c of this.host.log.from(this.cursor)) {
      out = this.fromChunk(c, out, room);
      if (out.length >= room || this.backlog === 0) break;
    }
    if (this.backlog === 0) this.cursor = this.host.log.head; // nothing further in the log is its
    return out;
  }

  private fromChunk(c: LogChunk, out: string, room: number): string {
    const at = Math.max(this.cursor, c.start);
    const run = this.host.runs.get(this.matcher);
    if (run?.chunk === c && run.from === at) {
      const space = room - out.length;
      let k = 0;
      while (k < run.ends.length && (k === 0 || run.ends[k - 1]! < space)) k++;
      out += k === run.ends.length ? run.text : run.text.slice(0, run.ends[k - 1]);
      this.backlog -= k;
      this.cursor = run.next[k - 1]!;
      return k < run.ends.length || out.length >= room ? out : this.encode(c, out, room, false);
    }
    return this.encode(c, out, room, true);
  }

  /** Encodes the frames of the rows it takes in `c` from the cursor on, while there is room; kept for its peers if `share`. */
  private encode(c: LogChunk, out: string, room: number, share: boolean): string {
    const frames = this.host.frames;
    const m = this.matcher;
    const { series, ts, value } = c;
    const base = out.length;
    const from = Math.max(this.cursor, c.start);
    const ends: number[] = [];
    const next: number[] = [];
    if (m.takesAll) {
      for (let i = from - c.start; i < c.n && out.length < room; i++) {
        out += frames.frame(series[i]!, ts[i]!, value[i]!);
        ends.push(out.length - base);
        next.push(c.start + i + 1);
      }
    } else {
      const rows = c.rowsOf(m);
      for (let j = c.firstTaken(rows, from); j < rows.length && out.length < room; j++) {
        const i = rows[j]!;
        out += frames.frame(series[i]!, ts[i]!, value[i]!);
        ends.push(out.length - base);
        next.push(j + 1 < rows.length ? c.start + rows[j + 1]! : c.end);
      }
    }
    if (ends.length === 0) {
      this.cursor = c.end; // nothing it takes here
      return out;
    }
    this.backlog -= ends.length;
    this.cursor = next[ends.length - 1]!;
    if (share) this.host.runs.set(m, { chunk: c, from, text: out.slice(base), ends, next });
    return out;
  }
}
