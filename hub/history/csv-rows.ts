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
 *
 * The same text as String(clamp(Number(mean.toPrecision(12)))), at about half the cost (it was
 * the largest part of a bucketed export's formatting): a mean whose shortest form has at most 12
 * characters has at most 12 digits, so rounding to 12 leaves it as it is; otherwise the
 * toPrecision text loses its trailing zeros instead of going through Number and String (two
 * decimals of at most 12 digits are never the same double, so that is String's shortest form).
 * Exponent forms, where toPrecision and String differ, take the long way.
 */
export function formatMean(mean: number, min: number, max: number): string {
  const short = String(mean);
  if (short.length <= 12 && mean >= min && mean <= max) return short;
  let text = mean.toPrecision(12);
  if (text.includes('e')) return String(Math.min(max, Math.max(min, Number(text))));
  if (text.includes('.')) {
    let end = text.length;
    while (text.charCodeAt(end - 1) === 48 /* 0 */) end--;
    if (text.charCodeAt(end - 1) === 46 /* . */) end--;
    text = text.slice(0, end);
  }
  const rounded = Number(text);
  return rounded >= min && rounded <= max ? text : String(Math.min(max, Math.max(min, rounded)));
}

/**
 * CSV bytes, written into a buffer that is handed over whole (transferred to the main thread)
 * once it holds `sendBytes`. Rows are joined ROWS_PER_WRITE at a time before they are encoded
 * (a Buffer.write per row cost about as much as formatting the row); such a string of a few KB
 * dies young. A long string of many rows, kept from one DuckDB chunk to the next, would be
 * promoted to V8's old space and make the worker's heap grow by tens of MB over an export (measured).
 */
export class CsvOut {
  private buf: Buffer;
  private len = 0;
  private pending = '';
  private pendingRows = 0;

  constructor(private readonly sendBytes: number) {
    this.buf = Buffer.allocUnsafeSlow(2 * sendBytes);
  }

  /** whether the buffer holds enough to be sent */
  get full(): boolean {
    if (this.pendingRows > 0 && this.len + 3 * this.pending.length >= this.sendBytes) this.flush();
    return this.len >= this.sendBytes;
  }

  get empty(): boolean {
    return this.len === 0 && this.pendingRows === 0;
  }

  write(row: string): void {
    this.pending += row;
    if (++this.pendingRows >= ROWS_PER_WRITE) this.flush();
  }

  private flush(): void {
    const text = this.pending;
    this.pending = '';
    this.pendingRows = 0;
    // A UTF-8 character takes at most three bytes for each UTF-16 unit.
    if (this.len + 3 * text.length > this.buf.length) {
      const bigger = Buffer.allocUnsafeSlow(Math.max(2 * this.buf.length, this.len + 3 * text.length));
      this.buf.copy(bigger, 0, 0, this.len);
      this.buf = bigger;
    }
    this.len += this.buf.write(text, this.len, 'utf8');
  }

  /** The bytes written so far, in a buffer of their own; writing goes on in a new one. */
  take(): Buffer {
    if (this.pendingRows > 0) this.flush();
    const out = this.buf.subarray(0, this.len);
    this.buf = Buffer.allocUnsafeSlow(2 * this.sendBytes);
    this.len = 0;
    return out;
  }
}

/** rows joined into one string before CsvOut encodes them */
const ROWS_PER_WRITE = 64;

export const RAW_HEADER = headerRow(RAW_COLUMNS);
export const BUCKET_HEADER = headerRow(BUCKET_COLUMNS);
