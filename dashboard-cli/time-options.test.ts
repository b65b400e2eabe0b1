// Times on the command line for `history` (PROTOCOL.md §2 "History export"): every form becomes
// integer ms, and a time without a zone is refused before any request is made.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { UsageError } from './errors.ts';
import { parseDuration, parseTimeOption } from './time-options.ts';

const NOW_MS = Date.UTC(2025, 10, 21, 8, 0, 0, 0);

function usageError(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    assert.instance(error, UsageError);
    return (error as Error).message;
  }
  assert.unreachable('expected a usage error');
  return '';
}

test('ISO 8601 with Z or an offset becomes ms since the epoch', () => {
  assert.is(parseTimeOption('--from', '2025-11-21T08:00:00Z', NOW_MS), NOW_MS);
  assert.is(parseTimeOption('--from', '2025-11-21T08:00:00.000Z', NOW_MS), NOW_MS);
  assert.is(parseTimeOption('--from', '2025-11-21T09:00:00+01:00', NOW_MS), NOW_MS);
  assert.is(parseTimeOption('--from', '2025-11-21T09:00+0100', NOW_MS), NOW_MS);
  assert.is(parseTimeOption('--from', '2025-11-21T03:30:00-04:30', NOW_MS), NOW_MS);
  assert.is(parseTimeOption('--from', '2025-11-21T08:00:00.1239Z', NOW_MS), NOW_MS + 123, 'digits past ms are cut');
  assert.is(parseTimeOption('--from', '2025-11-21 08:00:00z', NOW_MS), NOW_MS);
});

test('integer ms pass as they are, and now is the local clock', () => {
  assert.is(parseTimeOption('--to', '1763712000000', NOW_MS), 1_763_712_000_000);
  assert.is(parseTimeOption('--to', 'now', NOW_MS), NOW_MS);
});

test('relative times count back from now: -1h, -30m, -2d, -90s, -500ms, -1w', () => {
  assert.is(parseTimeOption('--from', '-1h', NOW_MS), NOW_MS - 3_600_000);
  assert.is(parseTimeOption('--from', '-30m', NOW_MS), NOW_MS - 1_800_000);
  assert.is(parseTimeOption('--from', '-2d', NOW_MS), NOW_MS - 172_800_000);
  assert.is(parseTimeOption('--from', '-90s', NOW_MS), NOW_MS - 90_000);
  assert.is(parseTimeOption('--from', '-500ms', NOW_MS), NOW_MS - 500);
  assert.is(parseTimeOption('--from', '-1w', NOW_MS), NOW_MS - 604_800_000, 'the units of --every (protocol/duration.ts)');
});

test('a time without a zone, or a bare date, is a usage error that suggests adding one', () => {
  assert.match(
    usageError(() => parseTimeOption('--from', '2025-11-21T08:00:00', NOW_MS)),
    /has no time zone; add Z/,
  );
  assert.match(
    usageError(() => parseTimeOption('--from', '2025-11-21T08:00', NOW_MS)),
    /e\.g\. 2025-11-21T08:00Z/,
  );
  assert.match(
    usageError(() => parseTimeOption('--to', '2025-11-21', NOW_MS)),
    /e\.g\. 2025-11-21T00:00Z/,
  );
});

test('impossible dates, bad offsets and other text are usage errors', () => {
  for (const text of [
    '2025-02-30T00:00Z',
    '2025-13-01T00:00Z',
    '2025-11-21T24:00Z',
    '2025-11-21T08:00+25:00',
    'yesterday',
    '-1y',
    '-5M',
    '-0s',
    '1h',
    '-1.5h',
    '',
  ]) {
    usageError(() => parseTimeOption('--from', text, NOW_MS));
  }
});

test('ISO times follow the hub’s grammar (protocol/time.ts): offsets within ±14:00, real dates, fractions cut to ms', () => {
  // docs/API.md "Times": the CLI checks what the hub would refuse before making a request
  assert.is(parseTimeOption('--from', '2024-02-29T00:00:00Z', NOW_MS), Date.UTC(2024, 1, 29));
  assert.is(parseTimeOption('--from', '2025-11-21T22:00+14:00', NOW_MS), NOW_MS);
  assert.is(parseTimeOption('--from', '2025-11-21T08:00:00.123456789Z', NOW_MS), NOW_MS + 123);
  assert.match(
    usageError(() => parseTimeOption('--from', '2025-11-21T08:00+14:30', NOW_MS)),
    /^--from .*beyond ±14:00/,
  );
  assert.match(
    usageError(() => parseTimeOption('--to', '2023-02-29T00:00Z', NOW_MS)),
    /^--to .*2023-02 has no day 29/,
  );
});

test('a bucket is a positive whole number with a unit ms, s, m, h, d or w, as the hub takes every=1w', () => {
  assert.is(parseDuration('--every', '10s'), 10_000);
  assert.is(parseDuration('--every', '5m'), 300_000);
  assert.is(parseDuration('--every', '1h'), 3_600_000);
  assert.is(parseDuration('--every', '1d'), 86_400_000);
  assert.is(parseDuration('--every', '250ms'), 250);
  assert.is(parseDuration('--every', '1w'), 604_800_000);
  for (const text of ['0s', '5', '5 m', '1.5h', '1y', 'm', '-5m']) usageError(() => parseDuration('--every', text));
  assert.match(
    usageError(() => parseDuration('--every', '5M')),
    /^--every: "5M" is not a duration: units are lower case/,
  );
});

test.run();
