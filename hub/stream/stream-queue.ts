/**
 * A stream subscriber's queue of readings not yet handed to its socket: a ring that grows by
 * doubling up to its limit, so an idle subscriber costs little, a full one allocates nothing
 * more per reading, and dropping the oldest is O(1). Each entry is a shared Line (its bytes
 * counted once in `queuedBytes`, while any queue holds it) with its series and ts.
 */

/**
 * A reading message as a whole WebSocket text frame, shared by the queues that hold it; `refs`
 * counts them. A server's frames are not masked, so one frame serves every subscriber as it is.
 */
export interface Line {
  readonly frame: Buffer;
  refs: number;
}

/** A final, unmasked text frame (RFC 6455 §5.2) holding `text`. */
export function textFrame(text: string): Buffer {
  const length = Buffer.byteLength(text);
  const head = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(head + length);
  frame[0] = 0x81; // FIN, opcode 1 (text)
  if (head === 2) frame[1] = length;
  else if (head === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  frame.write(text, head, 'utf8');
  return frame;
}

/** what one queued entry costs besides its Line: a reference, a series id and a ts */
export const QUEUE_ENTRY_BYTES = 20;

const INITIAL_CAPACITY = 16;

export class ReadingQueue {
  private lines: (Line | undefined)[];
  private series: Int32Array;
  private ts: Float64Array;
  private first = 0;
  private n = 0;

  constructor(
    private readonly max: number,
    /** shared by every queue of one stream: what they hold in all */
    private readonly held: { queuedBytes: number },
  ) {
    const capacity = Math.min(INITIAL_CAPACITY, max);
    this.lines = new Array<Line | undefined>(capacity);
    this.series = new Int32Array(capacity);
    this.ts = new Float64Array(capacity);
  }

  get length(): number {
    return this.n;
  }

  /** Appends; when full, the oldest entry gives way. Returns whether one was dropped. */
  push(seriesId: number, ts: number, line: Line): boolean {
    let dropped = false;
    if (this.n === this.lines.length) {
      if (this.n < this.max) this.grow();
      else {
        this.shift();
        dropped = true;
      }
    }
    const at = (this.first + this.n) % this.lines.length;
    this.lines[at] = line;
    this.series[at] = seriesId;
    this.ts[at] = ts;
    this.n++;
    this.held.queuedBytes += QUEUE_ENTRY_BYTES + (line.refs++ === 0 ? line.frame.length : 0);
    return dropped;
  }

  /** Takes the oldest entry's Line (the queue must not be empty). */
  shift(): Line {
    const line = this.lines[this.first]!;
    this.lines[this.first] = undefined;
    this.first = (this.first + 1) % this.lines.length;
    this.n--;
    this.held.queuedBytes -= QUEUE_ENTRY_BYTES + (--line.refs === 0 ? line.frame.length : 0);
    return line;
  }

  /** Empties the queue and returns its entries, oldest first (to queue again what is kept). */
  takeAll(): { lines: Line[]; series: number[]; ts: number[] } {
    const out = { lines: [] as Line[], series: [] as number[], ts: [] as number[] };
    for (let i = 0; i < this.n; i++) {
      const at = (this.first + i) % this.lines.length;
      out.lines.push(this.lines[at]!);
      out.series.push(this.series[at]!);
      out.ts.push(this.ts[at]!);
    }
    // Still referenced by `out`: the caller pushes back what it keeps before anything is freed.
    while (this.n > 0) this.shift();
    return out;
  }

  clear(): void {
    while (this.n > 0) this.shift();
  }

  private grow(): void {
    const capacity = Math.min(this.lines.length * 2, this.max);
    const lines = new Array<Line | undefined>(capacity);
    const series = new Int32Array(capacity);
    const ts = new Float64Array(capacity);
    for (let i = 0; i < this.n; i++) {
      const at = (this.first + i) % this.lines.length;
      lines[i] = this.lines[at];
      series[i] = this.series[at]!;
      ts[i] = this.ts[at]!;
    }
    this.lines = lines;
    this.series = series;
    this.ts = ts;
    this.first = 0;
  }
}
