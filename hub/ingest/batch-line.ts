/**
 * The sensor port's fast path for its commonest lines, a batch or a reading written the way the
 * contract's examples and our simulator write them:
 *
 *   {"type":"batch","seq":12,"readings":[{"metric":"temperature","value":21.5,"ts":1733000000000},...]}
 *   {"type":"reading","metric":"temperature","value":21.5,"ts":1733000000000,"seq":12}
 *
 * read straight from the line's text into reused arrays. JSON.parse builds an object, a string
 * and two boxed numbers per reading, and took 59 % of the main thread in a profile of the batch
 * ingest. This path takes only the exact shape above (seq and ts each optional): any other key
 * order, a space, a unit, an escape, an exponent, more than 15 digits, a name or ts outside the
 * contract's rules returns false, and the line takes the general path (JSON.parse, decode.ts),
 * which answers whatever is wrong. So it accepts only lines the general path accepts, with the
 * same numbers: at most 15 digits make an integer below 2^53, and that integer divided by an
 * exact power of ten is the correctly rounded double JSON.parse gives.
 */
import { MAX_BATCH_READINGS, MAX_FUTURE_MS, MIN_TS_MS } from '../../protocol/names.ts';

export interface ScannedLine {
  /** the line was a `reading` (one reading, no `readings` array) */
  single: boolean;
  /** -1: none */
  seq: number;
  n: number;
  /** by reading: its metric (one string object per distinct name, reused) */
  readonly metric: string[];
  readonly value: Float64Array;
  /** NaN: the reading has no ts */
  readonly ts: Float64Array;
}

export function scannedLine(): ScannedLine {
  return {
    single: false,
    seq: -1,
    n: 0,
    metric: new Array<string>(MAX_BATCH_READINGS).fill(''),
    value: new Float64Array(MAX_BATCH_READINGS),
    ts: new Float64Array(MAX_BATCH_READINGS),
  };
}

const BATCH_HEAD = '{"type":"batch",';
const READING_HEAD = '{"type":"reading",';
const SEQ = '"seq":';
const READINGS = '"readings":[';
const METRIC = '{"metric":"';
const METRIC_KEY = '"metric":"';
const VALUE = '","value":';
const TS = ',"ts":';
const SEQ_AFTER = ',"seq":';

const QUOTE = 34;
const COMMA = 44;
const MINUS = 45;
const DOT = 46;
const ZERO = 48;
const NINE = 57;
const CLOSE_BRACKET = 93;
const CLOSE_BRACE = 125;

/** 10^k, exact as doubles up to 10^22 */
const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);
/** digits that always make an integer below 2^53 */
const MAX_DIGITS = 15;
const MAX_METRIC_CHARS = 64;

/**
 * Whether `line` has `lit` at `i`. A loop over char codes that the compiler inlines: a call of
 * startsWith per key cost as much as JSON.parse saved.
 */
function has(line: string, i: number, lit: string): boolean {
  const n = lit.length;
  if (i + n > line.length) return false;
  for (let k = 0; k < n; k++) if (line.charCodeAt(i + k) !== lit.charCodeAt(k)) return false;
  return true;
}

/** where the last number or name scanned ended (module state: the scan allocates nothing) */
let at = 0;

/**
 * Metric names seen lately, so a reading's metric is a string the session already holds (its
 * series cache's key) instead of a new one. Bounded; a name not among them is sliced once and
 * takes the place of the oldest.
 */
const names: string[] = [];
const MAX_NAMES = 32;
let nextName = 0;
let hint = 0;

/** Reads `line` into `out` if it has the shape above and breaks no rule; false sends it the general way. */
export function scanLine(line: string, nowMs: number, out: ScannedLine): boolean {
  if (line.startsWith(BATCH_HEAD)) return scanBatch(line, nowMs, out);
  if (line.startsWith(READING_HEAD)) return scanReading(line, nowMs, out);
  return false;
}

function scanBatch(line: string, nowMs: number, out: ScannedLine): boolean {
  let i = BATCH_HEAD.length;
  out.single = false;
  out.seq = -1;
  if (has(line, i, SEQ)) {
    const seq = integer(line, i + SEQ.length);
    if (seq < 0 || line.charCodeAt(at) !== COMMA) return false;
    out.seq = seq;
    i = at + 1;
  }
  if (!has(line, i, READINGS)) return false;
  i += READINGS.length;
  let n = 0;
  for (;;) {
    if (n === MAX_BATCH_READINGS || !has(line, i, METRIC)) return false;
    if (!element(line, i + METRIC.length, nowMs, out, n++)) return false;
    const c = line.charCodeAt(at);
    if (c === COMMA) {
      i = at + 1;
      continue;
    }
    if (c !== CLOSE_BRACKET || line.charCodeAt(at + 1) !== CLOSE_BRACE || at + 2 !== line.length) return false;
    out.n = n;
    return true;
  }
}

function scanReading(line: string, nowMs: number, out: ScannedLine): boolean {
  const i = READING_HEAD.length;
  out.single = true;
  out.seq = -1;
  if (!has(line, i, METRIC_KEY) || !element(line, i + METRIC_KEY.length, nowMs, out, 0)) return false;
  // element() stopped at the reading's closing brace, which is the line's unless a seq follows
  if (at + 1 === line.length) {
    out.n = 1;
    return line.charCodeAt(at) === CLOSE_BRACE;
  }
  return false;
}

/**
 * One reading from its metric's first character: `name","value":NUM[,"ts":INT]` and then `}`
 * (a batch element) or, in a `reading` line, `,"seq":INT}`. Leaves `at` on the closing brace's
 * next character for an element, on the closing brace itself for a reading line.
 */
function element(line: string, i: number, nowMs: number, out: ScannedLine, k: number): boolean {
  const metric = name(line, i);
  if (metric === null || !has(line, at, VALUE)) return false;
  const value = decimal(line, at + VALUE.length);
  if (Number.isNaN(value)) return false;
  out.metric[k] = metric;
  out.value[k] = value;
  out.ts[k] = NaN;
  if (has(line, at, TS)) {
    const ts = integer(line, at + TS.length);
    if (ts < MIN_TS_MS || ts > nowMs + MAX_FUTURE_MS) return false;
    out.ts[k] = ts;
  }
  if (out.single) {
    if (has(line, at, SEQ_AFTER)) {
      const seq = integer(line, at + SEQ_AFTER.length);
      if (seq < 0) return false;
      out.seq = seq;
    }
    return line.charCodeAt(at) === CLOSE_BRACE;
  }
  if (line.charCodeAt(at) !== CLOSE_BRACE) return false;
  at++;
  return true;
}

/** A metric name (^[a-z][a-z0-9_]{0,63}$) closed by a quote (`at` is left on it): a string held in `names`, or null. */
function name(line: string, i: number): string | null {
  // The name that followed the last one found is the likeliest (a sensor's metrics come in turn).
  for (let tries = 0, j = hint; tries < names.length; tries++, j = j + 1 === names.length ? 0 : j + 1) {
    const known = names[j]!;
    if (has(line, i, known) && line.charCodeAt(i + known.length) === QUOTE) {
      hint = j + 1 === names.length ? 0 : j + 1;
      at = i + known.length;
      return known;
    }
  }
  let end = i;
  for (;;) {
    const c = line.charCodeAt(end);
    if (c === QUOTE) break;
    const lower = c >= 97 && c <= 122;
    if (!(lower || (end > i && ((c >= ZERO && c <= NINE) || c === 95)))) return null;
    if (++end - i > MAX_METRIC_CHARS) return null;
  }
  if (end === i) return null;
  const fresh = line.slice(i, end);
  if (names.length < MAX_NAMES) names.push(fresh);
  else {
    names[nextName] = fresh;
    nextName = (nextName + 1) % MAX_NAMES;
  }
  at = end;
  return fresh;
}

/** A JSON number without exponent and with at most 15 digits, exactly as JSON.parse reads it; NaN otherwise. */
function decimal(line: string, i: number): number {
  const negative = line.charCodeAt(i) === MINUS;
  if (negative) i++;
  let m = 0;
  let digits = 0;
  let c = line.charCodeAt(i);
  if (c === ZERO) {
    i++;
    digits = 1;
    c = line.charCodeAt(i);
    if (c >= ZERO && c <= NINE) return NaN; // a leading zero: not JSON
  } else {
    while (c >= ZERO && c <= NINE) {
      m = m * 10 + (c - ZERO);
      digits++;
      c = line.charCodeAt(++i);
    }
    if (digits === 0) return NaN;
  }
  let scale = 0;
  if (c === DOT) {
    c = line.charCodeAt(++i);
    while (c >= ZERO && c <= NINE) {
      m = m * 10 + (c - ZERO);
      digits++;
      scale++;
      c = line.charCodeAt(++i);
    }
    if (scale === 0) return NaN;
  }
  // An exponent, or too many digits to be sure of the same double: the general path.
  if (digits > MAX_DIGITS || c === 101 || c === 69) return NaN;
  at = i;
  const v = scale === 0 ? m : m / POW10[scale]!;
  return negative ? -v : v;
}

/** A non-negative JSON integer of at most 15 digits; -1 otherwise (a fraction, a sign, an exponent). */
function integer(line: string, i: number): number {
  let c = line.charCodeAt(i);
  if (c === ZERO) {
    at = i + 1;
    c = line.charCodeAt(at);
    return (c >= ZERO && c <= NINE) || c === DOT || c === 101 || c === 69 ? -1 : 0;
  }
  let m = 0;
  let digits = 0;
  while (c >= ZERO && c <= NINE) {
    m = m * 10 + (c - ZERO);
    digits++;
    c = line.charCodeAt(++i);
  }
  if (digits === 0 || digits > MAX_DIGITS || c === DOT || c === 101 || c === 69) return -1;
  at = i;
  return m;
}
