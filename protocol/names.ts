/**
 * The naming and value rules of the contract ("Names and values", PROTOCOL.md §1).
 * Hub, simulator, CLI and CSV upload all check against these, so a rule changes in one place.
 */

export const SENSOR_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
export const ROOM_PATTERN = SENSOR_ID_PATTERN;
export const METRIC_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;

export const DEFAULT_ROOM = 'default';
export const MAX_UNIT_CHARS = 16;
/** 2000-01-01T00:00:00Z: nothing older is a plausible sensor reading. */
export const MIN_TS_MS = 946_684_800_000;
/** A clock may run ahead of the hub's by up to a day; more is a broken clock. */
export const MAX_FUTURE_MS = 24 * 3600 * 1000;
export const MAX_SEQ = Number.MAX_SAFE_INTEGER;
export const MAX_BATCH_READINGS = 10_000;
export const DEFAULT_MAX_LINE_BYTES = 65_536;
export const PROTOCOL_VERSION = 1;

/**
 * by metric. A Map, never an object: a metric named `constructor` or `toString` must find no
 * unit here, not a function inherited from Object.prototype.
 */
export const WELL_KNOWN_UNITS: ReadonlyMap<string, string> = new Map([
  ['temperature', 'C'],
  ['humidity', '%'],
  ['cpu_load', '%'],
]);

export function isSensorId(s: unknown): s is string {
  return typeof s === 'string' && SENSOR_ID_PATTERN.test(s);
}

export function isRoom(s: unknown): s is string {
  return typeof s === 'string' && ROOM_PATTERN.test(s);
}

// Metric names repeat on every reading; a hit in this set skips the regex on the hot path.
const knownMetrics = new Set<string>(WELL_KNOWN_UNITS.keys());
const MAX_CACHED_METRICS = 100_000;

export function isMetric(s: unknown): s is string {
  if (typeof s !== 'string') return false;
  if (knownMetrics.has(s)) return true;
  if (!METRIC_PATTERN.test(s)) return false;
  if (knownMetrics.size < MAX_CACHED_METRICS) knownMetrics.add(s);
  return true;
}

export function isUnit(s: unknown): s is string {
  return typeof s === 'string' && unitProblem(s) === null;
}

/**
 * First characters that make a spreadsheet take a cell for a formula (OWASP "CSV Injection"):
 * `=HYPERLINK(...)` in a unit would run when an export is opened. The full-width forms are
 * there because Apple Numbers folds them into the ASCII ones. Sensor ids, rooms and metrics
 * cannot begin with any of them: their patterns start with a letter or digit.
 */
export const FORMULA_TRIGGERS: ReadonlySet<string> = new Set(['=', '+', '-', '@', '\t', '\r', '\uFF1D', '\uFF0B', '\uFF0D', '\uFF20']);

/** Why a string is not a unit, or null. The rule is stricter than the contract's length alone: see docs/API.md. */
export function unitProblem(s: string): string | null {
  if (s.length > 0 && FORMULA_TRIGGERS.has(s[0]!))
    return `unit "${s.length > 20 ? s.slice(0, 17) + '...' : s}" must not begin with =, +, -, @, a tab or a carriage return: a spreadsheet would run it as a formula`;
  // Counted in characters (code points), not UTF-16 units, so "µ" and "°C" count as people see them.
  if (s.length <= MAX_UNIT_CHARS) return null;
  if (s.length <= MAX_UNIT_CHARS * 2 && [...s].length <= MAX_UNIT_CHARS) return null;
  return `unit must be at most ${MAX_UNIT_CHARS} characters`;
}

/** Why a ts is refused, or null if it is acceptable at hub time `nowMs`. */
export function tsProblem(ts: number, nowMs: number): string | null {
  if (!Number.isInteger(ts)) return 'ts must be an integer number of milliseconds since the Unix epoch';
  if (ts < MIN_TS_MS) return `ts ${ts} is before the year 2000 (${MIN_TS_MS})`;
  if (ts > nowMs + MAX_FUTURE_MS) return `ts ${ts} is more than 24 h ahead of the hub clock (${nowMs})`;
  return null;
}

/** The unit a reading gets when it names none: declared in hello, else well-known, else empty. */
export function defaultUnit(metric: string, declared?: ReadonlyMap<string, string> | Readonly<Record<string, string>>): string {
  let own: string | undefined;
  if (declared instanceof Map) own = (declared as ReadonlyMap<string, string>).get(metric);
  else if (declared && Object.hasOwn(declared, metric)) own = (declared as Readonly<Record<string, string>>)[metric];
  return own ?? WELL_KNOWN_UNITS.get(metric) ?? '';
}
