/**
 * Checks the parameters of `GET /api/v1/history.csv` (PROTOCOL.md §2): the filters, `from`
 * and `to` (ISO 8601 with a zone, or integer ms), `every`, `time`. Any problem is a 400
 * before a byte of CSV is sent.
 */
import { HubError } from '../hub-error.ts';
import { parseFilters, type Filters } from '../../protocol/filters.ts';
import type { HistoryQuery } from './history-query.ts';
import { parseTime } from '../../protocol/time.ts';
import { parseDuration } from '../../protocol/duration.ts';

const MAX_EVERY_MS = 366 * 86_400_000;

function bad(name: string, message: string): HubError {
  return new HubError('bad_parameter', `${name}: ${message}`);
}

/** A time as ISO 8601 with a zone or integer milliseconds (protocol/time.ts); null if absent. */
export function parseTimeParam(name: string, raw: unknown): number | null {
  if (raw === undefined || raw === '') return null;
  if (typeof raw !== 'string') throw bad(name, 'give it once');
  const parsed = parseTime(raw);
  if (!parsed.ok) throw bad(name, parsed.problem);
  return parsed.ms;
}

/** A bucket length like 10s, 5m, 1h, 1d; null if absent. */
export function parseEvery(raw: unknown): number | null {
  if (raw === undefined || raw === '') return null;
  if (typeof raw !== 'string') throw bad('every', 'give it once');
  const parsed = parseDuration(raw);
  if (!parsed.ok) throw bad('every', parsed.problem);
  if (parsed.ms > MAX_EVERY_MS) throw bad('every', 'must be more than 0 and at most 366d');
  return parsed.ms;
}

/** `narrow` limits the filters to what the asker may see (auth.ts scopeFilters). */
export function parseHistoryParams(query: Record<string, unknown>, narrow: (f: Filters) => Filters = (f) => f): HistoryQuery {
  // Parameters the route does not take are refused by its schema before this runs.
  const parsed = parseFilters(query);
  if (!parsed.ok) throw new HubError('bad_filter', parsed.problem);
  const filters = narrow(parsed.filters);
  const fromMs = parseTimeParam('from', query.from);
  const toMs = parseTimeParam('to', query.to);
  if (fromMs !== null && toMs !== null && toMs < fromMs) throw bad('to', 'is before from');
  const time = query.time ?? 'iso';
  if (time !== 'iso' && time !== 'ms') throw bad('time', 'must be iso or ms');
  return {
    sensors: filters.sensor ? [...filters.sensor] : null,
    rooms: filters.room ? [...filters.room] : null,
    metrics: filters.metric ? [...filters.metric] : null,
    fromMs,
    toMs,
    everyMs: parseEvery(query.every),
    time,
  };
}

/** A file name that says what is in the export. */
export function historyFileName(q: HistoryQuery): string {
  const stamp = (ms: number) =>
    new Date(ms)
      .toISOString()
      .replace(/\.000Z$/, 'Z')
      .replaceAll(':', '-');
  const parts = ['roomwatch-history'];
  parts.push(q.fromMs !== null ? stamp(q.fromMs) : 'start');
  parts.push(q.toMs !== null ? stamp(q.toMs) : 'now');
  if (q.everyMs !== null) parts.push(`every-${q.everyMs}ms`);
  const names = (label: string, v: string[] | null) => {
    if (v) parts.push(`${label}-${v.length <= 3 ? v.join('+') : `${v.length}`}`);
  };
  names('sensor', q.sensors);
  names('room', q.rooms);
  names('metric', q.metrics);
  return parts.join('_').replace(/[^A-Za-z0-9._+-]/g, '-') + '.csv';
}
