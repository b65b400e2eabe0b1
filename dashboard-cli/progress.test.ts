// The progress line of long transfers: only on a terminal, redrawn in place, and its numbers.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ProgressLine, formatBytes, formatCount, formatRate, formatSeconds } from './progress.ts';

function sink(isTTY: boolean) {
  let text = '';
  return { out: { write: (t: string) => void (text += t), isTTY }, text: () => text };
}

test('piped or redirected, the progress line writes nothing at all', () => {
  const { out, text } = sink(false);
  const progress = new ProgressLine(out, () => 0);
  progress.update(() => 'working', true);
  progress.finish('done');
  assert.is(text(), '');
});

test('on a terminal it redraws in place, at most every 200 ms, and the summary replaces it', () => {
  const { out, text } = sink(true);
  let clock = 0;
  const progress = new ProgressLine(out, () => clock);
  progress.update(() => 'first line');
  clock = 50;
  progress.update(() => 'too soon');
  clock = 300;
  progress.update(() => 'short');
  progress.finish('done');
  // Spaces wipe what a longer line left; clearing needs only as many as are still shown.
  assert.is(text(), '\rfirst line\rshort     \r     \rdone\n');
});

test('counts are grouped by thousands, whatever the locale', () => {
  assert.is(formatCount(0), '0');
  assert.is(formatCount(3_000_000), '3,000,000');
});

test('sizes use decimal units with three significant digits', () => {
  assert.is(formatBytes(0), '0 B');
  assert.is(formatBytes(999), '999 B');
  assert.is(formatBytes(1500), '1.50 kB');
  assert.is(formatBytes(14_200_000), '14.2 MB');
  assert.is(formatBytes(142_000_000), '142 MB');
  assert.is(formatBytes(999_999_999), '1.00 GB');
});

test('durations and rates read as a person expects', () => {
  assert.is(formatSeconds(2_900), '2.9 s');
  assert.is(formatSeconds(95_400), '95 s');
  assert.is(formatRate(21_300_000, 1000), '21.3 MB/s');
  assert.is(formatRate(1_000, 10), '- B/s', 'too early to say');
});

test.run();
