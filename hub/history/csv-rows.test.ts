// How the export writes a bucket's mean (PROTOCOL.md §2 "History export", with `every`): without the
// float noise of the store's sum, never outside the bucket's min and max, every measured digit kept.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatMean } from './csv-rows.ts';

test('the noise of a binary sum is dropped: (0.1 + 0.2 + 0.3) / 3 is written 0.2, (0.1 + 0.7) / 2 is 0.4', () => {
  assert.is(formatMean((0.1 + 0.2 + 0.3) / 3, 0.1, 0.3), '0.2');
  assert.is(formatMean(0.39999999999999997, 0.1, 0.7), '0.4');
  assert.is(formatMean(5.910000000000001, 5.9, 5.92), '5.91');
});

test('what sensors measure is kept: large values keep their decimals, a true repeating mean its 12 digits', () => {
  assert.is(formatMean(101325.25, 101325, 101325.5), '101325.25');
  assert.is(formatMean(1234567.5, 1234567, 1234568), '1234567.5');
  assert.is(formatMean(22.183333333333334, 22.1, 22.3), '22.1833333333');
  assert.is(formatMean(-2.5, -2.5, -2.5), '-2.5');
  assert.is(formatMean(7, 7, 7), '7');
});

test('rounding never moves the mean outside [min, max]', () => {
  // Equal readings of 15 significant digits: 12 digits alone would round below them all.
  const v = 1234.56789012345;
  assert.is(formatMean(v, v, v), String(v));
  assert.is(formatMean(0.30000000000000004, 0.30000000000000004, 0.30000000000000004), '0.30000000000000004');
});

test.run();
