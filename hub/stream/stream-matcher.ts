/**
 * Which series a stream subscription takes. The answer for each series is computed once and
 * kept (a byte per series), and subscribers with the same filters share one matcher: a
 * hundred dashboards watching the same rooms cost one table, not a hundred, however many
 * series the hub has.
 */
import { matches, type Filters } from '../../protocol/filters.ts';
import type { SeriesCatalog } from '../ingest/series-catalog.ts';

export class SeriesMatcher {
  /** by series id: matches (1) or not (2); 0 not known yet */
  private known = new Uint8Array(0);
  /** subscribers using it */
  refs = 0;
  /** no filter: every series, without looking */
  readonly takesAll: boolean;

  constructor(
    readonly key: string,
    readonly filters: Filters,
    private readonly catalog: SeriesCatalog,
  ) {
    this.takesAll = filters.sensor === null && filters.room === null && filters.metric === null;
  }

  wants(seriesId: number): boolean {
    if (seriesId >= this.known.length) {
      const grown = new Uint8Array(Math.max(seriesId + 1, this.known.length * 2, 64));
      grown.set(this.known);
      this.known = grown;
    }
    let m = this.known[seriesId]!;
    if (m === 0) {
      const s = this.catalog.series[seriesId]!;
      m = matches(this.filters, s.sensor, s.room, s.metric) ? 1 : 2;
      this.known[seriesId] = m;
    }
    return m === 1;
  }
}

/** The matchers in use, by their filters. */
export class SeriesMatchers {
  /** by filters key (matcherKey) */
  private readonly byKey = new Map<string, SeriesMatcher>();

  constructor(private readonly catalog: SeriesCatalog) {}

  get size(): number {
    return this.byKey.size;
  }

  acquire(filters: Filters): SeriesMatcher {
    const key = matcherKey(filters);
    let m = this.byKey.get(key);
    if (!m) this.byKey.set(key, (m = new SeriesMatcher(key, filters, this.catalog)));
    m.refs++;
    return m;
  }

  release(m: SeriesMatcher): void {
    if (--m.refs <= 0) this.byKey.delete(m.key);
  }
}

/** The same filters, in any order, give the same key. */
export function matcherKey(f: Filters): string {
  const part = (v: ReadonlySet<string> | null) => (v === null ? null : [...v].sort());
  return JSON.stringify([part(f.sensor), part(f.room), part(f.metric)]);
}
