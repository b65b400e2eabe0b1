// The commit seam against three real nats-servers: a commit becomes one bundle per partition,
// acked only once JetStream stored each; a retried gen is dropped as a repeat; a commit bigger
// than a message is cut into messages that still make the same rows; a publish that cannot
// reach JetStream fails with a retryable StoreError that hands the rows back.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import pino from 'pino';
import { StoreError } from '../store/hub-store.ts';
import type { Columns, CommitRequest, SeriesDef } from '../store/store-messages.ts';
import { natsInstalled, startNatsCluster, type NatsCluster } from '../../test/support/nats-cluster.ts';
import { exitWhenDone, perTest } from '../../test/support/teardown.ts';
import { testTimeout } from '../../test/support/test-timeouts.ts';
import { decodeBundle, lateFromOf, type ReadingBundle } from './bundle.ts';
import { CommitPublisher, encodeWithin } from './commit-publisher.ts';
import { HEADER_HUB, partitionOf, STREAM_NAME, WRITERS_CONSUMER } from './cluster-names.ts';
import { NatsLink } from './nats-link.ts';

testTimeout(120_000);
test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

const log = pino({ level: 'silent' });

function catalogOf(sensors: number): SeriesDef[] {
  const series: SeriesDef[] = [];
  for (let i = 1; i <= sensors; i++)
    series[i] = { id: i, channel: i, sensor: `s${i}`, room: `r${i % 3}`, metric: 'temperature', unit: 'C' };
  return series;
}

function columns(rows: [series: number, ts: number, value: number][]): Columns {
  return {
    n: rows.length,
    series: Int32Array.from(rows.map((r) => r[0])),
    ts: Float64Array.from(rows.map((r) => r[1])),
    value: Float64Array.from(rows.map((r) => r[2])),
  };
}

function request(gen: number, fresh: Columns, sensors: CommitRequest['sensors'] = []): CommitRequest {
  return { gen, newSeries: [], fresh, maybeDuplicate: columns([]), sensors, connections: [], recheckFresh: false };
}

async function cluster(): Promise<{ nats: NatsCluster; link: NatsLink }> {
  const nats = await startNatsCluster();
  const link = await NatsLink.connect({ servers: nats.urls, name: 'test', log });
  perTest.add('nats link', () => link.stop());
  await link.ensureStream();
  return { nats, link };
}

/** Every bundle in the stream, through the writers' consumer (acked). */
async function readAll(link: NatsLink, expected: number): Promise<{ bundle: ReadingBundle; hub: string | undefined }[]> {
  const consumer = await link.js.consumers.get(STREAM_NAME, WRITERS_CONSUMER);
  const out: { bundle: ReadingBundle; hub: string | undefined }[] = [];
  while (out.length < expected) {
    const batch = await consumer.fetch({ max_messages: expected - out.length, expires: 2_000 });
    let got = 0;
    for await (const m of batch) {
      out.push({ bundle: decodeBundle(m.data), hub: m.headers?.get(HEADER_HUB) });
      m.ack();
      got++;
    }
    if (got === 0) break;
  }
  return out;
}

test('a commit is one bundle per partition, acked with every row stored, and the rows come back by name', async () => {
  if (!natsInstalled('commit publisher')) return;
  const { link } = await cluster();
  const series = catalogOf(40);
  const publisher = new CommitPublisher({
    js: link.js,
    hubId: 'hub-a',
    series,
    maxPayload: () => link.nc.info!.max_payload,
    publishTimeoutMs: 10_000,
  });
  const rows: [number, number, number][] = [];
  for (let i = 1; i <= 40; i++) rows.push([i, 1_000 + i, i / 2], [i, 2_000 + i, -i]);
  const sensorRow = { sensor: 's7', room: 'r1', firstSeen: 1, lastSeen: 2, address: '127.0.0.1:9', declaredMetrics: {} };
  const result = await publisher.commit(request(1, columns(rows), [sensorRow]));
  assert.is(result.freshInserted, 80);
  assert.is(result.duplicates, 0);
  const partitions = new Set(rows.map((r) => partitionOf(`s${r[0]}`)));
  assert.is(publisher.stats.messages, partitions.size, 'one message per partition with rows');

  const got = await readAll(link, partitions.size);
  assert.is(got.length, partitions.size);
  const seen: string[] = [];
  for (const { bundle, hub } of got) {
    assert.is(hub, 'hub-a', 'the header names the hub');
    assert.is(bundle.gen, publisher.genBase + 1);
    for (let i = 0; i < bundle.n; i++) {
      const s = bundle.series[bundle.seriesIndex[i]!]!;
      assert.is(partitionOf(s.sensor), bundle.partition, 'a row travels in its sensor’s partition');
      seen.push(`${s.sensor}/${s.room}/${s.metric}/${bundle.ts[i]}/${bundle.value[i]}`);
    }
    if (bundle.partition === partitionOf('s7')) assert.equal(bundle.sensors, [sensorRow]);
    else assert.equal(bundle.sensors, []);
  }
  const sent = rows.map(([id, ts, v]) => `s${id}/r${id % 3}/temperature/${ts}/${v}`);
  assert.equal(seen.sort(), sent.sort(), 'every row once, with its names');
});

test('a retried commit keeps its gen: JetStream drops the parts it already has, and a new gen is stored', async () => {
  if (!natsInstalled('commit publisher')) return;
  const { link } = await cluster();
  const series = catalogOf(10);
  const publisher = new CommitPublisher({ js: link.js, hubId: 'hub-a', series, maxPayload: () => 1 << 20, publishTimeoutMs: 10_000 });
  const rows = columns([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((i) => [i, 5_000, i]));
  await publisher.commit(request(7, rows));
  const before = (await link.jsm.streams.info(STREAM_NAME)).state.messages;
  await publisher.commit(request(7, rows));
  assert.ok(publisher.stats.repeats > 0 && publisher.stats.repeats === before, `every part was a repeat (${publisher.stats.repeats})`);
  assert.is((await link.jsm.streams.info(STREAM_NAME)).state.messages, before, 'nothing stored twice');
  await publisher.commit(request(8, rows));
  assert.is((await link.jsm.streams.info(STREAM_NAME)).state.messages, 2 * before, 'the next gen is new');

  // A hub restarted under the same id starts its gens again: its new readings are not repeats.
  const restarted = new CommitPublisher({
    js: link.js,
    hubId: 'hub-a',
    series,
    maxPayload: () => 1 << 20,
    publishTimeoutMs: 10_000,
    genBase: publisher.genBase + 1_000_000,
  });
  await restarted.commit(request(7, rows));
  assert.is(restarted.stats.repeats, 0);
  assert.is((await link.jsm.streams.info(STREAM_NAME)).state.messages, 3 * before);
});

test('a commit larger than a message is cut into messages under the limit that hold every row once', () => {
  const series: ReadingBundle['series'] = [];
  for (let i = 0; i < 50; i++) series.push({ sensor: `s${i}`, room: 'r', metric: 'm', unit: 'u' });
  const n = 10_000;
  const b: ReadingBundle = {
    hub: 'h',
    gen: 1,
    partition: 3,
    series,
    n,
    seriesIndex: Int32Array.from({ length: n }, (_, i) => i % 50),
    ts: Float64Array.from({ length: n }, (_, i) => i),
    value: Float64Array.from({ length: n }, (_, i) => i * 2),
    sensors: series.map((s) => ({ sensor: s.sensor, room: 'r', firstSeen: 0, lastSeen: 0, address: null, declaredMetrics: {} })),
  };
  const parts = encodeWithin(b, 30_000);
  assert.ok(parts.length >= 7, `${parts.length} parts`);
  const rows = new Set<string>();
  let sensors = 0;
  for (const bytes of parts) {
    assert.ok(bytes.length <= 30_000);
    const d = decodeBundle(bytes);
    sensors += d.sensors.length;
    for (let i = 0; i < d.n; i++) rows.add(`${d.series[d.seriesIndex[i]!]!.sensor}@${d.ts[i]}=${d.value[i]}`);
  }
  assert.is(rows.size, n);
  assert.ok(rows.has('s7@7=14') && rows.has('s49@9999=19998'));
  assert.is(sensors, 50);
  assert.equal(encodeWithin(b, 30_000), parts, 'the same bundle is cut the same way (a retry repeats its ids)');
});

test('a publish that cannot reach JetStream fails with a retryable StoreError that hands back the rows', async () => {
  if (!natsInstalled('commit publisher')) return;
  const { nats, link } = await cluster();
  const publisher = new CommitPublisher({
    js: link.js,
    hubId: 'hub-a',
    series: catalogOf(3),
    maxPayload: () => 1 << 20,
    publishTimeoutMs: 1_500,
  });
  // Two of three servers down: the stream has no quorum, so nothing can be stored or acked.
  await nats.kill(0);
  await nats.kill(1);
  const rows = columns([
    [1, 1, 1],
    [2, 1, 2],
    [3, 1, 3],
  ]);
  try {
    await publisher.commit(request(1, rows));
    assert.unreachable('acked without a quorum');
  } catch (err) {
    assert.instance(err, StoreError);
    assert.is((err as StoreError).retryable, true);
    assert.ok((err as StoreError).columns?.fresh === rows, 'the rows come back for the retry');
    assert.match((err as Error).message, /NATS JetStream/);
  }
  await nats.restart(0);
  await nats.restart(1);
  // The same commit again: stored now (GroupCommit's retry).
  const result = await retry(() => publisher.commit(request(1, rows)));
  assert.is(result.freshInserted, 3);
});

async function retry<T>(fn: () => Promise<T>, attempts = 20): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= attempts) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

test('maybe-duplicate rows travel marked late, after the fresh rows of their partition, and the mark survives a cut', () => {
  const series = catalogOf(8);
  const publisher = new CommitPublisher({
    js: { publish: () => Promise.reject(new Error('not published here')) },
    hubId: 'hub-a',
    series,
    maxPayload: () => 1024 * 1024,
    publishTimeoutMs: 1_000,
  });
  const fresh = columns([1, 2, 3, 4].map((s) => [s, 5_000 + s, s]));
  const late = columns([2, 3, 5, 6, 2].map((s, i) => [s, 1_000 + i, -s]));
  const bundles = publisher.bundles({ ...request(1, fresh), maybeDuplicate: late }, 9);
  const lateSeen: string[] = [];
  const freshSeen: string[] = [];
  for (const b of bundles) {
    const from = lateFromOf(b);
    for (let i = 0; i < b.n; i++) (i < from ? freshSeen : lateSeen).push(`${b.series[b.seriesIndex[i]!]!.sensor}@${b.ts[i]}`);
    const back = decodeBundle(encodeWithin(b, 1024 * 1024)[0]!);
    assert.is(lateFromOf(back), from, 'the mark is in the message');
  }
  assert.equal(freshSeen.sort(), ['s1@5001', 's2@5002', 's3@5003', 's4@5004']);
  assert.equal(lateSeen.sort(), ['s2@1000', 's2@1004', 's3@1001', 's5@1002', 's6@1003']);

  const n = 1_000;
  const big: ReadingBundle = {
    hub: 'h',
    gen: 1,
    partition: 0,
    series: [{ sensor: 's', room: 'r', metric: 'm', unit: 'u' }],
    n,
    seriesIndex: new Int32Array(n),
    ts: Float64Array.from({ length: n }, (_, i) => i),
    value: new Float64Array(n),
    sensors: [],
    lateFrom: 700,
  };
  const late2: number[] = [];
  for (const bytes of encodeWithin(big, 6_000)) {
    const d = decodeBundle(bytes);
    for (let i = lateFromOf(d); i < d.n; i++) late2.push(d.ts[i]!);
  }
  assert.equal(
    late2,
    Array.from({ length: 300 }, (_, i) => 700 + i),
    'exactly the late rows stay late across the parts',
  );
});

test.run();
