/**
 * The common line of line protocol read without an object per point (influx-write.ts): a body
 * with no quote and no backslash, whose lines are `measurement[,tag=value...] field=number[,...]
 * [timestamp]` with plain decimal numbers. Each distinct `measurement,tags` text (the series key,
 * as InfluxDB calls it) is parsed once and kept: its sensor, room and metric names. Everything
 * else (escapes, strings, integers `12i`, exponents, booleans, a line with a fault) is left to
 * the full parser (influx-line.ts), so answers and errors are the same whichever reads a line.
 */
import { metricName } from '../ingest/foreign-names.ts';
import type { Precision } from './influx-line.ts';

/** A series key's mapping: what every line with this `measurement,tags` text becomes. */
export interface KeyInfo {
  measurement: string;
  /** the tag `sensor`, else `host` */
  sensor: string;
  room: string | undefined;
  /** by field key: its metric */
  metrics: Map<string, string>;
  /** the last field key looked up, and its metric: most keys have one field */
  lastField: string;
  lastMetric: string;
}

/**
 * Series keys kept at most, and the longest kept (a longer one is parsed each time); past the
 * count the cache starts over (a key costs a parse to learn again). So a client's keys hold at
 * most about 20,000 x 256 characters, and each key's field names 64 x 64.
 */
const MAX_KEYS = 20_000;
const MAX_KEY_CHARS = 256;
const MAX_FIELD_KEYS = 64;
const MAX_FIELD_KEY_CHARS = 64;
/** Fields of a line the fast path takes; a line with more goes the full way. */
const MAX_FIELDS = 16;
/** Digits of a number read exactly as an integer and a power of ten (under 2^53, and 10^k exact). */
const MAX_DIGITS = 15;

const NL = 10;
const SPACE = 32;
const COMMA = 44;
const MINUS = 45;
const DOT = 46;
const EQUALS = 61;
const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);

/** Whether the fast path may read `text` at all: no quote (strings) and no backslash (escapes) anywhere. */
export function fastReadable(text: string): boolean {
  return text.indexOf('"') === -1 && text.indexOf('\\') === -1;
}

/** One line's fields, as fastLine left them: keys' bounds in the text, values. */
export const fields = {
  n: 0,
  keyStart: new Int32Array(MAX_FIELDS),
  keyEnd: new Int32Array(MAX_FIELDS),
  value: new Float64Array(MAX_FIELDS),
  /** ms, or NaN: the line gave no timestamp */
  tsMs: NaN,
};

export class FastLines {
  private readonly keys = new Map<string, KeyInfo>();

  /** Series keys kept now (bounded by MAX_KEYS). */
  get keyCount(): number {
    return this.keys.size;
  }

  /**
   * Reads line [s, e) (not blank, not a comment) into `fields`; its series key's mapping, or null
   * when the line must go the full way (nothing was taken from it then).
   */
  read(text: string, s: number, e: number, precision: Precision): KeyInfo | null {
    let i = s;
    while (i < e) {
      const c = text.charCodeAt(i);
      if (c === SPACE) break;
      i++;
    }
    if (i >= e || i === s) return null;
    const info = this.keyInfo(text, s, i);
    if (info === null) return null;
    while (i < e && text.charCodeAt(i) === SPACE) i++;
    // ---- fields: key=number, by commas
    let n = 0;
    for (;;) {
      if (n === MAX_FIELDS) return null;
      const ks = i;
      while (i < e) {
        const c = text.charCodeAt(i);
        if (c === EQUALS || c === COMMA || c === SPACE) break;
        i++;
      }
      if (i === ks || i >= e || text.charCodeAt(i) !== EQUALS) return null;
      fields.keyStart[n] = ks;
      fields.keyEnd[n] = i;
      i++;
      const value = decimal(text, i, e);
      if (Number.isNaN(value)) return null;
      fields.value[n++] = value;
      i = scanEnd;
      if (i >= e || text.charCodeAt(i) === SPACE) break;
      i++; // a comma
    }
    fields.n = n;
    // ---- timestamp
    while (i < e && text.charCodeAt(i) === SPACE) i++;
    fields.tsMs = NaN;
    if (i < e) {
      const ts = timestamp(text, i, e, precision);
      if (Number.isNaN(ts)) return null;
      i = scanEnd;
      while (i < e && text.charCodeAt(i) === SPACE) i++;
      if (i < e) return null;
      fields.tsMs = ts;
    }
    return info;
  }

  /** The metric of field k of the line just read. */
  metric(info: KeyInfo, text: string, k: number): string {
    const ks = fields.keyStart[k]!;
    const len = fields.keyEnd[k]! - ks;
    const last = info.lastField;
    if (len === last.length && text.startsWith(last, ks)) return info.lastMetric;
    const key = text.slice(ks, ks + len);
    let metric = info.metrics.get(key);
    if (metric === undefined) {
      metric = metricName(key === 'value' ? info.measurement : `${info.measurement}_${key}`);
      if (info.metrics.size < MAX_FIELD_KEYS && key.length <= MAX_FIELD_KEY_CHARS) info.metrics.set(key, metric);
    }
    if (len <= MAX_FIELD_KEY_CHARS) {
      info.lastField = key;
      info.lastMetric = metric;
    }
    return metric;
  }

  /** The field key of field k of the line just read (for an answer naming it). */
  fieldKey(text: string, k: number): string {
    return text.slice(fields.keyStart[k], fields.keyEnd[k]);
  }

  /** The mapping of series key [s, e), learnt at its first line; null if the key is not a plain one with a sensor. */
  private keyInfo(text: string, s: number, e: number): KeyInfo | null {
    const key = text.slice(s, e);
    const known = this.keys.get(key);
    if (known !== undefined) return known;
    const info = parseKey(key);
    if (info === null || key.length > MAX_KEY_CHARS) return info;
    if (this.keys.size >= MAX_KEYS) this.keys.clear();
    this.keys.set(key, info);
    return info;
  }
}

/** `measurement,k=v,...` without escapes: its mapping, or null (a fault, or no sensor: the full parser says what). */
function parseKey(key: string): KeyInfo | null {
  const parts = key.split(',');
  const measurement = parts[0]!;
  if (measurement === '') return null;
  const tags = new Map<string, string>();
  for (let t = 1; t < parts.length; t++) {
    const part = parts[t]!;
    const eq = part.indexOf('=');
    if (eq <= 0 || eq === part.length - 1 || part.indexOf('=', eq + 1) !== -1) return null;
    const k = part.slice(0, eq);
    if (tags.has(k)) return null;
    tags.set(k, part.slice(eq + 1));
  }
  const sensor = tags.get('sensor') ?? tags.get('host');
  if (sensor === undefined) return null;
  return { measurement, sensor, room: tags.get('room'), metrics: new Map(), lastField: '', lastMetric: '' };
}

// Where the last decimal() or timestamp() stopped: no object per call.
let scanEnd = 0;

/**
 * A float as InfluxDB writes one, `-?digits[.digits]` or `-?.digits`, up to a comma, a space or
 * `e`: read as an integer over a power of ten, which is exactly Number()'s value for up to 15
 * digits. NaN for anything else (an exponent, `12i`, a boolean, too many digits): the full way.
 */
function decimal(text: string, i: number, e: number): number {
  let negative = false;
  if (i < e && text.charCodeAt(i) === MINUS) {
    negative = true;
    i++;
  }
  let m = 0;
  let digits = 0;
  let frac = -1;
  for (; i < e; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      m = m * 10 + (c - 48);
      digits++;
    } else if (c === DOT && frac === -1) frac = digits;
    else break;
  }
  if (digits === 0 || digits > MAX_DIGITS) return NaN;
  if (i < e) {
    const c = text.charCodeAt(i);
    if (c !== COMMA && c !== SPACE && c !== NL) return NaN;
  }
  scanEnd = i;
  const v = frac === -1 ? m : m / POW10[digits - frac]!;
  return negative ? -v : v;
}

/** by precision: digits below the ms, or the unit's length in ms */
const SUB_MS_DIGITS: Readonly<Record<Precision, number>> = { ns: 6, us: 3, ms: 0, s: 0, m: 0, h: 0 };
const MS_PER_UNIT: Readonly<Record<Precision, number>> = { ns: 1, us: 1, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A non-negative int64 timestamp in `precision`, in ms rounded down; NaN otherwise (the full way). */
function timestamp(text: string, i: number, e: number, precision: Precision): number {
  const from = i;
  while (i < e) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) break;
    i++;
  }
  const len = i - from;
  // 19 digits fit an int64 when the first is below 9 (today's ns timestamps); the rest go the full way.
  if (len === 0 || len > 19 || (len === 19 && text.charCodeAt(from) >= 57) || (i < e && text.charCodeAt(i) !== SPACE)) return NaN;
  scanEnd = i;
  const cut = SUB_MS_DIGITS[precision];
  const kept = len - cut;
  if (kept > MAX_DIGITS) return NaN;
  let ms = 0;
  for (let k = from; k < from + kept; k++) ms = ms * 10 + (text.charCodeAt(k) - 48);
  return cut === 0 ? ms * MS_PER_UNIT[precision] : ms;
}
