import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatAge, formatClock, formatValue, printable } from './format.ts';

const s = 1000;
const m = 60 * s;
const h = 60 * m;
const d = 24 * h;

test('ages under a minute are whole seconds', () => {
  assert.is(formatAge(0), '0s');
  assert.is(formatAge(4 * s), '4s');
  assert.is(formatAge(4 * s + 999), '4s');
  assert.is(formatAge(59 * s + 999), '59s');
});

test('ages under an hour are minutes and two-digit seconds', () => {
  assert.is(formatAge(1 * m), '1m00s');
  assert.is(formatAge(2 * m + 5 * s), '2m05s');
  assert.is(formatAge(59 * m + 59 * s), '59m59s');
});

test('ages under a day are hours and two-digit minutes', () => {
  assert.is(formatAge(1 * h), '1h00m');
  assert.is(formatAge(3 * h + 10 * m + 59 * s), '3h10m');
  assert.is(formatAge(23 * h + 59 * m), '23h59m');
});

test('ages of a day or more are days and hours', () => {
  assert.is(formatAge(1 * d), '1d0h');
  assert.is(formatAge(2 * d + 4 * h + 30 * m), '2d4h');
  assert.is(formatAge(400 * d + 23 * h), '400d23h');
});

test('a reading slightly ahead of the local clock is 0s old; one far ahead gets a minus sign', () => {
  assert.is(formatAge(-300), '0s');
  assert.is(formatAge(-4 * s), '-4s');
  assert.is(formatAge(-(2 * m + 5 * s)), '-2m05s');
});

test('an age that is not a number shows as a question mark', () => {
  assert.is(formatAge(Number.NaN), '?');
});

test('values keep integers and measured digits but drop binary noise', () => {
  assert.is(formatValue(37), '37');
  assert.is(formatValue(-4), '-4');
  assert.is(formatValue(24.5), '24.5');
  assert.is(formatValue(0.1 + 0.2), '0.3');
  assert.is(formatValue(21.123456), '21.123456');
  assert.is(formatValue(1e-7), '1e-7');
});

test('the clock is local time, zero-padded', () => {
  const ms = new Date(2025, 0, 2, 3, 4, 5).getTime();
  assert.is(formatClock(ms), '2025-01-02 03:04:05');
});

test('control characters from the hub cannot reach the terminal', () => {
  assert.is(printable('ok\x1b[2Jx\ny\u009b'), 'ok?[2Jx?y?');
  assert.is(printable('°C µg/m³'), '°C µg/m³');
});

test.run();
