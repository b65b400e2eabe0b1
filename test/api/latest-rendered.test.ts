// docs/API.md `GET /api/v1/latest`: the answers dashboards poll (everything, or a set of rooms)
// are served as bytes rendered once per change; they must still be the answer of the moment,
// the same as one rendered for the request, and never another room set's answer. Over HTTP an
// unchanged answer is a 304 for its ETag, and a client that accepts gzip gets it gzipped.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { gunzipSync } from 'node:zlib';
import { SeriesCatalog } from '../../hub/ingest/series-catalog.ts';
import { LatestView, type RenderedLatest } from '../../hub/sensors/latest-view.ts';
import type { Filters } from '../../protocol/filters.ts';

const rooms = (...names: string[]): Filters => ({ sensor: null, room: new Set(names), metric: null });
const every: Filters = { sensor: null, room: null, metric: null };
const parsed = (b: RenderedLatest | null) => JSON.parse(b!.json.toString('utf8')) as unknown;

function fleet(): { catalog: SeriesCatalog; view: LatestView; ids: number[] } {
  const catalog = new SeriesCatalog();
  const view = new LatestView(catalog);
  const ids = [
    catalog.seriesId('s1', 'kitchen', 'temp', 'C'),
    catalog.seriesId('s2', 'hall', 'temp', 'C'),
    catalog.seriesId('s3', 'attic', 'temp', 'C'),
  ];
  ids.forEach((id, i) => catalog.offerLatest(id, 1000 + i, i));
  return { catalog, view, ids };
}

test('a rendered answer equals the one rendered per request, for every room set and for all', () => {
  const { view } = fleet();
  for (const f of [every, rooms('kitchen'), rooms('hall', 'attic'), rooms()]) {
    assert.equal(parsed(view.rendered(f)), { readings: view.readings(f) });
  }
  assert.is((parsed(view.rendered(rooms())) as { readings: unknown[] }).readings.length, 0, 'no rooms: nothing, not everything');
});

test('a new reading or a new series is in the next answer; the order of the rooms asked does not matter', () => {
  const { catalog, view, ids } = fleet();
  const before = parsed(view.rendered(rooms('kitchen', 'hall')));
  catalog.offerLatest(ids[0]!, 5000, 42);
  const after = parsed(view.rendered(rooms('hall', 'kitchen'))) as { readings: { sensor: string; value: number }[] };
  assert.not.equal(after, before);
  assert.equal(after.readings.find((r) => r.sensor === 's1')?.value, 42);
  catalog.offerLatest(catalog.seriesId('s4', 'hall', 'temp', 'C'), 6000, 7);
  const withNew = parsed(view.rendered(rooms('kitchen', 'hall'))) as { readings: { sensor: string }[] };
  assert.equal(
    withNew.readings.map((r) => r.sensor),
    ['s1', 's2', 's4'],
  );
});

test('filters by sensor or metric are not served from a rendering', () => {
  const { view } = fleet();
  assert.is(view.rendered({ sensor: new Set(['s1']), room: null, metric: null }), null);
  assert.is(view.rendered({ sensor: null, room: null, metric: new Set(['temp']) }), null);
});

test('many room sets: answers stay right after the oldest renderings are dropped', () => {
  const { view } = fleet();
  for (let i = 0; i < 200; i++) assert.equal(parsed(view.rendered(rooms(`room-${i}`))), { readings: [] });
  assert.equal(parsed(view.rendered(rooms('attic'))), { readings: view.readings(rooms('attic')) });
});

test('each rendering has its own ETag: the same while latest is unchanged, a new one after any change', () => {
  const { catalog, view, ids } = fleet();
  const first = view.rendered(every)!;
  assert.is(view.rendered(every), first, 'unchanged: the same rendering');
  assert.not.equal(view.rendered(rooms('kitchen'))!.etag, first.etag, 'another room set: another ETag');
  catalog.offerLatest(ids[1]!, 9000, 1);
  assert.not.equal(view.rendered(every)!.etag, first.etag);
  assert.match(first.etag, /^W\/"[0-9a-f]{12}\.\d+"$/);
  assert.not.equal(new LatestView(catalog).rendered(every)!.etag, first.etag, 'another process (a restart): never the same ETag');
});

test('the gzip copy unpacks to the JSON; a small answer has none', () => {
  const catalog = new SeriesCatalog();
  const view = new LatestView(catalog);
  catalog.offerLatest(catalog.seriesId('tiny', 'r', 'temp', 'C'), 1000, 1);
  assert.is(view.rendered(every)!.gzip(), null, 'under 1 KB: sent as it is');
  for (let i = 0; i < 100; i++) catalog.offerLatest(catalog.seriesId(`s${i}`, 'r', 'temp', 'C'), 1000 + i, i);
  const body = view.rendered(every)!;
  const gz = body.gzip()!;
  assert.ok(gz.length < body.json.length / 3, `${gz.length} bytes gzipped of ${body.json.length}`);
  assert.equal(gunzipSync(gz), body.json);
  assert.is(body.gzip(), gz, 'compressed once');
});

test.run();
