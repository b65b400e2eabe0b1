/**
 * Times and durations on the command line, for `history --from/--to/--every` (PROTOCOL.md §2
 * "History export"). A time is ISO 8601 with a zone or integer ms (the hub's own grammar,
 * protocol/time.ts), `now`, or relative to now: a minus and a duration (`-1h`, `-30m`, `-2d`,
 * `-1w`, `-500ms`; the hub's duration grammar, protocol/duration.ts, as `--every` is). The
 * CLI sends every time as integer ms: one unambiguous form, checked here, so a bad time is a
 * usage error before any request is made.
 */
import { UsageError } from './errors.ts';
import { parseTime } from '../protocol/time.ts';
import { DURATION_FORMS, parseDuration as readDuration } from '../protocol/duration.ts';

const INTEGER_MS = /^\d+$/;

const FORMS = 'ISO 8601 with a zone (2025-11-21T08:00:00Z, 2025-11-21T09:00+01:00), integer ms, now, or relative (-1h, -30m, -2d, -1w)';

/** A duration such as `10s`, `5m` or `1w` in ms (protocol/duration.ts); `flag` names the option in messages. */
export function parseDuration(flag: string, text: string): number {
  const parsed = readDuration(text);
  if (!parsed.ok) throw new UsageError(`${flag}: ${parsed.problem}`);
  return parsed.ms;
}

/** A point in time as ms since the epoch; relative forms count back from `nowMs`. */
export function parseTimeOption(flag: string, text: string, nowMs: number): number {
  const trimmed = text.trim();
  if (trimmed.toLowerCase() === 'now') return nowMs;
  if (INTEGER_MS.test(trimmed)) return checked(flag, text, Number(trimmed));
  if (trimmed.startsWith('-') && !INTEGER_MS.test(trimmed.slice(1))) {
    const back = readDuration(trimmed.slice(1));
    if (!back.ok) throw new UsageError(`${flag} "${text}" is not a relative time (a minus and ${DURATION_FORMS}): ${back.problem}`);
    return checked(flag, text, nowMs - back.ms);
  }
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
