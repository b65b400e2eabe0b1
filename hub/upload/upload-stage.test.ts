// The bounded design of an upload (upload-reader.ts, upload-sql.ts, upload-windows.ts,
// upload-commit.ts): the scan stages the rows in a Parquet file on disk, not in memory, on a
// DuckDB of its own with a small memory limit; the commit takes them in ts windows of bounded
// size in a transaction beside the sensor commits, and gives up what a sensor stored meanwhile.
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DDL } from '../store/schema.ts';
import { scanUpload, windowBounds, type ScanResult, type UploadFile } from './upload-sql.ts';
import { commitUpload } from './upload-commit.ts';
import { UPLOAD_READER_MEMORY, withUploadReader } from './upload-reader.ts';
import { noteCommitted } from './upload-watch.ts';
import { removeStaged, sqlPath, stagePath } from './upload-stage.ts';

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
let nextSpool = 1;
let nextSeries = 100;

async function spool(rows: string[]): Promise<UploadFile> {
  const path = join(dir, `upload-1-${nextSpool++}.csv`);
  await writeFile(path, ['ts,sensor,room,metric,value,unit', ...rows].join('\n') + '\n');
  return { path, columns: ['ts', 'sensor', 'room', 'metric', 'value', 'unit'], nowMs: T };
}

const scan = (f: UploadFile) => withUploadReader(join(dir, 'tmp'), 2, (c) => scanUpload(c, f));

/** Maps every combo to a series of its own, (sensor, metric) to a channel, and saves them. */
async function mapped(s: Extract<ScanResult, { kind: 'ok' }>) {
  const channels = new Map<string, number>();
  const mapping = s.combos.map((c) => {
    const pair = `${c.sensor}/${c.metric}`;
    if (!channels.has(pair)) channels.set(pair, nextSeries);
    return { ...c, seriesId: nextSeries++, channel: channels.get(pair)! };
  });
  const a = await db.createAppender('series');
  for (const m of mapping) {
    for (const v of [m.seriesId, m.channel]) a.appendInteger(v);
    for (const v of [m.sensor, m.room ?? '', m.metric, m.unit ?? '']) a.appendVarchar(v);
    a.endRow();
  }
  a.closeSync();
  return mapping;
}

const serialNow = <T>(work: () => Promise<T>) => work();

async function stored(sensor: string): Promise<[string, number, number][]> {
  const rows = (
    await db.runAndReadAll(
      `SELECT s.room, r.ts, r.value FROM readings r JOIN series s ON s.id = r.series_id WHERE s.sensor = '${sensor}' ORDER BY r.ts, r.value`,
    )
  ).getRows();
  return rows.map(([room, ts, v]) => [String(room), Number(ts), Number(v)]);
}

test('the scan stages the rows in a Parquet file on disk, on a DuckDB of its own with a small memory limit', async () => {
  const f = await spool([`${T},st-a,lab,temperature,1,C`, `${T + 1},st-a,lab,temperature,2,C`]);
  const s = await scan(f);
  assert.is(s.kind, 'ok');
  assert.ok(existsSync(stagePath(f.path)), 'the stage is a file beside the spool file');
  const limit = await withUploadReader(join(dir, 'tmp'), 2, async (c) => {
    const staged = (await c.runAndReadAll(`SELECT count(*) FROM read_parquet(${sqlPath(stagePath(f.path))})`)).getRows()[0]![0];
    assert.is(Number(staged), 2, 'every row staged');
    const tables = (await c.runAndReadAll('SELECT count(*) FROM duckdb_tables()')).getRows()[0]![0];
    assert.is(Number(tables), 0, 'no table holds the rows in memory');
    return String((await c.runAndReadAll("SELECT current_setting('memory_limit')")).getRows()[0]![0]);
  });
  assert.ok(/^6[0-9](\.\d+)? MiB$/.test(limit), `the reader's memory limit is ${UPLOAD_READER_MEMORY}: ${limit}`);
  await removeStaged(f.path);
  assert.not.ok(existsSync(stagePath(f.path)), 'removed with the upload');
});

test('windows of bounded size cover the file: each holds about its share of the rows', async () => {
  const rows = Array.from({ length: 1000 }, (_, i) => `${T + i * 1000},st-w,lab,temperature,${i},C`);
  const f = await spool(rows);
  assert.is((await scan(f)).kind, 'ok');
  const bounds = await withUploadReader(join(dir, 'tmp'), 2, (c) => windowBounds(c, sqlPath(stagePath(f.path)), 1000, 100));
  assert.ok(bounds.length >= 9, `about ten windows: ${bounds.length - 1}`);
  assert.is(bounds[0], T);
  assert.is(bounds.at(-1), T + 999_000 + 1);
  for (let k = 0; k + 1 < bounds.length; k++) {
    const inWindow = rows.filter((_, i) => T + i * 1000 >= bounds[k]! && T + i * 1000 < bounds[k + 1]!).length;
    assert.ok(inWindow <= 200, `window ${k} has ${inWindow} rows`);
  }
});

test('the commit in several windows stores the first of a repeated identity and drops stored ones, like one window', async () => {
  const f = await spool([
    `${T},st-b,lab,temperature,1,C`,
    `${T + 5000},st-b,lab,temperature,2,C`,
    `${T},st-b,attic,temperature,9,F`,
    `${T + 5000},st-c,lab,humidity,3,%`,
    `${T + 9000},st-b,lab,temperature,4,C`,
    `${T + 5000},st-b,lab,temperature,7,C`,
  ]);
  const s = await scan(f);
  if (s.kind !== 'ok') throw new Error(s.kind);
  const mapping = await mapped(s);
  // Window bounds of our own: three windows, the repeats each within one.
  const windows = [T, T + 1, T + 6000, T + 9001];
  const result = await commitUpload(
    { instance, serial: serialNow, saveSeries: async () => {} },
    { file: f, newSeries: [], mapping, windows, publish: false },
  );
  assert.equal([result.accepted, result.duplicates], [4, 2]);
  assert.equal(await stored('st-b'), [
    ['lab', T, 1],
    ['lab', T + 5000, 2],
    ['lab', T + 9000, 4],
  ]);
  const again = await commitUpload(
    { instance, serial: serialNow, saveSeries: async () => {} },
    { file: f, newSeries: [], mapping, windows: [T, T + 9001], publish: false },
  );
  assert.equal([again.accepted, again.duplicates], [0, 6], 'all stored already');
});

test('an identity a sensor stores while the upload’s transaction is open is given up by the upload, and counted a duplicate', async () => {
  const f = await spool([`${T + 20_000},st-d,lab,temperature,1,C`, `${T + 21_000},st-d,lab,temperature,2,C`]);
  const s = await scan(f);
  if (s.kind !== 'ok') throw new Error(s.kind);
  const mapping = await mapped(s);
  const series = mapping[0]!.seriesId;
  let step = 0;
  const result = await commitUpload(
    {
      instance,
      serial: async (work) => {
        // Before the final step, a sensor commit stores (st-d, temperature, T + 21 s) on the store's connection.
        if (step++ === 1) {
          await db.run(`INSERT INTO readings VALUES (${series}, ${T + 21_000}, 55)`);
          noteCommitted([], { n: 1, series: Int32Array.of(series), ts: Float64Array.of(T + 21_000), value: Float64Array.of(55) }, null);
        }
        return work();
      },
      saveSeries: async () => {},
    },
    { file: f, newSeries: [], mapping, windows: s.windows, publish: false },
  );
  assert.equal([result.accepted, result.duplicates], [1, 1]);
  assert.equal(result.taken, [{ channel: mapping[0]!.channel, ts: T + 21_000 }]);
  assert.equal(
    await stored('st-d'),
    [
      ['lab', T + 20_000, 1],
      ['lab', T + 21_000, 55],
    ],
    'stored once, the sensor’s value',
  );
});

test.run();
