/**
 * A byte-level bound on CSV records, in front of csv-parse. csv-parse's own `max_record_size`
 * counts the characters of fields, not separators, so a row of a million empty fields passes
 * it while the parser builds an array of a million strings. This counts every byte of a
 * record (RFC 4180: a line break inside quotes does not end it). At the first record over the
 * limit it passes on the records before it, ends its output there and drops the rest, so the
 * reader reports every bad row up to that one; `tooLong` then says where it was.
 */
import { Transform, type TransformCallback } from 'node:stream';

const QUOTE = 0x22;
const LF = 0x0a;

export interface RecordGuard extends Transform {
  /** the line (1: the header) where the first over-long record starts, once one was met */
  readonly tooLong: number | null;
}

export function recordGuard(maxBytes: number): RecordGuard {
  let quoted = false;
  let recordBytes = 0;
  let line = 1;
  let recordLine = 1;
  let tooLong: number | null = null;
  const guard = new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      if (tooLong !== null) return callback();
      // where the current record starts in this chunk (0: in an earlier chunk)
      let recordStart = 0;
      for (let i = 0; i < chunk.length; i++) {
        const b = chunk[i]!;
        if (b === QUOTE)
          quoted = !quoted; // "" inside quotes flips twice: still quoted
        else if (b === LF) {
          line++;
          if (!quoted) {
            recordBytes = 0;
            recordLine = line;
            recordStart = i + 1;
            continue;
          }
        }
        if (++recordBytes > maxBytes) {
          tooLong = recordLine;
          this.push(chunk.subarray(0, recordStart));
          this.push(null);
          return callback();
        }
      }
      callback(null, chunk);
    },
  }) as RecordGuard;
  Object.defineProperty(guard, 'tooLong', { get: () => tooLong });
  return guard;
}
