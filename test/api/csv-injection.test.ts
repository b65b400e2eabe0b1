// CSV injection (OWASP; docs/API.md "Units"): a unit that begins with = + - @, a tab or a
// carriage return would run as a formula when an export is opened in a spreadsheet. It is
// refused on every way in: a reading, a batch, a report and a hello's `metrics` on the sensor
// port (422, PROTOCOL.md §1 "a value breaks a rule"), and a row of an upload (a bad row, 422).
// Rows stored before the rule are exported with a single quote in front of the unit.
import { DuckDBInstance } from '@duckdb/node-api';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { csvRecords, history, upload, errorBody, uploadOk } from '../support/api-client.ts';
import { latest } from '../support/http.ts';
import { startHub } from '../support/hub-process.ts';
import { sharedHub, stopSharedHubs } from '../support/shared-hub.ts';
import { storePath } from '../support/store-inspect.ts';
import { connect } from '../support/tcp-sensor.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';
import { tsSequence } from '../support/wire.ts';

const hub = sharedHub();
const nextTs = tsSequence();
test.after.each(() => perTest.run());
test.after(async () => {
  await stopSharedHubs();
  exitWhenDone();
});

const HOSTILE = ['=HYPERLINK("http://evil.example","x")', '@SUM(1+1)', '+1+1', '-2+3', '\t=1', '\r=1', '＝1'];

test('a reading, a batch element, a report element or a declared metric with a formula unit is a 422, and nothing of it is stored', async () => {
  // §1 Error codes: 422 "a value breaks a rule in Names and values"
  const { tcpPort, httpPort } = await hub();
  for (const [i, unit] of HOSTILE.entries()) {
    const id = `inj-sensor-${i}`;
    const s = await connect(tcpPort);
    await s.hello(id, 'lab');
    await s.send({ type: 'reading', metric: 'temperature', value: 1, unit, ts: nextTs(), seq: 1 });
    const reading = await s.next({ type: 'error', seq: 1 });
    assert.is(reading.code, 422, `reading with unit ${JSON.stringify(unit)}`);
    // the message says why, not a length rule the unit does not break
    assert.match(String(reading.message), /formula/, `reading with unit ${JSON.stringify(unit)}`);
    await s.send({
      type: 'batch',
      seq: 2,
      readings: [
        { metric: 'humidity', value: 1, unit: '%', ts: nextTs() },
        { metric: 'humidity', value: 2, unit, ts: nextTs() },
      ],
    });
    const batch = await s.next({ type: 'error', seq: 2 });
    assert.equal([batch.code, batch.index], [422, 1], `batch element with unit ${JSON.stringify(unit)}`);
    await s.send({ type: 'report', id: 'c-none', seq: 3, readings: [{ metric: 'lux', value: 1, unit, ts: nextTs() }] });
    assert.is((await s.next({ type: 'error', seq: 3 })).code, 422, `report with unit ${JSON.stringify(unit)}`);
    await s.close();
    const declared = await connect(tcpPort);
    await declared.send({ type: 'hello', v: 1, sensor: `${id}-d`, room: 'lab', metrics: [{ metric: 'temperature', unit }] });
    const refused = await declared.next({ type: 'error' });
    assert.equal([refused.code, refused.index], [422, 0], `hello metrics unit ${JSON.stringify(unit)}`);
    assert.match(String(refused.message), /formula/, `hello metrics unit ${JSON.stringify(unit)}`);
    await declared.close();
  }
  assert.equal(await latest(httpPort, { sensor: HOSTILE.map((_, i) => `inj-sensor-${i}`).join(',') }), []);
});

test('an upload row with a formula unit is a bad row; the file is refused whole', async () => {
  // §2 Bulk upload: "Rows are checked by the same rules as sensor readings"; atomic
  const { httpPort } = await hub();
  const t = nextTs();
  const rows = [
    `${t},inj-up,lab,temperature,1,C`,
    ...HOSTILE.map((u, i) => `${t + i + 1},inj-up,lab,temperature,1,"${u.replaceAll('"', '""')}"`),
  ];
  const res = await upload(httpPort, ['ts,sensor,room,metric,value,unit', ...rows].join('\n') + '\n');
  assert.is(res.status, 422, res.text);
  const e = errorBody(res);
  assert.is(e.code, 'invalid_csv');
  const bad = e.rows as { line: number; message: string }[];
  // A quoted carriage return is a line break to csv-parse: that row is reported at its last line (docs/API.md).
  assert.equal(
    bad.map((r) => r.line),
    [3, 4, 5, 6, 7, 9, 10],
  );
  for (const r of bad) assert.match(r.message, /unit [\s\S]*must not begin with/);
  assert.is(await history(httpPort, { sensor: 'inj-up' }), 'ts,sensor,room,metric,value,unit\n');
});

test('units that only contain those characters, or a negative value, are not touched', async () => {
  const { httpPort } = await hub();
  const t = nextTs();
  const body = `ts,sensor,room,metric,value,unit\n${t},inj-fine,lab,temperature,-5,C\n${t},inj-fine,lab,ratio,1,a=b\n${t},inj-fine,lab,span,2,kg-m\n`;
  assert.equal(await uploadOk(httpPort, body), { accepted: 3, duplicates: 0 });
  const rows = csvRecords(await history(httpPort, { sensor: 'inj-fine' })).map((r) => [r.metric, r.value, r.unit]);
  assert.equal(rows, [
    ['ratio', '1', 'a=b'],
    ['span', '2', 'kg-m'],
    ['temperature', '-5', 'C'],
  ]);
});

test('a unit stored before the rule is exported with a single quote in front, so a spreadsheet shows it as text', async () => {
  // OWASP CSV injection: prefix the cell with '. The store is edited as an older hub would have left it.
  const first = await startHub();
  const t = nextTs();
  const units = ['=HYPERLINK("http://evil.example","x")', '@SUM(1+1)', '+1+1', '-1', '\r=1'];
  await uploadOk(
    first.httpPort,
    ['ts,sensor,room,metric,value,unit', ...units.map((_, i) => `${t},inj-old,lab,m${i},${-i},u${i}`)].join('\n') + '\n',
  );
  await first.stop();
  const instance = await DuckDBInstance.create(storePath(first.dataDir));
  const c = await instance.connect();
  for (const [i, u] of units.entries())
    await c.run(`UPDATE series SET unit = '${u.replaceAll("'", "''")}' WHERE sensor = 'inj-old' AND metric = 'm${i}'`);
  c.closeSync();
  instance.closeSync();

  const again = await startHub({ dataDir: first.dataDir });
  const text = await history(again.httpPort, { sensor: 'inj-old' });
  const rows = csvRecords(text).map((r) => [r.metric, r.value, r.unit]);
  assert.equal(
    rows,
    units.map((u, i) => [`m${i}`, String(-i), `'${u}`]),
    text,
  );
  // No cell of the export begins with a formula character but the numbers.
  for (const r of csvRecords(text))
    for (const [k, v] of Object.entries(r)) if (k !== 'value') assert.not.ok(/^[=+\-@\t\r]/.test(v), `${k}: ${JSON.stringify(v)}`);
});

test.run();
