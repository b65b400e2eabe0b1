/**
 * How values look in the CLI's tables: ages, numbers, times, and text from the hub made safe
 * for a terminal.
 */

const SECOND_MS = 1000;
const MINUTE_S = 60;
const HOUR_S = 3600;
const DAY_S = 86_400;

/**
 * An age, compactly, to the whole second: `4s`, `2m05s`, `3h10m`, `2d4h`. Truncated, not rounded,
 * so a reading a few hundred ms "in the future" (clocks a little apart) reads `0s`; a reading
 * truly ahead of the local clock gets a minus sign rather than passing for a fresh one.
 */
export function formatAge(ageMs: number): string {
  if (!Number.isFinite(ageMs)) return '?';
  const totalS = Math.trunc(ageMs / SECOND_MS);
  if (totalS < 0) return '-' + formatAge(-ageMs);
  if (totalS < MINUTE_S) return `${totalS}s`;
  if (totalS < HOUR_S) return `${Math.floor(totalS / MINUTE_S)}m${pad2(totalS % MINUTE_S)}s`;
  if (totalS < DAY_S) return `${Math.floor(totalS / HOUR_S)}h${pad2(Math.floor((totalS % HOUR_S) / MINUTE_S))}m`;
  return `${Math.floor(totalS / DAY_S)}d${Math.floor((totalS % DAY_S) / HOUR_S)}h`;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/**
 * A reading's value for people: integers as they are, fractions to 12 significant digits, which
 * hides binary noise such as 0.30000000000000004 and keeps every digit a sensor plausibly measured.
 */
export function formatValue(value: number): string {
  if (Number.isInteger(value)) return String(value);
  return String(Number(value.toPrecision(12)));
}

/** Local wall-clock time, `2025-11-21 09:00:05`, for the header of a refreshing table. */
export function formatClock(ms: number): string {
  const d = new Date(ms);
  return (
    `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ` +
    `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`
  );
}

/** Local time as ISO 8601 with milliseconds and the offset: `2025-11-21T09:00:05.123+01:00`. */
export function formatLocalIso(ms: number): string {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return '?';
  const offsetMin = -d.getTimezoneOffset();
  const sign = offsetMin < 0 ? '-' : '+';
  const abs = Math.abs(offsetMin);
  return (
    `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}T` +
    `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}` +
    `${sign}${pad2(Math.floor(abs / 60))}:${pad2(abs % 60)}`
  );
}

// C0, DEL and C1 controls: an escape sequence in a unit or an error message must not drive the terminal.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/g;

/** Text from the hub, safe to print: control characters become `?`. */
export function printable(text: string): string {
  return text.replace(CONTROL_CHARS, '?');
}

/** Rooms for a sentence: `rooms living-room, server-room`, `room hall`, `all rooms` for `*`, `no rooms`. */
export function roomsPhrase(rooms: readonly string[]): string {
  if (rooms.includes('*')) return 'all rooms';
  if (rooms.length === 0) return 'no rooms';
  return `${rooms.length === 1 ? 'room' : 'rooms'} ${rooms.map(printable).join(', ')}`;
}

/** An optional time from the hub, in ms, as local wall-clock time; none is `-`. */
export function formatOptionalClock(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? '-' : formatClock(ms);
}

/** A user for a sentence: `alex (viewer; rooms living-room, server-room)`. */
export function userPhrase(u: { user: string; role: string; rooms: readonly string[] }): string {
  return `${printable(u.user)} (${printable(u.role)}; ${roomsPhrase(u.rooms)})`;
}
