/**
 * The rules for one uploaded CSV row (PROTOCOL.md §2 "Bulk upload": the same rules as sensor
 * readings), in two forms that must agree: a JS check (exact, per row, for the error report)
 * and SQL expressions (for the fast path in DuckDB). Both are built from the same patterns.
 */
import {
  FORMULA_TRIGGERS,
  MAX_FUTURE_MS,
  MAX_UNIT_CHARS,
  METRIC_PATTERN,
  MIN_TS_MS,
  SENSOR_ID_PATTERN,
  unitProblem,
} from '../../protocol/names.ts';
import { INTEGER_MS, ISO_DATE_TIME_STRICT, parseTime } from '../../protocol/time.ts';
import type { UploadColumn } from '../../protocol/columns.ts';

/** The longest record (header or row) read, in bytes: the sensor protocol's line limit. */
export const MAX_RECORD_BYTES = 65_536;
/** Columns in the header: six are used, others ignored; thousands are not a readings file. */
export const MAX_COLUMNS = 256;
export type { UploadColumn } from '../../protocol/columns.ts';

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

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
  const parsed = parseTime(ts);
  if (!parsed.ok) return `ts ${parsed.problem}`;
  const t = parsed.ms;
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
  // The pattern holds every range of protocol/time.ts but the calendar's; DuckDB's cast refuses
  // 2026-02-30 (NULL) and, like parseTime, cuts a fraction to ms. time.test.ts proves they agree.
  const ts = `(CASE WHEN regexp_full_match(${tsRaw}, '${sqlPattern(INTEGER_MS)}')
      THEN (CASE WHEN abs(TRY_CAST(${tsRaw} AS HUGEINT)) <= ${Number.MAX_SAFE_INTEGER} THEN TRY_CAST(${tsRaw} AS BIGINT) END)
    WHEN regexp_full_match(${tsRaw}, '${sqlPattern(ISO_DATE_TIME_STRICT)}') THEN epoch_ms(TRY_CAST(
      /* DuckDB's cast wants the seconds: hh:mm gets :00 (the 17th character is a colon only when seconds follow) */
      CASE WHEN substr(${tsRaw}, 17, 1) = ':' THEN ${tsRaw} ELSE left(${tsRaw}, 16) || ':00' || substr(${tsRaw}, 17) END AS TIMESTAMPTZ)) END)`;
  const unit = q('unit');
  const triggers = [...FORMULA_TRIGGERS].map((c) => `chr(${c.codePointAt(0)})`).join(', ');
  const value = `(CASE WHEN regexp_full_match(${q('value')}, '${sqlPattern(NUMBER)}') THEN TRY_CAST(${q('value')} AS DOUBLE) END)`;
  const checks = [
    `NOT coalesce(regexp_full_match(${q('sensor')}, '${sqlPattern(SENSOR_ID_PATTERN)}'), false)`,
    col('room') ? `(${q('room')} <> '' AND NOT regexp_full_match(${q('room')}, '${sqlPattern(SENSOR_ID_PATTERN)}'))` : 'false',
    `NOT coalesce(regexp_full_match(${q('metric')}, '${sqlPattern(METRIC_PATTERN)}'), false)`,
    `${value} IS NULL`,
    `NOT isfinite(${value})`,
    col('unit') ? `(length(${unit}) > ${MAX_UNIT_CHARS} OR left(${unit}, 1) IN (${triggers}))` : 'false',
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
  const badUnit = unit === null ? null : unitProblem(unit);
  if (badUnit) return badUnit;
  return null;
}

function clip(s: string): string {
  return s.length > 60 ? s.slice(0, 57) + '...' : s;
}
