// Contract §1 "Names and values": every naming and value rule (sensor id, room, metric, value,
// unit, ts), and the unit and room defaults. "Not stored" is proved by a barrier (see
// support/probes.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startHub } from '../support/hub-process.ts';
import { latest, sensors } from '../support/http.ts';
import { probes } from '../support/probes.ts';
import { sharedHub, stopSharedHubs } from '../support/shared-hub.ts';
import { connect } from '../support/tcp-sensor.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';
import { DAY_MS, YEAR_2000_MS, tsSequence } from '../support/wire.ts';

const hub = sharedHub();
const nextTs = tsSequence();
const { welcomed, barrier, stored, expectRefused, expectHelloRefused } = probes(hub, nextTs);
test.after.each(() => perTest.run());
test.after(async () => {
  await stopSharedHubs();
  exitWhenDone();
});

// ---------------------------------------------------------------- sensor id and room

test('a sensor id of 64 characters is welcomed and one of 65 gets 422', async () => {
  // §1 Names: sensor id ^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$ (1 to 64 characters)
  const id64 = 's' + '0123456789abcdef'.repeat(4).slice(0, 63);
  assert.is(id64.length, 64);
  const s = await welcomed(id64);
  assert.is(s.received[0]?.sensor, id64);
  await expectHelloRefused(422, { sensor: id64 + 'x' });
});

test('a sensor id may use letters, digits, dots, underscores, colons and dashes after its first character', async () => {
  // §1 Names: sensor id pattern
  for (const id of ['A', '7', 'rack1-temp', 'a.b_c:d-e', 'Z9._:-', 'x' + ':'.repeat(63)]) {
    const s = await welcomed(id);
    assert.is(s.received[0]?.sensor, id);
    await s.close();
  }
});

test('a sensor id that breaks the pattern gets 422', async () => {
  // §1 Names: sensor id pattern; lead decision: invalid id in hello -> 422
  for (const sensor of ['', '-lead', '.lead', '_lead', ':lead', 'has space', 'a/b', 'ä-sensor', 'tab\there', 'new\nline']) {
    await expectHelloRefused(422, { sensor });
  }
});

test('a room of 64 characters is accepted and one of 65 gets 422', async () => {
  // §1 Names: room has the same pattern as a sensor id
  const room64 = 'R' + 'x'.repeat(63);
  await welcomed('room-64', room64);
  await expectHelloRefused(422, { sensor: 'room-65', room: room64 + 'x' });
});

test('a room that breaks the pattern gets 422, and a room that is not a string gets 400', async () => {
  // §1 Names: room pattern; §1 Error codes: 400 for a field of the wrong type
  for (const room of ['', '-x', 'living room', 'a/b', 'küche']) await expectHelloRefused(422, { sensor: 'room-bad', room });
  for (const room of [7, null, ['lab']]) await expectHelloRefused(400, { sensor: 'room-type', room });
});

test('a sensor that names no room is in room "default", and its readings too', async () => {
  // §1 Names: a sensor that names none is in room `default`
  const s = await welcomed('room-none');
  await barrier(s, 1);
  const { httpPort } = await hub();
  const info = (await sensors(httpPort)).find((x) => x.sensor === 'room-none');
  assert.is(info?.room, 'default');
  assert.equal(
    (await latest(httpPort, { sensor: 'room-none' })).map((r) => r.room),
    ['default'],
  );
});

test('readings are stored in the room named in hello', async () => {
  // §1 Names: room; §2 Rooms: each stored reading keeps the room its sensor was in
  const s = await welcomed('room-named', 'server-room');
  await s.send({ type: 'reading', metric: 'temperature', value: 24.5, ts: nextTs(), seq: 1 });
  await s.ackCovering(1);
  assert.equal(
    (await stored('room-named')).map((r) => r.room),
    ['server-room'],
  );
});

// ---------------------------------------------------------------- metric

test('a metric of 64 characters is stored and one of 65 gets 422', async () => {
  // §1 Names: metric ^[a-z][a-z0-9_]{0,63}$
  const m64 = 'm' + 'a1_'.repeat(21);
  assert.is(m64.length, 64);
  const s = await welcomed('metric-64');
  const ts = nextTs();
  await s.send({ type: 'reading', metric: m64, value: 1, ts, seq: 1 });
  await s.ackCovering(1);
  await expectRefused(s, 422, [{ type: 'reading', metric: m64 + 'b', value: 1, ts: nextTs(), seq: 2 }]);
  await barrier(s, 3);
  assert.equal(
    (await stored('metric-64')).map((r) => r.metric),
    [m64],
  );
});

test('a metric that breaks the pattern gets 422 and is not stored', async () => {
  // §1 Names: metric pattern (lower case, starts with a letter, letters digits underscores)
  const s = await welcomed('metric-bad');
  const bad = ['Temperature', 'TEMP', '1st', '_x', 'cpu-load', 'cpu load', 'cpu.load', '', 'température'];
  await expectRefused(
    s,
    422,
    bad.map((metric, i) => ({ type: 'reading', metric, value: 1, ts: nextTs(), seq: i + 1 })),
  );
  await barrier(s, 100);
  assert.equal(await stored('metric-bad'), []);
});

test('a standalone reading with a field of the wrong type gets 400', async () => {
  // §1 Error codes: 400 for a field of the wrong type (lead decision: a standalone reading gets 400)
  const s = await welcomed('reading-types');
  const ts = nextTs();
  await expectRefused(s, 400, [
    { type: 'reading', value: 1, ts },
    { type: 'reading', metric: 5, value: 1, ts },
    { type: 'reading', metric: 'temperature', ts },
    { type: 'reading', metric: 'temperature', value: '21.5', ts },
    { type: 'reading', metric: 'temperature', value: null, ts },
    { type: 'reading', metric: 'temperature', value: true, ts },
    { type: 'reading', metric: 'temperature', value: 1, unit: 5, ts },
    { type: 'reading', metric: 'temperature', value: 1, ts: String(ts) },
    { type: 'reading', metric: 'temperature', value: 1, ts, seq: '7' },
  ]);
  await barrier(s, 1);
  assert.equal(await stored('reading-types'), []);
});

// ---------------------------------------------------------------- value

test('a value that is not finite (1e999) gets 422 and is not stored', async () => {
  // §1 Names: value is a finite JSON number (1e999 is valid JSON that overflows to Infinity)
  const s = await welcomed('value-infinite');
  for (const v of ['1e999', '-1e999']) {
    await s.sendRaw(`{"type":"reading","metric":"temperature","value":${v},"ts":${nextTs()}}\n`);
    assert.is((await s.next({ type: 'error' })).code, 422, `for ${v}`);
  }
  await barrier(s, 1);
  assert.equal(await stored('value-infinite'), []);
});

test('negative, zero, fractional and very large finite values are stored exactly', async () => {
  // §1 Names: value is any finite JSON number
  const s = await welcomed('value-finite');
  const values = [-273.15, 0, 0.1, 1.7976931348623157e308, -5e-324];
  for (const [i, value] of values.entries()) await s.send({ type: 'reading', metric: `m${i}`, value, ts: nextTs(), seq: i + 1 });
  await s.ackCovering(values.length);
  assert.equal(
    (await stored('value-finite')).map((r) => r.value),
    values,
  );
});

// ---------------------------------------------------------------- unit

test('a unit of 16 characters is stored and one of 17 gets 422', async () => {
  // §1 Names: unit is a string of at most 16 characters
  const s = await welcomed('unit-16');
  await s.send({ type: 'reading', metric: 'a', value: 1, unit: 'u'.repeat(16), ts: nextTs(), seq: 1 });
  await s.ackCovering(1);
  await expectRefused(s, 422, [{ type: 'reading', metric: 'b', value: 1, unit: 'u'.repeat(17), ts: nextTs(), seq: 2 }]);
  await barrier(s, 3);
  assert.equal(
    (await stored('unit-16')).map((r) => [r.metric, r.unit]),
    [['a', 'u'.repeat(16)]],
  );
});

test('a unit is counted in characters, not bytes: 16 × "µ" is accepted', async () => {
  // §1 Names: unit at most 16 *characters* (32 UTF-8 bytes here)
  const s = await welcomed('unit-chars');
  await s.send({ type: 'reading', metric: 'dose', value: 1, unit: 'µ'.repeat(16), ts: nextTs(), seq: 1 });
  await s.ackCovering(1);
  assert.equal(
    (await stored('unit-chars')).map((r) => r.unit),
    ['µ'.repeat(16)],
  );
});

test('an empty unit is stored as empty, even for a well-known metric', async () => {
  // §1 Names: unit may be empty (given, so no default applies)
  const s = await welcomed('unit-empty');
  await s.send({ type: 'reading', metric: 'temperature', value: 1, unit: '', ts: nextTs(), seq: 1 });
  await s.ackCovering(1);
  assert.equal(
    (await stored('unit-empty')).map((r) => r.unit),
    [''],
  );
});

test('a reading without a unit gets the unit declared in hello, else the well-known one, else empty', async () => {
  // §1 Names: unit absent -> declared in hello, else well-known, else empty
  const s = await welcomed('unit-defaults', undefined, {
    metrics: [
      { metric: 'temperature', unit: 'F' },
      { metric: 'pressure', unit: 'hPa' },
    ],
  });
  const ts = nextTs();
  const metrics = ['temperature', 'pressure', 'humidity', 'cpu_load', 'noise'];
  for (const [i, metric] of metrics.entries()) await s.send({ type: 'reading', metric, value: 1, ts, seq: i + 1 });
  await s.ackCovering(metrics.length);
  assert.equal(
    (await stored('unit-defaults')).map((r) => [r.metric, r.unit]),
    [
      ['cpu_load', '%'],
      ['humidity', '%'],
      ['noise', ''],
      ['pressure', 'hPa'],
      ['temperature', 'F'],
    ],
  );
});

test('well-known metrics get their units C, % and % when nothing is declared', async () => {
  // §1 Names: well-known temperature (C), humidity (%), cpu_load (%)
  const s = await welcomed('unit-wellknown');
  const ts = nextTs();
  await s.send({ type: 'batch', seq: 1, readings: ['temperature', 'humidity', 'cpu_load'].map((metric) => ({ metric, value: 1, ts })) });
  await s.ackCovering(1);
  assert.equal(
    (await stored('unit-wellknown')).map((r) => [r.metric, r.unit]),
    [
      ['cpu_load', '%'],
      ['humidity', '%'],
      ['temperature', 'C'],
    ],
  );
});

test('a unit given on the reading wins over the declared and the well-known one', async () => {
  // §1 Names: the defaults apply only when unit is absent
  const s = await welcomed('unit-explicit', undefined, { metrics: [{ metric: 'temperature', unit: 'F' }] });
  await s.send({ type: 'reading', metric: 'temperature', value: 300, unit: 'K', ts: nextTs(), seq: 1 });
  await s.ackCovering(1);
  assert.equal(
    (await stored('unit-explicit')).map((r) => r.unit),
    ['K'],
  );
});

test('a hello declaring a metric with a bad name or a unit over 16 characters gets 422', async () => {
  // §1 Names applied to hello.metrics
  await expectHelloRefused(422, { sensor: 'decl-bad-metric', metrics: [{ metric: 'Bad', unit: 'x' }] });
  await expectHelloRefused(422, { sensor: 'decl-long-unit', metrics: [{ metric: 'ok', unit: 'x'.repeat(17) }] });
  await expectHelloRefused(400, { sensor: 'decl-not-array', metrics: { metric: 'ok', unit: 'x' } });
});

// ---------------------------------------------------------------- ts

test('ts exactly at 2000-01-01 is stored and one millisecond earlier gets 422', async () => {
  // §1 Names: 946684800000 (year 2000) <= ts
  const s = await welcomed('ts-2000');
  await s.send({ type: 'reading', metric: 'temperature', value: 1, ts: YEAR_2000_MS, seq: 1 });
  await s.ackCovering(1);
  await expectRefused(s, 422, [
    { type: 'reading', metric: 'humidity', value: 1, ts: YEAR_2000_MS - 1, seq: 2 },
    { type: 'reading', metric: 'humidity', value: 1, ts: 0, seq: 3 },
    { type: 'reading', metric: 'humidity', value: 1, ts: -1, seq: 4 },
    // seconds instead of milliseconds is the classic sensor bug this bound catches
    { type: 'reading', metric: 'humidity', value: 1, ts: Math.floor(Date.now() / 1000), seq: 5 },
  ]);
  await barrier(s, 6);
  assert.equal(
    (await stored('ts-2000')).map((r) => [r.metric, r.ts]),
    [['temperature', YEAR_2000_MS]],
  );
});

test('ts exactly 24 h ahead of the hub clock is stored and one millisecond more gets 422', async () => {
  // §1 Names: ts <= hub time + 24 h (hub clock injected and fixed)
  const hubNow = Math.floor(Date.now() / 1000) * 1000;
  const { tcpPort, httpPort } = await startHub({ now: () => hubNow });
  const s = await connect(tcpPort);
  await s.hello('ts-future');
  await s.send({ type: 'reading', metric: 'temperature', value: 1, ts: hubNow + DAY_MS, seq: 1 });
  await s.ackCovering(1);
  await expectRefused(s, 422, [{ type: 'reading', metric: 'humidity', value: 1, ts: hubNow + DAY_MS + 1, seq: 2 }]);
  await s.send({ type: 'reading', metric: 'sentinel', value: 0, ts: hubNow, seq: 3 });
  await s.ackCovering(3);
  assert.equal(
    (await stored('ts-future', httpPort)).map((r) => [r.metric, r.ts]),
    [['temperature', hubNow + DAY_MS]],
  );
});

test('a ts that is not an integer is refused and not stored', async () => {
  // §1 Names: ts is integer ms. Whether a fraction is a wrong type (400) or a broken rule (422)
  // the contract leaves open; either refuses it.
  const s = await welcomed('ts-fraction');
  await s.send({ type: 'reading', metric: 'temperature', value: 1, ts: nextTs() + 0.5 });
  const e = await s.next({ type: 'error' });
  assert.ok(e.code === 400 || e.code === 422, `code ${e.code}`);
  await barrier(s, 1);
  assert.equal(await stored('ts-fraction'), []);
});

test('a reading without ts is stamped with the hub time it was received', async () => {
  // §1 Names: ts absent -> the hub stamps the time it received the message (hub clock injected)
  const hubNow = Math.floor(Date.now() / 1000) * 1000 - 5 * 60_000;
  const { tcpPort, httpPort } = await startHub({ now: () => hubNow });
  const s = await connect(tcpPort);
  await s.hello('ts-stamped');
  await s.send({ type: 'reading', metric: 'temperature', value: 1, seq: 1 });
  await s.send({ type: 'batch', seq: 2, readings: [{ metric: 'humidity', value: 2 }] });
  await s.ackCovering(2);
  assert.equal(
    (await latest(httpPort, { sensor: 'ts-stamped' })).map((r) => [r.metric, r.ts]),
    [
      ['humidity', hubNow],
      ['temperature', hubNow],
    ],
  );
});

test('a reading without ts on a hub with the real clock is stamped between send and ack', async () => {
  // §1 Names: ts absent -> hub receive time
  const s = await welcomed('ts-stamped-real');
  const before = Date.now();
  await s.send({ type: 'reading', metric: 'temperature', value: 1, seq: 1 });
  await s.ackCovering(1);
  const after = Date.now();
  const [row] = await stored('ts-stamped-real');
  assert.ok(row && row.ts >= before - 1 && row.ts <= after + 1, `ts ${row?.ts} within ${before}..${after}`);
});

test.run();
