/**
 * The one grammar for a length of time given as text, shared by the history export's `every`
 * (PROTOCOL.md §2: `10s`, `5m`, `1h`, `1d`, ...), the CLI's `--every` and relative times
 * (`-1h`), and the hub's duration flags (`--session-ttl 12h`, `--upload-body-timeout 5m`):
 *
 *   duration   digits, then one unit: ms, s, m, h, d or w (500ms, 10s, 5m, 1h, 1d, 1w)
 *
 * Strict, so a typo is an error and never a silently different length:
 * - a unit is required: `300` could be seconds or milliseconds;
 * - lower case only: `5M` reads as months to some and minutes to others;
 * - one number and one unit: `1h30m` is written `90m`, `1.5h` is `90m` too;
 * - no sign and no spaces: a sign belongs to what uses it (the CLI's `-1h` is a time, not a
 *   duration), and `5 m` is two arguments on a command line;
 * - no months or years: they have no fixed length (use d or w);
 * - zero is refused: nothing waits, lasts or buckets for no time;
 * - at most 2^53−1 ms. Each use bounds it further (`every` at most 366d).
 */

export type DurationParse = { ok: true; ms: number } | { ok: false; problem: string };

/** by unit: its length in ms. A Map, so a unit named `constructor` finds nothing. */
export const DURATION_UNITS: ReadonlyMap<string, number> = new Map([
  ['ms', 1],
  ['s', 1_000],
  ['m', 60_000],
  ['h', 3_600_000],
  ['d', 86_400_000],
  ['w', 604_800_000],
]);

export const DURATION_FORMS = 'a whole number and a unit ms, s, m, h, d or w (500ms, 10s, 5m, 1h, 1d, 1w)';

const DURATION = /^(\d+)(ms|s|m|h|d|w)$/;

/** A duration in ms; `problem` says what is wrong, without the field's name. */
export function parseDuration(text: string): DurationParse {
  const m = DURATION.exec(text);
  if (!m) return { ok: false, problem: `"${clip(text)}" is not a duration: ${hint(text)}` };
  const ms = Number(m[1]) * DURATION_UNITS.get(m[2]!)!;
  if (!Number.isSafeInteger(ms)) return { ok: false, problem: `"${clip(text)}" is too long a duration` };
  if (ms === 0) return { ok: false, problem: `"${clip(text)}" is no time at all: give a duration of more than 0` };
  return { ok: true, ms };
}

/** What to write instead, for the mistakes people make. */
function hint(text: string): string {
  if (/^\d+$/.test(text)) return `add a unit, e.g. ${text}s or ${text}ms`;
  if (/^[+-]/.test(text)) return `give it without a sign, as ${DURATION_FORMS}`;
  if (/^\d+(\.\d+)?\s*(ms|s|m|h|d|w)$/i.test(text) && /[A-Z]/.test(text)) return 'units are lower case: ms, s, m, h, d, w (m is minutes)';
  if (/^\d+\.\d+/.test(text)) return 'use a whole number of a smaller unit (90m, not 1.5h)';
  if (/\d\s+\S/.test(text)) return 'write it without spaces (5m)';
  if (/^\d+(mo|months?|y|years?)$/i.test(text)) return 'months and years have no fixed length: use d or w';
  if (/^(\d+(ms|s|m|h|d|w)){2,}$/.test(text)) return 'give one number and one unit (90m, not 1h30m)';
  return DURATION_FORMS;
}

function clip(s: string): string {
  return s.length > 40 ? s.slice(0, 37) + '...' : s;
}

/** The shortest exact form of `ms` in the grammar parseDuration reads (`90s` is `90s`, not `1.5m`). */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['w', 604_800_000],
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
  ] as const)
    if (ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}
