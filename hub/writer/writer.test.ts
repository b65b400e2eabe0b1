/**
 * The writer against a real nats-server (JetStream) and a real PostgreSQL: bundles published
 * as hubs publish them, the writer as its own process (`hub/writer/main.ts`), what it stored read
 * from PostgreSQL. Exactly once whatever is redelivered; a writer killed inside a batch (before
 * its commit, and after it but before its acks) loses nothing and doubles nothing; day
 * partitions are made as readings need them.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { nanos } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy } from '@nats-io/jetstream';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { decodeBundle, encodeBundle, type ReadingBundle } from '../cluster/bundle.ts';
import {
  LATE_ROWS_SUBJECT,
  msgIdOf,
  partitionOf,
  STREAM_NAME,
  subjectOf,
  WRITERS_CONSUMER,
  WRITERS_MAX_ACK_PENDING,
} from '../cluster/cluster-names.ts';
import { NatsLink } from '../cluster/nats-link.ts';
import { waitFor } from '../../test/support/api-client.ts';
import { tempDataDir } from '../../test/support/hub-process.ts';
import { natsInstalled, startNatsCluster, type NatsCluster } from '../../test/support/nats-cluster.ts';
import { spawnNode, type NodeProcess } from '../../test/support/node-process.ts';
import { postgresInstalled, startPostgres, type PostgresServer } from '../../test/support/postgres-server.ts';
import { exitWhenDone, perTest } from '../../test/support/teardown.ts';

test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

const installed = natsInstalled('writer (hub/writer/writer.test.ts)') && postgresInstalled('writer (hub/writer/writer.test.ts)');
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 11, 1, 23, 59, 59, 0);

interface Setup {
  nats: NatsCluster;
  pg: PostgresServer;
  link: NatsLink;
  urls: string;
  publish(b: ReadingBundle, id: string): Promise<void>;
}

/** NATS (three servers) with the stream, and the writers' consumer made here with a short ack wait, so a redelivery comes in seconds. */
async function setup(ackWaitMs = 3_000): Promise<Setup> {
  const [nats, pg] = await Promise.all([startNatsCluster(), startPostgres()]);
  const link = await NatsLink.connect({ servers: nats.urls, name: 'writer-test', log: pino({ level: 'silent' }) });
  perTest.add('nats link', () => link.stop());
  await link.jsm.streams.add({ ...link.streamConfig() });
  await link.jsm.consumers.add(STREAM_NAME, {
    durable_name: WRITERS_CONSUMER,
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(ackWaitMs),
    max_ack_pending: WRITERS_MAX_ACK_PENDING,
    deliver_policy: DeliverPolicy.All,
  });
  await link.ensureStream();
  return {
    nats,
    pg,
    link,
    urls: nats.urls.join(','),
    publish: async (b, id) => {
      await link.js.publish(subjectOf(b.partition), encodeBundle(b), { msgID: id });
    },
  };
}

/** One sensor's bundle: readings at ts + i * step, values i + 0.5. */
function bundle(sensor: string, gen: number, ts: number, n: number, step = 1000): ReadingBundle {
  const b: ReadingBundle = {
    hub: 'hub-a',
    gen,
    partition: partitionOf(sensor),
    series: [{ sensor, room: 'lab', metric: 'temperature', unit: 'C' }],
    n,
    seriesIndex: new Int32Array(n),
    ts: new Float64Array(n),
    value: new Float64Array(n),
    sensors: [
      { sensor, room: 'lab', firstSeen: ts, lastSeen: ts + (n - 1) * step, address: '127.0.0.1', declaredMetrics: { temperature: 'C' } },
    ],
  };
  for (let i = 0; i < n; i++) {
    b.ts[i] = ts + i * step;
    b.value[i] = i + 0.5;
  }
  return b;
}

function startWriter(s: Setup, env: NodeJS.ProcessEnv = {}, name = 'w1', extra = ['--log-level', 'warn']): NodeProcess {
  return spawnNode(['hub/writer/main.ts', '--cluster', s.urls, '--history', s.pg.url, '--name', name, '--batch', '4', ...extra], {
    env,
  });
}

/** Waits until the writers' consumer has acked everything in the stream. */
async function drained(s: Setup): Promise<void> {
  await waitFor(
    'the writers acked every bundle',
    async () => {
      const last = (await s.link.jsm.streams.info(STREAM_NAME)).state.last_seq;
      const floor = (await s.link.jsm.consumers.info(STREAM_NAME, WRITERS_CONSUMER)).ack_floor.stream_seq;
      return floor >= last && last > 0;
    },
    60_000,
  );
}

async function counts(s: Setup): Promise<{ rows: number; distinct: number; inserted: number; duplicates: number }> {
  const [r] = await s.pg.query<{ rows: number; distinct: number }>(
    'SELECT count(*)::int AS rows, count(DISTINCT (channel, ts))::int AS distinct FROM readings',
  );
  const [w] = await s.pg.query<{ inserted: number; duplicates: number }>(
    'SELECT coalesce(sum(inserted), 0)::int AS inserted, coalesce(sum(duplicates), 0)::int AS duplicates FROM writer_counts',
  );
  return { rows: r!.rows, distinct: r!.distinct, inserted: w!.inserted, duplicates: w!.duplicates };
}

/** Every late reading the writers announce from now on, as `sensor@(ts - T0)=value`. */
async function lateAnnouncements(s: Setup): Promise<string[]> {
  const announced: string[] = [];
  const sub = s.link.nc.subscribe(LATE_ROWS_SUBJECT, {
    callback: (err, m) => {
      if (err) return;
      const b = decodeBundle(m.data);
      for (let i = 0; i < b.n; i++) announced.push(`${b.series[b.seriesIndex[i]!]!.sensor}@${b.ts[i]! - T0}=${b.value[i]}`);
    },
  });
  perTest.add('late rows subscription', () => sub.unsubscribe());
  await s.link.nc.flush();
  return announced;
}

test('redelivered and resent bundles are stored exactly once, and the counts say how many were duplicates', async () => {
  if (!installed) return;
  const s = await setup();
  // 3 sensors x 200 readings; then the same bundles again under new message ids (a hub's retry
  // after the duplicate window, or a sensor's outbox resent through another hub), and a bundle
  // that half overlaps the first.
  const sent: ReadingBundle[] = ['s1', 's2', 's3'].map((id, i) => bundle(id, i + 1, T0, 200));
  for (const [i, b] of sent.entries()) await s.publish(b, msgIdOf('hub-a', i + 1, b.partition));
  for (const [i, b] of sent.entries()) await s.publish(b, msgIdOf('hub-b', i + 1, b.partition));
  await s.publish(bundle('s1', 9, T0 + 100_000, 200), msgIdOf('hub-a', 9, partitionOf('s1')));
  const writer = startWriter(s, {}, 'w1', ['--http', '0', '--log-level', 'info']);
  await drained(s);
  const c = await counts(s);
  const port = await waitFor('the writer said its metrics port', () => /"port":(\d+),"msg":"metrics on/.exec(writer.stdout())?.[1]);
  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  assert.match(metrics, /^roomwatch_writer_readings_inserted_total 700$/m);
  assert.match(metrics, /^roomwatch_writer_readings_duplicate_total 700$/m);
  assert.is(c.rows, 700, 'every distinct (sensor, metric, ts) once: 600 + 100 new of the overlapping bundle');
  assert.is(c.distinct, 700);
  assert.is(c.inserted, 700);
  assert.is(c.duplicates, 600 + 100, 'the resent bundles and the overlap are counted as duplicates, exactly');
  const [sensor] = await s.pg.query<{ last_seen: number; room: string }>(`SELECT last_seen, room FROM sensors WHERE sensor = 's1'`);
  assert.is(Number(sensor!.last_seen), T0 + 100_000 + 199_000, 'the registry row keeps the newest sighting');
  writer.kill('SIGTERM');
  const exit = await writer.exited;
  assert.is(exit.code, 0, `SIGTERM stops the writer cleanly: ${writer.stderr()}`);
});

for (const point of ['hold-before-commit', 'hold-after-commit'] as const) {
  test(`a writer killed -9 ${point === 'hold-before-commit' ? 'inside its batch transaction' : 'after its commit, before its acks'}: nothing lost, nothing doubled`, async () => {
    if (!installed) return;
    const s = await setup();
    const sent = Array.from({ length: 10 }, (_, i) => bundle(`k${i}`, i + 1, T0, 300));
    for (const [i, b] of sent.entries()) await s.publish(b, msgIdOf('hub-a', i + 1, b.partition));
    const marker = join((await tempDataDir()).path, 'held');
    const doomed = startWriter(s, { ROOMWATCH_WRITER_FAULT: `${point}:${marker}` }, 'doomed');
    await waitFor('the writer held inside its first batch', () => existsSync(marker), 60_000);
    doomed.kill('SIGKILL');
    await doomed.exited;
    const before = await counts(s);
    if (point === 'hold-before-commit') assert.is(before.rows, 0, 'nothing of an uncommitted batch is in PostgreSQL');
    else assert.ok(before.rows > 0 && before.rows % 300 === 0, `the committed batch's bundles are whole: ${before.rows}`);
    const next = startWriter(s, {}, 'w2');
    await drained(s);
    const c = await counts(s);
    assert.is(c.rows, 3000, 'every reading once');
    assert.is(c.distinct, 3000);
    // After the commit, the killed writer's batch comes again: its rows are duplicates now.
    assert.is(c.duplicates, before.rows);
    next.kill('SIGTERM');
    await next.exited;
  });
}

test('a bundle PostgreSQL refuses a value of is given up alone: the rest of its batch is stored, and the writer goes on', async () => {
  if (!installed) return;
  const s = await setup();
  const bad = bundle('v2', 2, T0, 10);
  bad.ts[3] = T0 + 0.5; // not a whole ms: bigint refuses it (a hub never sends one)
  await s.publish(bundle('v1', 1, T0, 10), 'v.1');
  await s.publish(bad, 'v.2');
  await s.publish(bundle('v3', 3, T0, 10), 'v.3');
  const writer = startWriter(s);
  await drained(s);
  await s.publish(bundle('v4', 4, T0, 10), 'v.4');
  await drained(s);
  const stored = await s.pg.query<{ sensor: string; n: number }>(
    'SELECT c.sensor, count(*)::int AS n FROM readings r JOIN channels c USING (channel) GROUP BY 1 ORDER BY 1',
  );
  assert.equal(
    stored.map((r) => [r.sensor, r.n]),
    [
      ['v1', 10],
      ['v3', 10],
      ['v4', 10],
    ],
  );
  writer.kill('SIGTERM');
  await writer.exited;
});

test('day partitions are made on demand, one per UTC day the readings fall on', async () => {
  if (!installed) return;
  const s = await setup();
  // T0 is one second before midnight: 5 readings a minute apart span two days; then one far day.
  await s.publish(bundle('p1', 1, T0, 5, 60_000), 'p.1');
  await s.publish(bundle('p2', 2, T0 + 30 * DAY - 10_000, 3), 'p.2');
  const writer = startWriter(s);
  await drained(s);
  const parts = await s.pg.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'readings'::regclass ORDER BY 1`,
  );
  assert.equal(
    parts.map((p) => p.name),
    ['readings_20261201', 'readings_20261202', 'readings_20261231'],
  );
  const perDay = await s.pg.query<{ t: string; n: number }>(
    `SELECT tableoid::regclass::text AS t, count(*)::int AS n FROM readings GROUP BY 1 ORDER BY 1`,
  );
  assert.equal(
    perDay.map((r) => [r.t, r.n]),
    [
      ['readings_20261201', 1],
      ['readings_20261202', 4],
      ['readings_20261231', 3],
    ],
  );
  writer.kill('SIGTERM');
  await writer.exited;
});

test('a writer started while every NATS server is down waits for them, then writes what the stream holds', async () => {
  if (!installed) return;
  const s = await setup();
  await s.publish(bundle('late', 1, T0, 50), msgIdOf('hub-a', 1, partitionOf('late')));
  await Promise.all([0, 1, 2].map((i) => s.nats.kill(i)));
  const writer = startWriter(s, {}, 'w-late', ['--log-level', 'info']);
  let exited = false;
  void writer.exited.then(() => (exited = true));
  await waitFor(
    'the writer says NATS is not ready and waits',
    () => /NATS JetStream is not ready; trying again/.test(writer.stdout()),
    60_000,
  );
  assert.not.ok(exited, `the writer waits instead of quitting: ${writer.stderr()}`);
  await Promise.all([0, 1, 2].map((i) => s.nats.restart(i)));
  await drained(s);
  assert.is((await counts(s)).rows, 50, 'what the stream held before the servers went down is written');
  writer.kill('SIGTERM');
  assert.is((await writer.exited).code, 0, writer.stderr());
});

test('late rows are announced once, only those PostgreSQL found new, never in place of an in-order copy', async () => {
  if (!installed) return;
  const s = await setup();
  const announced = await lateAnnouncements(s);
  const late = (b: ReadingBundle, lateFrom = 0): ReadingBundle => ({ ...b, lateFrom });
  // Batch 1 (--batch 4): a late x before an in-order copy of it; in-order readings 0..9 s; late
  // readings -20..9 s, whose last ten repeat the in-order ones. Batch 2: the late ones resent
  // (another hub), then a new late reading y, the last thing announced.
  const inOrderX = bundle('lx', 2, T0 + 50_000, 1);
  inOrderX.value[0] = 8;
  await s.publish(late(bundle('lx', 1, T0 + 50_000, 1)), 'x-late');
  await s.publish(inOrderX, 'x-in-order');
  await s.publish(bundle('ly', 3, T0, 10), 'in-order');
  await s.publish(late(bundle('ly', 4, T0 - 20_000, 30)), 'late');
  await s.publish(late(bundle('ly', 4, T0 - 20_000, 30)), 'late-resent');
  const y = bundle('ly', 5, T0 + 20_000, 2);
  await s.publish(late(y, 1), 'last');
  const writer = startWriter(s, {}, 'w1', ['--http', '0', '--log-level', 'info']);
  await waitFor('the last late reading announced', () => announced.includes('ly@21000=1.5'), 60_000);
  await drained(s);
  const expected = Array.from({ length: 20 }, (_, i) => `ly@${(i - 20) * 1000}=${i + 0.5}`).concat('ly@21000=1.5');
  assert.equal(
    [...announced].sort(),
    expected.sort(),
    'the 20 new late readings once, and y; not x, not the repeats, not the resent bundle',
  );
  assert.is(announced.at(-1), 'ly@21000=1.5', 'in the order of the stream');
  const [x] = await s.pg.query<{ value: number }>(`SELECT value FROM readings WHERE ts = $1`, [T0 + 50_000]);
  assert.is(x!.value, 8, 'x holds the in-order copy, the one the hubs streamed');
  const c = await counts(s);
  assert.equal([c.rows, c.inserted, c.duplicates], [1 + 10 + 20 + 2, 33, 1 + 10 + 30], 'stored once, duplicates counted exactly');
  const port = await waitFor('the writer said its metrics port', () => /"port":(\d+),"msg":"metrics on/.exec(writer.stdout())?.[1]);
  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  assert.match(metrics, /^roomwatch_writer_late_readings_announced_total 21$/m);
});

test('with several writers, late rows wait for the earlier bundles another writer holds, even one killed with them', async () => {
  if (!installed) return;
  // An ack wait above the writers' in-progress beat (every 10 s): the held bundle stays with the first writer.
  const s = await setup(15_000);
  const announced = await lateAnnouncements(s);
  const inOrder = bundle('oz', 1, T0, 1);
  inOrder.value[0] = 8;
  await s.publish(inOrder, 'in-order');
  // The first writer takes the in-order bundle and is killed inside its transaction.
  const marker = join((await tempDataDir()).path, 'held');
  const doomed = startWriter(s, { ROOMWATCH_WRITER_FAULT: `hold-before-commit:${marker}` }, 'doomed');
  await waitFor('the first writer held inside its batch', () => existsSync(marker), 60_000);
  const second = startWriter(s, {}, 'w2', ['--http', '0', '--log-level', 'info']);
  const port = await waitFor('the second writer said its metrics port', () => /"port":(\d+),"msg":"metrics on/.exec(second.stdout())?.[1]);
  // A late repeat of the in-order reading, and a new late one, in a bundle after it.
  const late: ReadingBundle = { ...bundle('oz', 2, T0, 2), lateFrom: 0 };
  late.value[0] = 99;
  await s.publish(late, 'late');
  const deferred = async () =>
    Number(
      /^roomwatch_writer_late_bundles_deferred_total (\d+)$/m.exec(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text())?.[1],
    );
  await waitFor(
    'the second writer gave the late bundle back while the first held the earlier one',
    async () => (await deferred()) >= 1,
    30_000,
  );
  doomed.kill('SIGKILL');
  await doomed.exited;
  // After the ack wait the in-order bundle comes again, to the second writer, and then the late one.
  await waitFor('the new late reading announced', () => announced.includes('oz@1000=1.5'), 60_000);
  await drained(s);
  assert.equal(announced, ['oz@1000=1.5'], 'the late repeat is not announced: the in-order copy was stored first');
  const [x] = await s.pg.query<{ value: number }>(
    `SELECT r.value FROM readings r JOIN channels c USING (channel) WHERE c.sensor = 'oz' AND r.ts = $1`,
    [T0],
  );
  assert.is(x!.value, 8, 'the in-order copy is stored');
});

test.run();
