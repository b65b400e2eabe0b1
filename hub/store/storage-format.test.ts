// The store's file layout (storage-format.ts): a new store is made with 64 KB blocks in
// DuckDB 1.5's format; a store made before with DuckDB's default 256 KB blocks keeps them, and
// takes and keeps readings as before. Through a real hub and its DuckDB file.
import { DuckDBInstance } from '@duckdb/node-api';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startHub, tempDataDir } from '../../test/support/hub-process.ts';
import { connect } from '../../test/support/tcp-sensor.ts';
import { storePath } from '../../test/support/store-inspect.ts';
import { exitWhenDone, perTest } from '../../test/support/teardown.ts';
import { BLOCK_SIZE } from './storage-format.ts';

test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

/** The file's block size and its readings' ts, read straight from the file. */
async function inspect(dataDir: string): Promise<{ blockSize: number; ts: number[] }> {
  const instance = await DuckDBInstance.create(storePath(dataDir), { access_mode: 'READ_ONLY' });
  try {
    const c = await instance.connect();
    const blockSize = Number((await c.runAndReadAll('SELECT block_size FROM pragma_database_size()')).getRows()[0]![0]);
    const tables = (await c.runAndReadAll(`SELECT count(*) FROM duckdb_tables() WHERE table_name = 'readings'`)).getRows()[0]![0];
    const ts =
      Number(tables) === 0 ? [] : (await c.runAndReadAll('SELECT ts FROM readings ORDER BY ts')).getRows().map((r) => Number(r[0]));
    c.closeSync();
    return { blockSize, ts };
  } finally {
    instance.closeSync();
  }
}

/** A hub on `dataDir` (never in cluster mode: this is about its DuckDB file) that stores two readings of one sensor. */
async function storeTwo(dataDir: string, ts: number): Promise<void> {
  const hub = await startHub({ dataDir, cluster: null });
  const sensor = await connect(hub.tcpPort);
  await sensor.hello('format-1', 'lab');
  await sensor.send({ type: 'reading', metric: 'temperature', value: 21.5, ts, seq: 1 });
  await sensor.send({ type: 'reading', metric: 'temperature', value: 21.75, ts: ts + 1000, seq: 2 });
  await sensor.ackCovering(2);
  await sensor.close();
  await hub.stop();
}

test('a new store file has 64 KB blocks', async () => {
  const dir = await tempDataDir();
  const ts = Date.now() - 5_000;
  await storeTwo(dir.path, ts);
  assert.equal(await inspect(dir.path), { blockSize: BLOCK_SIZE, ts: [ts, ts + 1000] });
});

test('a store made with 256 KB blocks keeps them, and its readings', async () => {
  const dir = await tempDataDir();
  const t0 = Date.now() - 60_000;
  // An empty database file of DuckDB's defaults, as every store was made before.
  const old = await DuckDBInstance.create(storePath(dir.path));
  old.closeSync();
  assert.is((await inspect(dir.path)).blockSize, 262_144);
  await storeTwo(dir.path, t0);
  // Opened again: a hub restarted on it reads what it stored and adds to it.
  await storeTwo(dir.path, t0 + 10_000);
  assert.equal(await inspect(dir.path), { blockSize: 262_144, ts: [t0, t0 + 1000, t0 + 10_000, t0 + 11_000] });
});

test.run();
