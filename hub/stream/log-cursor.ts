/**
 * A subscriber's place in the stream's shared log (stream-log.ts): the next row it reads, how
 * many of the rows from there on it takes (its backlog, kept exact as chunks come and go), and
 * reading them as WebSocket frames. The frames come in blocks that each chunk encodes once per
 * filter (LogChunk.block): subscribers of the same filters read the same blocks, wherever in
 * them they are.
 */
import type { ReadingFrames } from './stream-frames.ts';
import { BLOCK_ROWS, type LogChunk, type StreamLog } from './stream-log.ts';
import type { SeriesMatcher } from './stream-matcher.ts';

export interface LogCursorHost {
  readonly log: StreamLog;
  readonly frames: ReadingFrames;
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

  /**
   * Appends to `out` the frames of the rows it takes, while `out` holds fewer than `room` bytes;
   * `bodies`: the messages unframed and comma-separated, for a `readings` message (batchFrameHead).
   */
  frames(out: FrameParts, room: number, bodies = false): void {
    const m = this.matcher;
    for (const c of this.host.log.from(this.cursor)) {
      const total = c.takenCount(m);
      let t = c.firstTakenOf(m, this.cursor);
      while (t < total && out.bytes < room) {
        const b = Math.floor(t / BLOCK_ROWS);
        const { bytes, ends } = c.block(m, b, this.host.frames, bodies);
        const first = t - b * BLOCK_ROWS;
        // a body block has a comma before each message but its first
        const from = first === 0 ? 0 : ends[first - 1]! + (bodies ? 1 : 0);
        const space = room - out.bytes;
        // Whole frames while there is room; the last may go past it, as one frame always may.
        let k = first + 1;
        while (k < ends.length && ends[k - 1]! - from < space) k++;
        if (bodies && out.bytes > 0) out.add(COMMA);
        out.add(from === 0 && ends[k - 1] === bytes.length ? bytes : bytes.subarray(from, ends[k - 1]));
        this.backlog -= k - first;
        t = b * BLOCK_ROWS + k;
      }
      this.cursor = t < total ? c.start + c.takenRow(m, t) : c.end;
      if (out.bytes >= room || this.backlog === 0) break;
    }
    if (this.backlog === 0) this.cursor = this.host.log.head; // nothing further in the log is its
  }
}

const COMMA = Buffer.from(',', 'latin1');

/** What one socket write of a subscriber holds: buffers written as they are (shared blocks, no copy). */
export class FrameParts {
  readonly parts: Buffer[] = [];
  bytes = 0;

  add(part: Buffer): void {
    this.parts.push(part);
    this.bytes += part.length;
  }
}
