/**
 * InfluxDB line protocol, parsed as InfluxDB 1.x and 2.x parse it (no npm parser is maintained:
 * the one on npm dates from 2016 and handles neither escapes nor quoted strings):
 *
 *     measurement[,tag=value...] field=value[,field=value...] [timestamp]
 *
 * - Lines end at `\n` outside a quoted field string (a string may hold a newline); a `\r`
 *   before it is dropped. Blank lines and lines starting with `#` are skipped; spaces before a
 *   line, between its parts and after it are allowed, a tab is not a separator.
 * - In the measurement, tag keys, tag values and field keys `\,`, `\=` and `\ ` stand for the
 *   character; any other backslash is literal.
 * - Field values: a float (`1`, `-1.5`, `.5`, `1e-3`), an integer `12i` (int64), an unsigned
 *   integer `12u` (uint64), a string `"..."` (`\"` and `\\` escaped), a boolean
 *   (`t T true True TRUE f F false False FALSE`).
 * - The timestamp is an integer in the request's precision (ns by default); it is given here in
 *   ms, rounded down (a finer part is dropped: two points in the same ms have one identity).
 *
 * A bad line gets InfluxDB's own reason ("missing tag value", "unbalanced quotes", "bad
 * timestamp", ...). The caller gets each line's place in the text, to name it in an answer.
 */

export const PRECISIONS = ['ns', 'us', 'ms', 's', 'm', 'h'] as const;
export type Precision = (typeof PRECISIONS)[number];

export type LineField =
  | { key: string; kind: 'float' | 'integer' | 'unsigned'; value: number }
  | { key: string; kind: 'string'; value: string }
  | { key: string; kind: 'boolean'; value: boolean };

export interface LinePoint {
  measurement: string;
  /** in the order written; keys are unique */
  tags: { key: string; value: string }[];
  fields: LineField[];
  /** ms since the epoch (rounded down), or null: the line gave no timestamp */
  tsMs: number | null;
}

export type LineResult = { ok: true; point: LinePoint } | { ok: false; reason: string };

/** Where a line is in the text: [start, end), and its number counted from 1. */
export interface LineSpan {
  start: number;
  end: number;
  number: number;
}

const NL = 10;
const CR = 13;
const SPACE = 32;
const QUOTE = 34;
const HASH = 35;
const COMMA = 44;
const EQUALS = 61;
const BACKSLASH = 92;

const TRUE_WORDS = new Set(['t', 'T', 'true', 'True', 'TRUE']);
const FALSE_WORDS = new Set(['f', 'F', 'false', 'False', 'FALSE']);

const INT64_MAX = 9223372036854775807n;
const UINT64_MAX = 18446744073709551615n;

/** Calls `each` for every line that is not blank or a comment, in order. */
export function parseLines(text: string, precision: Precision, each: (result: LineResult, span: LineSpan) => void): void {
  let start = 0;
  let number = 0;
  // The next quote at or after `start`: a line without one is found with indexOf alone.
  let nextQuote = text.indexOf('"');
  while (start < text.length) {
    number++;
    let end: number;
    let quoted = false;
    if (nextQuote !== -1 && nextQuote < start) nextQuote = text.indexOf('"', start);
    const nl = text.indexOf('\n', start);
    if (nextQuote === -1 || (nl !== -1 && nextQuote > nl)) end = nl === -1 ? text.length : nl;
    else {
      end = quotedLineEnd(text, start);
      quoted = true;
    }
    const next = end + 1;
    if (end > start && text.charCodeAt(end - 1) === CR) end--;
    let s = start;
    while (s < end && text.charCodeAt(s) === SPACE) s++;
    const lineNumber = number;
    // A newline inside a quoted string ends no line: the next line's number counts the ones this one spans.
    if (quoted) for (let i = text.indexOf('\n', start); i !== -1 && i < end; i = text.indexOf('\n', i + 1)) number++;
    if (s < end && text.charCodeAt(s) !== HASH) each(parseLine(text, s, end, precision), { start: s, end, number: lineNumber });
    start = next;
  }
}

/**
 * Where a line with a quote ends: at the first newline outside a field's quoted string, as
 * InfluxDB's scanner finds it (a quote opens a string only after a field's `=`). Unbalanced
 * quotes run to the end of the text, as in InfluxDB.
 */
function quotedLineEnd(text: string, i: number): number {
  let fields = false;
  let quoted = false;
  let equals = 0;
  let commas = 0;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === BACKSLASH && i + 2 < text.length) {
      i++;
      continue;
    }
    if (c === SPACE) fields = true;
    if (fields) {
      if (!quoted && c === EQUALS) {
        equals++;
        continue;
      }
      if (!quoted && c === COMMA) {
        commas++;
        continue;
      }
      if (c === QUOTE && equals > commas) {
        quoted = !quoted;
        continue;
      }
    }
    if (c === NL && !quoted) return i;
  }
  return text.length;
}

/** Parses one line [s, e) that is neither blank nor a comment. */
export function parseLine(text: string, s: number, e: number, precision: Precision): LineResult {
  const p = parsePoint(text, s, e, precision);
  return typeof p === 'string' ? { ok: false, reason: p } : { ok: true, point: p };
}

// The scanners return their value and leave where they stopped here: no object per call, and no
// exception for a bad line (both kept the parser's JIT-compiled code several times slower).
let scanEnd = 0;

/** The point, or why the line is bad (InfluxDB's words). */
function parsePoint(text: string, s: number, e: number, precision: Precision): LinePoint | string {
  let i = s;
  // ---- measurement
  const measurement = scanName(text, i, e, false);
  if (scanEnd === i) return 'missing measurement';
  i = scanEnd;
  // ---- tags
  const tags: { key: string; value: string }[] = [];
  while (i < e && text.charCodeAt(i) === COMMA) {
    i++;
    const key = scanName(text, i, e, true);
    if (scanEnd === i) return 'missing tag key';
    if (scanEnd >= e || text.charCodeAt(scanEnd) !== EQUALS) return 'missing tag value';
    i = scanEnd + 1;
    const value = scanName(text, i, e, true);
    if (scanEnd === i) return 'missing tag value';
    if (scanEnd < e && text.charCodeAt(scanEnd) === EQUALS) return 'invalid tag format';
    i = scanEnd;
    for (let t = 0; t < tags.length; t++) if (tags[t]!.key === key) return 'duplicate tags';
    tags.push({ key, value });
  }
  // ---- fields
  if (i < e && text.charCodeAt(i) !== SPACE) return 'invalid tag format';
  while (i < e && text.charCodeAt(i) === SPACE) i++;
  if (i >= e) return 'missing fields';
  const fields: LineField[] = [];
  for (;;) {
    const key = scanName(text, i, e, true);
    if (scanEnd >= e || text.charCodeAt(scanEnd) !== EQUALS) return scanEnd === i ? 'missing field key' : 'missing fields';
    if (scanEnd === i) return 'missing field key';
    i = scanEnd + 1;
    if (i >= e || text.charCodeAt(i) === SPACE || text.charCodeAt(i) === COMMA) return 'missing field value';
    if (text.charCodeAt(i) === QUOTE) {
      const value = scanString(text, i + 1, e);
      if (value === null) return 'unbalanced quotes';
      fields.push({ key, kind: 'string', value });
      i = scanEnd;
    } else {
      let j = i;
      while (j < e && text.charCodeAt(j) !== COMMA && text.charCodeAt(j) !== SPACE) j++;
      const field = fieldValue(key, text.slice(i, j));
      if (typeof field === 'string') return field;
      fields.push(field);
      i = j;
    }
    if (i >= e) break;
    if (text.charCodeAt(i) === SPACE) break;
    // a comma: another field must follow
    i++;
    if (i >= e || text.charCodeAt(i) === SPACE) return 'invalid field format';
  }
  // ---- timestamp
  while (i < e && text.charCodeAt(i) === SPACE) i++;
  let tsMs: number | null = null;
  if (i < e) {
    let j = i;
    while (j < e && text.charCodeAt(j) !== SPACE) j++;
    tsMs = tsOf(text.slice(i, j), precision);
    if (Number.isNaN(tsMs)) return tsReason;
    while (j < e && text.charCodeAt(j) === SPACE) j++;
    if (j < e) return 'point is invalid';
  }
  return { measurement, tags, fields, tsMs };
}

/**
 * A measurement, tag key, tag value or field key from `i`: up to an unescaped space, comma,
 * or (unless `stopAtEquals` is false, as for a measurement) equals sign. Leaves its end in scanEnd.
 */
function scanName(text: string, i: number, e: number, stopAtEquals: boolean): string {
  const from = i;
  let escaped = false;
  for (; i < e; i++) {
    const c = text.charCodeAt(i);
    if (c === BACKSLASH && i + 1 < e) {
      const n = text.charCodeAt(i + 1);
      if (n === COMMA || n === SPACE || n === EQUALS) {
        escaped = true;
        i++;
        continue;
      }
    }
    if (c === SPACE || c === COMMA || (stopAtEquals && c === EQUALS)) break;
  }
  scanEnd = i;
  const raw = text.slice(from, i);
  return escaped ? raw.replace(UNESCAPE, '$1') : raw;
}

const UNESCAPE = /\\([ ,=])/g;

/** A quoted string's content from after its opening quote, or null if it never closes; scanEnd is after the closing quote. */
function scanString(text: string, i: number, e: number): string | null {
  let out = '';
  let from = i;
  for (; i < e; i++) {
    const c = text.charCodeAt(i);
    if (c === BACKSLASH && i + 1 < e) {
      const n = text.charCodeAt(i + 1);
      if (n === QUOTE || n === BACKSLASH) {
        out += text.slice(from, i);
        from = i + 1;
        i++;
      }
      continue;
    }
    if (c === QUOTE) {
      scanEnd = i + 1;
      return out + text.slice(from, i);
    }
  }
  return null;
}

/** A field value that is not a string: a number (float, integer, unsigned) or a boolean; or why it is neither. */
function fieldValue(key: string, token: string): LineField | string {
  const last = token.charCodeAt(token.length - 1);
  if (last === 105 /* i */ || last === 117 /* u */) {
    const digits = token.slice(0, -1);
    const unsigned = last === 117;
    if (!allDigits(!unsigned && digits.charCodeAt(0) === 45 ? digits.slice(1) : digits)) {
      if (TRUE_WORDS.has(token) || FALSE_WORDS.has(token)) return { key, kind: 'boolean', value: TRUE_WORDS.has(token) };
      return unsigned ? 'invalid unsigned integer' : 'invalid integer';
    }
    // 18 digits always fit: BigInt only for the long ones
    if (digits.length > 18) {
      const big = BigInt(digits);
      if (unsigned ? big > UINT64_MAX : big > INT64_MAX || big < -INT64_MAX - 1n) return 'value out of range';
    }
    return { key, kind: unsigned ? 'unsigned' : 'integer', value: Number(digits) };
  }
  if (isFloat(token)) return { key, kind: 'float', value: Number(token) };
  if (TRUE_WORDS.has(token)) return { key, kind: 'boolean', value: true };
  if (FALSE_WORDS.has(token)) return { key, kind: 'boolean', value: false };
  const c = token.charCodeAt(0);
  if ((c >= 48 && c <= 57) || c === 45 || c === 46 || c === 43) return 'invalid number';
  return 'invalid boolean';
}

/** `-?(digits[.digits] | .digits)([eE][+-]?digits)?`: what InfluxDB takes as a float (no `+1`, `NaN`, `inf`). */
function isFloat(t: string): boolean {
  let i = 0;
  const n = t.length;
  if (t.charCodeAt(0) === 45) i++;
  const intStart = i;
  while (i < n && isDigit(t.charCodeAt(i))) i++;
  let digits = i - intStart;
  if (i < n && t.charCodeAt(i) === 46) {
    const fracStart = ++i;
    while (i < n && isDigit(t.charCodeAt(i))) i++;
    digits += i - fracStart;
  }
  if (digits === 0) return false;
  if (i < n && (t.charCodeAt(i) === 101 || t.charCodeAt(i) === 69)) {
    i++;
    if (i < n && (t.charCodeAt(i) === 43 || t.charCodeAt(i) === 45)) i++;
    const expStart = i;
    while (i < n && isDigit(t.charCodeAt(i))) i++;
    if (i === expStart) return false;
  }
  return i === n;
}

/** A non-empty run of 0-9. */
function allDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!isDigit(s.charCodeAt(i))) return false;
  return true;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** by precision: the number of decimal digits a ms has in that unit (ns 6, us 3), or its length in ms. */
const SUB_MS_DIGITS: Readonly<Record<Precision, number>> = { ns: 6, us: 3, ms: 0, s: 0, m: 0, h: 0 };
const MS_PER_UNIT: Readonly<Record<Precision, number>> = { ns: 1, us: 1, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** An int64 timestamp in `precision`, in ms rounded down; exact for every int64 (no float division). Throws on a bad one. */
export function timestampMs(token: string, precision: Precision): number {
  const ms = tsOf(token, precision);
  if (Number.isNaN(ms)) throw new Error(tsReason);
  return ms;
}

/** Why the last tsOf gave NaN. */
let tsReason = '';

/** timestampMs, or NaN with the reason in tsReason. */
function tsOf(token: string, precision: Precision): number {
  const negative = token.charCodeAt(0) === 45;
  const digits = negative ? token.slice(1) : token;
  if (!allDigits(digits)) {
    tsReason = 'bad timestamp';
    return NaN;
  }
  if (digits.length > 19 || (digits.length === 19 && (BigInt(token) > INT64_MAX || BigInt(token) < -INT64_MAX - 1n))) {
    tsReason = 'bad timestamp: value out of range';
    return NaN;
  }
  const cut = SUB_MS_DIGITS[precision];
  if (cut === 0) {
    const ms = Number(digits) * MS_PER_UNIT[precision];
    return negative && ms !== 0 ? -ms : ms;
  }
  const whole = digits.length > cut ? Number(digits.slice(0, -cut)) : 0;
  if (!negative) return whole;
  // rounded down: below zero a finer part makes the ms one less
  const rest = digits.length > cut ? digits.slice(-cut) : digits;
  const ms = -(whole + (/[1-9]/.test(rest) ? 1 : 0));
  return ms === 0 ? 0 : ms;
}
