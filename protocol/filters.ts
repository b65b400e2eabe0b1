/**
 * The filters of PROTOCOL.md §2: `sensor`, `room`, `metric` on `latest`, `history.csv`,
 * `stream` and `report-now`, each one value or a comma-separated list (in a JSON body or a
 * WebSocket message also an array of strings); all given filters must match. The hub reads
 * them from queries, bodies and stream messages, the CLI from its `--sensor`, `--room` and
 * `--metric` flags: both by these rules.
 *
 * A list: items split on commas, spaces around an item forgiven (`hall, kitchen`), an empty
 * item refused (`a,,b` is a typo, not "every sensor"), a repeated item kept once, order kept.
 * Each item must match the contract's pattern for its name ("Names and values", §1).
 */
import { isMetric, isRoom, isSensorId, METRIC_PATTERN, ROOM_PATTERN, SENSOR_ID_PATTERN } from './names.ts';

export const FILTER_NAMES = ['sensor', 'room', 'metric'] as const;
export type FilterName = (typeof FILTER_NAMES)[number];

/** The filters as checked; null where not given, which matches everything. */
export interface Filters {
  readonly sensor: ReadonlySet<string> | null;
  readonly room: ReadonlySet<string> | null;
  readonly metric: ReadonlySet<string> | null;
}

export const NO_FILTERS: Filters = { sensor: null, room: null, metric: null };

/** The rule each filter's items follow: the contract's pattern for that name. */
export const FILTER_RULES: { readonly [K in FilterName]: { check(item: string): boolean; pattern: RegExp } } = {
  sensor: { check: isSensorId, pattern: SENSOR_ID_PATTERN },
  room: { check: isRoom, pattern: ROOM_PATTERN },
  metric: { check: isMetric, pattern: METRIC_PATTERN },
};

export const FILTER_FORMS = 'a string, a comma-separated list, or an array of strings';

export type ListParse = { ok: true; items: string[] } | { ok: false; problem: string };

/**
 * A list as text (`a,b`) or as several texts (a repeated query parameter or flag, a JSON
 * array), each split on commas. `label` names it in the problem (`sensor`, `--sensor`).
 */
export function parseList(label: string, raw: string | readonly string[]): ListParse {
  // A Set, not includes(): a stream message may carry a list of thousands.
  const items = new Set<string>();
  for (const text of typeof raw === 'string' ? [raw] : raw) {
    for (const part of text.split(',')) {
      const item = part.trim();
      if (item === '') return { ok: false, problem: `${label} has an empty item in "${clip(text)}"` };
      items.add(item);
    }
  }
  return { ok: true, items: [...items] };
}

/**
 * One filter's items, each checked against its name's pattern. `raw` is what a query, body or
 * command line gave: anything but a string or an array of strings is refused.
 */
export function parseFilterValues(name: FilterName, raw: unknown, label: string = name): ListParse {
  if (!isTextOrTexts(raw)) return { ok: false, problem: `${label} must be ${FILTER_FORMS}` };
  const list = parseList(label, raw);
  if (!list.ok) return list;
  const rule = FILTER_RULES[name];
  const bad = list.items.find((item) => !rule.check(item));
  if (bad !== undefined) return { ok: false, problem: `${label} "${clip(bad)}" is not a valid ${name} name (${rule.pattern.source})` };
  return list;
}

export type FiltersParse = { ok: true; filters: Filters } | { ok: false; name: FilterName; problem: string };

/** The filters of a query, a JSON body or a stream message; other fields are not looked at. */
export function parseFilters(source: Readonly<Record<string, unknown>> | null | undefined): FiltersParse {
  const out: { -readonly [K in FilterName]: ReadonlySet<string> | null } = { sensor: null, room: null, metric: null };
  if (!source) return { ok: true, filters: out };
  for (const name of FILTER_NAMES) {
    const raw = Object.hasOwn(source, name) ? source[name] : undefined;
    if (raw === undefined) continue;
    const parsed = parseFilterValues(name, raw);
    if (!parsed.ok) return { ok: false, name, problem: parsed.problem };
    out[name] = new Set(parsed.items);
  }
  return { ok: true, filters: out };
}

/** The matching rule: every given filter must match; one not given matches everything. */
export function matches(f: Filters, sensor: string, room: string, metric: string): boolean {
  return (
    (f.sensor === null || f.sensor.has(sensor)) && (f.room === null || f.room.has(room)) && (f.metric === null || f.metric.has(metric))
  );
}

function isTextOrTexts(raw: unknown): raw is string | string[] {
  return typeof raw === 'string' || (Array.isArray(raw) && raw.every((v) => typeof v === 'string'));
}

function clip(s: string): string {
  return s.length > 80 ? s.slice(0, 77) + '...' : s;
}
