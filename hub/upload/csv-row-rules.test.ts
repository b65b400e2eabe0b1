// The two forms of the upload's row rules (csv-row-rules.ts) must agree: the SQL one decides
// whether a file is stored, the JS one lists its bad rows (PROTOCOL.md §2 "Bulk upload":
// atomic, every bad row listed). Here for the parts this file owns: the ts grammar of
// protocol/time.ts against its SQL form over DuckDB's cast, and the unit rule against CSV
// injection. (test/fuzz/csv-rows.test.ts fuzzes whole rows.)
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkRow, namesProblem, sqlRowExpressions, type RowCheck, type UploadColumn } from './csv-row-rules.ts';
import { parseTime } from '../../protocol/time.ts';
import { nearIsoTime } from '../../test/support/time-arbitraries.ts';
import {
  FORMULA_TRIGGERS,
  MAX_FUTURE_MS,
  METRIC_PATTERN,
  MIN_TS_MS,
  ROOM_PATTERN,
  SENSOR_ID_PATTERN,
  isUnit,
} from '../../protocol/names.ts';

const NOW = Date.UTC(2026, 0, 15, 12);
const sqlText = (s: string) => `'${s.replaceAll("'", "''")}'`;

let instance: DuckDBInstance;
let db: DuckDBConnection;
test.before(async () => {
  instance = await DuckDBInstance.create(':memory:');
  db = await instance.connect();
});
test.after(() => {
  db.closeSync();
  instance.closeSync();
});

/** The SQL form over rows of text, as read_csv gives them: each row's ts (ms or null) and bad flag. */
async function sqlRows(rows: Record<UploadColumn, string>[]): Promise<{ ts: number | null; bad: boolean }[]> {
  const cols: UploadColumn[] = ['ts', 'sensor', 'room', 'metric', 'value', 'unit'];
  const e = sqlRowExpressions((c) => `c_${c}`, NOW);
  const values = rows.map((r, i) => `(${i}, ${cols.map((c) => sqlText(r[c])).join(', ')})`).join(', ');
  const out = (
    await db.runAndReadAll(`SELECT ${e.ts}, ${e.bad} FROM (VALUES ${values}) t(i, ${cols.map((c) => `c_${c}`).join(', ')}) ORDER BY i`)
  ).getRows();
  return out.map(([ts, bad]) => ({ ts: ts === null ? null : Number(ts), bad: bad === true }));
}

const row = (over: Partial<Record<UploadColumn, string>>): Record<UploadColumn, string> => ({
  ts: '2025-11-21T08:00:00Z',
  sensor: 'rack1',
  room: 'lab',
  metric: 'temperature',
  value: '1',
  unit: 'C',
  ...over,
});

/** A row's verdict as text: its problem, or its parsed ts and value. */
const verdict = (r: RowCheck | string): string => (typeof r === 'string' ? r : `ok ts=${r.ts} value=${r.value}`);

/** Times near the grammar, most of them within the contract's ts bounds. */
const timeText = nearIsoTime(fc.oneof(fc.integer({ min: 1999, max: 2027 }), fc.integer({ min: 0, max: 9999 })));
const anyTs = fc.oneof(
  { weight: 6, arbitrary: timeText },
  { weight: 1, arbitrary: fc.integer({ min: MIN_TS_MS - 10, max: NOW + MAX_FUTURE_MS + 10 }).map(String) },
  { weight: 1, arbitrary: fc.string({ maxLength: 30, unit: fc.constantFrom(...'0123456789-+:.TZ '.split('')) }) },
);

test('the SQL ts is the ms parseTime gives, and null exactly where parseTime refuses (within the contract’s bounds)', async () => {
  // §2 Bulk upload: "ts is ISO 8601 with a zone or integer ms"; §1 ts bounds
  const fixed = [
    '2026-02-30T00:00:00Z',
    '2024-02-29T00:00:00Z',
    '2023-02-29T00:00:00Z',
    '2025-11-21T08:00:00+25:00',
    '2025-11-21T08:00:00+14:00',
    '2025-11-21T08:00:00-14:01',
    '2025-11-21T08:00:00.9999999Z',
    '2025-11-21T08:00Z',
    '2025-11-21T09:00+01',
    '2025-11-21 09:00:00+0100',
    '9007199254740991',
    '9007199254740992',
    '-0',
    '00001763712000000',
  ];
  const texts = [...fixed, ...fc.sample(anyTs, { seed: 80311, numRuns: 4000 })];
  const verdicts = await sqlRows(texts.map((ts) => row({ ts })));
  texts.forEach((text, i) => {
    const js = parseTime(text);
    const sql = verdicts[i]!;
    const jsInBounds = js.ok && js.ms >= MIN_TS_MS && js.ms <= NOW + MAX_FUTURE_MS;
    assert.is(
      !sql.bad,
      jsInBounds,
      `${JSON.stringify(text)}: SQL ${sql.bad ? 'refuses' : `accepts as ${sql.ts}`}, JS ${js.ok ? `gives ${js.ms}` : js.problem}`,
    );
    // From 1970 on, the two agree to the ms on every time, in bounds or not.
    if (js.ok && js.ms >= 0) assert.is(sql.ts, js.ms, `${JSON.stringify(text)}: ms`);
  });
});

test('a ts more than 24 h ahead of the hub clock is a bad row in both forms; 24 h exactly is not', async () => {
  // §1 Names and values: ts ≤ hub time + 24 h
  const texts = [String(NOW + MAX_FUTURE_MS), String(NOW + MAX_FUTURE_MS + 1), new Date(NOW + MAX_FUTURE_MS + 60_000).toISOString()];
  const verdicts = await sqlRows(texts.map((ts) => row({ ts })));
  assert.equal(
    verdicts.map((v) => v.bad),
    [false, true, true],
  );
  assert.equal(
    texts.map((ts) => typeof checkRow(row({ ts }), NOW) === 'string'),
    [false, true, true],
  );
  assert.match(verdict(checkRow(row({ ts: texts[1] }), NOW)), /more than 24 h ahead/);
});

test('a unit beginning with = + - @, a tab or a carriage return (or their full-width forms) is refused by both forms', async () => {
  // OWASP CSV injection; docs/API.md "Units": stricter than the contract's 16 characters
  const hostile = ['=HYPERLINK("http://x","y")', '@SUM(1+1)', '+1+1', '-1+1', '\t=1', '\r=1', '=', '＝1', '＋1', '－1', '＠1'];
  const fine = ['C', '%', '', 'a=b', 'kg-m', ' =1', "'=1", 'µg/m³', 'h"Pa, "sea"'];
  const units = [...hostile, ...fine];
  const verdicts = await sqlRows(units.map((unit) => row({ unit })));
  units.forEach((unit, i) => {
    const refused = hostile.includes(unit);
    assert.is(isUnit(unit), !refused, `isUnit(${JSON.stringify(unit)})`);
    const js = checkRow(row({ unit }), NOW);
    assert.is(typeof js === 'string', refused, `checkRow unit ${JSON.stringify(unit)}: ${verdict(js)}`);
    if (refused) assert.match(verdict(js), /unit [\s\S]*must not begin with/);
    assert.is(verdicts[i]!.bad, refused, `SQL unit ${JSON.stringify(unit)}`);
  });
});

test('no sensor id, room or metric can begin with a formula character: their patterns start with a letter or digit', () => {
  // The export neutralises them anyway (csv-rows.ts); this is why only the unit needs the rule.
  for (const c of FORMULA_TRIGGERS) {
    for (const pattern of [SENSOR_ID_PATTERN, ROOM_PATTERN, METRIC_PATTERN]) {
      assert.not.ok(pattern.test(`${c}1`), `${pattern} takes ${JSON.stringify(c)} first`);
      assert.not.ok(pattern.test(`${c}a`), `${pattern} takes ${JSON.stringify(c)} first`);
    }
  }
  for (const pattern of [SENSOR_ID_PATTERN, ROOM_PATTERN, METRIC_PATTERN]) {
    fc.assert(
      fc.property(fc.stringMatching(pattern), (name) => assert.not.ok(FORMULA_TRIGGERS.has(name[0]!), name)),
      { seed: 80312, numRuns: 2000 },
    );
  }
});

// checkRow alone, rule by rule (§2 Bulk upload: "the same rules as sensor readings", §1 Names and values)

test('a good row gives its ts in ms and its value as a number', () => {
  assert.equal(checkRow(row({ ts: '2025-11-21T09:00:00+01:00', value: '-1.5e1' }), NOW), { ts: Date.UTC(2025, 10, 21, 8), value: -15 });
  assert.equal(checkRow(row({ ts: String(MIN_TS_MS), value: '.5' }), NOW), { ts: MIN_TS_MS, value: 0.5 });
});

test('each broken rule refuses the row with a message that names the field and quotes the value', () => {
  const cases: [Partial<Record<UploadColumn, string>>, RegExp][] = [
    [{ sensor: '' }, /^sensor "" must match/],
    [{ sensor: 'rack 1' }, /^sensor "rack 1" must match/],
    [{ sensor: '-rack' }, /^sensor "-rack"/],
    [{ room: 'lab/2' }, /^room "lab\/2" must match/],
    [{ metric: 'Temperature' }, /^metric "Temperature" must match/],
    [{ metric: '' }, /^metric ""/],
    [{ unit: 'x'.repeat(17) }, /^unit must be at most 16 characters/],
    [{ unit: '=1+1' }, /^unit "=1\+1" must not begin with/],
    [{ value: '' }, /^value "" is not a number/],
    [{ value: 'abc' }, /^value "abc" is not a number/],
    [{ value: '1e999' }, /^value "1e999" is not finite/],
    [{ ts: '' }, /^ts "" is not ISO 8601/],
    [{ ts: '2025-11-21T08:00:00' }, /^ts "2025-11-21T08:00:00" has no time zone/],
    [{ ts: '2026-02-30T00:00:00Z' }, /^ts .* has no day 30/],
    [{ ts: String(MIN_TS_MS - 1) }, /^ts "946684799999" is before the year 2000/],
    [{ ts: '1999-12-31T23:59:59Z' }, /is before the year 2000/],
  ];
  for (const [over, why] of cases) assert.match(verdict(checkRow(row(over), NOW)), why, JSON.stringify(over));
});

test('a value is a decimal number as people write it: signs, a lone point, exponents; no hex, spaces, commas or words', () => {
  for (const value of ['1', '+1', '-1', '1.', '.5', '0.25', '1e3', '1E-3', '-0', '007']) {
    assert.is(typeof checkRow(row({ value }), NOW), 'object', value);
  }
  for (const value of ['0x10', ' 1', '1 ', '1,5', '1.2.3', 'Infinity', '-Infinity', 'NaN', '.', 'e3', '1e', '½']) {
    assert.match(verdict(checkRow(row({ value }), NOW)), /is not a number/, value);
  }
});

test('room and unit may be empty or absent; sensor, metric, value and ts may not', () => {
  assert.is(typeof checkRow(row({ room: '', unit: '' }), NOW), 'object');
  assert.is(typeof checkRow({ ts: '2025-11-21T08:00:00Z', sensor: 'rack1', metric: 'temperature', value: '1' }, NOW), 'object');
  for (const missing of ['sensor', 'metric', 'value', 'ts'] as const) {
    const { [missing]: _, ...rest } = row({});
    assert.type(checkRow(rest, NOW), 'string', missing);
  }
});

test('the first broken rule is the one reported: names, then value, then ts', () => {
  assert.match(verdict(checkRow(row({ sensor: 'a b', metric: 'B', value: 'x', ts: '' }), NOW)), /^sensor/);
  assert.match(verdict(checkRow(row({ metric: 'B', value: 'x', ts: '' }), NOW)), /^metric/);
  assert.match(verdict(checkRow(row({ value: 'x', ts: '' }), NOW)), /^value/);
});

test('a long bad value is quoted cut short, so one row cannot flood the error report', () => {
  const problem = verdict(checkRow(row({ sensor: 'x'.repeat(10_000) }), NOW));
  assert.ok(problem.length < 200, `${problem.length} characters`);
  assert.match(problem, '...');
});

test('namesProblem: a room or unit of null is not given, and passes; an empty room is the default room', () => {
  assert.is(namesProblem('rack1', null, 'temperature', null), null);
  assert.is(namesProblem('rack1', '', 'temperature', ''), null);
  assert.match(namesProblem('rack1', 'a b', 'temperature', null) ?? '', /^room/);
  assert.match(namesProblem('rack1', null, 'temperature', '@x') ?? '', /^unit/);
});

test.run();
