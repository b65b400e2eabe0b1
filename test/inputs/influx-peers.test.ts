// Real InfluxDB clients write to the hub (docs/INTEGRATIONS.md "Telegraf, Home Assistant and
// InfluxDB clients"): Debian's `influx -import` (which calls /ping and CREATE DATABASE first)
// and the npm client @influxdata/influxdb-client; the readings show in latest and history, a
// bad line gets the partial-write answer, a wrong token is refused.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HttpError, InfluxDB, Point, setLogger } from '@influxdata/influxdb-client';
import { csvRecords, history } from '../support/api-client.ts';
import { startHub, tempDataDir } from '../support/hub-process.ts';
import { latest } from '../support/http.ts';
import { createSensorToken, seedDemo } from '../support/access-setup.ts';
import { perTest } from '../support/teardown.ts';
import { INFLUX_CLI, INFLUX_INSTALL, installed, run } from './peers.ts';

test.after.each(() => perTest.run());
// The client logs each refused write; the tests assert the refusals themselves.
setLogger({ error: () => undefined, warn: () => undefined });

const T0 = Date.UTC(2026, 0, 5, 8, 0, 0);

test('influx -import -precision ms: /ping, CREATE DATABASE, then the points, in latest and history', async () => {
  if (!installed('influx -import', [INFLUX_CLI], INFLUX_INSTALL)) return;
  const hub = await startHub();
  const file = join((await tempDataDir()).path, 'import.txt');
  const points = Array.from({ length: 60 }, (_, i) => `temperature,sensor=imp-1,room=lab value=${20 + i / 10} ${T0 + i * 1000}`);
  writeFileSync(file, ['# DDL', 'CREATE DATABASE roomwatch', '', '# DML', '# CONTEXT-DATABASE: roomwatch', ...points, ''].join('\n'));
  const { code, out } = await run(INFLUX_CLI, [
    '-host',
    '127.0.0.1',
    '-port',
    String(hub.httpPort),
    '-import',
    `-path=${file}`,
    '-precision=ms',
  ]);
  assert.is(code, 0, out);
  assert.match(out, /Processed 1 commands/, 'the CREATE DATABASE of the file');
  assert.match(out, /Processed 60 inserts/);
  assert.match(out, /Failed 0 inserts/);
  const [newest] = await latest(hub.httpPort, { sensor: 'imp-1' });
  assert.equal(newest, { sensor: 'imp-1', room: 'lab', metric: 'temperature', value: 25.9, unit: 'C', ts: T0 + 59_000 });
  const rows = csvRecords(await history(hub.httpPort, { sensor: 'imp-1', time: 'ms' }));
  assert.is(rows.length, 60);
  assert.equal(rows[0], { ts: String(T0), sensor: 'imp-1', room: 'lab', metric: 'temperature', value: '20', unit: 'C' });
});

test('influx -import with a bad line: the CLI reports the failed point, the good ones are stored', async () => {
  if (!installed('influx -import', [INFLUX_CLI], INFLUX_INSTALL)) return;
  const hub = await startHub();
  const file = join((await tempDataDir()).path, 'import.txt');
  writeFileSync(
    file,
    [
      '# DML',
      '# CONTEXT-DATABASE: roomwatch',
      `cpu,host=h1 value=1 ${T0}`,
      `cpu,host=h1 value= ${T0 + 1}`,
      `cpu,host=h1 value=3 ${T0 + 2}`,
      '',
    ].join('\n'),
  );
  const { out } = await run(INFLUX_CLI, ['-host', '127.0.0.1', '-port', String(hub.httpPort), '-import', `-path=${file}`, '-precision=ms']);
  assert.match(out, /partial write: unable to parse 'cpu,host=h1 value= \d+': missing field value/);
  assert.equal(
    (await latest(hub.httpPort, { sensor: 'h1' })).map((r) => [r.value, r.ts]),
    [[3, T0 + 2]],
  );
  assert.is(csvRecords(await history(hub.httpPort, { sensor: 'h1', time: 'ms' })).length, 2);
});

test('@influxdata/influxdb-client: points written with a sensor token are in latest and history; a wrong token and a bad line are refused', async () => {
  const hub = await startHub();
  const { root } = await seedDemo(hub.httpPort);
  const token = await createSensorToken(hub.httpPort, { sensor: 'npm-*', rooms: ['office'] }, root);
  const url = `http://127.0.0.1:${hub.httpPort}`;

  const writer = new InfluxDB({ url, token: token.token }).getWriteApi('home', 'roomwatch', 'ms', { maxRetries: 0 });
  for (let i = 0; i < 10; i++) {
    writer.writePoint(
      new Point('climate')
        .tag('sensor', 'npm-1')
        .tag('room', 'office')
        .floatField('temperature', 21 + i)
        .intField('co2', 400 + i)
        .timestamp(T0 + i * 1000),
    );
  }
  await writer.close(); // flushes, and rejects if the hub refused
  const rows = (await latest(hub.httpPort, { sensor: 'npm-1' }).catch(() => [])) as { metric: string; value: number }[];
  // latest needs a login on this hub: read it as root instead
  assert.equal(rows, []);
  const answer = await fetch(`${url}/api/v1/latest?sensor=npm-1`, { headers: { authorization: `Bearer ${root}` } });
  const body = (await answer.json()) as { readings: { metric: string; value: number; room: string; ts: number }[] };
  assert.equal(
    body.readings.map((r) => [r.metric, r.value, r.room, r.ts]),
    [
      ['climate_co2', 409, 'office', T0 + 9000],
      ['climate_temperature', 30, 'office', T0 + 9000],
    ],
  );
  const csv = await fetch(`${url}/api/v1/history.csv?sensor=npm-1&time=ms`, { headers: { authorization: `Bearer ${root}` } });
  assert.is(csvRecords(await csv.text()).length, 20);

  // A wrong token: 401, which the client reports as an HttpError and does not retry.
  const wrong = new InfluxDB({ url, token: 'not-a-token' }).getWriteApi('home', 'roomwatch', 'ms', { maxRetries: 0 });
  wrong.writeRecord(`climate,sensor=npm-2,room=office temperature=1 ${T0}`);
  const refused = await wrong.close().then(
    () => null,
    (e: unknown) => e,
  );
  assert.instance(refused, HttpError);
  assert.is((refused as HttpError).statusCode, 401);

  // A bad line beside a good one: 400 with the partial write, the good one stored.
  const partial = new InfluxDB({ url, token: token.token }).getWriteApi('home', 'roomwatch', 'ms', { maxRetries: 0 });
  partial.writeRecords([
    `climate,sensor=npm-3,room=office temperature=5 ${T0}`,
    `climate,sensor=npm-3,room=office temperature=oops ${T0 + 1}`,
  ]);
  const err = await partial.close().then(
    () => null,
    (e: unknown) => e,
  );
  assert.instance(err, HttpError);
  assert.is((err as HttpError).statusCode, 400);
  assert.match((err as HttpError).message, "partial write: unable to parse 'climate,sensor=npm-3,room=office temperature=oops");
  const after = await fetch(`${url}/api/v1/latest?sensor=npm-3`, { headers: { authorization: `Bearer ${root}` } });
  assert.equal(
    ((await after.json()) as { readings: { value: number }[] }).readings.map((r) => r.value),
    [5],
  );
});

test.run();
