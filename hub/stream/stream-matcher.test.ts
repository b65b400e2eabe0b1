import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseFilters as readFilters, type Filters } from '../../protocol/filters.ts';
import { SeriesCatalog } from '../ingest/series-catalog.ts';
import { SeriesMatchers } from './stream-matcher.ts';

function parseFilters(source: Record<string, unknown>): Filters {
  const parsed = readFilters(source);
  if (!parsed.ok) throw new Error(parsed.problem);
  return parsed.filters;
}

test('subscriptions with the same filters, in any order, share one matcher; it goes with the last of them', () => {
  const matchers = new SeriesMatchers(new SeriesCatalog());
  const a = matchers.acquire(parseFilters({ room: 'a,b', metric: 'temperature' }));
  const b = matchers.acquire(parseFilters({ metric: ['temperature'], room: ['b', 'a'] }));
  const other = matchers.acquire(parseFilters({ room: 'a' }));
  assert.ok(a === b, 'shared');
  assert.ok(a !== other);
  assert.is(matchers.size, 2);
  matchers.release(a);
  assert.is(matchers.size, 2, 'still used by the second');
  matchers.release(b);
  matchers.release(other);
  assert.is(matchers.size, 0);
});

test('a matcher answers by the series’ sensor, room and metric', () => {
  const catalog = new SeriesCatalog();
  const inA = catalog.seriesId('s1', 'a', 'temperature', 'C');
  const inB = catalog.seriesId('s2', 'b', 'temperature', 'C');
  const humid = catalog.seriesId('s1', 'a', 'humidity', '%');
  const m = new SeriesMatchers(catalog).acquire(parseFilters({ room: 'a', metric: 'temperature' }));
  assert.equal([m.wants(inA), m.wants(inB), m.wants(humid), m.wants(inA)], [true, false, false, true]);
});

test.run();
