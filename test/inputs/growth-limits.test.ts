// The hub's limits on sensors and series (--max-sensors, --max-series; hub/ingest/growth-limits.ts):
// past them, what would make a new sensor or series is refused on every way in (here the
// sensor port, InfluxDB line protocol and uploads; MQTT and remote write take the same seam), counted in
// /metrics, while the sensors and series the hub knows go on being stored.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { request, upload } from '../support/api-client.ts';
import { startHub } from '../support/hub-process.ts';
import { latest, sensors } from '../support/http.ts';
import { connect } from '../support/tcp-sensor.ts';
import { perTest } from '../support/teardown.ts';

test.after.each(() => perTest.run());

const T0 = Date.UTC(2026, 0, 5, 8, 0, 0);

function write(port: number, body: string) {
  return request(port, '/write?db=x&precision=ms', { method: 'POST', headers: { 'content-type': 'text/plain' }, body });
}

async function refusedCount(port: number, source: string, reason: string): Promise<number> {
  const text = (await request(port, '/metrics')).text;
  const line = text.split('\n').find((l) => l.startsWith(`roomwatch_input_refused_total{source="${source}",reason="${reason}"} `));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

test('line protocol: a new sensor past --max-sensors and a new series past --max-series are refused by name, the rest stored', async () => {
  const hub = await startHub({ maxSensors: 2, maxSeries: 3 });
  let res = await write(hub.httpPort, [`temperature,sensor=a value=1 ${T0}`, `temperature,sensor=b value=2 ${T0}`].join('\n'));
  assert.is(res.status, 204, res.text);

  res = await write(
    hub.httpPort,
    [
      `temperature,sensor=c value=3 ${T0}`, // a third sensor
      `humidity,sensor=a value=40 ${T0}`, // the third series: fits
      `humidity,sensor=b value=41 ${T0}`, // a fourth series
      `temperature,sensor=b value=2.5 ${T0 + 1}`, // a known series: stored
    ].join('\n'),
  );
  assert.is(res.status, 400);
  assert.match(res.text, /partial write/);
  assert.match(res.text, /sensor=c.*keeps at most 2 sensors \(--max-sensors\)/);
  assert.match(res.text, /humidity,sensor=b.*keeps at most 3 series \(--max-series\)/);
  assert.not.match(res.text, /sensor=a/, 'the fitting series is not named');

  const rows = (await latest(hub.httpPort)).map((r) => `${r.sensor}/${r.metric}/${r.value}`);
  assert.equal(rows, ['a/humidity/40', 'a/temperature/1', 'b/temperature/2.5']);
  assert.equal(
    (await sensors(hub.httpPort)).map((s) => s.sensor),
    ['a', 'b'],
    'the refused sensor is not registered',
  );
  assert.is(await refusedCount(hub.httpPort, 'influx', 'sensor_limit'), 1);
  assert.is(await refusedCount(hub.httpPort, 'influx', 'series_limit'), 1);
});

test('sensor port: a new sensor past --max-sensors gets 429 at hello; a reading making a series past --max-series gets 422, the message is acknowledged, known series go on', async () => {
  const hub = await startHub({ maxSensors: 1, maxSeries: 2 });
  const a = await connect(hub.tcpPort);
  await a.hello('a', 'lab');
  await a.send({ type: 'reading', metric: 'temperature', value: 21, ts: T0, seq: 1 });
  await a.ackCovering(1);

  const b = await connect(hub.tcpPort);
  await b.send({ type: 'hello', v: 1, sensor: 'b' });
  const refusal = await b.next({ type: 'error' });
  assert.is(refusal.code, 429);
  assert.match(String(refusal.message), /at most 1 sensors \(--max-sensors\)/);
  await b.closed();

  // The second series fits; a batch with a third is refused whole, with the index of the reading.
  await a.send({ type: 'reading', metric: 'humidity', value: 40, ts: T0, seq: 2 });
  await a.ackCovering(2);
  await a.send({
    type: 'batch',
    seq: 3,
    readings: [
      { metric: 'temperature', value: 22, ts: T0 + 1 },
      { metric: 'pressure', value: 1000, ts: T0 + 1 },
    ],
  });
  const err = await a.next({ type: 'error', seq: 3 });
  assert.is(err.code, 422);
  assert.is(err.index, 1);
  assert.match(String(err.message), /pressure of sensor "a" would be a new series.*at most 2 series/);
  await a.send({ type: 'reading', metric: 'temperature', value: 23, ts: T0 + 2, seq: 4 });
  await a.ackCovering(4);

  const rows = (await latest(hub.httpPort)).map((r) => `${r.sensor}/${r.metric}/${r.value}`);
  assert.equal(rows, ['a/humidity/40', 'a/temperature/23']);
  assert.is(await refusedCount(hub.httpPort, 'tcp', 'sensor_limit'), 1);
  assert.is(await refusedCount(hub.httpPort, 'tcp', 'series_limit'), 1);
  // A known sensor still connects when the hub is full.
  const again = await connect(hub.tcpPort);
  await again.hello('a', 'lab');
});

test('upload: a file that would take the hub past --max-series or --max-sensors is refused whole (413 too_many_series)', async () => {
  const hub = await startHub({ maxSensors: 2, maxSeries: 3 });
  const ok = await upload(hub.httpPort, `ts,sensor,metric,value\n${T0},a,temperature,1\n${T0},a,humidity,40\n`);
  assert.is(ok.status, 200, ok.text);
  // Two new series where one fits: the whole file is refused, the fitting one included.
  const series = await upload(hub.httpPort, `ts,sensor,metric,value\n${T0},a,pressure,1000\n${T0},b,temperature,2\n`);
  assert.is(series.status, 413, series.text);
  assert.match(series.text, /too_many_series.*at most 3 series \(--max-series\)/);
  const sensors3 = await upload(hub.httpPort, `ts,sensor,metric,value\n${T0},b,temperature,2\n${T0},c,temperature,3\n`);
  assert.is(sensors3.status, 413);
  assert.match(sensors3.text, /at most 2 sensors \(--max-sensors\)/);
  assert.equal(
    (await latest(hub.httpPort)).map((r) => `${r.sensor}/${r.metric}`),
    ['a/humidity', 'a/temperature'],
  );
  assert.is(await refusedCount(hub.httpPort, 'upload', 'series_limit'), 2);
  assert.is(await refusedCount(hub.httpPort, 'upload', 'sensor_limit'), 2);
  // Within the limits, the next file is stored.
  assert.is((await upload(hub.httpPort, `ts,sensor,metric,value\n${T0},b,temperature,2\n`)).status, 200);
});

test.run();
