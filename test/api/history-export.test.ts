// Contract §2 "History export: GET /api/v1/history.csv": columns, quoting, order, from/to,
// time formats, buckets, filters (and rooms as they were when the reading was taken), headers,
// 400s before any CSV, and streaming. Data goes in through uploads (a known dataset) or TCP.
// One hub for the file; every test uses sensor ids and rooms of its own.
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import { join } from 'node:path';
import { once } from 'node:events';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { csvRecords, csvRows, errorBody, history, historyRequest, iso, request, uploadOk, waitFor } from '../support/api-client.ts';
import { sensors } from '../support/http.ts';
import { REPO_ROOT, tempDataDir } from '../support/hub-process.ts';
import { sharedHub, stopSharedHubs } from '../support/shared-hub.ts';
import { connect } from '../support/tcp-sensor.ts';
import { exitWhenDone, perTest, Teardown } from '../support/teardown.ts';
import { tsSequence } from '../support/wire.ts';

const hub = sharedHub();
const fileScope = new Teardown();
const nextTs = tsSequence();
test.after.each(() => perTest.run());
test.after(async () => {
  await fileScope.run();
  await stopSharedHubs();
  exitWhenDone();
});

const RAW_HEADER = 'ts,sensor,room,metric,value,unit';
const BUCKET_HEADER = 'ts,sensor,room,metric,unit,count,min,max,mean';
const T0 = Date.parse('2025-11-21T08:00:00.000Z');

/** A CSV body from a header and rows, `\n` line ends. */
const csv = (header: string, rows: string[]): string => [header, ...rows].join('\n') + '\n';

/** The (ts, sensor, metric) of each data row of a raw export, as one string each. */
const keys = (text: string): string[] => csvRecords(text).map((r) => `${r.ts} ${r.sensor} ${r.metric}`);

interface Bucket {
  ts: string;
  sensor: string;
  room: string;
  metric: string;
  unit: string;
  count: number;
  min: number;
  max: number;
  mean: number;
}

function buckets(text: string): Bucket[] {
  const [header, ...rows] = csvRows(text);
  assert.equal(header, BUCKET_HEADER.split(','));
  return rows.map((r) => {
    assert.is(r.length, 9, `a bucket row has 9 fields: ${r.join(',')}`);
    const [ts, sensor, room, metric, unit, count, min, max, mean] = r as [
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    for (const [name, v] of [
      ['count', count],
      ['min', min],
      ['max', max],
      ['mean', mean],
    ] as const)
      assert.ok(v !== '' && Number.isFinite(Number(v)), `${name} is a number: "${v}"`);
    assert.ok(/^\d+$/.test(count), `count is an integer: "${count}"`);
    return { ts, sensor, room, metric, unit, count: Number(count), min: Number(min), max: Number(max), mean: Number(mean) };
  });
}

/** Bucket rows reduced to [ts, count, min, max, mean rounded to 9 places]. */
const stats = (bs: Bucket[]): [string, number, number, number, number][] =>
  bs.map((b) => [b.ts, b.count, b.min, b.max, Math.round(b.mean * 1e9) / 1e9]);

// ---------------------------------------------------------------- columns and format

test('a raw export has the header ts,sensor,room,metric,value,unit and each row in that column order', async () => {
  // §2 History export: "Raw columns: ts,sensor,room,metric,value,unit"
  const { httpPort } = await hub();
  // Uploaded in another column order: the export's order must not follow the upload's.
  await uploadOk(
    httpPort,
    csv('unit,metric,value,room,sensor,ts', [
      'C,temperature,21.5,hx-cols-room,hx-cols,2025-11-21T08:00:00.000Z',
      '%,humidity,40,hx-cols-room,hx-cols,2025-11-21T08:00:01.000Z',
    ]),
  );
  const text = await history(httpPort, { sensor: 'hx-cols' });
  assert.is(
    text,
    'ts,sensor,room,metric,value,unit\n' +
      '2025-11-21T08:00:00.000Z,hx-cols,hx-cols-room,temperature,21.5,C\n' +
      '2025-11-21T08:00:01.000Z,hx-cols,hx-cols-room,humidity,40,%\n',
  );
});

test('an export with every has the header ts,sensor,room,metric,unit,count,min,max,mean and rows in that order', async () => {
  // §2 History export: "With every: ts,sensor,room,metric,unit,count,min,max,mean, ts the bucket's start"
  const { httpPort } = await hub();
  await uploadOk(
    httpPort,
    csv(RAW_HEADER, [
      '2025-11-21T08:10:00.000Z,hx-bcols,hx-bcols-room,temperature,20,C',
      '2025-11-21T08:50:00.000Z,hx-bcols,hx-bcols-room,temperature,22,C',
    ]),
  );
  const text = await history(httpPort, { sensor: 'hx-bcols', every: '1h' });
  const [header, ...rows] = text.split('\n');
  assert.is(header, BUCKET_HEADER);
  assert.equal(
    rows.filter((r) => r !== ''),
    ['2025-11-21T08:00:00.000Z,hx-bcols,hx-bcols-room,temperature,C,2,20,22,21'],
  );
});

test('units with a comma, a quote, a space, none and 16 characters export RFC 4180 quoted, byte for byte as uploaded', async () => {
  // §2 History export: "RFC 4180 quoting"; fixtures/README.md readings-quoted-units.csv
  const { httpPort } = await hub();
  const fixture = await readFile(join(REPO_ROOT, 'fixtures', 'readings-quoted-units.csv'));
  assert.equal(await uploadOk(httpPort, fixture), { accepted: 10, duplicates: 0 });
  const res = await historyRequest(httpPort, { sensor: 'quoted-greenhouse,quoted-meter,quoted-porch' });
  assert.is(res.status, 200);
  assert.is(res.text, fixture.toString('utf8'));
  assert.ok(res.body.equals(fixture), 'byte for byte');
  // And csv-parse reads the quoted units back to what they mean.
  const units = new Set(csvRecords(res.text).map((r) => r.unit));
  assert.equal([...units].sort(), ['', 'deg C', 'in"', 'kWh, 15-min mean', 'mm,24h']);
});

test('rows are ordered by ts, then sensor, then metric, whatever the upload order', async () => {
  // §2 History export: "Rows ordered by ts, then sensor, then metric"
  const { httpPort } = await hub();
  const t1 = '2025-11-21T08:00:00.000Z';
  const t2 = '2025-11-21T08:00:00.001Z';
  const t3 = '2025-11-21T08:00:01.000Z';
  const rows: string[] = [];
  for (const t of [t3, t2, t1])
    for (const s of ['hx-ord-c', 'hx-ord-a', 'hx-ord-b'])
      for (const m of ['temperature', 'cpu_load', 'humidity']) rows.push(`${t},${s},hx-ord-room,${m},1,`);
  await uploadOk(httpPort, csv(RAW_HEADER, rows));
  const expected: string[] = [];
  for (const t of [t1, t2, t3])
    for (const s of ['hx-ord-a', 'hx-ord-b', 'hx-ord-c'])
      for (const m of ['cpu_load', 'humidity', 'temperature']) expected.push(`${t} ${s} ${m}`);
  assert.equal(keys(await history(httpPort, { room: 'hx-ord-room' })), expected);
});

test('from is inclusive and to is exclusive, given as ISO with Z, ISO with an offset, or integer ms', async () => {
  // §2 History export: "from (inclusive) and to (exclusive), each ISO 8601 with a zone (Z or an offset) or integer ms"
  const { httpPort } = await hub();
  const t1 = T0 + 3_600_000;
  const times = [T0 - 1, T0, T0 + 1, t1 - 1, t1, t1 + 1];
  await uploadOk(
    httpPort,
    csv(
      RAW_HEADER,
      times.map((t) => `${t},hx-bounds,hx-bounds-room,temperature,${t - T0},C`),
    ),
  );
  const inside = [iso(T0), iso(T0 + 1), iso(t1 - 1)];
  const forms: [string, string][] = [
    ['2025-11-21T08:00:00.000Z', '2025-11-21T09:00:00.000Z'],
    ['2025-11-21T08:00:00Z', '2025-11-21T09:00Z'],
    ['2025-11-21T09:00:00.000+01:00', '2025-11-21T10:00:00+01:00'],
    ['2025-11-20T22:30:00.000-09:30', '2025-11-20T23:30:00.000-09:30'],
    [String(T0), String(t1)],
    [String(T0), '2025-11-21T14:30:00.000+05:30'],
  ];
  for (const [from, to] of forms) {
    const text = await history(httpPort, { sensor: 'hx-bounds', from, to });
    assert.equal(
      csvRecords(text).map((r) => r.ts),
      inside,
      `from=${from} to=${to}`,
    );
  }
  // Each bound alone.
  assert.equal(
    csvRecords(await history(httpPort, { sensor: 'hx-bounds', from: String(t1) })).map((r) => r.ts),
    [iso(t1), iso(t1 + 1)],
  );
  assert.equal(
    csvRecords(await history(httpPort, { sensor: 'hx-bounds', to: '2025-11-21T08:00:00Z' })).map((r) => r.ts),
    [iso(T0 - 1)],
  );
});

test('time=ms writes ts as integer milliseconds, in raw rows and bucket starts', async () => {
  // §2 History export: "time (iso, the default, or ms)"
  const { httpPort } = await hub();
  const times = [T0 + 123, T0 + 60_000 + 7];
  await uploadOk(
    httpPort,
    csv(
      RAW_HEADER,
      times.map((t, i) => `${iso(t)},hx-ms,hx-ms-room,temperature,${i},C`),
    ),
  );
  const raw = csvRecords(await history(httpPort, { sensor: 'hx-ms', time: 'ms' }));
  assert.equal(
    raw.map((r) => r.ts),
    times.map(String),
  );
  const bucketed = buckets(await history(httpPort, { sensor: 'hx-ms', time: 'ms', every: '1m' }));
  assert.equal(
    bucketed.map((b) => b.ts),
    [String(T0), String(T0 + 60_000)],
  );
});

test('ISO times are UTC with milliseconds, whatever zone the reading came in with', async () => {
  // §2 History export: "ISO times are UTC with milliseconds: 2025-11-21T08:00:00.000Z"; time=iso is the default
  const { httpPort } = await hub();
  await uploadOk(
    httpPort,
    csv(RAW_HEADER, [
      '2025-11-21T09:30:00+01:00,hx-iso,hx-iso-room,temperature,1,C',
      '1763713800123,hx-iso,hx-iso-room,temperature,2,C',
      '2025-11-21T03:30:01.5-05:00,hx-iso,hx-iso-room,temperature,3,C',
    ]),
  );
  const expected = ['2025-11-21T08:30:00.000Z', '2025-11-21T08:30:00.123Z', '2025-11-21T08:30:01.500Z'];
  assert.equal(
    csvRecords(await history(httpPort, { sensor: 'hx-iso' })).map((r) => r.ts),
    expected,
  );
  assert.equal(
    csvRecords(await history(httpPort, { sensor: 'hx-iso', time: 'iso' })).map((r) => r.ts),
    expected,
  );
  const bucketTs = buckets(await history(httpPort, { sensor: 'hx-iso', every: '1s' })).map((b) => b.ts);
  assert.equal(bucketTs, ['2025-11-21T08:30:00.000Z', '2025-11-21T08:30:01.000Z']);
});

// ---------------------------------------------------------------- buckets

test('buckets give count, min, max and mean of their readings, start at whole multiples of their length, and empty ones are absent', async () => {
  // §2 History export: "Buckets are aligned to the Unix epoch ... only buckets with readings are listed"
  const { httpPort } = await hub();
  const data: [string, number][] = [
    ['2025-11-21T08:00:00.000Z', 20],
    ['2025-11-21T08:00:09.999Z', 22],
    ['2025-11-21T08:00:10.000Z', 30],
    ['2025-11-21T08:00:59.999Z', 24],
    ['2025-11-21T08:03:00.000Z', 10],
  ];
  await uploadOk(
    httpPort,
    csv(
      RAW_HEADER,
      data.map(([t, v]) => `${t},hx-bucket,hx-bucket-room,temperature,${v},C`),
    ),
  );
  const q = (every: string) => history(httpPort, { sensor: 'hx-bucket', every });

  assert.equal(stats(buckets(await q('10s'))), [
    ['2025-11-21T08:00:00.000Z', 2, 20, 22, 21],
    ['2025-11-21T08:00:10.000Z', 1, 30, 30, 30],
    ['2025-11-21T08:00:50.000Z', 1, 24, 24, 24],
    ['2025-11-21T08:03:00.000Z', 1, 10, 10, 10],
  ]);
  assert.equal(stats(buckets(await q('1m'))), [
    ['2025-11-21T08:00:00.000Z', 4, 20, 30, 24],
    ['2025-11-21T08:03:00.000Z', 1, 10, 10, 10],
  ]);
  assert.equal(stats(buckets(await q('5m'))), [['2025-11-21T08:00:00.000Z', 5, 10, 30, 21.2]]);
  // 7 minutes: 1763712000000 / 420000 is not whole; the bucket starts at 07:58, not at the
  // first reading (08:00) or the hour.
  assert.equal(stats(buckets(await q('7m'))), [['2025-11-21T07:58:00.000Z', 5, 10, 30, 21.2]]);
  const all = buckets(await q('10s'));
  assert.ok(all.every((b) => b.sensor === 'hx-bucket' && b.room === 'hx-bucket-room' && b.metric === 'temperature' && b.unit === 'C'));
});

test('every=1d buckets are UTC days', async () => {
  // §2 History export: "a bucket starts at a whole multiple of its length since 1970-01-01T00:00:00Z, so 1d is a UTC day"
  const { httpPort } = await hub();
  await uploadOk(
    httpPort,
    csv(RAW_HEADER, [
      // 00:30 on the 21st in +01:00, but the 20th in UTC
      '2025-11-21T00:30:00+01:00,hx-day,hx-day-room,humidity,1,%',
      '2025-11-21T00:30:00.000Z,hx-day,hx-day-room,humidity,3,%',
      '2025-11-21T23:59:59.999Z,hx-day,hx-day-room,humidity,5,%',
      '2025-11-23T12:00:00.000Z,hx-day,hx-day-room,humidity,7,%',
    ]),
  );
  assert.equal(stats(buckets(await history(httpPort, { sensor: 'hx-day', every: '1d' }))), [
    ['2025-11-20T00:00:00.000Z', 1, 1, 1, 1],
    ['2025-11-21T00:00:00.000Z', 2, 3, 5, 4],
    ['2025-11-23T00:00:00.000Z', 1, 7, 7, 7],
  ]);
});

test('bucket rows are ordered by bucket start, then sensor, then metric', async () => {
  // §2 History export: "Rows ordered by ts, then sensor, then metric" (ts: the bucket's start)
  const { httpPort } = await hub();
  const rows: string[] = [];
  for (const t of ['2025-11-21T08:01:30.000Z', '2025-11-21T08:00:30.000Z'])
    for (const s of ['hx-bord-b', 'hx-bord-a']) for (const m of ['temperature', 'humidity']) rows.push(`${t},${s},hx-bord-room,${m},1,`);
  await uploadOk(httpPort, csv(RAW_HEADER, rows));
  const got = buckets(await history(httpPort, { room: 'hx-bord-room', every: '1m' })).map((b) => `${b.ts} ${b.sensor} ${b.metric}`);
  assert.equal(got, [
    '2025-11-21T08:00:00.000Z hx-bord-a humidity',
    '2025-11-21T08:00:00.000Z hx-bord-a temperature',
    '2025-11-21T08:00:00.000Z hx-bord-b humidity',
    '2025-11-21T08:00:00.000Z hx-bord-b temperature',
    '2025-11-21T08:01:00.000Z hx-bord-a humidity',
    '2025-11-21T08:01:00.000Z hx-bord-a temperature',
    '2025-11-21T08:01:00.000Z hx-bord-b humidity',
    '2025-11-21T08:01:00.000Z hx-bord-b temperature',
  ]);
});

// ---------------------------------------------------------------- filters

test('sensor, room and metric filters, each one value or a comma list, must all match', async () => {
  // §2 Filters: "sensor, room, metric, each one value or a comma-separated list ... all given filters must match"
  const { httpPort } = await hub();
  const rows: string[] = [];
  for (const [s, room] of [
    ['hx-f-a', 'hx-f-room1'],
    ['hx-f-b', 'hx-f-room2'],
    ['hx-f-c', 'hx-f-room1'],
  ])
    for (const m of ['temperature', 'humidity', 'cpu_load']) rows.push(`2025-11-21T08:00:00.000Z,${s},${room},${m},1,`);
  await uploadOk(httpPort, csv(RAW_HEADER, rows));
  const pick = async (params: Record<string, string>): Promise<string[]> =>
    csvRecords(await history(httpPort, params))
      .map((r) => `${r.sensor}/${r.metric}`)
      .sort();

  assert.equal(await pick({ sensor: 'hx-f-a' }), ['hx-f-a/cpu_load', 'hx-f-a/humidity', 'hx-f-a/temperature']);
  assert.equal(await pick({ sensor: 'hx-f-a,hx-f-b', metric: 'humidity' }), ['hx-f-a/humidity', 'hx-f-b/humidity']);
  assert.equal(await pick({ room: 'hx-f-room1', metric: 'temperature,cpu_load' }), [
    'hx-f-a/cpu_load',
    'hx-f-a/temperature',
    'hx-f-c/cpu_load',
    'hx-f-c/temperature',
  ]);
  assert.equal(await pick({ room: 'hx-f-room2,hx-f-room1', metric: 'humidity' }), [
    'hx-f-a/humidity',
    'hx-f-b/humidity',
    'hx-f-c/humidity',
  ]);
  assert.equal(await pick({ room: 'hx-f-room1', sensor: 'hx-f-b' }), [], 'no row matches both');
  assert.equal(await pick({ sensor: 'hx-f-b,hx-f-nobody' }), ['hx-f-b/cpu_load', 'hx-f-b/humidity', 'hx-f-b/temperature']);
  // Filters also apply to buckets.
  assert.equal(
    buckets(await history(httpPort, { room: 'hx-f-room2', metric: 'cpu_load', every: '1h' })).map((b) => `${b.sensor}/${b.metric}`),
    ['hx-f-b/cpu_load'],
  );
  // A filter that matches nothing is a header alone.
  assert.is(await history(httpPort, { sensor: 'hx-f-nobody' }), RAW_HEADER + '\n');
});

test('the room filter matches the room a reading was taken in, not the room its sensor is in now', async () => {
  // §2 Rooms: "each stored reading keeps the room its sensor was in when it was taken; room filters match that"
  const { httpPort, tcpPort } = await hub();
  const ts1 = nextTs();
  const ts2 = nextTs();
  const before = await connect(tcpPort);
  await before.hello('hx-mover', 'hx-mover-before');
  await before.send({ type: 'reading', metric: 'temperature', value: 18, ts: ts1, seq: 1 });
  await before.ackCovering(1);
  await before.close();
  const after = await connect(tcpPort);
  await after.hello('hx-mover', 'hx-mover-after');
  await after.send({ type: 'reading', metric: 'temperature', value: 23, ts: ts2, seq: 1 });
  await after.ackCovering(1);

  const rows = (params: Record<string, string>) =>
    history(httpPort, { ...params, time: 'ms' }).then((t) => csvRecords(t).map((r) => [r.ts, r.room, r.value]));
  assert.equal(await rows({ room: 'hx-mover-before' }), [[String(ts1), 'hx-mover-before', '18']]);
  assert.equal(await rows({ room: 'hx-mover-after' }), [[String(ts2), 'hx-mover-after', '23']]);
  assert.equal(await rows({ sensor: 'hx-mover' }), [
    [String(ts1), 'hx-mover-before', '18'],
    [String(ts2), 'hx-mover-after', '23'],
  ]);
  assert.equal(await rows({ sensor: 'hx-mover', room: 'hx-mover-before' }), [[String(ts1), 'hx-mover-before', '18']]);
  // §2 Rooms: "sensors shows each sensor's current room"
  assert.is((await sensors(httpPort)).find((s) => s.sensor === 'hx-mover')?.room, 'hx-mover-after');
});

// ---------------------------------------------------------------- HTTP

test('the export is text/csv; charset=utf-8 with Content-Disposition: attachment and a .csv file name', async () => {
  // §2 History export: "Content-Type: text/csv; charset=utf-8, with Content-Disposition: attachment"
  const { httpPort } = await hub();
  for (const params of [{ sensor: 'hx-cols' }, { sensor: 'hx-cols', every: '1h', time: 'ms' }, {}]) {
    const res = await historyRequest(httpPort, params);
    assert.is(res.status, 200);
    assert.is(String(res.headers['content-type']).toLowerCase().replace(/\s+/g, ' '), 'text/csv; charset=utf-8');
    const disposition = String(res.headers['content-disposition'] ?? '');
    assert.ok(/^attachment\s*;/i.test(disposition), `Content-Disposition: ${disposition}`);
    assert.ok(/filename\*?=("?)(UTF-8'')?[^";]+\.csv\1\s*(;|$)/i.test(disposition), `a .csv file name in: ${disposition}`);
  }
});

test('each bad parameter is a 400 with the JSON error body and no CSV', async () => {
  // §2 History export: "Bad parameters: 400 with the error body, before any CSV is sent"
  const { httpPort } = await hub();
  const cases: Record<string, string>[] = [
    { from: '2025-11-21T08:00:00' }, // no zone
    { from: '2025-11-21T08:00:00.000' },
    { to: '2025-11-21T08:00' },
    { from: '2025-11-21' }, // a date has no zone either
    { from: 'yesterday' },
    { to: 'not-a-time' },
    { from: '2025-11-21T09:00:00Z', to: '2025-11-21T08:00:00Z' }, // to before from
    { from: String(T0), to: String(T0 - 1) },
    { from: '2025-11-21T08:00:00Z', to: '2025-11-21T08:30:00+01:00' },
    { every: '5x' },
    { every: 'abc' },
    { every: '-5m' },
    { every: '0s' },
    { every: '1.5h' },
    { time: 'seconds' },
    { time: 'unix' },
    { sensor: 'bad/name' },
    { sensor: 'ok-name,bad name' },
    { room: 'living room' },
    { metric: 'Temp!' },
    { metric: 'cpu-load' },
  ];
  for (const params of cases) {
    const res = await historyRequest(httpPort, params);
    const what = JSON.stringify(params);
    assert.is(res.status, 400, `${what}: status`);
    assert.ok(String(res.headers['content-type']).startsWith('application/json'), `${what}: content type ${res.headers['content-type']}`);
    errorBody(res);
    assert.not.ok(res.text.includes('ts,sensor'), `${what}: no CSV in ${res.text.slice(0, 200)}`);
  }
});

test('an impossible date or offset in from/to is a 400 naming the parameter, not an empty export', async () => {
  // §2 History export: "Bad parameters: 400"; docs/API.md "Times": 2026-02-30 once gave 200 with no rows, +25:00 a day earlier
  const { httpPort } = await hub();
  const cases: [Record<string, string>, RegExp][] = [
    [{ from: '2026-02-30T00:00:00Z' }, /^from: .*2026-02 has no day 30/],
    [{ to: '2023-02-29T00:00:00Z' }, /^to: .*has no day 29/],
    [{ from: '2025-11-21T08:00:00+25:00' }, /^from: .*beyond ±14:00/],
    [{ to: '2025-11-21T24:00:00Z' }, /^to: .*hour 24/],
    [{ from: '2025-11-21T08:00:00+14:30' }, /^from: .*beyond ±14:00/],
  ];
  for (const [params, why] of cases) {
    const res = await historyRequest(httpPort, params);
    assert.is(res.status, 400, `${JSON.stringify(params)}: ${res.text.slice(0, 200)}`);
    const e = errorBody(res);
    assert.is(e.code, 'bad_parameter');
    assert.match(e.message, why);
  }
  assert.is(
    (await historyRequest(httpPort, { from: '2024-02-29T00:00:00Z', to: '2024-03-01T00:00:00+14:00' })).status,
    200,
    'a leap day and the widest offset',
  );
});

// ---------------------------------------------------------------- streaming

const BIG_SENSORS = Array.from({ length: 10 }, (_, i) => `hx-big-${String(i).padStart(2, '0')}`);
const BIG_TIMES = 10_000;
const BIG_ROWS = BIG_SENSORS.length * 3 * BIG_TIMES; // 300,000
const BIG_FROM = Date.parse('2025-06-01T00:00:00.000Z');
let bigDataset: Promise<void> | undefined;

/** 300,000 readings (10 sensors x 3 metrics x 10,000 times) of room hx-big-room, uploaded once for the file. */
function withBigDataset(port: number): Promise<void> {
  bigDataset ??= (async () => {
    const dir = await tempDataDir(fileScope);
    const path = join(dir.path, 'big.csv');
    const out = createWriteStream(path);
    out.write(RAW_HEADER + '\n');
    for (let i = 0; i < BIG_TIMES; i++) {
      let chunk = '';
      const ts = BIG_FROM + i * 1000;
      for (const s of BIG_SENSORS)
        chunk += `${ts},${s},hx-big-room,temperature,${20 + (i % 7)},C\n${ts},${s},hx-big-room,humidity,${40 + (i % 11)},%\n${ts},${s},hx-big-room,cpu_load,${i % 100},%\n`;
      if (!out.write(chunk)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'close');
    assert.equal(await uploadOk(port, { file: path }), { accepted: BIG_ROWS, duplicates: 0 });
    await dir.cleanup();
  })();
  return bigDataset;
}

interface Timed {
  status: number;
  headers: http.IncomingHttpHeaders;
  firstChunkMs: number;
  totalMs: number;
  bytes: number;
  lines: number;
  last: string;
}

/** Reads a whole export, noting when the first body bytes came and when it ended. */
function timedExport(port: number, path: string): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.get({ host: '127.0.0.1', port, path, agent: false, timeout: 120_000 }, (res) => {
      let firstChunkMs = -1;
      let bytes = 0;
      let lines = 0;
      let tail = '';
      res.on('data', (c: Buffer) => {
        if (firstChunkMs < 0) firstChunkMs = performance.now() - started;
        bytes += c.length;
        for (let i = c.indexOf(10); i >= 0; i = c.indexOf(10, i + 1)) lines++;
        tail = (tail + c.toString('latin1')).slice(-200);
      });
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          firstChunkMs,
          totalMs: performance.now() - started,
          bytes,
          lines,
          last: tail,
        }),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: no answer within 120 s`)));
    req.on('error', reject);
  });
}

test('a large export is streamed: its first bytes arrive long before its end', async () => {
  // §2 History export: "Streamed: the first rows leave before the whole result is read"
  const { httpPort } = await hub();
  await withBigDataset(httpPort);
  const r = await timedExport(httpPort, '/api/v1/history.csv?room=hx-big-room');
  assert.is(r.status, 200);
  assert.is(r.lines, BIG_ROWS + 1, 'header and every row');
  assert.ok(r.last.endsWith(`,hx-big-09,hx-big-room,temperature,${20 + ((BIG_TIMES - 1) % 7)},C\n`), `the last row: ${r.last}`);
  // A body whose length is announced up front was built before it was sent.
  assert.is(r.headers['content-length'], undefined, 'no content-length: the body is sent as it is made');
  assert.ok(
    r.firstChunkMs < r.totalMs / 2,
    `first bytes after ${r.firstChunkMs.toFixed(0)} ms of ${r.totalMs.toFixed(0)} ms (${r.bytes} bytes)`,
  );
});

test('a client that disconnects in the middle of an export leaves the hub healthy, and the next export is complete', async () => {
  // §2 History export: streamed; a client going away must not break the hub
  const { httpPort } = await hub();
  await withBigDataset(httpPort);
  for (let attempt = 0; attempt < 3; attempt++) {
    await new Promise<void>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port: httpPort, path: '/api/v1/history.csv?room=hx-big-room', agent: false }, (res) => {
        if (res.statusCode !== 200) return reject(new Error(`status ${res.statusCode}`));
        res.once('data', () => {
          req.destroy();
          resolve();
        });
        res.on('end', () => reject(new Error('the export ended before the client could leave: too small to test')));
      });
      req.on('error', () => {
        // the destroy above
      });
    });
  }
  const health = await waitFor('health ok after the aborted exports', async () => {
    const res = await request(httpPort, '/api/v1/health');
    return res.status === 200 && (JSON.parse(res.text) as { status: string }).status === 'ok' ? res : undefined;
  });
  assert.is(health.status, 200);
  const r = await timedExport(httpPort, '/api/v1/history.csv?room=hx-big-room&time=ms');
  assert.is(r.status, 200);
  assert.is(r.lines, BIG_ROWS + 1);
  assert.ok(
    r.last.endsWith(`${BIG_FROM + (BIG_TIMES - 1) * 1000},hx-big-09,hx-big-room,temperature,${20 + ((BIG_TIMES - 1) % 7)},C\n`),
    `the last row: ${r.last}`,
  );
  // The rest of the API still answers too.
  assert.is((await history(httpPort, { sensor: 'hx-cols' })).split('\n')[0], RAW_HEADER);
});

test.run();
