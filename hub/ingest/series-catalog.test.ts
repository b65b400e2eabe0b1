import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SeriesCatalog } from './series-catalog.ts';

test('a reading above every ts claimed so far is certainly new, and raises the bound; one at or below it is not', () => {
  const catalog = new SeriesCatalog();
  const ch = catalog.channel(catalog.seriesId('s1', 'kitchen', 'temperature', 'C'));
  assert.is(catalog.claimTs(ch, 1_000), true, 'the first reading of a channel');
  assert.is(catalog.claimTs(ch, 1_000), false, 'the same ts again may be a duplicate');
  assert.is(catalog.claimTs(ch, 999), false, 'an older ts may be a duplicate');
  assert.is(catalog.claimTs(ch, 1_001), true);
  assert.is(ch.lastTs, 1_001);
});

test('the two series of one (sensor, metric) in different rooms share one bound', () => {
  const catalog = new SeriesCatalog();
  const inKitchen = catalog.channel(catalog.seriesId('s1', 'kitchen', 'temperature', 'C'));
  const inBedroom = catalog.channel(catalog.seriesId('s1', 'bedroom', 'temperature', 'C'));
  assert.ok(inKitchen === inBedroom);
  assert.is(catalog.claimTs(inKitchen, 5), true);
  assert.is(catalog.claimTs(inBedroom, 5), false, 'a sensor that moved room repeats a reading');
});

test('an upload raises the bound so that a live reading at or below its newest ts is checked, and never lowers it', () => {
  const catalog = new SeriesCatalog();
  const ch = catalog.channel(catalog.seriesId('s1', 'kitchen', 'temperature', 'C'));
  catalog.raiseBound(ch, 2_000);
  assert.is(catalog.claimTs(ch, 1_500), false, 'the upload may hold this one');
  catalog.raiseBound(ch, 100);
  assert.is(ch.lastTs, 2_000, 'an older upload leaves the bound alone');
  assert.is(catalog.claimTs(ch, 2_001), true);
});

test('a loaded store sets each channel’s bound at its newest stored reading', () => {
  const catalog = new SeriesCatalog();
  catalog.load({
    series: [{ id: 1, channel: 1, sensor: 's1', room: 'kitchen', metric: 'temperature', unit: 'C' }],
    newest: [{ seriesId: 1, ts: 7_000, value: 21 }],
    sensors: [],
    maxConnectionId: 0,
    readingCount: 1,
    access: { users: [], sessions: [], tokens: [] } as never,
  });
  const ch = catalog.channel(1);
  assert.is(catalog.claimTs(ch, 7_000), false, 'the stored reading again');
  assert.is(catalog.claimTs(ch, 7_001), true);
  assert.is(ch.latestTs, 7_000);
});

test.run();
