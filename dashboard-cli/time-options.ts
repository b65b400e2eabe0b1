/**
 * Times and durations on the command line, for `history --from/--to/--every` (PROTOCOL.md §2
 * "History export"). A time is ISO 8601 with a zone or integer ms (the hub's own grammar,
 * protocol/time.ts), `now`, or relative to now (`-1h`, `-30m`, `-2d`, `-90s`, `-500ms`). The
 * CLI sends every time as integer ms: one unambiguous form, checked here, so a bad time is a
 * usage error before any request is made.
 */
import { UsageError } from './errors.ts';
import { parseTime } from '../protocol/time.ts';

/** Milliseconds per unit of a duration (`10s`, `5m`), and of a relative time (`-5m`). */
export const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

const DURATION = /^(\d+)(ms|s|m|h|d)$/;
const RELATIVE = /^-(\d+)(ms|s|m|h|d)$/;
const INTEGER_MS = /^\d+$/;

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
  // Anything that looks like a date is the hub's grammar, and its message says what is wrong;
  // typed by hand, a lower-case t or z is taken too (RFC 3339 allows them).
  if (!/^\d{4}-/.test(trimmed)) throw new UsageError(`${flag} "${text}" is not a time; use ${FORMS}`);
  const parsed = parseTime(trimmed.toUpperCase());
  if (!parsed.ok) throw new UsageError(`${flag} ${parsed.problem}`);
  return checked(flag, text, parsed.ms);
}

function checked(flag: string, text: string, ms: number): number {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new UsageError(`${flag} "${text}" is out of range (before 1970, or too far ahead)`);
  return ms;
}
