// Property-based fuzz of the upload's row rules (hub/upload/csv-row-rules.ts) against the
// contract, PROTOCOL.md §2 "Bulk upload" ("Rows are checked by the same rules as sensor
// readings"; ts "ISO 8601 with a zone or integer ms") and §1 "Names and values": random rows
// never throw; valid rows are accepted with the right ts and value; real dates round-trip
// through ISO and ms; impossible dates and offsets are refused. csv-rows-sql.test.ts checks that
// the SQL form of the same rules agrees.
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CONTRACT_MAX_FUTURE_MS, CONTRACT_MIN_TS, check } from './fuzz-support.ts';
import { NOW, checkRowOf, anyRow, impossibleTime, instant, isoAt, offset, validRow } from './csv-arbitraries.ts';

// ---------------------------------------------------------------- JS rules

test('any row, with any fields missing or garbled, gives a reason or a ts and value, never a throw', async () => {
  // §2 Bulk upload: every bad row is reported with a message
  await check(
    'checkRow(any row)',
    fc.property(anyRow, (row) => {
      const r = checkRowOf(row);
      if (typeof r === 'string') assert.ok(r.length > 0, 'a reason says what is wrong');
      else {
        assert.ok(
          Number.isSafeInteger(r.ts) && r.ts >= CONTRACT_MIN_TS && r.ts <= NOW + CONTRACT_MAX_FUTURE_MS,
          `ts ${r.ts} of ${JSON.stringify(row)}`,
        );
        assert.ok(Number.isFinite(r.value), `value ${r.value} of ${JSON.stringify(row)}`);
      }
    }),
    { seed: 80201, numRuns: 4000 },
  );
});

test('a valid row is accepted with its ts and value, whatever names of Object.prototype it uses', async () => {
  // §2 Bulk upload: ts ISO 8601 with a zone or integer ms; §1 Names and values
  await check(
    'checkRow(valid row)',
    fc.property(validRow, ({ row, ts, value }) => {
      const r = checkRowOf(row);
      assert.ok(typeof r !== 'string', `refused ${JSON.stringify(row)}: ${typeof r === 'string' ? r : JSON.stringify(r)}`);
      if (typeof r === 'string') return;
      assert.is(r.ts, ts, `ts of ${row.ts}`);
      assert.ok(Object.is(r.value, value) || r.value === value, `value of ${row.value}`);
    }),
    { seed: 80202, numRuns: 3000 },
  );
});

test('a real instant round-trips through ISO (UTC and any offset within ±14:00) and through ms', async () => {
  // §2 "Exactly what history.csv exports (raw) must upload again unchanged": ISO UTC with ms, or ms
  await check(
    'instant -> ISO/ms text -> checkRow ts',
    fc.property(instant, offset, (ms, o) => {
      const forms = [
        new Date(ms).toISOString(),
        String(ms),
        isoAt(ms, o, { colon: true, zulu: false, seconds: true }),
        isoAt(ms, o, { colon: false, zulu: false, seconds: true }),
      ];
      for (const ts of forms) {
        const r = checkRowOf({ ts, sensor: 'rack1', metric: 'temperature', value: '1' });
        assert.ok(typeof r !== 'string' && r.ts === ms, `${ts} should be ${ms} (${new Date(ms).toISOString()}), got ${JSON.stringify(r)}`);
      }
    }),
    { seed: 80203, numRuns: 3000 },
  );
});

test('an impossible calendar date, hour, minute or second, or an offset beyond ±14:00, is refused', async () => {
  // §2 Bulk upload: a bad row is refused (2026-02-30 was once rolled over into March, +25:00 taken)
  for (const text of [
    '2025-02-30T00:00:00Z',
    '2023-02-29T00:00:00Z',
    '2025-04-31T00:00:00Z',
    '2025-01-01T00:00:00+25:00',
    '2025-01-01T00:00:00+2500',
  ])
    assert.type(checkRowOf({ ts: text, sensor: 'rack1', metric: 'temperature', value: '1' }), 'string', text);
  await check(
    'checkRow(impossible time)',
    fc.property(impossibleTime, ({ text, broken }) => {
      const r = checkRowOf({ ts: text, sensor: 'rack1', metric: 'temperature', value: '1' });
      assert.type(r, 'string', `${text} (${broken} out of range) was accepted as ${JSON.stringify(r)}`);
    }),
    { seed: 80204, numRuns: 3000 },
  );
});

test('a ts before the year 2000 or more than 24 h ahead of the hub clock is refused, the bounds themselves accepted', () => {
  // §1 Names and values: 946684800000 ≤ ts ≤ hub time + 24 h
  const row = (ts: number) => checkRowOf({ ts: String(ts), sensor: 'rack1', metric: 'temperature', value: '1' });
  assert.type(row(CONTRACT_MIN_TS - 1), 'string');
  assert.type(row(NOW + CONTRACT_MAX_FUTURE_MS + 1), 'string');
  assert.not.type(row(CONTRACT_MIN_TS), 'string');
  assert.not.type(row(NOW + CONTRACT_MAX_FUTURE_MS), 'string');
});

test.run();
