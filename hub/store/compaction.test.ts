// The store's background compaction (compaction.ts, docs/ADMIN.md "Compaction"): readings that
// group commits stored interleaved are rewritten sorted by (ts, series) once cold, and stay
// exactly the readings that were acked: none lost, none doubled, none changed. Through a real
// hub and its DuckDB file.
import { DuckDBInstance } from '@duckdb/node-api';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { history } from '../../test/support/api-client.ts';
import { compactionCaughtUp, sendColdReadings, type SentReading } from '../../test/support/cold-readings.ts';
import { startHub } from '../../test/support/hub-process.ts';
import { readStoredReadings, storePath } from '../../test/support/store-inspect.ts';
import { exitWhenDone, perTest } from '../../test/support/teardown.ts';
import { testTimeout } from '../../test/support/test-timeouts.ts';

testTimeout(180_000);
test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

const key = (r: { sensor: string; metric: string; ts: number; value: number }) => `${r.sensor}/${r.metric}/${r.ts}/${r.value}`;

function assertSameReadings(stored: SentReading[], sent: SentReading[], where: string): void {
  assert.is(stored.length, sent.length, `${where}: as many readings as were acked`);
  const want = new Set(sent.map(key));
  const missing = stored.filter((r) => !want.has(key(r)));
  assert.equal(missing.slice(0, 3), [], `${where}: nothing that was not sent`);
  assert.is(new Set(stored.map(key)).size, sent.length, `${where}: no reading twice`);
}

test('cold readings stored interleaved are rewritten sorted by ts, every acked reading kept exactly once', async () => {
  const hub = await startHub();
  const sent = await sendColdReadings(hub.tcpPort);
  const acked = Date.now();
  const status = await compactionCaughtUp(hub.httpPort, acked);
  assert.ok(status.slices >= 1, `at least one slice was rewritten: ${JSON.stringify(status)}`);
  assert.is(status.last_error, undefined, 'no step failed');

  // Served while and after being rewritten: the export is every reading, once.
  const csv = (await history(hub.httpPort, { time: 'ms' })).trim().split('\n').slice(1);
  const exported = csv.map((line) => {
    const [ts, sensor, , metric, value] = line.split(',');
    return { sensor: sensor!, metric: metric!, ts: Number(ts), value: Number(value) };
  });
  assertSameReadings(exported, sent, 'the export');
  await hub.stop();

  assertSameReadings(await readStoredReadings(hub.dataDir), sent, 'the store');
  // Sorted where it lies: in table order, ts never goes back (the rows were written interleaved).
  const instance = await DuckDBInstance.create(storePath(hub.dataDir), { access_mode: 'READ_ONLY' });
  try {
    const c = await instance.connect();
    const [descents, mark] = (
      await c.runAndReadAll(`SELECT (SELECT count(*) FROM (SELECT ts < lag(ts) OVER (ORDER BY rowid) AS back FROM readings) WHERE back),
        (SELECT value FROM meta WHERE key = 'sorted_below')`)
    ).getRows()[0]!;
    assert.is(Number(descents), 0, 'readings lie in ts order');
    assert.ok(Number(mark) > Math.max(...sent.map((r) => r.ts)), 'the mark passed every cold reading');
    c.closeSync();
  } finally {
    instance.closeSync();
  }
});

test.run();
