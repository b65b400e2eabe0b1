/**
 * The filters of PROTOCOL.md §2: `sensor`, `room`, `metric`, each one value or a
 * comma-separated list (in JSON also an array of strings); all given must match.
 */
import { isMetric, isRoom, isSensorId } from '../../protocol/names.ts';
import { ApiError, ApiErrorCode } from './api-error.ts';

export interface Filters {
  sensor: ReadonlySet<string> | null;
  room: ReadonlySet<string> | null;
  metric: ReadonlySet<string> | null;
}

export const NO_FILTERS: Filters = { sensor: null, room: null, metric: null };

const RULES = {
  sensor: { check: isSensorId, rule: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$' },
  room: { check: isRoom, rule: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$' },
  metric: { check: isMetric, rule: '^[a-z][a-z0-9_]{0,63}$' },
} as const;

/** Reads the filters from a query string object or a JSON body; 400 for a bad one. */
export function parseFilters(source: Record<string, unknown> | null | undefined): Filters {
  const out: { -readonly [K in keyof Filters]: Filters[K] } = { sensor: null, room: null, metric: null };
  if (!source) return out;
  for (const name of ['sensor', 'room', 'metric'] as const) {
    const raw = source[name];
    if (raw === undefined) continue;
    const parts: string[] = [];
    const items = Array.isArray(raw) ? raw : [raw];
    for (const item of items) {
      if (typeof item !== 'string') {
        throw new ApiError(400, ApiErrorCode.badFilter, `${name} must be a string, a comma-separated list, or an array of strings`);
      }
      for (const p of item.split(',')) parts.push(p.trim());
    }
    for (const p of parts) {
      if (!(RULES[name].check as (v: string) => boolean)(p)) {
        throw new ApiError(400, ApiErrorCode.badFilter, `${name} "${p.slice(0, 80)}" is not a valid ${name} name (${RULES[name].rule})`);
      }
    }
    out[name] = new Set(parts);
  }
  return out;
}

/** A typo like `?sensors=x` would otherwise silently widen the answer: refuse parameters not listed. */
export function rejectUnknownParameters(query: Record<string, unknown>, allowed: readonly string[]): void {
  for (const name of Object.keys(query)) {
    if (!allowed.includes(name)) {
      throw new ApiError(
        400,
        ApiErrorCode.badParameter,
        `unknown parameter "${name.slice(0, 40)}"; ${allowed.length > 0 ? `this route takes ${allowed.join(', ')}` : 'this route takes no parameters'}`,
      );
    }
  }
}

export function matches(f: Filters, sensor: string, room: string, metric: string): boolean {
  return (
    (f.sensor === null || f.sensor.has(sensor)) && (f.room === null || f.room.has(room)) && (f.metric === null || f.metric.has(metric))
  );
}
