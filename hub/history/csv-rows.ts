/**
 * Formats history rows as CSV text, in the store worker, a chunk of rows at a time.
 * Sensor, room and metric names cannot contain a comma, quote or line break (their patterns
 * forbid them), so only the unit can need quoting; each series' fields are quoted once by
 * csv-stringify and reused for every row of the series.
 *
 * CSV injection (OWASP): a text cell that begins with = + - @, a tab or a carriage return is
 * written with a single quote before it, so a spreadsheet shows it instead of running it as a
 * formula. Units like that are refused on the way in (protocol/names.ts `unitProblem`); this
 * covers rows stored before that rule. Numbers (a negative value) are cells of their own and
 * are left alone; names cannot begin with those characters, and are guarded all the same.
 */
import { stringify } from 'csv-stringify/sync';
import type { SeriesDef } from '../store/store-messages.ts';
import { BUCKET_COLUMNS, headerRow, RAW_COLUMNS } from '../../protocol/columns.ts';

export interface SeriesFields {
  /** `sensor,room,metric` */
  names: string;
  /** the unit, RFC 4180 quoted where needed */
  unit: string;
}

export function seriesFields(series: SeriesDef[]): (SeriesFields | undefined)[] {
  const out: (SeriesFields | undefined)[] = [];
  for (const s of series) {
    out[s.id] = {
      names: stringify([[s.sensor, s.room, s.metric]], { eof: false, escape_formulas: true }),
      unit: s.unit === '' ? '' : stringify([[s.unit]], { eof: false, escape_formulas: true }),
    };
  }
  return out;
}

/** ISO 8601 UTC with milliseconds, cached per second: rows come in ts order. */
export class IsoClock {
  private second = NaN;
  private prefix = '';

  format(ms: number): string {
    const second = Math.floor(ms / 1000);
    if (second !== this.second) {
      this.second = second;
      this.prefix = new Date(second * 1000).toISOString().slice(0, 20); // "2025-11-21T08:00:00."
    }
    const frac = ms - second * 1000;
    return this.prefix + (frac < 10 ? '00' : frac < 100 ? '0' : '') + frac + 'Z';
  }
}

/**
 * A bucket's mean as the export writes it: to 12 significant digits, then kept within the
 * bucket's [min, max]. DuckDB's avg() sums binary doubles, and the sum's rounding shows in the
 * last digits (5.910000000000001 for readings of 5.91): measured at 1e-16 to 1e-14 of the value
 * for buckets of 60 to a million readings, so 12 digits drop it with room to spare. Fewer digits
 * (6, say) would cut what sensors do measure (101325.25 Pa, a counter at 1234567.5), and the
 * values' own precision is not known here (a bucket's min and max do not tell it). The clamp
 * keeps a rounded mean from leaving the range its readings span (equal readings of 15 digits).
 * Min and max are readings, written exactly as stored.
 */
export function formatMean(mean: number, min: number, max: number): string {
  const rounded = Number(mean.toPrecision(12));
  return String(Math.min(max, Math.max(min, rounded)));
}

/**
 * CSV bytes, written row by row into a buffer that is handed over whole (transferred to the
 * main thread) once it holds `sendBytes`. Each row's string dies young; a long string of many
 * rows, kept from one DuckDB chunk to the next, would be promoted to V8's old space and make
 * the worker's heap grow by tens of MB over an export (measured).
 */
export class CsvOut {
  private buf: Buffer;
  private len = 0;

  constructor(private readonly sendBytes: number) {
    this.buf = Buffer.allocUnsafeSlow(2 * sendBytes);
  }

  /** whether the buffer holds enough to be sent */
  get full(): boolean {
    return this.len >= this.sendBytes;
  }

  get empty(): boolean {
    return this.len === 0;
  }

  write(row: string): void {
    // A UTF-8 character takes at most three bytes for each UTF-16 unit.
    if (this.len + 3 * row.length > this.buf.length) {
      const bigger = Buffer.allocUnsafeSlow(Math.max(2 * this.buf.length, this.len + 3 * row.length));
      this.buf.copy(bigger, 0, 0, this.len);
      this.buf = bigger;
    }
    this.len += this.buf.write(row, this.len, 'utf8');
  }

  /** The bytes written so far, in a buffer of their own; writing goes on in a new one. */
  take(): Buffer {
    const out = this.buf.subarray(0, this.len);
    this.buf = Buffer.allocUnsafeSlow(2 * this.sendBytes);
    this.len = 0;
    return out;
  }
}

export const RAW_HEADER = headerRow(RAW_COLUMNS);
export const BUCKET_HEADER = headerRow(BUCKET_COLUMNS);
