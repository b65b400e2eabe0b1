// The filters of PROTOCOL.md §2 (protocol/filters.ts): "sensor, room, metric, each one value or a
// comma-separated list (in a JSON body or WebSocket message also an array of strings); all
// given filters must match". The hub and the CLI both read them by these rules.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { matches, NO_FILTERS, parseFilters, parseFilterValues, parseList, type Filters } from './filters.ts';

const items = (r: ReturnType<typeof parseList>): string[] => {
  if (!r.ok) throw new Error(r.problem);
  return r.items;
};
const problem = (r: { ok: boolean; problem?: string }): string => {
  if (r.ok) throw new Error('accepted');
  return r.problem!;
};
const filters = (source: Record<string, unknown>): Filters => {
  const r = parseFilters(source);
  if (!r.ok) throw new Error(r.problem);
  return r.filters;
};
const sorted = (s: ReadonlySet<string> | null) => (s === null ? null : [...s].sort());

test('one value, a comma-separated list, or several of them (repeated parameter, JSON array)', () => {
  assert.equal(items(parseList('sensor', 'a')), ['a']);
  assert.equal(items(parseList('sensor', 'a,b')), ['a', 'b']);
  assert.equal(items(parseList('sensor', ['a,b', 'c'])), ['a', 'b', 'c']);
  assert.equal(items(parseList('room', 'hall, kitchen ')), ['hall', 'kitchen'], 'spaces around items are forgiven');
  assert.equal(items(parseList('room', ['b', 'a', 'b,a'])), ['b', 'a'], 'a repeated item is kept once, order kept');
  assert.equal(items(parseList('room', [])), []);
});

test('an empty item is refused, naming the label and the text it is in', () => {
  assert.is(problem(parseList('metric', 'temperature,,humidity')), 'metric has an empty item in "temperature,,humidity"');
  assert.match(problem(parseList('--room', ['a', ''])), /^--room has an empty item/);
  assert.match(problem(parseList('room', 'a,')), /empty item/);
});

test('each item must match the contract pattern of its name', () => {
  assert.equal(items(parseFilterValues('sensor', 'rack1-temp,a.b:c_d-e')), ['rack1-temp', 'a.b:c_d-e']);
  assert.equal(items(parseFilterValues('metric', ['cpu_load'])), ['cpu_load']);
  assert.is(
    problem(parseFilterValues('sensor', 'ok,bad id')),
    'sensor "bad id" is not a valid sensor name (^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$)',
  );
  assert.match(problem(parseFilterValues('metric', 'Temperature')), /^metric "Temperature" is not a valid metric name/);
  assert.match(problem(parseFilterValues('room', 'x'.repeat(100), '--room')), /^--room "x{77}\.\.\." is not a valid room name/);
});

test('anything but a string or an array of strings is refused', () => {
  for (const raw of [5, null, true, {}, [1], ['a', 2], [['a']]]) {
    assert.is(problem(parseFilterValues('room', raw)), 'room must be a string, a comma-separated list, or an array of strings');
  }
});

test('parseFilters reads the three names, leaves absent ones null, and says which one is wrong', () => {
  const f = filters({ sensor: 'b,a', metric: ['temperature'], other: 'ignored' });
  assert.equal(sorted(f.sensor), ['a', 'b']);
  assert.is(f.room, null);
  assert.equal(sorted(f.metric), ['temperature']);
  const bad = parseFilters({ sensor: 'a', room: 'no room' });
  assert.ok(!bad.ok && bad.name === 'room');
  assert.equal(parseFilters(null), { ok: true, filters: NO_FILTERS });
});

test('names inherited from Object.prototype are not filters', () => {
  const source = Object.create({ sensor: 'inherited' }) as Record<string, unknown>;
  assert.is(filters(source).sensor, null);
  assert.is(filters({ constructor: 'x', toString: 'y' }).sensor, null);
});

test('all given filters must match; one not given matches everything', () => {
  const f = filters({ sensor: 'a,b', room: 'hall' });
  assert.ok(matches(f, 'a', 'hall', 'temperature'));
  assert.ok(matches(f, 'b', 'hall', 'anything'));
  assert.not.ok(matches(f, 'c', 'hall', 'temperature'), 'sensor does not match');
  assert.not.ok(matches(f, 'a', 'kitchen', 'temperature'), 'room does not match');
  assert.ok(matches(NO_FILTERS, 'x', 'y', 'z'));
  assert.not.ok(
    matches({ sensor: null, room: new Set(), metric: null }, 'x', 'y', 'z'),
    'an empty set matches nothing (a user with no rooms)',
  );
});

test('a long list is read in linear time', () => {
  const many = Array.from({ length: 50_000 }, (_, i) => `s${i}`).join(',');
  const started = performance.now();
  assert.is(items(parseFilterValues('sensor', many)).length, 50_000);
  assert.ok(performance.now() - started < 2_000, 'no quadratic de-duplication');
});

test.run();
