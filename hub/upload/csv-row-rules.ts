/**
 * The rules for one uploaded CSV row (PROTOCOL.md §2 "Bulk upload": the same rules as sensor
 * readings), in two forms that must agree: a JS check (exact, per row, for the error report)
 * and SQL expressions (for the fast path in DuckDB). Both are built from the same patterns.
 */
import { MAX_FUTURE_MS, MAX_UNIT_CHARS, METRIC_PATTERN, MIN_TS_MS, SENSOR_ID_PATTERN, isUnit } from '../../protocol/names.ts';

export const REQUIRED_COLUMNS = ['ts', 'sensor', 'metric', 'value'] as const;
export const OPTIONAL_COLUMNS = ['room', 'unit'] as const;
export type UploadColumn = (typeof REQUIRED_COLUMNS)[number] | (typeof OPTIONAL_COLUMNS)[number];

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const INTEGER_MS = /^-?\d+$/;
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;
const ISO_WITHOUT_ZONE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?$/;

/** The contract's patterns without their anchors, for regexp_full_match. */
const sqlPattern = (re: RegExp) => re.source.replace(/^\^/, '').replace(/\$$/, '');

export interface RowCheck {
  ts: number;
  value: number;
}

/** Why a row is refused, or its parsed ts and value. `nowMs` bounds ts to now + 24 h. */
export function checkRow(
  row: { ts?: string; sensor?: string; room?: string; metric?: string; value?: string; unit?: string },
  nowMs: number,
): RowCheck | string {
  const { sensor = '', room, metric = '', value = '', unit, ts = '' } = row;
  const names = namesProblem(sensor, room ?? null, metric, unit ?? null);
  if (names) return names;
  if (!NUMBER.test(value)) return `value "${clip(value)}" is not a number`;
  const v = Number(value);
  if (!Number.isFinite(v)) return `value "${clip(value)}" is not finite`;
  let t: number;
  if (INTEGER_MS.test(ts)) t = Number(ts);
  else if (ISO_WITH_ZONE.test(ts)) t = Date.parse(ts);
  else if (ISO_WITHOUT_ZONE.test(ts)) return `ts "${clip(ts)}" has no time zone; add Z or an offset like +01:00`;
  else return `ts "${clip(ts)}" is neither ISO 8601 with a zone nor integer milliseconds`;
  if (!Number.isSafeInteger(t)) return `ts "${clip(ts)}" is not a valid time`;
  if (t < MIN_TS_MS) return `ts "${clip(ts)}" is before the year 2000`;
  if (t > nowMs + MAX_FUTURE_MS) return `ts "${clip(ts)}" is more than 24 h ahead of the hub clock`;
  return { ts: t, value: v };
}

/**
 * SQL over a row of VARCHAR columns named by `col`: the parsed ts (ms) and value, and a
 * `bad` flag that is true exactly when checkRow would refuse the row.
 */
export function sqlRowExpressions(
  col: (c: UploadColumn) => string | null,
  nowMs: number,
): { ts: string; value: string; bad: string; rowBad: string } {
  const q = (c: UploadColumn) => col(c) ?? 'NULL';
  const tsRaw = q('ts');
  const ts = `(CASE WHEN regexp_full_match(${tsRaw}, '${sqlPattern(INTEGER_MS)}') THEN TRY_CAST(${tsRaw} AS BIGINT)
    WHEN regexp_full_match(${tsRaw}, '${sqlPattern(ISO_WITH_ZONE)}') THEN epoch_ms(TRY_CAST(${tsRaw} AS TIMESTAMPTZ)) END)`;
  const value = `(CASE WHEN regexp_full_match(${q('value')}, '${sqlPattern(NUMBER)}') THEN TRY_CAST(${q('value')} AS DOUBLE) END)`;
  const checks = [
    `NOT coalesce(regexp_full_match(${q('sensor')}, '${sqlPattern(SENSOR_ID_PATTERN)}'), false)`,
    col('room') ? `(${q('room')} <> '' AND NOT regexp_full_match(${q('room')}, '${sqlPattern(SENSOR_ID_PATTERN)}'))` : 'false',
    `NOT coalesce(regexp_full_match(${q('metric')}, '${sqlPattern(METRIC_PATTERN)}'), false)`,
    `${value} IS NULL`,
    `NOT isfinite(${value})`,
    col('unit') ? `length(${q('unit')}) > ${MAX_UNIT_CHARS}` : 'false',
    `${ts} IS NULL`,
    `${ts} < ${MIN_TS_MS}`,
    `${ts} > ${nowMs + MAX_FUTURE_MS}`,
  ];
  const any = (cs: string[]) => `(${cs.map((c) => `coalesce(${c}, true)`).join(' OR ')})`;
  // rowBad: only the checks that differ row by row (ts, value); names are checked per distinct series.
  return { ts, value, bad: any(checks), rowBad: any(checks.slice(3)) };
}

/** Why a (sensor, room, metric, unit) of an upload is refused, or null. Room and unit null: not given. */
export function namesProblem(sensor: string, room: string | null, metric: string, unit: string | null): string | null {
  if (!SENSOR_ID_PATTERN.test(sensor)) return `sensor "${clip(sensor)}" must match ${SENSOR_ID_PATTERN.source}`;
  if (room !== null && room !== '' && !SENSOR_ID_PATTERN.test(room)) return `room "${clip(room)}" must match ${SENSOR_ID_PATTERN.source}`;
  if (!METRIC_PATTERN.test(metric)) return `metric "${clip(metric)}" must match ${METRIC_PATTERN.source}`;
  if (unit !== null && !isUnit(unit)) return `unit "${clip(unit)}" is longer than ${MAX_UNIT_CHARS} characters`;
  return null;
}

function clip(s: string): string {
  return s.length > 60 ? s.slice(0, 57) + '...' : s;
}
