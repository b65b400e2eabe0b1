/**
 * Times and durations on the command line, for `history --from/--to/--every` (PROTOCOL.md §2
 * "History export"). A time is ISO 8601 with a zone, integer ms, `now`, or relative to now
 * (`-1h`, `-30m`, `-2d`, `-90s`, `-500ms`). The CLI sends every time as integer ms: one
 * unambiguous form, checked here, so a bad time is a usage error before any request is made.
 */
import { UsageError } from './errors.ts';

/** Milliseconds per unit of a duration (`10s`, `5m`), and of a relative time (`-5m`). */
export const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

const DURATION = /^(\d+)(ms|s|m|h|d)$/;
const RELATIVE = /^-(\d+)(ms|s|m|h|d)$/;
const INTEGER_MS = /^\d+$/;
// Date and time, fraction optional, then the zone: Z or an offset (+01:00, +0100, +01).
const ISO_WITH_ZONE = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(Z|[+-]\d{2}(?::?\d{2})?)$/i;
// The same without a zone, and a bare date: both refused, since the hub would have to guess.
const ISO_NAIVE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)?$/i;

const FORMS = 'ISO 8601 with a zone (2025-11-21T08:00:00Z, 2025-11-21T09:00+01:00), integer ms, now, or relative (-1h, -30m, -2d, -90s)';

/** A duration such as `10s` or `5m` in ms; `flag` names the option in messages. */
export function parseDuration(flag: string, text: string): number {
  const match = DURATION.exec(text);
  const ms = match ? Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS] : NaN;
  if (!Number.isSafeInteger(ms) || ms <= 0) {
    throw new UsageError(`${flag} must be a positive whole number with a unit ms, s, m, h or d (10s, 5m, 1h, 1d), not "${text}"`);
  }
  return ms;
}

/** A point in time as ms since the epoch; relative forms count back from `nowMs`. */
export function parseTimeOption(flag: string, text: string, nowMs: number): number {
  const trimmed = text.trim();
  if (trimmed.toLowerCase() === 'now') return nowMs;
  if (INTEGER_MS.test(trimmed)) return checked(flag, text, Number(trimmed));
  const relative = RELATIVE.exec(trimmed);
  if (relative) return checked(flag, text, nowMs - Number(relative[1]) * UNIT_MS[relative[2] as keyof typeof UNIT_MS]);
  const iso = ISO_WITH_ZONE.exec(trimmed);
  if (iso) return checked(flag, text, isoToMs(flag, text, iso));
  if (ISO_NAIVE.test(trimmed)) {
    throw new UsageError(`${flag} "${text}" has no time zone; add Z for UTC or an offset, e.g. ${trimmed.includes(':') ? trimmed : `${trimmed}T00:00`}Z`);
  }
  throw new UsageError(`${flag} "${text}" is not a time; use ${FORMS}`);
}

function checked(flag: string, text: string, ms: number): number {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new UsageError(`${flag} "${text}" is out of range (before 1970, or too far ahead)`);
  return ms;
}

function isoToMs(flag: string, text: string, m: RegExpExecArray): number {
  const [year, month, day, hour, minute] = [m[1], m[2], m[3], m[4], m[5]].map(Number) as [number, number, number, number, number];
  const second = Number(m[6] ?? 0);
  // Milliseconds are what the hub keeps; further digits are cut, not rounded, as the hub would.
  const millis = Number((m[7] ?? '').slice(0, 3).padEnd(3, '0'));
  const local = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  const probe = new Date(local);
  // Date.UTC rolls 2025-02-30 over into March; a date that does not survive the round trip is wrong.
  if (
    month < 1 ||
    month > 12 ||
    probe.getUTCDate() !== day ||
    probe.getUTCMonth() !== month - 1 ||
    hour > 23 ||
    minute > 59 ||
    second > 59
  ) {
    throw new UsageError(`${flag} "${text}" is not a valid date and time`);
  }
  return local - offsetMs(flag, text, m[8] ?? 'Z');
}

function offsetMs(flag: string, text: string, zone: string): number {
  if (zone.toUpperCase() === 'Z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = Number(digits.slice(2) || '0');
  if (hours > 23 || minutes > 59) throw new UsageError(`${flag} "${text}" has an invalid offset ${zone}`);
  return sign * (hours * 60 + minutes) * 60_000;
}
