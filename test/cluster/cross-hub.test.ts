// Cluster mode seen by a user of one hub while the sensors talk to another: latest, the sensor
// list, the live stream, the history export and report-now on hub B all see a sensor on hub A;
// a sensor that connects to hub B while connected to hub A takes over (A's connection: 409);
// a hub killed with -9 leaves its sensors shown as disconnected on the other. Real
// nats-servers, PostgreSQL and hub processes (test/cluster/cluster-setup.ts), one cluster for
// the file's tests, each with sensor ids of its own.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { csvRecords, history, json, postJson, request, upload, waitFor } from '../support/api-client.ts';
import { tempDataDir, type HubProcess } from '../support/hub-process.ts';
import { runNode } from '../support/node-process.ts';
import { openStream } from '../support/stream-client.ts';
import { connect } from '../support/tcp-sensor.ts';
import { exitWhenDone, perTest, Teardown } from '../support/teardown.ts';
import { testTimeout } from '../support/test-timeouts.ts';
import { clusterPeersInstalled, startCluster, type TestCluster } from './cluster-setup.ts';

testTimeout(120_000);
const perFile = new Teardown();
test.after.each(() => perTest.run());
test.after(async () => {
  await perFile.run();
  exitWhenDone();
});

const installed = clusterPeersInstalled('cluster: cross-hub reads');
let shared: Promise<{ c: TestCluster; a: HubProcess; b: HubProcess }> | undefined;
/** One cluster (3 nats-servers, PostgreSQL, hubs a and b, one writer) for the file. */
function cluster(): Promise<{ c: TestCluster; a: HubProcess; b: HubProcess }> {
  return (shared ??= (async () => {
    const c = await startCluster(perFile);
    const [a, b] = await Promise.all([c.startHub('a'), c.startHub('b')]);
    await c.startWriter();
    return { c, a, b };
  })());
}

interface LatestReading {
  sensor: string;
  room: string;
  metric: string;
  value: number;
  unit: string;
  ts: number;
}

test('a sensor on hub A is seen on hub B: latest, sensors, the live stream and the history export', async () => {
  if (!installed) return;
  const { a, b } = await cluster();
  const stream = await openStream(b.httpPort);
  await stream.subscribe({ sensor: 'xa-1', replay: 0 });

  const sensor = await connect(a.tcpPort);
  await sensor.hello('xa-1', 'attic');
  const ts = Date.now() - 1_000;
  await sensor.send({ type: 'reading', metric: 'temperature', value: 21.25, unit: 'C', ts, seq: 1 });
  await sensor.ackCovering(1, 20_000);

  const live = await stream.next({ type: 'reading', sensor: 'xa-1' }, 20_000);
  assert.equal(
    { room: live.room, metric: live.metric, value: live.value, unit: live.unit, ts: live.ts },
    { room: 'attic', metric: 'temperature', value: 21.25, unit: 'C', ts },
    "hub B's stream carries hub A's reading",
  );

  const latest = await waitFor('hub B lists xa-1 in latest', async () => {
    const body = json<{ readings: LatestReading[] }>(await request(b.httpPort, '/api/v1/latest?sensor=xa-1'));
    return body.readings.find((r) => r.metric === 'temperature');
  });
  assert.equal({ value: latest.value, ts: latest.ts, room: latest.room }, { value: 21.25, ts, room: 'attic' }, 'latest on hub B');

  const listed = await waitFor('hub B lists xa-1 in sensors', async () => {
    const body = json<{ sensors: { sensor: string; room: string; connected: boolean; metrics: string[] }[] }>(
      await request(b.httpPort, '/api/v1/sensors'),
    );
    return body.sensors.find((s) => s.sensor === 'xa-1');
  });
  assert.equal({ room: listed.room, connected: listed.connected }, { room: 'attic', connected: true }, 'connected, through hub A');
  assert.ok(listed.metrics.includes('temperature'), 'its metrics');

  // The export includes everything acked before the request: no waiting for the writer here.
  const rows = csvRecords(await history(b.httpPort, { sensor: 'xa-1', time: 'ms' }));
  assert.equal(
    rows,
    [{ ts: String(ts), sensor: 'xa-1', room: 'attic', metric: 'temperature', value: '21.25', unit: 'C' }],
    'history on hub B',
  );
});

test('an upload on hub A reaches hub B: its latest, and its live subscribers, for a sensor hub B never heard of', async () => {
  if (!installed) return;
  const { a, b } = await cluster();
  const stream = await openStream(b.httpPort);
  await stream.subscribe({ sensor: 'up-1', replay: 0 });
  const ts = Date.now() - 60_000;
  const res = await upload(
    a.httpPort,
    `ts,sensor,room,metric,value,unit\n${ts - 1_000},up-1,cellar,humidity,55,%\n${ts},up-1,cellar,humidity,56.5,%\n`,
  );
  assert.is(res.status, 200, res.text);
  const first = await stream.next({ type: 'reading', sensor: 'up-1' }, 20_000);
  const second = await stream.next({ type: 'reading', sensor: 'up-1' }, 20_000);
  assert.equal(
    [first, second].map((r) => [r.ts, r.value, r.room, r.unit]),
    [
      [ts - 1_000, 55, 'cellar', '%'],
      [ts, 56.5, 'cellar', '%'],
    ],
    "hub B's subscriber gets the upload's readings",
  );
  const latest = await waitFor('hub B lists up-1 in latest', async () => {
    const body = json<{ readings: LatestReading[] }>(await request(b.httpPort, '/api/v1/latest?sensor=up-1'));
    return body.readings.find((r) => r.metric === 'humidity');
  });
  assert.equal(
    { value: latest.value, ts: latest.ts, room: latest.room, unit: latest.unit },
    { value: 56.5, ts, room: 'cellar', unit: '%' },
  );
});

test('report-now on hub B reaches sensors on both hubs and names the one that did not answer', async () => {
  if (!installed) return;
  const { a, b } = await cluster();
  const onA = await connect(a.tcpPort);
  await onA.hello('rn-a', 'lab');
  const silent = await connect(a.tcpPort);
  await silent.hello('rn-silent', 'lab');
  const onB = await connect(b.tcpPort);
  await onB.hello('rn-b', 'lab');
  // no wait for hub B to learn of them: it asks every hub over NATS, and each its own sensors
  const answer = postJson(b.httpPort, '/api/v1/report-now', { room: 'lab', timeout_ms: 5_000 });
  const now = Date.now();
  const answerOf = async (s: typeof onA, value: number) => {
    const cmd = await s.next({ type: 'command', command: 'report-now' }, 10_000);
    await s.send({ type: 'report', id: cmd.id, readings: [{ metric: 'temperature', value, unit: 'C', ts: now }] });
  };
  await Promise.all([answerOf(onA, 1.5), answerOf(onB, 2.5), silent.next({ type: 'command', command: 'report-now' }, 10_000)]);
  const res = await answer;
  assert.is(res.status, 200, res.text);
  const body = json<{ requested: number; responded: number; missing: string[]; readings: LatestReading[] }>(res);
  assert.is(body.requested, 3, 'three sensors in room lab over two hubs');
  assert.is(body.responded, 2);
  assert.equal(body.missing, ['rn-silent'], 'the sensor that did not answer');
  assert.equal(
    body.readings.map((r) => [r.sensor, r.value]).sort(),
    [
      ['rn-a', 1.5],
      ['rn-b', 2.5],
    ],
    'both hubs’ sensors reported, merged in one answer',
  );
});

test('a sensor that connects to hub B while on hub A takes over: its connection to A gets 409 and is closed', async () => {
  if (!installed) return;
  const { a, b } = await cluster();
  const first = await connect(a.tcpPort);
  await first.hello('to-1', 'lab');
  await first.send({ type: 'reading', metric: 'temperature', value: 20, ts: Date.now() - 500, seq: 1 });
  await first.ackCovering(1, 20_000);
  const second = await connect(b.tcpPort);
  await second.hello('to-1', 'lab');
  const replaced = await first.next({ type: 'error' }, 20_000);
  assert.is(replaced.code, 409, `the old connection is told: ${JSON.stringify(replaced)}`);
  await first.closed(10_000);
  // the new owner stores and acks
  await second.send({ type: 'reading', metric: 'temperature', value: 21, ts: Date.now(), seq: 1 });
  await second.ackCovering(1, 20_000);
  assert.not.ok(second.isClosed, 'the new connection stays');
});

test('a hub killed with -9: the other hub shows its sensors as disconnected once its liveness key expires', async () => {
  if (!installed) return;
  const { c, b } = await cluster();
  const doomed = await c.startHub('c');
  const sensor = await connect(doomed.tcpPort);
  await sensor.hello('lv-1', 'lab');
  await sensor.send({ type: 'reading', metric: 'temperature', value: 19, ts: Date.now() - 200, seq: 1 });
  await sensor.ackCovering(1, 20_000);
  const sensorsOnB = async () =>
    json<{ sensors: { sensor: string; connected: boolean }[] }>(await request(b.httpPort, '/api/v1/sensors')).sensors.find(
      (s) => s.sensor === 'lv-1',
    );
  await waitFor('hub B shows lv-1 connected', async () => (await sensorsOnB())?.connected === true);
  doomed.kill('SIGKILL');
  await doomed.exited;
  // the liveness key lives 10 s after its last refresh (3 s apart)
  const gone = await waitFor('hub B shows lv-1 disconnected', async () => (await sensorsOnB())?.connected === false, 30_000, 200);
  assert.ok(gone, 'disconnected');
});

test('--cluster without --history (and the other way round) is a start error that names the missing flag', async () => {
  const data = (await tempDataDir()).path;
  const base = ['hub/main.ts', '--tcp-port', '0', '--http-port', '0', '--data', data];
  const alone = await runNode([...base, '--cluster', 'nats://127.0.0.1:4222'], 60_000);
  assert.is.not(alone.code, 0, 'refused');
  assert.match(alone.stdout + alone.stderr, /--history/, 'says --history is needed');
  const other = await runNode([...base, '--history', 'postgres://127.0.0.1:1/x'], 60_000);
  assert.is.not(other.code, 0, 'refused');
  assert.match(other.stdout + other.stderr, /--cluster/, 'says --cluster is needed');
});

test.run();
