// Cluster mode runs for years: a hub given --retention drops whole day partitions of PostgreSQL
// past it (hub/pg/pg-retention.ts), and the cluster behaves as the single hub does (docs/API.md
// "Retention"): another hub's exports say where raw readings start, a sensor's readings past the
// horizon are acked and not stored, an upload counts them `expired`, a bucketed export
// answers the same rows out of the rollup tiers made of the dropped days, and the hub records
// its sensors' connections in PostgreSQL. --max-series counts
// the series of the whole cluster. Real nats-servers, PostgreSQL, hub and writer processes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { csvRecords, historyRequest, iso, json, request, upload, waitFor } from '../support/api-client.ts';
import type { HubProcess } from '../support/hub-process.ts';
import { connect } from '../support/tcp-sensor.ts';
import { exitWhenDone, perTest, Teardown } from '../support/teardown.ts';
import { testTimeout } from '../support/test-timeouts.ts';
import { clusterPeersInstalled, startCluster, type TestCluster } from './cluster-setup.ts';

testTimeout(150_000);
const perFile = new Teardown();
test.after.each(() => perTest.run());
test.after(async () => {
  await perFile.run();
  exitWhenDone();
});

const installed = clusterPeersInstalled('cluster: retention and limits');
const DAY = 86_400_000;

let shared: Promise<{ c: TestCluster; plain: HubProcess }> | undefined;
/** One cluster for the file: 3 nats-servers, PostgreSQL, a writer, hub `plain` (no retention). */
function cluster(): Promise<{ c: TestCluster; plain: HubProcess }> {
  return (shared ??= (async () => {
    const c = await startCluster(perFile);
    const plain = await c.startHub('plain');
    await c.startWriter();
    return { c, plain };
  })());
}

interface RetentionHealth {
  raw_kept_from: string | null;
  horizon: string | null;
  readings_dropped: number;
  readings_expired: number;
}

async function retention(port: number): Promise<RetentionHealth | undefined> {
  return json<{ retention?: RetentionHealth }>(await request(port, '/api/v1/health')).retention;
}

test('a hub with --retention drops whole days in PostgreSQL; another hub’s export says where raw readings start; readings past the horizon are acked, not stored', async () => {
  if (!installed) return;
  const { c, plain } = await cluster();
  const now = Date.now();
  const today = Math.floor(now / DAY) * DAY;
  // Old days, written through a hub that keeps everything.
  const rows = [today - 6 * DAY + 1_000, today - 5 * DAY + 1_000, now - 60_000];
  const res = await upload(
    plain.httpPort,
    `ts,sensor,room,metric,value,unit\n${rows.map((ts, i) => `${ts},old-1,vault,co2,${400 + i},ppm`).join('\n')}\n`,
  );
  assert.is(res.status, 200, res.text);
  const partitions = async () =>
    (await c.pg.query<{ name: string }>(`SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid`)).map(
      (r) => r.name,
    );
  const dayName = (ms: number) => `readings_${new Date(ms).toISOString().slice(0, 10).replaceAll('-', '')}`;
  assert.ok((await partitions()).includes(dayName(rows[0]!)), 'the old day has its partition');
  const hourly = { sensor: 'old-1', from: iso(today - 7 * DAY), every: '1h', time: 'ms' };
  const bucketsBefore = await historyRequest(plain.httpPort, hourly);
  assert.is(bucketsBefore.status, 200, bucketsBefore.text);
  assert.is(csvRecords(bucketsBefore.text).length, 3);

  // The default tiers (1m:365d,1h:forever) beside the retention.
  const keeper = await c.startHub('keeper', ['--retention', '2d']);
  const health = await waitFor('the keeper dropped the old days', async () => {
    const r = await retention(keeper.httpPort);
    return r && r.readings_dropped >= 2 ? r : undefined;
  });
  const mark = today - 2 * DAY;
  assert.is(health.raw_kept_from, iso(mark), 'raw readings are kept from the first whole day after the horizon');
  const left = await partitions();
  assert.not.ok(left.includes(dayName(rows[0]!)) || left.includes(dayName(rows[1]!)), `old days dropped: ${left.join(', ')}`);
  assert.ok(left.includes(dayName(now)), 'today stays');

  // The hub without --retention reads the mark: its export says the range begins before what is kept.
  const exp = await historyRequest(plain.httpPort, { sensor: 'old-1', from: iso(today - 7 * DAY), time: 'ms' });
  assert.is(exp.status, 200, exp.text);
  assert.is(exp.headers['x-roomwatch-raw-retained-from'], iso(mark));
  assert.equal(
    csvRecords(exp.text).map((r) => Number(r.ts)),
    [rows[2]],
  );
  // A bucketed export is the same rows as before the drop, out of the tiers, on either hub.
  for (const hub of [plain, keeper]) {
    const after = await historyRequest(hub.httpPort, hourly);
    assert.is(after.status, 200, after.text);
    assert.is(after.text, bucketsBefore.text);
    assert.is(after.headers['x-roomwatch-raw-retained-from'], undefined);
  }

  // A sensor's reading past the horizon: acked, not stored; the next one stored.
  const sensor = await connect(keeper.tcpPort);
  await sensor.hello('old-2', 'vault');
  await sensor.send({ type: 'reading', metric: 'temperature', value: 1, unit: 'C', ts: now - 3 * DAY, seq: 1 });
  await sensor.send({ type: 'reading', metric: 'temperature', value: 2, unit: 'C', ts: now - 1_000, seq: 2 });
  await sensor.ackCovering(2, 20_000);
  await c.writersCaughtUp();
  const stored = (await c.storedReadings()).filter((r) => r.sensor === 'old-2').map((r) => [r.ts, r.value]);
  assert.equal(stored, [[now - 1_000, 2]]);
  assert.ok((await retention(keeper.httpPort))!.readings_expired >= 1, 'counted in health');

  // The keeper recorded the sensor's connection in PostgreSQL, and its end once it closed (a
  // disconnect goes with the next commit, as on the single hub: another sensor's reading).
  await sensor.close();
  const next = await connect(keeper.tcpPort);
  await next.hello('old-4', 'vault');
  await next.send({ type: 'reading', metric: 'temperature', value: 3, unit: 'C', ts: now - 500, seq: 1 });
  await next.ackCovering(1, 20_000);
  let seq = 1;
  const conn = await waitFor(
    'the connection recorded, ended',
    async () => {
      const [r] = await c.pg.query<{ hub: string; ended: boolean }>(
        `SELECT hub, disconnected_at IS NOT NULL AS ended FROM connections WHERE sensor = 'old-2'`,
      );
      if (r?.ended) return r;
      // The hub may have seen the close after that commit: another one.
      seq++;
      await next.send({ type: 'reading', metric: 'temperature', value: seq, unit: 'C', ts: now - 500 + seq, seq });
      await next.ackCovering(seq, 20_000);
      return undefined;
    },
    20_000,
    200,
  );
  assert.is(conn.hub, 'keeper');

  // An upload's rows past the horizon are counted, as on the single hub.
  const before = Date.now();
  const up = await upload(
    keeper.httpPort,
    `ts,sensor,room,metric,value,unit\n${now - 3 * DAY},old-3,vault,co2,1,ppm\n${now - 2_000},old-3,vault,co2,2,ppm\n`,
  );
  assert.is(up.status, 200, up.text);
  const receipt = json<{ accepted: number; duplicates: number; expired?: number; retained_from?: string }>(up);
  assert.equal({ ...receipt, retained_from: undefined }, { accepted: 1, duplicates: 0, expired: 1, retained_from: undefined });
  // the horizon when the upload was stored: two days before then, on the hour (the coarsest tier's edge, as on the single hub)
  const horizon = Date.parse(receipt.retained_from ?? '');
  const hour = 3_600_000;
  assert.is(horizon % hour, 0, `retained_from ${receipt.retained_from}`);
  assert.ok(
    horizon >= Math.floor((before - 2 * DAY) / hour) * hour && horizon <= Date.now() - 2 * DAY,
    `retained_from ${receipt.retained_from}`,
  );
});

test('--max-series counts the series of the whole cluster: a hub refuses a new series once other hubs’ series fill its limit', async () => {
  if (!installed) return;
  const { c, plain } = await cluster();
  const [{ n }] = (await c.pg.query<{ n: number }>('SELECT count(*)::int AS n FROM series')) as [{ n: number }];
  const limited = await c.startHub('limited', ['--max-series', String(n + 2)]);
  // Two new series on the other hub fill the limit ...
  const other = await connect(plain.tcpPort);
  await other.hello('grow-1', 'lab');
  await other.send({ type: 'reading', metric: 'm1', value: 1, unit: 'x', ts: Date.now() - 2_000, seq: 1 });
  await other.send({ type: 'reading', metric: 'm2', value: 1, unit: 'x', ts: Date.now() - 2_000, seq: 2 });
  await other.ackCovering(2, 20_000);
  await waitFor('the limited hub knows the other hub’s series', async () => {
    const body = json<{ readings: unknown[] }>(await request(limited.httpPort, '/api/v1/latest?sensor=grow-1'));
    return body.readings.length === 2;
  });
  // ... so the limited hub refuses a third, though it made none itself.
  const mine = await connect(limited.tcpPort);
  await mine.hello('grow-2', 'lab');
  await mine.send({ type: 'reading', metric: 'temperature', value: 20, unit: 'C', ts: Date.now() - 1_000, seq: 1 });
  const err = await mine.next({ type: 'error', seq: 1 });
  assert.is(err.code, 422);
  assert.match(String(err.message), new RegExp(`at most ${n + 2} series \\(--max-series\\)`));
});

test.run();
