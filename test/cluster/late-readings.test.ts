// Never a duplicate on the live stream, however old the repeat: a sensor sends 200 old readings
// (late: older than its channel's newest), then the same 200 again through another hub, then
// again through the same one. A subscriber on each of three hubs sees each reading exactly once,
// and a late reading that is new exactly once. No hub streams a late reading from the stream
// itself; the writer announces those PostgreSQL found new, after its commit. Real nats-servers,
// PostgreSQL, hub and writer processes (cluster-setup.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { json, request, waitFor } from '../support/api-client.ts';
import type { HubProcess } from '../support/hub-process.ts';
import { openStream, type StreamClient } from '../support/stream-client.ts';
import { connect } from '../support/tcp-sensor.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';
import { testTimeout } from '../support/test-timeouts.ts';
import { clusterPeersInstalled, startCluster } from './cluster-setup.ts';

testTimeout(170_000);
test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

const SENSOR = 'late-1';
const WAIT_MS = 30_000;

/** Sends `readings` as one batch from a fresh connection to `port` and waits for its ack. */
async function sendBatch(port: number, readings: object[]): Promise<void> {
  const sensor = await connect(port);
  await sensor.hello(SENSOR, 'vault');
  await sensor.send({ type: 'batch', seq: 1, readings });
  await sensor.ackCovering(1, WAIT_MS);
  await sensor.close();
}

/** A hub's health `cluster` object. */
async function cluster(h: HubProcess): Promise<{ readings_followed: number; late_readings_streamed: number }> {
  return json<{ cluster: { readings_followed: number; late_readings_streamed: number } }>(await request(h.httpPort, '/api/v1/health'))
    .cluster;
}

/** How many times the stream carried each ts of SENSOR. */
function countsByTs(s: StreamClient): Map<number, number> {
  const counts = new Map<number, number>();
  for (const m of s.received)
    if (m.type === 'reading' && m.sensor === SENSOR) counts.set(m.ts as number, (counts.get(m.ts as number) ?? 0) + 1);
  return counts;
}

test('an old backfill sent twice more, through another hub and the same one: every hub streams each reading once, and a new late one once', async () => {
  if (!clusterPeersInstalled('cluster: late readings on the live stream')) return;
  const c = await startCluster();
  const hubs = await Promise.all([c.startHub('a'), c.startHub('b'), c.startHub('c')]);
  const [a, b] = hubs;
  await c.startWriter();
  const streams = await Promise.all(
    hubs.map(async (h) => {
      const s = await openStream(h.httpPort);
      await s.subscribe({ sensor: SENSOR, replay: 0 });
      return s;
    }),
  );

  const now = Date.now();
  const old = Array.from({ length: 200 }, (_, i) => ({ metric: 'temperature', value: i / 4, unit: 'C', ts: now - 3_600_000 + i * 1_000 }));
  // The channel's newest first, through hub a; hub b knows the channel only from following a,
  // so every older reading sent to b is late there (not newer than its newest).
  await sendBatch(a.tcpPort, [{ metric: 'temperature', value: 20, unit: 'C', ts: now }]);
  for (const s of streams) await s.next({ type: 'reading', sensor: SENSOR, ts: now }, WAIT_MS);
  await sendBatch(b.tcpPort, old);
  // Stored as new by the writer, announced, and streamed by every hub (hub b too: it streams no late reading itself).
  for (const s of streams) await s.next({ type: 'reading', sensor: SENSOR, ts: old[199]!.ts }, WAIT_MS);
  // Hub a has followed b's commit of them (not only heard the writer), so they are not new to it.
  await waitFor('hub a followed the backfill', async () => (await cluster(a)).readings_followed >= 200);

  await sendBatch(a.tcpPort, old);
  await sendBatch(b.tcpPort, old);
  const marker = now - 1_000_000;
  await sendBatch(b.tcpPort, [{ metric: 'temperature', value: -1.5, unit: 'C', ts: marker }]);
  // The writer takes the stream in order and announces in order: once the new late reading is
  // streamed, any announcement of the repeats would have come before it. The in-order reading
  // after it comes through each hub's follower, after the repeats' bundles.
  await sendBatch(a.tcpPort, [{ metric: 'temperature', value: 21, unit: 'C', ts: now + 1_000 }]);
  for (const s of streams) {
    const got = await s.next({ type: 'reading', sensor: SENSOR, ts: marker }, WAIT_MS);
    assert.is(got.value, -1.5, 'the new late reading, with its value');
    await s.next({ type: 'reading', sensor: SENSOR, ts: now + 1_000 }, WAIT_MS);
  }

  const expected = [now, now + 1_000, marker, ...old.map((r) => r.ts)];
  for (const [i, s] of streams.entries()) {
    const counts = countsByTs(s);
    const twice = [...counts].filter(([, n]) => n !== 1);
    assert.equal(twice, [], `hub ${'abc'[i]}: no reading streamed more than once`);
    assert.equal([...counts.keys()].sort(), expected.sort(), `hub ${'abc'[i]}: every reading streamed`);
    const values = new Map(s.received.filter((m) => m.type === 'reading').map((m) => [m.ts as number, m.value as number]));
    assert.is(values.get(old[37]!.ts), 37 / 4, 'an old reading carries its value');
  }

  for (const [i, h] of hubs.entries()) {
    const streamed = (await cluster(h)).late_readings_streamed;
    assert.is(streamed, 201, `hub ${'abc'[i]}'s health counts the late readings it streamed: 200 old and the new one`);
  }

  // PostgreSQL stored each once; the writers counted the 400 repeats as duplicates.
  await c.writersCaughtUp();
  const stored = (await c.storedReadings()).filter((r) => r.sensor === SENSOR);
  assert.is(stored.length, expected.length);
  assert.ok(
    stored.every((r) => r.copies === 1),
    'each stored once',
  );
  const [counts] = await c.pg.query<{ inserted: number | string; duplicates: number | string }>(
    'select sum(inserted) as inserted, sum(duplicates) as duplicates from writer_counts',
  );
  assert.equal([Number(counts!.inserted), Number(counts!.duplicates)], [expected.length, 400], 'inserted and duplicates, exactly');
});

test.run();
