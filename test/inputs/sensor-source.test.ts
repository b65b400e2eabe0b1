// Each sensor's `source` in GET /api/v1/sensors (how its readings arrive) is kept with its row in
// the store: after a restart the sensors list says the same as before it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { request, upload } from '../support/api-client.ts';
import { startHub, tempDataDir } from '../support/hub-process.ts';
import { sensors } from '../support/http.ts';
import { connect } from '../support/tcp-sensor.ts';
import { perTest } from '../support/teardown.ts';

test.after.each(() => perTest.run());

const T0 = Date.UTC(2026, 0, 5, 8, 0, 0);

async function sources(port: number): Promise<[string, unknown][]> {
  return (await sensors(port)).map((s) => [s.sensor, (s as { source?: unknown }).source]);
}

test('source survives a restart: influx, upload, tcp, and a tcp sensor later written over line protocol', async () => {
  const dataDir = (await tempDataDir()).path;
  const first = await startHub({ dataDir });
  const res = await request(first.httpPort, '/write?db=x&precision=ms', {
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    body: [`temperature,sensor=agent value=1 ${T0}`, `temperature,sensor=moved value=2 ${T0}`].join('\n'),
  });
  assert.is(res.status, 204, res.text);
  assert.is((await upload(first.httpPort, `ts,sensor,metric,value\n${T0},uploaded,temperature,3\n`)).status, 200);
  const s = await connect(first.tcpPort);
  await s.hello('wired', 'lab', { metrics: [{ metric: 'temperature', unit: 'C' }] });
  await s.send({ type: 'reading', metric: 'temperature', value: 4, ts: T0, seq: 1 });
  await s.ackCovering(1);
  // 'moved' spoke on the sensor port first; its last readings came over line protocol.
  const m = await connect(first.tcpPort);
  await m.hello('moved');
  await m.send({ type: 'bye' });
  await m.closed();
  const again = await request(first.httpPort, '/write?db=x&precision=ms', {
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    body: `temperature,sensor=moved value=5 ${T0 + 1}`,
  });
  assert.is(again.status, 204, again.text);
  const before = await sources(first.httpPort);
  assert.equal(before, [
    ['agent', 'influx'],
    ['moved', 'influx'],
    ['uploaded', 'upload'],
    ['wired', 'tcp'],
  ]);
  await first.stop();

  const second = await startHub({ dataDir });
  assert.equal(await sources(second.httpPort), before);
  // The key the source is kept under is not a metric: the sensors' metrics are what they were.
  assert.equal(
    (await sensors(second.httpPort)).map((x) => [x.sensor, x.metrics]),
    [
      ['agent', ['temperature']],
      ['moved', ['temperature']],
      ['uploaded', ['temperature']],
      ['wired', ['temperature']],
    ],
  );
});

test.run();
