// The two forms of the upload's row rules (csv-row-rules.ts) must agree: the SQL one decides
// whether a file is stored, the JS one lists its bad rows (PROTOCOL.md §2 "Bulk upload":
// atomic, every bad row listed). Here for the parts this file owns: the ts grammar of
// protocol/time.ts against its SQL form over DuckDB's cast, and the unit rule against CSV
// injection. (test/fuzz/csv-rows.test.ts fuzzes whole rows.)
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkRow, sqlRowExpressions, type UploadColumn } from './csv-row-rules.ts';
import { parseTime } from '../../protocol/time.ts';
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

const pad = (n: number, w = 2) => String(n).padStart(w, '0');
/** Times near the grammar: every field in and out of its range, every zone form, now and then a flaw. */
const timeText = fc
  .record({
    y: fc.oneof(fc.integer({ min: 1999, max: 2027 }), fc.integer({ min: 0, max: 9999 })),
    mo: fc.integer({ min: 0, max: 13 }),
    d: fc.integer({ min: 0, max: 32 }),
    h: fc.integer({ min: 0, max: 25 }),
    mi: fc.integer({ min: 0, max: 61 }),
    s: fc.option(fc.integer({ min: 0, max: 61 }), { nil: undefined }),
    f: fc.option(fc.stringMatching(/^\d{1,10}$/), { nil: undefined }),
    sep: fc.constantFrom('T', 'T', ' ', 't'),
    zone: fc.oneof(
      fc.constantFrom('Z', 'Z', 'z', ''),
      fc
        .tuple(
          fc.constantFrom('+', '-'),
          fc.integer({ min: 0, max: 16 }),
          fc.integer({ min: 0, max: 61 }),
          fc.constantFrom(':', '', 'none'),
        )
        .map(([sign, oh, om, form]) => (form === 'none' ? `${sign}${pad(oh)}` : `${sign}${pad(oh)}${form}${pad(om)}`)),
    ),
  })
  .map((t) => {
    const seconds = t.s === undefined ? '' : `:${pad(t.s)}${t.f === undefined ? '' : `.${t.f}`}`;
    return `${pad(t.y, 4)}-${pad(t.mo)}-${pad(t.d)}${t.sep}${pad(t.h)}:${pad(t.mi)}${seconds}${t.zone}`;
  });
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
  assert.match(String(checkRow(row({ ts: texts[1] }), NOW)), /more than 24 h ahead/);
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
    assert.is(typeof js === 'string', refused, `checkRow unit ${JSON.stringify(unit)}: ${String(js)}`);
    if (refused) assert.match(String(js), /unit [\s\S]*must not begin with/);
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

test.run();
