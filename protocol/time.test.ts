// The one time grammar (protocol/time.ts) of PROTOCOL.md §2: "ISO 8601 with a zone (Z or an
// offset) or integer ms", for the upload's ts, history's from/to and the CLI. Strict: a real
// calendar date, hours 00-23, minutes 00-59, offsets within ±14:00; never a rolled-over date.
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { nearIsoTime } from '../test/support/time-arbitraries.ts';
import { INTEGER_MS, ISO_DATE_TIME_STRICT, TIME_FORMS, daysFromCivil, daysInMonth, isLeapYear, parseTime } from './time.ts';

const ms = (text: string): number => {
  const r = parseTime(text);
  if (!r.ok) throw new Error(`"${text}" refused: ${r.problem}`);
  return r.ms;
};
const problem = (text: string): string => {
  const r = parseTime(text);
  if (r.ok) throw new Error(`"${text}" accepted as ${r.ms} (${new Date(r.ms).toISOString()})`);
  return r.problem;
};
const T = Date.UTC(2025, 10, 21, 8, 0, 0, 0); // 2025-11-21T08:00:00.000Z

test('ISO 8601 with Z or an offset, with or without seconds and fraction, and integer ms', () => {
  assert.is(ms('2025-11-21T08:00:00.000Z'), T);
  assert.is(ms('2025-11-21T08:00:00Z'), T);
  assert.is(ms('2025-11-21T08:00Z'), T);
  assert.is(ms('2025-11-21 08:00:00Z'), T, 'a space for the T, as RFC 3339 allows');
  assert.is(ms('2025-11-21T09:00:00+01:00'), T);
  assert.is(ms('2025-11-21T09:00:00+0100'), T);
  assert.is(ms('2025-11-21T09:00:00+01'), T);
  assert.is(ms('2025-11-20T22:30:00-09:30'), T);
  assert.is(ms('2025-11-21T08:00:00-00:00'), T);
  assert.is(ms('2025-11-21T22:00:00+14:00'), T, 'the widest offset in use');
  assert.is(ms('2025-11-20T18:00:00-14:00'), T);
  assert.is(ms('2025-11-21T08:00:00.1Z'), T + 100);
  assert.is(ms('2025-11-21T08:00:00.12Z'), T + 120);
  assert.is(ms('2025-11-21T08:00:00.123456Z'), T + 123, 'microseconds (Python) are cut to ms');
  assert.is(ms('2025-11-21T08:00:00.999999999Z'), T + 999, 'cut, not rounded up into the next second');
  assert.is(ms('1763712000000'), T);
  assert.is(ms('0'), 0);
  assert.is(ms('-1'), -1);
});

test('leap days: 2024-02-29 and 2000-02-29 exist, 2023-02-29 and 1900-02-29 do not', () => {
  assert.is(ms('2024-02-29T00:00:00Z'), Date.UTC(2024, 1, 29));
  assert.is(ms('2000-02-29T12:00:00Z'), Date.UTC(2000, 1, 29, 12));
  assert.match(problem('2023-02-29T00:00:00Z'), /2023-02 has no day 29/);
  assert.match(problem('1900-02-29T00:00:00Z'), /1900-02 has no day 29/);
});

test('an impossible date, hour, minute, second or offset is refused with what is wrong, never rolled over', () => {
  const cases: [string, RegExp][] = [
    ['2026-02-30T00:00:00Z', /2026-02 has no day 30/],
    ['2025-04-31T00:00:00Z', /has no day 31/],
    ['2025-01-00T00:00:00Z', /has no day 00/],
    ['2025-13-01T00:00:00Z', /month 13/],
    ['2025-00-01T00:00:00Z', /month 00/],
    ['2025-11-21T24:00:00Z', /hour 24/],
    ['2025-11-21T23:60:00Z', /minute 60/],
    ['2025-11-21T23:59:60Z', /second 60/],
    ['2025-11-21T08:00:00+25:00', /offset \+25:00 is beyond ±14:00/],
    ['2025-11-21T08:00:00+14:01', /beyond ±14:00/],
    ['2025-11-21T08:00:00-14:30', /beyond ±14:00/],
    ['2025-11-21T08:00:00+15', /beyond ±14:00/],
    ['2025-11-21T08:00:00+01:60', /offset minutes 60/],
  ];
  for (const [text, why] of cases) assert.match(problem(text), why, text);
});

test('a time without a zone, or a date alone, is refused with an example of the fix', () => {
  assert.match(problem('2025-11-21T08:00:00'), /has no time zone; add Z .* e\.g\. 2025-11-21T08:00:00Z or 2025-11-21T08:00:00\+01:00/);
  assert.match(problem('2025-11-21T08:00:00.123'), /has no time zone/);
  assert.match(problem('2025-11-21'), /has no time zone; .* e\.g\. 2025-11-21T00:00Z/);
});

test('other text is refused: other ISO forms, lower case, spaces around, fractions past ns, exponents, unsafe integers', () => {
  for (const text of [
    '',
    'now',
    'yesterday',
    '2025-11-21T08:00:00z',
    '2025-11-21t08:00:00Z',
    ' 2025-11-21T08:00:00Z',
    '2025-11-21T08:00:00Z ',
    '2025-11-21T08:00:00.Z',
    '2025-11-21T08:00:00.1234567890Z',
    '2025-11-21T08:00:00,5Z',
    '2025-11-21T8:00:00Z',
    '20251121T080000Z',
    '2025-W47-5T08:00:00Z',
    '2025-11-21T08:00:00+1:00',
    '2025-11-21T08:00:00+01:0',
    '2025-11-21T08:00:00 +01:00',
    '+2025-11-21T08:00:00Z',
    '1e12',
    '1763712000000.5',
    '+1763712000000',
    '9007199254740992',
    '1'.repeat(400),
  ])
    problem(text);
});

test('every instant of years 0000-9999 at every offset within ±14:00 reads back as itself', () => {
  // The text a correct clock would write; parseTime must give the instant back, to the ms.
  // setUTCFullYear, not Date.UTC, which reads years 0-99 as 1900-1999.
  const min = new Date(0).setUTCFullYear(0, 0, 1);
  const max = new Date(0).setUTCFullYear(9999, 11, 31);
  fc.assert(
    fc.property(fc.integer({ min, max }), fc.integer({ min: -14 * 60, max: 14 * 60 }), fc.boolean(), (instant, offset, colon) => {
      const wall = new Date(instant + offset * 60_000);
      if (wall.getUTCFullYear() < 0 || wall.getUTCFullYear() > 9999) return;
      const a = Math.abs(offset);
      const zone =
        offset === 0
          ? 'Z'
          : `${offset < 0 ? '-' : '+'}${String(Math.floor(a / 60)).padStart(2, '0')}${colon ? ':' : ''}${String(a % 60).padStart(2, '0')}`;
      const text = wall.toISOString().slice(0, 23) + zone;
      assert.is(ms(text), instant, text);
    }),
    { seed: 80301, numRuns: 5000 },
  );
});

test('a date is accepted exactly when the calendar has it (days counted without Date, which rolls them over)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 31 }), (y, m, d) => {
      const probe = new Date(0);
      probe.setUTCFullYear(y, m - 1, d);
      const real = probe.getUTCFullYear() === y && probe.getUTCMonth() === m - 1 && probe.getUTCDate() === d;
      const text = `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}T00:00Z`;
      const r = parseTime(text);
      assert.is(r.ok, real, text);
      if (r.ok) {
        assert.is(r.ms, probe.getTime(), text);
        assert.is(daysFromCivil(y, m, d) * 86_400_000, probe.getTime(), text);
      }
    }),
    { seed: 80302, numRuns: 5000 },
  );
});

test('a refusal names the forms that are accepted, and quotes a long text cut short', () => {
  assert.match(problem('yesterday'), TIME_FORMS);
  const long = problem('9'.repeat(30) + 'x'.repeat(100));
  assert.ok(long.length < 60 + TIME_FORMS.length + 20, long);
  assert.match(long, '...');
});

test('leap years: every 4th year, except centuries, except every 400th', () => {
  assert.equal([1900, 2000, 2023, 2024, 2100, 2400].map(isLeapYear), [false, true, false, true, false, true]);
  assert.equal(
    Array.from({ length: 12 }, (_, i) => daysInMonth(2023, i + 1)),
    [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31],
  );
  assert.is(daysInMonth(2024, 2), 29);
});

test('the pattern for SQL (ISO_DATE_TIME_STRICT) takes exactly what parseTime takes, but for days past the end of a month', () => {
  // csv-row-rules.ts matches upload ts in DuckDB with this pattern; DuckDB's cast then refuses 2026-02-30.
  fc.assert(
    fc.property(nearIsoTime(), (text) => {
      const r = parseTime(text);
      // The same text on the 28th, a day every month has: if that passes, only the calendar refused it.
      const calendarOnly = !r.ok && /has no day (29|30|31)$/.test(r.problem) && parseTime(`${text.slice(0, 8)}28${text.slice(10)}`).ok;
      assert.is(ISO_DATE_TIME_STRICT.test(text), r.ok || calendarOnly, `${text}: ${r.ok ? r.ms : r.problem}`);
    }),
    { seed: 80303, numRuns: 20000 },
  );
  for (const text of ['2026-02-30T00:00Z', '2025-04-31T00:00Z']) assert.ok(ISO_DATE_TIME_STRICT.test(text), text);
  for (const text of ['2025-01-00T00:00Z', '2025-11-21T08:00:00+14:01', '2025-11-21T08:00:00', '2025-11-21t08:00Z']) {
    assert.not.ok(ISO_DATE_TIME_STRICT.test(text), text);
  }
});

test('the integer form is digits with an optional minus, nothing else', () => {
  for (const text of ['0', '-1', '1763712000000', '007']) assert.ok(INTEGER_MS.test(text), text);
  for (const text of ['+1', '1.0', '1e3', ' 1', '1 ', '--1', '', '0x10']) assert.not.ok(INTEGER_MS.test(text), text);
});

test.run();
