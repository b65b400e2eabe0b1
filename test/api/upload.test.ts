// Contract §2 "Bulk upload: POST /api/v1/readings": the fixtures' answers (fixtures/README.md),
// the 422 report line by line, atomicity, duplicates in the file and against the store, the
// round trip with history.csv, the size limit, latest, sensors and rooms of uploaded rows, and
// live readings that repeat an uploaded one. Tests that need a store of their own start a hub;
// the others share one and use sensor ids of their own.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { csvRecords, errorBody, history, json, upload, uploadOk, type RawResponse } from '../support/api-client.ts';
import { latest, sensors } from '../support/http.ts';
import { REPO_ROOT, startHub, tempDataDir } from '../support/hub-process.ts';
import { sharedHub, stopSharedHubs } from '../support/shared-hub.ts';
import { connect } from '../support/tcp-sensor.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';
import { tsSequence } from '../support/wire.ts';
import { writeFile } from 'node:fs/promises';

const hub = sharedHub();
const nextTs = tsSequence();
test.after.each(() => perTest.run());
test.after(async () => {
  await stopSharedHubs();
  exitWhenDone();
});

const RAW_HEADER = 'ts,sensor,room,metric,value,unit';
const csv = (header: string, rows: string[]): string => [header, ...rows].join('\n') + '\n';
const fixture = (name: string): Promise<Buffer> => readFile(join(REPO_ROOT, 'fixtures', name));

interface BadRow {
  line: number;
  message: string;
}

/** The 422 answer, checked against the contract's shape; returns its rows. */
function invalidCsv(res: RawResponse): BadRow[] {
  assert.is(res.status, 422, `status of ${res.text.slice(0, 300)}`);
  const e = errorBody(res);
  assert.is(e.code, 'invalid_csv');
  const rows = e.rows as BadRow[];
  assert.ok(Array.isArray(rows), 'error.rows is an array');
  for (const r of rows) {
    assert.ok(Number.isInteger(r.line), `line is an integer: ${JSON.stringify(r)}`);
    assert.ok(typeof r.message === 'string' && r.message.length > 0, `message is a text: ${JSON.stringify(r)}`);
  }
  return rows;
}

/** Nothing of these sensors is stored: no history, no latest reading, not in the sensor list. */
async function nothingStoredFor(port: number, ids: string[]): Promise<void> {
  const text = await history(port, { sensor: ids.join(',') });
  assert.is(text, RAW_HEADER + '\n', `history of ${ids.join(',')}`);
  assert.equal(await latest(port, { sensor: ids.join(',') }), [], `latest of ${ids.join(',')}`);
  const listed = (await sensors(port)).filter((s) => ids.includes(s.sensor)).map((s) => s.sensor);
  assert.equal(listed, [], 'a refused upload makes no sensor known');
}

// ---------------------------------------------------------------- the fixtures

test('every fixture file gets the answer fixtures/README.md gives for it', async () => {
  // §2 Bulk upload (answers: fixtures/README.md); one fresh hub, the files in the README's order
  const { httpPort } = await startHub();
  const answers: [string, number, object | null][] = [
    ['readings-valid.csv', 200, { accepted: 90, duplicates: 0 }],
    ['readings-valid.csv', 200, { accepted: 0, duplicates: 90 }],
    ['readings-bad-rows-3-and-7.csv', 422, null],
    ['readings-with-duplicates-4-of-12.csv', 200, { accepted: 8, duplicates: 4 }],
    ['readings-quoted-units.csv', 200, { accepted: 10, duplicates: 0 }],
    ['readings-mixed-iso-and-ms-times.csv', 200, { accepted: 10, duplicates: 0 }],
    ['readings-missing-value-column.csv', 400, null],
    ['readings-header-only.csv', 200, { accepted: 0, duplicates: 0 }],
    ['readings-every-rule-broken.csv', 422, null],
  ];
  for (const [name, status, body] of answers) {
    const res = await upload(httpPort, await fixture(name));
    assert.is(res.status, status, `${name}: ${res.text.slice(0, 300)}`);
    if (body) assert.equal(json(res), body, name);
    else errorBody(res);
  }
});

test('readings-bad-rows-3-and-7.csv is refused with lines 3 and 7, and nothing of it is stored', async () => {
  // §2 Bulk upload: "Atomic: if any row is invalid, nothing is stored and the answer is 422 ... every bad row in line order"
  const { httpPort } = await hub();
  const rows = invalidCsv(await upload(httpPort, await fixture('readings-bad-rows-3-and-7.csv')));
  assert.equal(
    rows.map((r) => r.line),
    [3, 7],
  );
  assert.match(rows[0]!.message, /\bmetric\b/i);
  assert.match(rows[1]!.message, /\bts\b/i);
  await nothingStoredFor(httpPort, ['badrows-living', 'badrows-rack1']);
});

test('readings-every-rule-broken.csv lists exactly the lines of its expected.json, in order, each with a message about its rule', async () => {
  // §2 Bulk upload: "line counted from 1 for the header: every bad row in line order"; rows checked by §1 "Names and values"
  const { httpPort } = await hub();
  const expected = JSON.parse((await fixture('readings-every-rule-broken.expected.json')).toString('utf8')) as {
    line: number;
    rule: string;
  }[];
  const rows = invalidCsv(await upload(httpPort, await fixture('readings-every-rule-broken.csv')));
  assert.equal(
    rows.map((r) => r.line),
    expected.map((e) => e.line),
  );
  // The wording is the hub's; a message must at least name the field whose rule the row broke.
  const field = (rule: string): string => (rule.startsWith('sensor id') ? 'sensor' : rule.split(' ')[0]!);
  rows.forEach((r, i) => {
    const rule = expected[i]!.rule;
    assert.ok(new RegExp(`\\b${field(rule)}\\b`, 'i').test(r.message), `line ${r.line} (${rule}): "${r.message}"`);
  });
  await nothingStoredFor(httpPort, ['broken-living', 'broken-rack1']);
});

test('a file with more than 100 bad rows lists the first 100 of them, in line order', async () => {
  // §2 Bulk upload: "every bad row in line order, up to the first 100"
  const { httpPort } = await hub();
  const rows: string[] = [];
  for (let i = 0; i < 300; i++)
    rows.push(
      i % 2 === 0 ? `${1763712000000 + i},up-many-bad,lab,temperature,${i},C` : `${1763712000000 + i},up-many-bad,lab,temperature,NaN,C`,
    );
  const listed = invalidCsv(await upload(httpPort, csv(RAW_HEADER, rows)));
  // Row i is on line i + 2; the odd rows are bad.
  assert.equal(
    listed.map((r) => r.line),
    Array.from({ length: 100 }, (_, k) => 2 * k + 1 + 2),
  );
  await nothingStoredFor(httpPort, ['up-many-bad']);
});

test('a missing required column is a 400 and stores nothing', async () => {
  // §2 Bulk upload: "Columns by name, any order: ts, sensor, metric, value required ... A missing required column: 400"
  const { httpPort } = await hub();
  const res = await upload(httpPort, await fixture('readings-missing-value-column.csv'));
  assert.is(res.status, 400);
  errorBody(res);
  await nothingStoredFor(httpPort, ['novalue-living', 'novalue-rack1']);
  for (const header of ['sensor,metric,value,room', 'ts,metric,value', 'ts,sensor,value', 'ts,sensor,metric,values']) {
    const cols = header.split(',');
    const row = cols.map(
      (c) => ({ ts: '1763712000000', sensor: 'up-nocol', metric: 'temperature', value: '1', values: '1', room: 'lab' })[c] ?? '',
    );
    const r = await upload(httpPort, csv(header, [row.join(',')]));
    assert.is(r.status, 400, `header ${header}: ${r.text.slice(0, 200)}`);
    errorBody(r);
  }
  await nothingStoredFor(httpPort, ['up-nocol']);
});

test('columns are found by name in any order, and unknown columns are ignored', async () => {
  // §2 Bulk upload: "Columns by name, any order ... others ignored"
  const { httpPort } = await hub();
  const body = csv('comment,value,unit,metric,sensor,ts,room,extra', [
    '"a, note",21.5,C,temperature,up-order,2025-11-21T08:00:00.000Z,up-order-room,x',
  ]);
  assert.equal(await uploadOk(httpPort, body), { accepted: 1, duplicates: 0 });
  assert.is(
    await history(httpPort, { sensor: 'up-order' }),
    RAW_HEADER + '\n2025-11-21T08:00:00.000Z,up-order,up-order-room,temperature,21.5,C\n',
  );
});

test('ts given as ISO with Z, ISO with an offset, or ms is stored as the UTC time the note column says', async () => {
  // §2 Bulk upload: "ts is ISO 8601 with a zone or integer ms"; fixtures/README.md readings-mixed-iso-and-ms-times.csv
  const { httpPort } = await hub();
  const file = await fixture('readings-mixed-iso-and-ms-times.csv');
  assert.equal(await uploadOk(httpPort, file), { accepted: 10, duplicates: 0 });
  const wanted = csvRecords(file.toString('utf8'))
    .map((r) => {
      const stored = /stored as (\S+)$/.exec(r.note ?? '')?.[1];
      if (!stored) throw new Error(`no "stored as" in note: ${r.note}`);
      return `${stored} ${r.metric} ${r.value}`;
    })
    .sort();
  const got = csvRecords(await history(httpPort, { sensor: 'mixed-living' })).map((r) => `${r.ts} ${r.metric} ${r.value}`);
  assert.equal(got, wanted);
});

// ---------------------------------------------------------------- duplicates

test('repeats within the file are counted as duplicates and the first value of each identity is the one stored', async () => {
  // §2 Bulk upload: "D already present (same identity, in the store or earlier in the same file)"; §1 Identity
  const { httpPort } = await hub();
  const file = await fixture('readings-with-duplicates-4-of-12.csv');
  assert.equal(await uploadOk(httpPort, file), { accepted: 8, duplicates: 4 });
  assert.is(
    await history(httpPort, { sensor: 'dup-living,dup-rack1' }),
    csv(RAW_HEADER, [
      '2025-11-21T08:00:00.000Z,dup-living,living-room,humidity,45.2,%',
      '2025-11-21T08:00:00.000Z,dup-living,living-room,temperature,21.5,C',
      '2025-11-21T08:00:00.000Z,dup-rack1,server-room,temperature,24.5,C',
      '2025-11-21T08:00:00.001Z,dup-living,living-room,temperature,21.6,C',
      '2025-11-21T08:01:00.000Z,dup-living,living-room,humidity,46,%',
      '2025-11-21T08:01:00.000Z,dup-living,living-room,temperature,21.7,C',
      '2025-11-21T08:01:00.000Z,dup-rack1,server-room,cpu_load,37,%',
      '2025-11-21T08:02:00.000Z,dup-rack1,server-room,cpu_load,38,%',
    ]),
  );
  // Against the store: the whole file again is all duplicates, and changes nothing.
  const before = await history(httpPort, { sensor: 'dup-living,dup-rack1' });
  assert.equal(await uploadOk(httpPort, file), { accepted: 0, duplicates: 12 });
  assert.is(await history(httpPort, { sensor: 'dup-living,dup-rack1' }), before);
});

test('a row repeating a stored identity with another value, unit or room is a duplicate and changes nothing', async () => {
  // §1 Identity: (sensor, metric, ts); "a repeat is a duplicate ... does not change what is stored"
  const { httpPort } = await hub();
  assert.equal(await uploadOk(httpPort, csv(RAW_HEADER, ['2025-11-21T08:00:00.000Z,up-dupstore,up-dupstore-a,temperature,20,C'])), {
    accepted: 1,
    duplicates: 0,
  });
  const second = csv(RAW_HEADER, [
    '1763712000000,up-dupstore,up-dupstore-b,temperature,99,F',
    '2025-11-21T09:00:00+01:00,up-dupstore,up-dupstore-a,temperature,98,C',
    '2025-11-21T08:00:00.000Z,up-dupstore,up-dupstore-a,humidity,50,%',
  ]);
  assert.equal(await uploadOk(httpPort, second), { accepted: 1, duplicates: 2 });
  assert.is(
    await history(httpPort, { sensor: 'up-dupstore' }),
    csv(RAW_HEADER, [
      '2025-11-21T08:00:00.000Z,up-dupstore,up-dupstore-a,humidity,50,%',
      '2025-11-21T08:00:00.000Z,up-dupstore,up-dupstore-a,temperature,20,C',
    ]),
  );
});

test('an export uploads again unchanged: readings-valid.csv round-trips byte for byte, and re-uploading the export is all duplicates', async () => {
  // §2 Bulk upload: "Exactly what history.csv exports (raw) must upload again unchanged"; fixtures/README.md readings-valid.csv
  const { httpPort } = await startHub();
  const file = await fixture('readings-valid.csv');
  const filter = { sensor: 'valid-greenhouse,valid-living,valid-rack1' };
  assert.equal(await uploadOk(httpPort, file), { accepted: 90, duplicates: 0 });
  const exported = await history(httpPort, filter);
  assert.is(exported, file.toString('utf8'));
  assert.equal(await uploadOk(httpPort, exported), { accepted: 0, duplicates: 90 });
  assert.is(await history(httpPort, filter), exported);
  // The ms form of the export is an upload too.
  const asMs = await history(httpPort, { ...filter, time: 'ms' });
  assert.equal(await uploadOk(httpPort, asMs), { accepted: 0, duplicates: 90 });
  assert.is(await history(httpPort, filter), exported);
  // And into an empty hub it brings back the same rows.
  const other = await startHub();
  assert.equal(await uploadOk(other.httpPort, asMs), { accepted: 90, duplicates: 0 });
  assert.is(await history(other.httpPort, filter), exported);
});

test('an export of readings with awkward values and units uploads into another hub and exports again byte for byte', async () => {
  // §2 Bulk upload: "Exactly what history.csv exports (raw) must upload again unchanged"
  const a = await startHub();
  const s = await connect(a.tcpPort);
  await s.hello('up-awkward', 'up-awkward-room');
  const ts = Date.parse('2025-11-21T08:00:00.000Z');
  await s.send({
    type: 'batch',
    seq: 1,
    readings: [
      { metric: 'temperature', value: 0.30000000000000004, unit: '', ts }, // an explicit empty unit, not the well-known C
      { metric: 'humidity', value: 1e-7, ts },
      { metric: 'cpu_load', value: 1.2345678901234568e21, ts },
      { metric: 'pressure', value: -1013.25, unit: 'h"Pa, "sea"', ts },
      { metric: 'lux', value: 5e-324, unit: 'lx ', ts: ts + 1 },
      { metric: 'lux', value: -1.7976931348623157e308, unit: 'lx ', ts: ts + 2 },
    ],
  });
  await s.ackCovering(1);
  const exported = await history(a.httpPort, { sensor: 'up-awkward' });
  const b = await startHub();
  assert.equal(await uploadOk(b.httpPort, exported), { accepted: 6, duplicates: 0 });
  assert.is(await history(b.httpPort, { sensor: 'up-awkward' }), exported);
  assert.equal(await uploadOk(b.httpPort, await history(b.httpPort, { sensor: 'up-awkward', time: 'ms' })), { accepted: 0, duplicates: 6 });
  // The values came through exactly, not just their text.
  const values = csvRecords(exported).map((r) => Number(r.value));
  assert.equal(
    values.sort((x, y) => x - y),
    [-1.7976931348623157e308, -1013.25, 5e-324, 1e-7, 0.30000000000000004, 1.2345678901234568e21].sort((x, y) => x - y),
  );
});

test('a file with CRLF line ends, a byte order mark, or Content-Type with a charset uploads like any other', async () => {
  // §2 Bulk upload: "CSV with a header row (Content-Type: text/csv)"; RFC 4180 lines end with CRLF
  const { httpPort } = await hub();
  const crlf =
    'ts,sensor,room,metric,value,unit\r\n2025-11-21T08:00:00.000Z,up-crlf,lab,temperature,1,C\r\n2025-11-21T08:00:01.000Z,up-crlf,lab,temperature,2,"C"\r\n';
  assert.equal(await uploadOk(httpPort, crlf), { accepted: 2, duplicates: 0 });
  assert.is(
    await history(httpPort, { sensor: 'up-crlf' }),
    csv(RAW_HEADER, ['2025-11-21T08:00:00.000Z,up-crlf,lab,temperature,1,C', '2025-11-21T08:00:01.000Z,up-crlf,lab,temperature,2,C']),
  );
  assert.equal(await uploadOk(httpPort, '\ufeff' + csv(RAW_HEADER, ['2025-11-21T08:00:00.000Z,up-bom,lab,temperature,1,C'])), {
    accepted: 1,
    duplicates: 0,
  });
  const charset = await upload(httpPort, csv(RAW_HEADER, ['2025-11-21T08:00:00.000Z,up-charset,lab,temperature,1,C']), {
    'content-type': 'text/csv; charset=utf-8',
  });
  assert.is(charset.status, 200, charset.text);
  assert.equal(
    (await latest(httpPort, { sensor: 'up-crlf,up-bom,up-charset' })).map((r) => r.sensor),
    ['up-bom', 'up-charset', 'up-crlf'],
  );
});

// ---------------------------------------------------------------- size limit

test('a body over the configured limit is a 413 and stores nothing, with or without a content-length', async () => {
  // §2 Bulk upload: "A body over the configured limit ...: 413, nothing stored"
  const { httpPort } = await startHub({ maxUploadBytes: 4096 });
  const rows = Array.from({ length: 400 }, (_, i) => `${1763712000000 + i * 1000},up-toolarge,lab,temperature,${i},C`);
  const body = csv(RAW_HEADER, rows);
  assert.ok(Buffer.byteLength(body) > 4096 * 2);
  // With a content-length the hub knows before reading; without one (chunked) it must count.
  const withLength = await upload(httpPort, body);
  assert.is(withLength.status, 413, withLength.text.slice(0, 200));
  errorBody(withLength);
  const dir = await tempDataDir();
  const path = join(dir.path, 'big.csv');
  await writeFile(path, body);
  const chunked = await upload(httpPort, { file: path });
  assert.is(chunked.status, 413, chunked.text.slice(0, 200));
  errorBody(chunked);
  await nothingStoredFor(httpPort, ['up-toolarge']);
  // Under the limit, the same hub takes the first rows.
  assert.equal(await uploadOk(httpPort, csv(RAW_HEADER, rows.slice(0, 20))), { accepted: 20, duplicates: 0 });
});

// ---------------------------------------------------------------- latest, sensors, rooms

test('latest only moves forward: a backfill older than the latest leaves it, a newer upload moves it', async () => {
  // §2 latest: "the newest reading (largest ts) of every (sensor, metric)"
  const { httpPort, tcpPort } = await hub();
  const show = async (sensor: string) => (await latest(httpPort, { sensor })).map((r) => [r.metric, r.value, r.ts]);
  const t = Date.parse('2025-11-21T10:00:00.000Z');
  await uploadOk(httpPort, csv(RAW_HEADER, [`${t},up-latest,lab,temperature,10,C`]));
  assert.equal(await show('up-latest'), [['temperature', 10, t]]);
  await uploadOk(httpPort, csv(RAW_HEADER, [`${t - 3_600_000},up-latest,lab,temperature,5,C`, `${t - 1},up-latest,lab,temperature,6,C`]));
  assert.equal(await show('up-latest'), [['temperature', 10, t]], 'a backfill leaves latest alone');
  await uploadOk(
    httpPort,
    csv(RAW_HEADER, [`${t + 60_000},up-latest,lab,temperature,12,C`, `${t + 30_000},up-latest,lab,temperature,11,C`]),
  );
  assert.equal(await show('up-latest'), [['temperature', 12, t + 60_000]], 'a newer upload moves it, to its largest ts');

  // The same for a sensor whose latest came over TCP.
  const s = await connect(tcpPort);
  await s.hello('up-latest-live', 'lab');
  const now = nextTs();
  await s.send({ type: 'reading', metric: 'humidity', value: 40, ts: now, seq: 1 });
  await s.ackCovering(1);
  await uploadOk(httpPort, csv(RAW_HEADER, [`${now - 120_000},up-latest-live,lab,humidity,30,%`]));
  assert.equal(await show('up-latest-live'), [['humidity', 40, now]]);
  await uploadOk(httpPort, csv(RAW_HEADER, [`${now + 1},up-latest-live,lab,humidity,41,%`]));
  assert.equal(await show('up-latest-live'), [['humidity', 41, now + 1]]);
});

test('an uploaded sensor shows in GET /api/v1/sensors with its room and metrics, not connected', async () => {
  // §2 sensors: "every sensor ever seen (also through an upload) ... sorted by sensor"
  const { httpPort } = await hub();
  await uploadOk(
    httpPort,
    csv(RAW_HEADER, [
      '2025-11-21T08:00:00.000Z,up-listed,up-listed-room,temperature,20,C',
      '2025-11-21T08:00:00.000Z,up-listed,up-listed-room,humidity,40,%',
    ]),
  );
  const all = await sensors(httpPort);
  const s = all.find((x) => x.sensor === 'up-listed');
  assert.ok(s, 'listed');
  assert.is(s.room, 'up-listed-room');
  assert.is(s.connected, false);
  assert.equal([...s.metrics].sort(), ['humidity', 'temperature']);
  const ids = all.map((x) => x.sensor);
  assert.equal(
    ids,
    [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
    'sorted by sensor',
  );
});

test('an uploaded row without a room takes the sensor’s known room, else default', async () => {
  // §2 Rooms: "for an uploaded row: its room column, else the sensor's known room, else default"
  const { httpPort, tcpPort } = await hub();
  const s = await connect(tcpPort);
  await s.hello('up-known-room', 'up-known-room-lab');
  await s.send({ type: 'reading', metric: 'temperature', value: 20, ts: nextTs(), seq: 1 });
  await s.ackCovering(1);
  await uploadOk(
    httpPort,
    csv('ts,sensor,metric,value', [
      '2025-11-21T08:00:00.000Z,up-known-room,humidity,40',
      '2025-11-21T08:00:00.000Z,up-no-room,humidity,41',
    ]),
  );
  await uploadOk(httpPort, csv(RAW_HEADER, ['2025-11-21T08:01:00.000Z,up-known-room,,humidity,42,%']));
  const rows = csvRecords(await history(httpPort, { sensor: 'up-known-room,up-no-room', metric: 'humidity' })).map((r) => [
    r.sensor,
    r.room,
    r.value,
  ]);
  assert.equal(rows, [
    ['up-known-room', 'up-known-room-lab', '40'],
    ['up-no-room', 'default', '41'],
    ['up-known-room', 'up-known-room-lab', '42'],
  ]);
  assert.is((await sensors(httpPort)).find((x) => x.sensor === 'up-no-room')?.room, 'default');
});

test('an uploaded row without a unit takes the well-known unit of its metric', async () => {
  // §1 Names and values, unit absent: "the well-known unit, else empty"; §2 "Rows are checked by the same rules as sensor readings"
  const { httpPort } = await hub();
  await uploadOk(
    httpPort,
    csv('ts,sensor,room,metric,value', [
      '2025-11-21T08:00:00.000Z,up-unitless,lab,temperature,20',
      '2025-11-21T08:00:00.000Z,up-unitless,lab,humidity,40',
      '2025-11-21T08:00:00.000Z,up-unitless,lab,lux,300',
    ]),
  );
  const units = csvRecords(await history(httpPort, { sensor: 'up-unitless' })).map((r) => [r.metric, r.unit]);
  assert.equal(units, [
    ['humidity', '%'],
    ['lux', ''],
    ['temperature', 'C'],
  ]);
});

test('live readings that repeat an uploaded identity are duplicates: acknowledged, stored once, the uploaded value kept', async () => {
  // §1 Identity across sources: the hub keeps at most one reading per (sensor, metric, ts)
  const { httpPort, tcpPort } = await hub();
  const t = nextTs();
  await uploadOk(httpPort, csv(RAW_HEADER, [`${t},up-then-live,lab,temperature,1,C`, `${t + 1000},up-then-live,lab,temperature,2,C`]));
  const s = await connect(tcpPort);
  await s.hello('up-then-live', 'lab');
  await s.send({ type: 'reading', metric: 'temperature', value: 91, ts: t, seq: 1 });
  await s.send({
    type: 'batch',
    readings: [
      { metric: 'temperature', value: 92, ts: t + 1000 },
      { metric: 'temperature', value: 3, ts: t + 2000 },
    ],
    seq: 2,
  });
  await s.ackCovering(2);
  assert.equal(
    s.received.filter((m) => m.type === 'error'),
    [],
  );
  const rows = csvRecords(await history(httpPort, { sensor: 'up-then-live', time: 'ms' })).map((r) => [Number(r.ts), r.value]);
  assert.equal(rows, [
    [t, '1'],
    [t + 1000, '2'],
    [t + 2000, '3'],
  ]);
  assert.equal(
    (await latest(httpPort, { sensor: 'up-then-live' })).map((r) => [r.value, r.ts]),
    [[3, t + 2000]],
  );
});

test('a header with no rows is accepted with nothing stored, and an empty body is refused', async () => {
  // §2 Bulk upload: "A header with no rows: {"accepted":0,"duplicates":0}"
  const { httpPort } = await hub();
  assert.equal(await uploadOk(httpPort, RAW_HEADER + '\n'), { accepted: 0, duplicates: 0 });
  assert.equal(await uploadOk(httpPort, RAW_HEADER), { accepted: 0, duplicates: 0 });
  const empty = await upload(httpPort, '');
  assert.is(empty.status, 400, 'no header: no required column');
  errorBody(empty);
});

test.run();
