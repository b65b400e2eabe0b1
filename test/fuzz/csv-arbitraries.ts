/**
 * Arbitraries for the upload row fuzz (csv-rows*.test.ts), and checkRow wrapped for it: valid rows with the ts and value they
 * must give, rows with fields valid, hostile or garbled, ISO 8601 text for any instant at any
 * offset, and date-times with exactly one part out of its range.
 */
import fc from 'fast-check';
import { checkRow } from '../../hub/upload/csv-row-rules.ts';
import {
  CONTRACT_MAX_FUTURE_MS,
  CONTRACT_METRIC,
  CONTRACT_MIN_TS,
  CONTRACT_SENSOR_ID,
  HOSTILE_NAMES,
  unitAllowed,
} from './fuzz-support.ts';

export const NOW = Date.UTC(2026, 0, 15, 12);
/** The widest offset in use (UTC+14, Kiribati; UTC-12): beyond it an offset is a typo (docs/API.md). */
export const MAX_OFFSET_MINUTES = 14 * 60;

export type Row = { ts?: string; sensor?: string; room?: string; metric?: string; value?: string; unit?: string };

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** ISO 8601 text for UTC instant `ms` as seen at an offset of `offsetMinutes`, in one of the contract's forms. */
export function isoAt(ms: number, offsetMinutes: number, form: { colon: boolean; zulu: boolean; seconds: boolean }): string {
  const local = new Date(ms + offsetMinutes * 60_000).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  const wall = form.seconds ? local.slice(0, 23) : local.slice(0, 16);
  if (offsetMinutes === 0 && form.zulu) return wall + 'Z';
  const sign = offsetMinutes < 0 ? '-' : '+';
  const a = Math.abs(offsetMinutes);
  return `${wall}${sign}${pad(Math.floor(a / 60))}${form.colon ? ':' : ''}${pad(a % 60)}`;
}

// ---------------------------------------------------------------- arbitraries

const validSensor = fc.oneof(
  fc.stringMatching(CONTRACT_SENSOR_ID),
  fc.constantFrom(...HOSTILE_NAMES.filter((n) => CONTRACT_SENSOR_ID.test(n))),
);
const validMetric = fc.oneof(fc.stringMatching(CONTRACT_METRIC), fc.constantFrom(...HOSTILE_NAMES.filter((n) => CONTRACT_METRIC.test(n))));
const validValue = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
  fc.integer().map(String),
  fc.constantFrom('0', '-0', '+1', '1.', '.5', '1e3', '1E-3', '-2.5e+10', '007'),
);
const validUnit = fc.oneof(
  fc.string({ maxLength: 16 }).filter(unitAllowed),
  fc.constantFrom('C', '%', 'hPa', '°C', 'µg/m³', ...HOSTILE_NAMES.filter((n) => n.length <= 16)),
);
export const instant = fc.integer({ min: CONTRACT_MIN_TS, max: NOW + CONTRACT_MAX_FUTURE_MS });
export const offset = fc.integer({ min: -MAX_OFFSET_MINUTES, max: MAX_OFFSET_MINUTES });
const isoForm = fc.record({ colon: fc.boolean(), zulu: fc.boolean(), seconds: fc.boolean() });

/** A valid row and the ts and value it must give. */
export const validRow = fc
  .record({
    sensor: validSensor,
    metric: validMetric,
    value: validValue,
    room: fc.option(fc.oneof(validSensor, fc.constant('')), { nil: undefined }),
    unit: fc.option(validUnit, { nil: undefined }),
    ms: instant,
    offset,
    form: isoForm,
    asMs: fc.boolean(),
  })
  .map((r) => {
    const ms = r.form.seconds ? r.ms : r.ms - (r.ms % 60_000);
    const row: Row = { sensor: r.sensor, metric: r.metric, value: r.value, ts: r.asMs ? String(ms) : isoAt(ms, r.offset, r.form) };
    if (r.room !== undefined) row.room = r.room;
    if (r.unit !== undefined) row.unit = r.unit;
    return { row, ts: ms, value: Number(r.value) };
  });

const junk = fc.oneof(
  fc.string({ maxLength: 40, unit: 'binary' }),
  fc.string({ maxLength: 30, unit: fc.constantFrom(...'0123456789-+:.TZtz eE'.split('')) }),
  fc.constantFrom(
    '',
    ' ',
    'NaN',
    'Infinity',
    '-Infinity',
    '1e999',
    '0x10',
    '1_000',
    '١٢٣',
    '2026-01-01',
    '2026-01-01T00:00',
    '=1+1',
    '@SUM(1)',
  ),
  fc.constantFrom(...HOSTILE_NAMES),
);
/** A field that is valid, hostile, or junk. */
const field = (valid: fc.Arbitrary<string>) => fc.oneof({ weight: 3, arbitrary: valid }, { weight: 2, arbitrary: junk });
const tsText = fc.oneof(
  fc.tuple(instant, offset, isoForm).map(([ms, o, f]) => isoAt(ms, o, f)),
  instant.map(String),
  fc.integer({ min: -1e15, max: 1e16 }).map(String),
);
export const anyRow: fc.Arbitrary<Row> = fc.record(
  {
    ts: field(tsText),
    sensor: field(validSensor),
    room: field(validSensor),
    metric: field(validMetric),
    value: field(validValue),
    unit: field(validUnit),
  },
  { requiredKeys: [] },
);

const daysIn = (y: number, m: number) => new Date(Date.UTC(y, m, 0)).getUTCDate();

/** A date-time with exactly one part out of its range, and which part. */
export const impossibleTime = fc
  .record({
    y: fc.integer({ min: 2000, max: 2025 }), // all before the hub clock: refused for their form, not for being ahead
    mo: fc.integer({ min: 1, max: 12 }),
    d: fc.integer({ min: 1, max: 28 }),
    h: fc.integer({ min: 0, max: 23 }),
    mi: fc.integer({ min: 0, max: 59 }),
    s: fc.integer({ min: 0, max: 59 }),
    broken: fc.constantFrom('month', 'day', 'day0', 'hour', 'minute', 'second', 'offset-hours', 'offset-minutes', 'offset-past-14'),
    wild: fc.integer({ min: 0, max: 99 }),
    sign: fc.constantFrom('+', '-'),
  })
  .map((t) => {
    let { mo, d, h, mi, s } = t;
    let zone = 'Z';
    const over = (lo: number) => lo + (t.wild % (100 - lo));
    switch (t.broken) {
      case 'month':
        mo = t.wild % 2 === 0 ? 0 : over(13);
        break;
      case 'day':
        d = daysIn(t.y, mo) + 1 + (t.wild % (99 - daysIn(t.y, mo)));
        break;
      case 'day0':
        d = 0;
        break;
      case 'hour':
        h = over(25);
        break; // 24:00 is ISO's end of day: not asserted here
      case 'minute':
        mi = over(60);
        break;
      case 'second':
        s = over(60);
        break;
      case 'offset-hours':
        zone = `${t.sign}${pad(over(15))}:00`;
        break;
      case 'offset-minutes':
        zone = `${t.sign}${pad(t.wild % 15)}:${pad(over(60))}`;
        break;
      case 'offset-past-14':
        zone = `${t.sign}14:${pad(1 + (t.wild % 59))}`;
        break;
    }
    return { text: `${pad(t.y, 4)}-${pad(mo)}-${pad(d)}T${pad(h)}:${pad(mi)}:${pad(s)}${zone}`, broken: t.broken };
  });

/** checkRow at the fuzz's hub clock; a throw fails the property with the row that caused it. */
export function checkRowOf(row: Row): ReturnType<typeof checkRow> {
  try {
    return checkRow(row, NOW);
  } catch (err) {
    throw new Error(`checkRow threw on ${JSON.stringify(row)}: ${(err as Error).stack}`);
  }
}
