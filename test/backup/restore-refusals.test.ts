// docs/ADMIN.md "Backup and restore": a restore goes only into an empty (or new) data folder, only
// from a Roomwatch backup, only of a schema this hub reads; an older backup is migrated. A refused
// restore says what to do and leaves the folder as it was.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { takeBackup } from '../../hub/store/backup-sql.ts';
import { restoreBackup } from '../../hub/store/restore.ts';
import { SCHEMA_VERSION } from '../../hub/store/schema.ts';
import { hubProcessArgs } from '../support/hub-command.ts';
import { REPO_ROOT, tempDataDir, withTimeout } from '../support/hub-process.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';

test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

/** A backup of a small store of `version`, made by the backup code from a store with those tables. */
async function backupFile(dir: string, version: number, channel = true): Promise<string> {
  const store = join(dir, 'source.duckdb');
  const instance = await DuckDBInstance.create(store);
  const c = await instance.connect();
  await c.run(`CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)`);
  await c.run(`INSERT INTO meta VALUES ('schema_version', '${version}')`);
  await c.run(
    `CREATE TABLE series (id INTEGER PRIMARY KEY, ${channel ? 'channel INTEGER NOT NULL, ' : ''}sensor VARCHAR NOT NULL, room VARCHAR NOT NULL,
       metric VARCHAR NOT NULL, unit VARCHAR NOT NULL)`,
  );
  await c.run(`CREATE TABLE readings (series_id INTEGER NOT NULL, ts BIGINT NOT NULL, value DOUBLE NOT NULL)`);
  await c.run(`INSERT INTO series VALUES (1, ${channel ? '1, ' : ''}'rack-a', 'lab', 'temperature', 'C')`);
  await c.run(`INSERT INTO readings SELECT 1, 1700000000000 + i, i FROM range(100) t(i)`);
  const file = join(dir, `backup-v${version}.duckdb`);
  await takeBackup(instance, file);
  c.closeSync();
  instance.closeSync();
  return file;
}

async function refusal(work: Promise<unknown>): Promise<string> {
  const err = await work.then(
    () => null,
    (e: Error) => e,
  );
  assert.ok(err, 'refused');
  return err.message;
}

test('a backup goes into a new folder, and into an empty one', async () => {
  const work = (await tempDataDir()).path;
  const file = await backupFile(work, SCHEMA_VERSION);
  const fresh = join(work, 'new');
  const r = await restoreBackup(file, fresh);
  assert.is(r.tables.readings, 100);
  assert.equal(readdirSync(fresh), ['roomwatch.duckdb']);
  const empty = join(work, 'empty');
  mkdirSync(empty);
  await restoreBackup(file, empty);
  assert.equal(readdirSync(empty), ['roomwatch.duckdb']);
});

test('the hub refuses to restore into a folder that is not empty, says what to do, exits 1, and leaves the folder as it was', async () => {
  const work = (await tempDataDir()).path;
  const file = await backupFile(work, SCHEMA_VERSION);
  const data = join(work, 'data');
  mkdirSync(data);
  writeFileSync(join(data, 'notes.txt'), 'mine');
  const child = spawn(process.execPath, hubProcessArgs(data, ['--restore', file]), { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  perTest.add('restore process', async () => void child.kill('SIGKILL'));
  const code = await withTimeout(new Promise<number | null>((resolve) => child.on('exit', resolve)), 30_000, 'the hub process');
  assert.is(code, 1, output);
  assert.match(output, /is not empty/);
  assert.match(output, /--data NEW_DIR/);
  assert.equal(readdirSync(data), ['notes.txt'], 'nothing written in it');
});

test('a file that is not a backup is refused: not a DuckDB file, and a hub store without backup marks', async () => {
  const work = (await tempDataDir()).path;
  const text = join(work, 'readings.csv');
  writeFileSync(text, 'ts,sensor,room,metric,value,unit\n');
  assert.match(await refusal(restoreBackup(text, join(work, 'a'))), /not a Roomwatch backup.*not a DuckDB database/);

  const store = join(work, 'roomwatch.duckdb');
  const instance = await DuckDBInstance.create(store);
  const c = await instance.connect();
  await c.run(`CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)`);
  await c.run(`INSERT INTO meta VALUES ('schema_version', '${SCHEMA_VERSION}')`);
  c.closeSync();
  instance.closeSync();
  assert.match(await refusal(restoreBackup(store, join(work, 'b'))), /not a Roomwatch backup.*no backup marks/);
  assert.not.ok(existsSync(join(work, 'a')) || existsSync(join(work, 'b')), 'no folder made');
});

test('a backup of a newer schema is refused with what to do; the folder stays empty', async () => {
  const work = (await tempDataDir()).path;
  const file = await backupFile(work, SCHEMA_VERSION + 1);
  const data = join(work, 'data');
  const message = await refusal(restoreBackup(file, data));
  assert.match(message, new RegExp(`schema version ${SCHEMA_VERSION + 1}`));
  assert.match(message, /upgrade the hub/);
  assert.not.ok(existsSync(data) && readdirSync(data).length > 0);
});

test('a backup of an older schema is migrated as it is restored', async () => {
  const work = (await tempDataDir()).path;
  const file = await backupFile(work, 1, false);
  const data = join(work, 'data');
  const r = await restoreBackup(file, data);
  assert.equal([r.fromSchema, r.toSchema], [1, SCHEMA_VERSION]);
  const instance = await DuckDBInstance.create(join(data, 'roomwatch.duckdb'), { access_mode: 'READ_ONLY' });
  const c = await instance.connect();
  const meta = (await c.runAndReadAll(`SELECT key, value FROM meta ORDER BY key`)).getRows();
  const series = (await c.runAndReadAll(`SELECT id, channel, sensor FROM series`)).getRows();
  const readings = (await c.runAndReadAll(`SELECT count(*) FROM readings`)).getRows()[0]?.[0];
  c.closeSync();
  instance.closeSync();
  assert.equal(meta, [['schema_version', String(SCHEMA_VERSION)]], 'a store now, not a backup');
  assert.equal(series, [[1, 1, 'rack-a']]);
  assert.is(Number(readings), 100);
});

test.run();
