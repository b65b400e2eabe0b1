// The staged rows of an upload (upload-stage.ts): the scan stages them in memory beside the
// commits; the commit reads them instead of the file and its caller drops them; a stage whose
// upload ended without a commit (its spool file removed) goes at the next scan.
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DDL } from '../store/schema.ts';
import { commitUpload, scanUpload, type UploadFile } from './upload-sql.ts';
import { dropStage } from './upload-stage.ts';

let dir: string;
let instance: DuckDBInstance;
let db: DuckDBConnection;
test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'roomwatch-stage-'));
  instance = await DuckDBInstance.create(join(dir, 'store.duckdb'));
  db = await instance.connect();
  for (const sql of DDL) await db.run(sql);
});
test.after(async () => {
  db.closeSync();
  instance.closeSync();
  await rm(dir, { recursive: true, force: true });
});

const T = Date.UTC(2025, 10, 21, 8);
const staged = async (): Promise<string[]> =>
  (await db.runAndReadAll(`SELECT table_name FROM duckdb_tables() WHERE database_name = 'upload_stage' ORDER BY 1`))
    .getRows()
    .map(([n]) => String(n));

async function spool(n: number, rows: string[]): Promise<UploadFile> {
  const path = join(dir, `upload-1-${n}.csv`);
  await writeFile(path, ['ts,sensor,room,metric,value,unit', ...rows].join('\n') + '\n');
  return { path, columns: ['ts', 'sensor', 'room', 'metric', 'value', 'unit'], nowMs: T };
}

test('the commit stores the staged rows, the first of a repeated identity, and the stage is dropped after', async () => {
  const f = await spool(1, [
    `${T},st-a,lab,temperature,1,C`,
    `${T + 1},st-a,lab,temperature,2,C`,
    `${T},st-a,attic,temperature,9,F`,
    `${T},st-b,lab,humidity,3,%`,
  ]);
  const scan = await scanUpload(db, f);
  assert.is(scan.kind, 'ok');
  if (scan.kind !== 'ok') return;
  assert.is(scan.repeats, true, '(st-a, temperature, T) twice, in two rooms');
  assert.equal(await staged(), ['upload_1_1']);
  f.repeats = scan.repeats;
  const mapping = scan.combos.map((c, i) => ({
    ...c,
    seriesId: 100 + i,
    channel: c.sensor === 'st-a' && c.metric === 'temperature' ? 1 : 2,
  }));
  const a = await db.createAppender('series');
  for (const m of mapping) {
    for (const v of [m.seriesId, m.channel]) a.appendInteger(v);
    for (const v of [m.sensor, m.room ?? '', m.metric, m.unit ?? '']) a.appendVarchar(v);
    a.endRow();
  }
  a.closeSync();
  await db.run('BEGIN TRANSACTION');
  const result = await commitUpload(db, f, mapping, false);
  await db.run('COMMIT');
  await dropStage(db, f.path);
  assert.equal([result.accepted, result.duplicates], [3, 1]);
  const rows = (
    await db.runAndReadAll('SELECT s.room, r.ts, r.value FROM readings r JOIN series s ON s.id = r.series_id ORDER BY r.ts, r.value')
  ).getRows();
  assert.equal(
    rows.map(([room, ts, v]) => [String(room), Number(ts), Number(v)]),
    [
      ['lab', T, 1],
      ['lab', T, 3],
      ['lab', T + 1, 2],
    ],
    'the first row of the identity, in file order, is kept',
  );
  assert.equal(await staged(), []);
});

test('a stage whose upload ended without a commit is dropped by the next scan; one still under way is kept', async () => {
  const refused = await spool(2, [`${T + 10},st-c,lab,temperature,1,C`]);
  const underWay = await spool(3, [`${T + 11},st-d,lab,temperature,1,C`]);
  assert.is((await scanUpload(db, refused)).kind, 'ok');
  assert.is((await scanUpload(db, underWay)).kind, 'ok');
  assert.equal(await staged(), ['upload_1_2', 'upload_1_3']);
  await rm(refused.path); // the route removes the spool file once it has answered
  assert.is((await scanUpload(db, await spool(4, [`${T + 12},st-e,lab,temperature,1,C`]))).kind, 'ok');
  assert.equal(await staged(), ['upload_1_3', 'upload_1_4']);
});

test.run();
