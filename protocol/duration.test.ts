// The one duration grammar (protocol/duration.ts): history's `every` (PROTOCOL.md §2 "History
// export": 10s, 5m, 1h, 1d, ...), the CLI's --every and relative times, the hub's duration flags.
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DURATION_UNITS, parseDuration } from './duration.ts';

const ms = (text: string): number => {
  const r = parseDuration(text);
  if (!r.ok) throw new Error(`"${text}" refused: ${r.problem}`);
  return r.ms;
};
const problem = (text: string): string => {
  const r = parseDuration(text);
  if (r.ok) throw new Error(`"${text}" accepted as ${r.ms} ms`);
  return r.problem;
};

test('a whole number and a unit ms, s, m, h, d or w', () => {
  assert.is(ms('500ms'), 500);
  assert.is(ms('10s'), 10_000);
  assert.is(ms('5m'), 300_000);
  assert.is(ms('1h'), 3_600_000);
  assert.is(ms('1d'), 86_400_000);
  assert.is(ms('1w'), 604_800_000, 'the API takes every=1w, and so does everything else');
  assert.is(ms('90m'), 5_400_000);
  assert.is(ms('007s'), 7_000, 'leading zeros are only digits');
});

test('a number without a unit is refused, and told to add one', () => {
  assert.match(problem('300'), /add a unit, e\.g\. 300s or 300ms/);
});

test('zero is refused: nothing waits, lasts or buckets for no time', () => {
  for (const text of ['0s', '0ms', '0w', '000m']) assert.match(problem(text), /more than 0/, text);
});

test('upper case, fractions, signs, spaces, two units and months are refused, each saying what to write', () => {
  assert.match(problem('5M'), /lower case.*m is minutes/);
  assert.match(problem('1H'), /lower case/);
  assert.match(problem('1.5h'), /whole number of a smaller unit \(90m/);
  assert.match(problem('-5m'), /without a sign/);
  assert.match(problem('+5m'), /without a sign/);
  assert.match(problem('5 m'), /without spaces/);
  assert.match(problem('1h30m'), /one number and one unit/);
  assert.match(problem('1mo'), /no fixed length: use d or w/);
  assert.match(problem('1y'), /no fixed length/);
  for (const text of ['', 'm', 'ms', '5x', ' 5m', '5m ', '5min', '5sec', 'Infinity', '1e3s', '5m\n', '٣s']) {
    assert.match(problem(text), /is not a duration/, JSON.stringify(text));
  }
});

test('a length past 2^53-1 ms is refused rather than rounded', () => {
  assert.is(ms(`${Number.MAX_SAFE_INTEGER}ms`), Number.MAX_SAFE_INTEGER);
  assert.match(problem(`${Number.MAX_SAFE_INTEGER + 1}ms`), /too long/);
  assert.match(problem('99999999999999999999w'), /too long/);
});

test('a long input is clipped in the message', () => {
  assert.ok(problem('x'.repeat(10_000)).length < 200);
});

test('every n and unit reads back as n times the unit (property)', () => {
  const units = [...DURATION_UNITS];
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.constantFrom(...units), (n, [unit, unitMs]) => {
      assert.is(ms(`${n}${unit}`), n * unitMs);
    }),
  );
});

test('nothing but the grammar is accepted (property)', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 12 }), (text) => {
      const r = parseDuration(text);
      if (r.ok) assert.ok(/^\d+(ms|s|m|h|d|w)$/.test(text) && r.ms > 0, text);
    }),
  );
});

test.run();
