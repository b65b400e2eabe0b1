/**
 * The committed rows that stream subscribers have yet to read, held once for all of them. Each
 * subscriber keeps a cursor, a row number, into this log: publishing a commit costs one copy of
 * its stored rows whatever the number of subscribers, and a reading that no subscriber gets to
 * read (it is dropped for them) is never encoded. Rows are numbered from 0 in the order they
 * were committed.
 *
 * Chunks every cursor has passed are let go. So are the oldest beyond maxRows: a subscriber
 * still in one first takes the rows it wants out of it (LogReader.leaving), so a subscriber
 * to one sensor does not keep every other sensor's rows in memory while it reads slowly.
 */
import type { Columns } from '../store/store-messages.ts';
import type { ReadingFrames } from './stream-frames.ts';
import type { SeriesMatcher } from './stream-matcher.ts';

/** what one row costs in the log: a series id and two doubles */
export const LOG_ROW_BYTES = 20;

/** rows a block of frames holds: a socket write takes a few (64 KiB is about 500 readings) */
export const BLOCK_ROWS = 64;

/**
 * The frames of up to BLOCK_ROWS rows a matcher takes, encoded once for all its subscribers: the
 * bytes they all write (slices of it, no copy each), not a string each would turn into bytes.
 */
export interface FrameBlock {
  bytes: Buffer;
  /** by frame: the length of bytes up to its end */
  ends: Int32Array;
}

export class LogChunk {
  readonly n: number;
  readonly series: Int32Array;
  readonly ts: Float64Array;
  readonly value: Float64Array;
  /**
   * by matcher (one that filters): the offsets of the rows it takes, ascending. Made once, the
   * first time a subscriber needs them, and shared by every subscriber of the same filters.
   */
  private readonly taken = new Map<SeriesMatcher, Int32Array>();
  /** by matcher: its blocks of frames, by block number (taken row / BLOCK_ROWS) */
  private readonly blocks = new Map<SeriesMatcher, (FrameBlock | undefined)[]>();
  /** by matcher: the same blocks as unframed messages joined by commas, for batches (`ends`: after each message) */
  private readonly bodyBlocks = new Map<SeriesMatcher, (FrameBlock | undefined)[]>();
  /** bytes of the offsets and frames made so far */
  takenBytes = 0;

  constructor(
    /** the number of its first row */
    readonly start: number,
    rows: Columns,
    mask: Uint8Array | undefined,
    private readonly held: { queuedBytes: number },
  ) {
    let n = rows.n;
    if (mask) {
      n = 0;
      for (let i = 0; i < rows.n; i++) n += mask[i] === 0 ? 0 : 1;
    }
    this.n = n;
    // Copies: the commit's arrays are recycled once it has been published.
    if (n === rows.n) {
      this.series = rows.series.slice(0, n);
      this.ts = rows.ts.slice(0, n);
      this.value = rows.value.slice(0, n);
      return;
    }
    this.series = new Int32Array(n);
    this.ts = new Float64Array(n);
    this.value = new Float64Array(n);
    for (let i = 0, k = 0; i < rows.n; i++) {
      if (mask![i] === 0) continue;
      this.series[k] = rows.series[i]!;
      this.ts[k] = rows.ts[i]!;
      this.value[k++] = rows.value[i]!;
    }
  }

  /** the number after its last row */
  get end(): number {
    return this.start + this.n;
  }

  /** How many rows the matcher takes in all. */
  takenCount(matcher: SeriesMatcher): number {
    return matcher.takesAll ? this.n : this.rowsOf(matcher).length;
  }

  /** The row (offset) of the matcher's `t`-th taken row. */
  takenRow(matcher: SeriesMatcher, t: number): number {
    return matcher.takesAll ? t : this.rowsOf(matcher)[t]!;
  }

  /** Where among the matcher's taken rows those from row number `from` on begin. */
  firstTakenOf(matcher: SeriesMatcher, from: number): number {
    return matcher.takesAll ? Math.max(from, this.start) - this.start : this.firstTaken(this.rowsOf(matcher), from);
  }

  /**
   * Block `b` of the frames of the rows the matcher takes, encoded the first time it is asked
   * for; `bodies`: the messages unframed, joined by commas (a `readings` message's elements).
   */
  block(matcher: SeriesMatcher, b: number, frames: ReadingFrames, bodies = false): FrameBlock {
    const all = bodies ? this.bodyBlocks : this.blocks;
    let blocks = all.get(matcher);
    if (blocks === undefined) all.set(matcher, (blocks = []));
    let block = blocks[b];
    if (block === undefined) {
      const end = Math.min((b + 1) * BLOCK_ROWS, this.takenCount(matcher));
      const ends = new Int32Array(end - b * BLOCK_ROWS);
      let text = '';
      for (let t = b * BLOCK_ROWS, k = 0; t < end; t++, k++) {
        const i = this.takenRow(matcher, t);
        if (bodies) text += (k === 0 ? '' : ',') + frames.body(this.series[i]!, this.ts[i]!, this.value[i]!);
        else text += frames.frame(this.series[i]!, this.ts[i]!, this.value[i]!);
        ends[k] = text.length;
      }
      block = { bytes: Buffer.from(text, 'latin1'), ends };
      blocks[b] = block;
      this.takenBytes += text.length + ends.byteLength;
      this.held.queuedBytes += text.length + ends.byteLength;
    }
    return block;
  }

  /** The offsets of the rows a filtering matcher takes. */
  rowsOf(matcher: SeriesMatcher): Int32Array {
    let rows = this.taken.get(matcher);
    if (rows === undefined) {
      const all = new Int32Array(this.n);
      let k = 0;
      for (let i = 0; i < this.n; i++) if (matcher.wants(this.series[i]!)) all[k++] = i;
      rows = all.slice(0, k);
      this.taken.set(matcher, rows);
      this.takenBytes += rows.byteLength;
      this.held.queuedBytes += rows.byteLength;
    }
    return rows;
  }

  /** Where in rowsOf(matcher) the rows from row number `from` on begin. */
  firstTaken(rows: Int32Array, from: number): number {
    const offset = from - this.start;
    let lo = 0;
    let hi = rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (rows[mid]! < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** How many of its rows from row number `from` on the matcher takes. */
  count(matcher: SeriesMatcher, from: number): number {
    if (matcher.takesAll) return this.end - Math.max(from, this.start);
    const rows = this.rowsOf(matcher);
    return rows.length - this.firstTaken(rows, from);
  }

  /** The row number after the first `k` rows from `from` on that the matcher takes (the chunk's end if fewer). */
  skip(matcher: SeriesMatcher, from: number, k: number): number {
    if (matcher.takesAll) return Math.min(Math.max(from, this.start) + k, this.end);
    const rows = this.rowsOf(matcher);
    const i = this.firstTaken(rows, from) + k;
    return i < rows.length ? this.start + rows[i]! : this.end;
  }
}

/** A subscriber's place in the log. */
export interface LogReader {
  /** the number of the next row it reads */
  readonly cursor: number;
  /** `chunk`, holding its cursor, is let go: it takes what it still wants out of it and moves past it */
  leaving(chunk: LogChunk): void;
}

export class StreamLog {
  /** oldest first */
  private readonly chunks: LogChunk[] = [];
  /** the number the next row appended gets */
  head = 0;
  private rows = 0;

  constructor(
    /** rows held at most; beyond, the oldest chunks go (their readers take what they want first) */
    private readonly maxRows: number,
    /** shared with the subscribers' queues: what the stream holds in all */
    private readonly held: { queuedBytes: number },
  ) {}

  get bytes(): number {
    return this.rows * LOG_ROW_BYTES;
  }

  /** Appends the stored rows (mask 1, or all); returns their chunk, or null if none was stored. */
  append(rows: Columns, mask?: Uint8Array): LogChunk | null {
    const chunk = new LogChunk(this.head, rows, mask, this.held);
    if (chunk.n === 0) return null;
    this.chunks.push(chunk);
    this.head = chunk.end;
    this.rows += chunk.n;
    this.held.queuedBytes += chunk.n * LOG_ROW_BYTES;
    return chunk;
  }

  /** The chunks holding rows from `from` on, oldest first. */
  *from(from: number): Iterable<LogChunk> {
    for (const c of this.chunks) if (c.end > from) yield c;
  }

  /** Lets go of the chunks every reader has passed, and of the oldest beyond maxRows (after their readers took from them). */
  trim(readers: Iterable<LogReader>): void {
    let oldest = this.head;
    for (const r of readers) if (r.cursor < oldest) oldest = r.cursor;
    while (this.chunks.length > 0) {
      const c = this.chunks[0]!;
      if (c.end > oldest) {
        if (this.rows <= this.maxRows || this.chunks.length === 1) return;
        for (const r of readers) if (r.cursor < c.end) r.leaving(c);
      }
      this.chunks.shift();
      this.rows -= c.n;
      this.held.queuedBytes -= c.n * LOG_ROW_BYTES + c.takenBytes;
    }
  }

  /** Lets everything go (the stream stops). */
  clear(): void {
    for (const c of this.chunks) this.held.queuedBytes -= c.n * LOG_ROW_BYTES + c.takenBytes;
    this.chunks.length = 0;
    this.rows = 0;
  }
}
