import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SeriesCatalog } from './series-catalog.ts';

test('a reading above every ts claimed so far is certainly new, and raises the bound; one at or below it is not', () => {
  const catalog = new SeriesCatalog();
  const ch = catalog.channel(catalog.seriesId('s1', 'kitchen', 'temperature', 'C'));
  catalog.raiseBound(ch, 500); // as a loaded store sets it: readings up to 500 may be stored
  assert.is(catalog.claimTs(ch, 1_000), true, 'the first reading of a channel');
  assert.is(catalog.claimTs(ch, 1_000), false, 'the same ts again may be a duplicate');
  assert.is(catalog.claimTs(ch, 500), false, 'an older ts the store may hold may be a duplicate');
  assert.is(catalog.claimTs(ch, 1_001), true);
  assert.is(ch.lastTs, 1_001);
});

test('a reading late into a gap (above the store’s bound, no ts accepted there) is certainly new, once', () => {
  const catalog = new SeriesCatalog();
  const ch = catalog.channel(catalog.seriesId('s1', 'kitchen', 'temperature', 'C'));
  catalog.raiseBound(ch, 1_000);
  // Two overlapping writers: the later stretch comes first.
  for (const ts of [5_000, 6_000, 7_000]) assert.is(catalog.claimTs(ch, ts), true);
  assert.is(catalog.claimTs(ch, 1_000), false, 'the store may hold it');
  assert.is(catalog.claimTs(ch, 5_500), false, 'the gaps kept: the widest jump (1,000 to 5,000) and the last (6,000 to 7,000)');
  assert.is(catalog.claimTs(ch, 6_500), true, 'in the last jump');
  // Readings into the gap, in order, are new; each only once.
  assert.is(catalog.claimTs(ch, 3_000), true);
  assert.is(catalog.claimTs(ch, 3_000), false, 'the same ts again');
  assert.is(catalog.claimTs(ch, 2_000), false, 'below one taken from the gap: the gap keeps its upper part');
  assert.is(catalog.claimTs(ch, 4_999), true);
  assert.is(catalog.claimTs(ch, 4_000), true, 'between the two taken');
  assert.is(catalog.claimTs(ch, 4_999), false);
  // A new channel: nothing below its first reading is stored, so the gap reaches down.
  const fresh = catalog.channel(catalog.seriesId('s2', 'kitchen', 'temperature', 'C'));
  for (const ts of [9_000, 9_001]) assert.is(catalog.claimTs(fresh, ts), true);
  assert.is(catalog.claimTs(fresh, 8_000), true, 'a step of 1 ms (9,000 to 9,001) leaves the gap below 9,000 as it was');
  const other = catalog.channel(catalog.seriesId('s3', 'kitchen', 'temperature', 'C'));
  assert.is(catalog.claimTs(other, 9_000), true);
  for (const ts of [1_000, 2_000, 8_999]) assert.is(catalog.claimTs(other, ts), true, `${ts}: below the first reading of a new channel`);
  assert.is(catalog.claimTs(other, 1_000), false);
  // A device's message overtaken by the next, on a new channel: both gaps at work.
  const device = catalog.channel(catalog.seriesId('s4', 'kitchen', 'temperature', 'C'));
  for (const ts of [100, 101, 103, 102, 104, 106, 105]) assert.is(catalog.claimTs(device, ts), true, `${ts}`);
  for (const ts of [100, 101, 102, 103, 104, 105, 106]) assert.is(catalog.claimTs(device, ts), false, `${ts} again`);
  assert.is(catalog.claimTs(device, 50), true, 'below the first: the widest gap');
});

test('past the gaps, a channel whose readings come out of order keeps its last accepted ts: deeper reorderings are new, repeats are not', () => {
  const catalog = new SeriesCatalog();
  const ch = catalog.channel(catalog.seriesId('s1', 'kitchen', 'temperature', 'C'));
  for (const ts of [100, 101, 103, 105]) assert.is(catalog.claimTs(ch, ts), true);
  assert.is(
    catalog.claimTs(ch, 102),
    false,
    'below the last gap (103 to 105): not known, the store checks it; from now on the channel keeps its ts',
  );
  for (const ts of [106, 108, 110, 107, 109]) assert.is(catalog.claimTs(ch, ts), true, `${ts}`);
  for (const ts of [106, 107, 108, 109, 110, 104, 102]) assert.is(catalog.claimTs(ch, ts), false, `${ts} again, or below what is kept`);
  // Many in order: the oldest kept are given up, and what lies below them is checked again.
  for (let ts = 200; ts < 240; ts += 2) assert.is(catalog.claimTs(ch, ts), true);
  assert.is(catalog.claimTs(ch, 237), true, 'among the last ts kept');
  assert.is(catalog.claimTs(ch, 203), false, 'below the ts kept');
  catalog.raiseBound(ch, 236);
  assert.is(catalog.claimTs(ch, 235), false, 'an upload reached it');
});

test('an upload or another hub’s rows trim the gap: a live reading at or below their ts is checked', () => {
  const catalog = new SeriesCatalog();
  const ch = catalog.channel(catalog.seriesId('s1', 'kitchen', 'temperature', 'C'));
  catalog.raiseBound(ch, 1_000);
  assert.is(catalog.claimTs(ch, 5_000), true);
  catalog.raiseBound(ch, 3_000); // below lastTs: the bound stays, the gap (1,000, 5,000) loses its part up to 3,000
  assert.is(ch.lastTs, 5_000);
  assert.is(catalog.claimTs(ch, 2_000), false);
  assert.is(catalog.claimTs(ch, 3_000), false);
  assert.is(catalog.claimTs(ch, 4_000), true);
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
