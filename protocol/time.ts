/**
 * The one grammar for a point in time given as text (PROTOCOL.md §2: "ISO 8601 with a zone
 * or integer ms"), shared by the upload's `ts` column, the history export's `from`/`to` and
 * the CLI. Strict, so a typo is an error and never a silently different time:
 *
 *   integer ms     -?digits, a safe integer
 *   ISO 8601       YYYY-MM-DD, then T (or one space), hh:mm, optional :ss, optional fraction
 *                  .f to .fffffffff (cut to ms, not rounded), then the zone: Z, or an offset
 *                  ±hh:mm, ±hhmm or ±hh
 *
 * Ranges: a real calendar date (leap years included), hours 00-23, minutes and seconds 00-59
 * (no leap second, no 24:00), offsets at most 14:00 either way (the widest in use, UTC+14 in
 * Kiribati; more is a typo, not a zone). The date arithmetic is done here, not by `Date`,
 * which rolls 2026-02-30 over into March and reads years 0000-0099 as 1900-1999.
 */

export type TimeParse = { ok: true; ms: number } | { ok: false; problem: string };

export const MAX_OFFSET_MINUTES = 14 * 60;

/** The groups: date, hours, minutes, seconds, fraction, zone (Z, or sign, hours, minutes). */
const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:(Z)|([+-])(\d{2})(?::?(\d{2}))?)$/;
/**
 * The same grammar with every range but the calendar's in the pattern, for readers that
 * cannot run parseTime (the upload's SQL, where DuckDB's own cast refuses 2026-02-30).
 * time.test.ts proves the two agree.
 */
export const ISO_DATE_TIME_STRICT =
  /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])[T ](?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d{1,9})?)?(?:Z|[+-](?:0\d|1[0-3])(?::?[0-5]\d)?|[+-]14(?::?00)?)$/;
export const INTEGER_MS = /^-?\d+$/;
/** The same without a zone, or a date alone: refused, since the hub would have to guess one. */
const ISO_WITHOUT_ZONE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$/;

export const TIME_FORMS = 'ISO 8601 with a zone (2025-11-21T08:00:00Z, 2025-11-21T09:00:00+01:00) or integer milliseconds';

/** A time as integer ms or ISO 8601 with a zone; `problem` says what is wrong, without the field's name. */
export function parseTime(text: string): TimeParse {
  if (INTEGER_MS.test(text)) {
    const ms = Number(text);
    return Number.isSafeInteger(ms) ? { ok: true, ms } : { ok: false, problem: `"${clip(text)}" is out of range for milliseconds` };
  }
  const m = ISO_DATE_TIME.exec(text);
  if (!m) {
    if (ISO_WITHOUT_ZONE.test(text)) {
      const example = text.length === 10 ? `${text}T00:00Z` : `${text}Z`;
      return {
        ok: false,
        problem: `"${text}" has no time zone; add Z for UTC or an offset, e.g. ${example} or ${example.slice(0, -1)}+01:00`,
      };
    }
    return { ok: false, problem: `"${clip(text)}" is not ${TIME_FORMS}` };
  }
  const [year, month, day, hour, minute] = [m[1], m[2], m[3], m[4], m[5]].map(Number) as [number, number, number, number, number];
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const millis = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  if (month < 1 || month > 12) return bad(text, `month ${m[2]} is not 01-12`);
  if (day < 1 || day > daysInMonth(year, month)) return bad(text, `${m[1]}-${m[2]} has no day ${m[3]}`);
  if (hour > 23) return bad(text, `hour ${m[4]} is not 00-23`);
  if (minute > 59) return bad(text, `minute ${m[5]} is not 00-59`);
  if (second > 59) return bad(text, `second ${m[6]} is not 00-59`);
  let offsetMinutes = 0;
  if (m[8] === undefined) {
    const oh = Number(m[10]);
    const om = m[11] === undefined ? 0 : Number(m[11]);
    if (om > 59) return bad(text, `offset minutes ${m[11]} are not 00-59`);
    offsetMinutes = oh * 60 + om;
    if (offsetMinutes > MAX_OFFSET_MINUTES) return bad(text, `offset ${m[9]}${m[10]}${m[11] ? `:${m[11]}` : ''} is beyond ±14:00`);
    if (m[9] === '-') offsetMinutes = -offsetMinutes;
  }
  const days = daysFromCivil(year, month, day);
  return { ok: true, ms: days * 86_400_000 + ((hour * 60 + minute - offsetMinutes) * 60 + second) * 1000 + millis };
}

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

export function daysInMonth(year: number, month: number): number {
  return month === 2 ? (isLeapYear(year) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

function bad(text: string, why: string): TimeParse {
  return { ok: false, problem: `"${clip(text)}" is not a valid time: ${why}` };
}

function clip(s: string): string {
  return s.length > 60 ? s.slice(0, 57) + '...' : s;
}
