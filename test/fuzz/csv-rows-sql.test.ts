// The upload's row rules in their two forms (hub/upload/csv-row-rules.ts) must agree: the SQL
// form decides in DuckDB whether a file is valid (the fast path), the JS form lists the bad rows.
// PROTOCOL.md §2 "Bulk upload": atomic, every bad row reported. If they disagree, an upload is
// refused with no row to show, or stores a row the report would call bad.
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sqlRowExpressions, type UploadColumn } from '../../hub/upload/csv-row-rules.ts';
import { check } from './fuzz-support.ts';
import { NOW, checkRowOf, anyRow, validRow, type Row } from './csv-arbitraries.ts';

const COLUMNS: readonly UploadColumn[] = ['ts', 'sensor', 'room', 'metric', 'value', 'unit'];
const sqlText = (s: string) => `'${s.replaceAll("'", "''")}'`;

/** For each row, whether the SQL form refuses it, and its ts and value. Rows are all-text, as read_csv gives them. */
async function sqlVerdicts(
  db: DuckDBConnection,
  rows: Row[],
  present: readonly UploadColumn[],
): Promise<{ bad: boolean; ts: number | null; value: number | null }[]> {
  const col = (c: UploadColumn) => (present.includes(c) ? `c_${c}` : null);
  const e = sqlRowExpressions(col, NOW);
  const values = rows.map((r, i) => `(${i}, ${present.map((c) => sqlText(r[c] ?? '')).join(', ')})`).join(',\n');
  const sql = `SELECT i, ${e.bad} AS bad, ${e.ts} AS ts, ${e.value} AS v FROM (VALUES ${values}) t(i, ${present.map((c) => `c_${c}`).join(', ')}) ORDER BY i`;
  const out = (await db.runAndReadAll(sql)).getRows();
  return out.map(([, bad, ts, v]) => ({ bad: bad === true, ts: ts === null ? null : Number(ts), value: v === null ? null : Number(v) }));
}

test('the SQL form of the rules (the fast path of an upload) refuses exactly the rows the JS form refuses, with the same ts and value', async () => {
  // §2 Bulk upload is atomic and reports every bad row: the two forms must agree, or an upload
  // is refused with no row to show, or stores a row the report would call bad.
  const instance = await DuckDBInstance.create(':memory:');
  const db = await instance.connect();
  try {
    // CSV fields hold no NUL here: read_csv would not give one either.
    const noNul = (r: Row): Row => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v?.replaceAll('\0', '')]));
    const rowsArb = fc.array(
      fc
        .oneof(
          anyRow,
          validRow.map((v) => v.row),
        )
        .map(noNul),
      { minLength: 1, maxLength: 40 },
    );
    await check(
      'sqlRowExpressions vs checkRow',
      fc.asyncProperty(rowsArb, fc.boolean(), async (rows, allColumns) => {
        const present = allColumns ? COLUMNS : COLUMNS.filter((c) => c !== 'room' && c !== 'unit');
        const given = rows.map((r) => Object.fromEntries(present.map((c) => [c, r[c] ?? ''])) as Row);
        const verdicts = await sqlVerdicts(db, given, present);
        given.forEach((row, i) => {
          const js = checkRowOf(row);
          const sql = verdicts[i]!;
          const jsBad = typeof js === 'string';
          assert.is(
            sql.bad,
            jsBad,
            `row ${JSON.stringify(row)}: SQL says ${sql.bad ? 'bad' : 'good'}, JS says ${jsBad ? `bad (${String(js)})` : 'good'}`,
          );
          if (!jsBad && typeof js !== 'string') {
            assert.is(sql.ts, js.ts, `ts of ${JSON.stringify(row)}`);
            assert.is(sql.value, js.value, `value of ${JSON.stringify(row)}`);
          }
        });
      }),
      { seed: 80205, numRuns: 150 },
    );
  } finally {
    db.closeSync();
    instance.closeSync();
  }
});

test.run();
