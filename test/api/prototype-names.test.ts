// PROTOCOL.md §1 "Names and values": `constructor`, `toString`, `hasOwnProperty`, `valueOf` are
// valid sensor ids and rooms, and `constructor` a valid metric. Such names are data, never keys
// into Object.prototype: they are listed in `GET /api/v1/sensors`, `latest` and `/metrics` like
// any other, and survive a restart (the declared metrics are stored as JSON). `__proto__`,
// `toString` and `hasOwnProperty` break the metric pattern: a hello declaring them is refused.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { json, postJson, request } from '../support/api-client.ts';
import { startHub, tempDataDir, type InProcessHub } from '../support/hub-process.ts';
import { find, parseExposition } from '../support/prometheus.ts';
import type { LatestReading, SensorInfo } from '../support/http.ts';
import { connect } from '../support/tcp-sensor.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';
import { tsSequence } from '../support/wire.ts';

const nextTs = tsSequence();
test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

async function sensors(h: InProcessHub): Promise<Pick<SensorInfo, 'sensor' | 'room' | 'metrics'>[]> {
  const res = await request(h.httpPort, '/api/v1/sensors');
  assert.is(res.status, 200, res.text);
  return json<{ sensors: SensorInfo[] }>(res).sensors.map(({ sensor, room, metrics }) => ({ sensor, room, metrics }));
}

async function latest(h: InProcessHub, query = ''): Promise<Pick<LatestReading, 'sensor' | 'room' | 'metric' | 'unit' | 'value'>[]> {
  const res = await request(h.httpPort, `/api/v1/latest${query}`);
  assert.is(res.status, 200, res.text);
  return json<{ readings: LatestReading[] }>(res).readings.map(({ sensor, room, metric, unit, value }) => ({
    sensor,
    room,
    metric,
    unit,
    value,
  }));
}

const EXPECTED_SENSORS = [
  { sensor: 'constructor', room: 'toString', metrics: ['constructor', 'temperature'] },
  { sensor: 'hasOwnProperty', room: 'valueOf', metrics: ['constructor'] },
  { sensor: 'toString', room: 'constructor', metrics: ['humidity'] },
];
const EXPECTED_LATEST = [
  { sensor: 'constructor', room: 'toString', metric: 'constructor', unit: 'ctor', value: 1 },
  { sensor: 'constructor', room: 'toString', metric: 'temperature', unit: 'C', value: 21 },
  { sensor: 'hasOwnProperty', room: 'valueOf', metric: 'constructor', unit: '', value: 2 },
  { sensor: 'toString', room: 'constructor', metric: 'humidity', unit: '%', value: 40 },
];

test('sensors, rooms and a metric named like Object.prototype members are listed, scraped and kept over a restart', async () => {
  const dataDir = (await tempDataDir()).path;
  const h = await startHub({ dataDir });
  const a = await connect(h.tcpPort);
  await a.hello('constructor', 'toString', { metrics: [{ metric: 'constructor', unit: 'ctor' }, { metric: 'temperature' }] });
  await a.send({
    type: 'batch',
    seq: 1,
    readings: [
      { metric: 'constructor', value: 1, ts: nextTs() },
      { metric: 'temperature', value: 21, ts: nextTs() },
    ],
  });
  await a.ackCovering(1);
  const b = await connect(h.tcpPort);
  await b.hello('hasOwnProperty', 'valueOf'); // declares nothing: a `constructor` reading gets no unit at all
  await b.send({ type: 'reading', metric: 'constructor', value: 2, ts: nextTs(), seq: 1 });
  await b.ackCovering(1);
  const c = await connect(h.tcpPort);
  await c.hello('toString', 'constructor', { metrics: [{ metric: 'humidity' }] });
  await c.send({ type: 'reading', metric: 'humidity', value: 40, ts: nextTs(), seq: 1 });
  await c.ackCovering(1);

  assert.equal(await sensors(h), EXPECTED_SENSORS);
  assert.equal(await latest(h), EXPECTED_LATEST);
  assert.equal(await latest(h, '?sensor=constructor&metric=constructor'), [EXPECTED_LATEST[0]]);
  assert.equal(await latest(h, '?room=constructor'), [EXPECTED_LATEST[3]]);
  const scrape = parseExposition((await request(h.httpPort, '/metrics')).text);
  assert.equal(
    find(scrape, 'roomwatch_reading', { metric: 'constructor' }).map((g) => [g.labels.sensor, g.labels.room, g.labels.unit, g.value]),
    [
      ['constructor', 'toString', 'ctor', 1],
      ['hasOwnProperty', 'valueOf', '', 2],
    ],
  );

  await h.stop();
  const again = await startHub({ dataDir });
  assert.equal(await sensors(again), EXPECTED_SENSORS, 'the same after a restart');
  assert.equal(await latest(again), EXPECTED_LATEST, 'latest too');
  // The declared unit came back from the stored JSON: a reading without a unit still gets it.
  const a2 = await connect(again.tcpPort);
  await a2.hello('constructor', 'toString', { metrics: [{ metric: 'constructor', unit: 'ctor' }] });
  await a2.send({ type: 'reading', metric: 'constructor', value: 3, ts: nextTs(), seq: 1 });
  await a2.ackCovering(1);
  assert.equal(await latest(again, '?sensor=constructor&metric=constructor'), [{ ...EXPECTED_LATEST[0]!, value: 3 }]);
});

test('a hello declaring metrics "__proto__", "toString" or "hasOwnProperty" is refused with 422, and the hub serves on', async () => {
  const h = await startHub();
  for (const [i, metric] of ['__proto__', 'toString', 'hasOwnProperty'].entries()) {
    const s = await connect(h.tcpPort);
    await s.send({ type: 'hello', v: 1, sensor: `bad-${i}`, metrics: [{ metric, unit: 'x' }] });
    const reply = await s.next((m) => m.type === 'welcome' || m.type === 'error');
    assert.equal([reply.type, reply.code], ['error', 422], `hello declaring ${metric}`);
  }
  const ok = await connect(h.tcpPort);
  await ok.hello('after-the-bad-ones', 'attic');
  await ok.send({ type: 'reading', metric: 'temperature', value: 5, ts: nextTs(), seq: 1 });
  await ok.ackCovering(1);
  assert.equal(await sensors(h), [{ sensor: 'after-the-bad-ones', room: 'attic', metrics: ['temperature'] }]);
});

test('report-now for metric "constructor" asks only the sensors that have it, not every sensor', async () => {
  // PROTOCOL.md §2 "Report now": the filters select the sensors asked
  const h = await startHub();
  const plain = await connect(h.tcpPort);
  await plain.hello('rn-plain', 'attic', { metrics: [{ metric: 'humidity' }] });
  const ctor = await connect(h.tcpPort);
  await ctor.hello('rn-ctor', 'attic', { metrics: [{ metric: 'constructor', unit: 'u' }] });
  const res = await postJson(h.httpPort, '/api/v1/report-now', { metric: 'constructor', timeout_ms: 0 });
  assert.is(res.status, 200, res.text);
  const answer = json<{ requested: number; missing: string[] }>(res);
  assert.equal([answer.requested, answer.missing], [1, ['rn-ctor']]);
});

test.run();
