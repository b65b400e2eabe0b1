/**
 * Framing of the sensor protocol: one message per line, `\n`-terminated, a `\r` before it
 * ignored, empty lines skipped, at most `maxLineBytes` bytes a line including its end.
 * Holds at most one partial line, so memory per connection is bounded by the limit.
 */

export type LineResult = 'ok' | 'too-long' | 'stopped';

export class LineSplitter {
  private partial: Buffer[] = [];
  private partialBytes = 0;

  constructor(private readonly maxLineBytes: number) {}

  /**
   * Feeds a chunk; calls `onLine` for each complete line. `onLine` returns false to stop
   * (the connection was closed); the rest of the chunk is then discarded.
   */
  push(chunk: Buffer, onLine: (line: string) => boolean | void): LineResult {
    let start = 0;
    const length = chunk.length;
    while (start < length) {
      const nl = chunk.indexOf(10, start);
      if (nl === -1) {
        const rest = length - start;
        // The line's own end would still have to come, so a partial line of maxLineBytes is already too long.
        if (this.partialBytes + rest >= this.maxLineBytes) return this.reset('too-long');
        this.partial.push(start === 0 ? chunk : chunk.subarray(start));
        this.partialBytes += rest;
        return 'ok';
      }
      let line: string;
      if (this.partialBytes > 0) {
        if (this.partialBytes + (nl - start) + 1 > this.maxLineBytes) return this.reset('too-long');
        this.partial.push(chunk.subarray(start, nl));
        const whole = Buffer.concat(this.partial, this.partialBytes + (nl - start));
        this.partial = [];
        this.partialBytes = 0;
        line = lineText(whole, 0, whole.length);
      } else {
        if (nl - start + 1 > this.maxLineBytes) return this.reset('too-long');
        line = lineText(chunk, start, nl);
      }
      start = nl + 1;
      if (line.length === 0) continue;
      if (onLine(line) === false) return this.reset('stopped');
    }
    return 'ok';
  }

  /** Bytes of an unfinished line held: a stream that ends with some left ended mid-message. */
  get pendingBytes(): number {
    return this.partialBytes;
  }

  private reset(result: LineResult): LineResult {
    this.partial = [];
    this.partialBytes = 0;
    return result;
  }
}

function lineText(buf: Buffer, start: number, end: number): string {
  if (end > start && buf[end - 1] === 13) end--;
  return buf.toString('utf8', start, end);
}
