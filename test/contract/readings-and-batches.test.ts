// Contract §1 `reading`, `batch` and `report` messages and the seq rules: seq range and order,
// batch limits, all-or-nothing batches and reports. "Not stored" is proved by a barrier (see
// support/probes.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startHub } from '../support/hub-process.ts';
import { requestJson } from '../support/http.ts';
import { probes } from '../support/probes.ts';
import { sharedHub, stopSharedHubs } from '../support/shared-hub.ts';
import { readStoredReadings } from '../support/store-inspect.ts';
import { connect } from '../support/tcp-sensor.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';
import { MAX_SEQ, YEAR_2000_MS, line, tsSequence } from '../support/wire.ts';

const hub = sharedHub();
const nextTs = tsSequence();
const { welcomed, barrier, stored, expectRefused } = probes(hub, nextTs);
test.after.each(() => perTest.run());
test.after(async () => {
  await stopSharedHubs();
  exitWhenDone();
});

// ---------------------------------------------------------------- seq

test('seq 0 and seq 2^53-1 are accepted and acknowledged', async () => {
  // §1 Names: seq integer, 0 <= seq <= 2^53-1
  const s = await welcomed('seq-range');
  await s.send({ type: 'reading', metric: 'a', value: 1, ts: nextTs(), seq: 0 });
  assert.is((await s.next({ type: 'ack' })).seq, 0);
  await s.send({ type: 'reading', metric: 'b', value: 1, ts: nextTs(), seq: MAX_SEQ });
  assert.is((await s.next({ type: 'ack' })).seq, MAX_SEQ);
  assert.equal(
    (await stored('seq-range')).map((r) => r.metric),
    ['a', 'b'],
  );
});

test('a seq below 0, above 2^53-1 or with a fraction gets 422 and the reading is not stored', async () => {
  // §1 Names: seq integer, 0 <= seq <= 2^53-1
  const s = await welcomed('seq-bad');
  await expectRefused(s, 422, [
    { type: 'reading', metric: 'temperature', value: 1, ts: nextTs(), seq: -1 },
    { type: 'reading', metric: 'temperature', value: 1, ts: nextTs(), seq: 1.5 },
  ]);
  await s.sendRaw(`{"type":"reading","metric":"temperature","value":1,"ts":${nextTs()},"seq":9007199254740992}\n`);
  assert.is((await s.next({ type: 'error' })).code, 422, 'seq 2^53');
  await s.sendRaw(`{"type":"batch","readings":[{"metric":"temperature","value":1,"ts":${nextTs()}}],"seq":1e300}\n`);
  assert.is((await s.next({ type: 'error' })).code, 422, 'seq 1e300 on a batch');
  await barrier(s, 1);
  assert.equal(await stored('seq-bad'), []);
});

test('a seq that does not increase gets 422 with that seq and the message is not stored', async () => {
  // §1 Names: seq strictly increasing within one connection; lead decision: 422, not stored
  const s = await welcomed('seq-order');
  await s.send({ type: 'reading', metric: 'a', value: 1, ts: nextTs(), seq: 5 });
  await s.ackCovering(5);
  await s.send({ type: 'reading', metric: 'b', value: 1, ts: nextTs(), seq: 5 });
  const same = await s.next({ type: 'error' });
  assert.is(same.code, 422);
  assert.is(same.seq, 5);
  await s.send({ type: 'batch', seq: 4, readings: [{ metric: 'c', value: 1, ts: nextTs() }] });
  const lower = await s.next({ type: 'error' });
  assert.is(lower.code, 422);
  assert.is(lower.seq, 4);
  await barrier(s, 6);
  assert.equal(
    (await stored('seq-order')).map((r) => r.metric),
    ['a'],
  );
});

test('seq may skip numbers', async () => {
  // §1 Names: strictly increasing, not consecutive
  const s = await welcomed('seq-gaps');
  await s.send({ type: 'reading', metric: 'a', value: 1, ts: nextTs(), seq: 1 });
  await s.send({ type: 'reading', metric: 'b', value: 1, ts: nextTs(), seq: 1000 });
  await s.ackCovering(1000);
  assert.equal(
    s.received.filter((m) => m.type === 'error'),
    [],
  );
});

test('seq starts afresh on a new connection', async () => {
  // §1 Names: seq is strictly increasing *within one connection*
  const a = await welcomed('seq-fresh');
  await a.send({ type: 'reading', metric: 'a', value: 1, ts: nextTs(), seq: 10 });
  await a.ackCovering(10);
  await a.close();
  const b = await welcomed('seq-fresh');
  await b.send({ type: 'reading', metric: 'b', value: 1, ts: nextTs(), seq: 1 });
  await b.ackCovering(1);
  assert.equal(
    (await stored('seq-fresh')).map((r) => r.metric),
    ['a', 'b'],
  );
});

test('an error for a message that carried a valid seq includes that seq', async () => {
  // Lead decision: errors for a message with a valid seq carry it, so the sensor can match them
  const s = await welcomed('seq-in-error');
  await s.send({ type: 'reading', metric: 'Bad', value: 1, ts: nextTs(), seq: 7 });
  const e1 = await s.next({ type: 'error' });
  assert.is(e1.code, 422);
  assert.is(e1.seq, 7);
  await s.send({ type: 'reading', metric: 'temperature', value: 'x', ts: nextTs(), seq: 8 });
  const e2 = await s.next({ type: 'error' });
  assert.is(e2.code, 400);
  assert.is(e2.seq, 8);
  await s.send({ type: 'batch', seq: 9, readings: [] });
  const e3 = await s.next({ type: 'error' });
  assert.is(e3.code, 422);
  assert.is(e3.seq, 9);
});

// ---------------------------------------------------------------- batch

test('a batch is stored whole and acknowledged', async () => {
  // §1 batch { readings, seq? }
  const s = await welcomed('batch-ok', 'lab');
  const ts = nextTs();
  await s.send({
    type: 'batch',
    seq: 1,
    readings: [
      { metric: 'temperature', value: 20.5, ts },
      { metric: 'humidity', value: 45, unit: 'percent', ts },
      { metric: 'cpu_load', value: 12, ts: ts + 1 },
    ],
  });
  await s.ackCovering(1);
  assert.equal(
    (await stored('batch-ok')).map((r) => [r.metric, r.value, r.unit, r.room, r.ts]),
    [
      ['cpu_load', 12, '%', 'lab', ts + 1],
      ['humidity', 45, 'percent', 'lab', ts],
      ['temperature', 20.5, 'C', 'lab', ts],
    ],
  );
});

test('an empty batch gets 422', async () => {
  // §1 Error codes 422: a batch is empty
  const s = await welcomed('batch-empty');
  await expectRefused(s, 422, [{ type: 'batch', readings: [], seq: 1 }]);
});

test('a batch whose readings is not an array gets 400', async () => {
  // §1 Error codes 400: a field of the wrong type
  const s = await welcomed('batch-not-array');
  await expectRefused(s, 400, [
    { type: 'batch', readings: { metric: 'temperature', value: 1 } },
    { type: 'batch' },
    { type: 'batch', readings: 'temperature=1' },
  ]);
});

test('a batch with one reading that breaks a rule gets 422 with its index, and nothing of the batch is stored', async () => {
  // §1 batch: all-or-nothing; one invalid reading rejects the whole batch (error 422 with index)
  const s = await welcomed('batch-one-bad');
  const ts = nextTs();
  const readings = [0, 1, 2, 3, 4].map((i) => ({ metric: `m${i}`, value: i, ts }));
  readings[3] = { metric: 'm3', value: 3, ts: YEAR_2000_MS - 1 };
  await s.send({ type: 'batch', seq: 1, readings });
  const e = await s.next({ type: 'error' });
  assert.is(e.code, 422);
  assert.is(e.index, 3);
  assert.is(e.seq, 1);
  await barrier(s, 2);
  assert.equal(await stored('batch-one-bad'), []);
});

test('a batch with a reading of the wrong type gets 422 with its index, not 400', async () => {
  // Lead decision: inside a batch any invalid reading (wrong type too) rejects it with 422 and index
  const s = await welcomed('batch-wrong-type');
  const ts = nextTs();
  const cases: { bad: unknown; index: number }[] = [
    { bad: { metric: 'm1', value: '1', ts }, index: 1 },
    { bad: { value: 1, ts }, index: 1 },
    { bad: 5, index: 1 },
    { bad: null, index: 1 },
    { bad: { metric: 'm1', value: 1, ts: 'yesterday' }, index: 1 },
  ];
  for (const [k, { bad, index }] of cases.entries()) {
    await s.send({ type: 'batch', seq: k + 1, readings: [{ metric: 'm0', value: 0, ts }, bad, { metric: 'm2', value: 2, ts }] });
    const e = await s.next({ type: 'error' });
    assert.is(e.code, 422, `code for ${JSON.stringify(bad)}`);
    assert.is(e.index, index, `index for ${JSON.stringify(bad)}`);
  }
  await barrier(s, 100);
  assert.equal(await stored('batch-wrong-type'), []);
});

test('a report with an invalid reading gets 422 with its index and nothing is stored', async () => {
  // §1 report: readings "as in a batch", stored like a batch (all-or-nothing)
  const { tcpPort, httpPort } = await hub();
  const s = await connect(tcpPort);
  await s.hello('report-bad');
  const answer = requestJson(httpPort, 'POST', '/api/v1/report-now', { sensor: 'report-bad', timeout_ms: 3_000 });
  answer.catch(() => {}); // awaited below; handled now so a failing test cannot crash the file
  const command = await s.next({ type: 'command' });
  const ts = nextTs();
  await s.send({
    type: 'report',
    id: command.id,
    seq: 1,
    readings: [
      { metric: 'temperature', value: 1, ts },
      { metric: 'x-y', value: 2, ts },
    ],
  });
  const e = await s.next({ type: 'error' });
  assert.is(e.code, 422);
  assert.is(e.index, 1);
  await barrier(s, 2);
  assert.equal(await stored('report-bad'), []);
  await answer;
});

test('a batch of 10,000 readings is stored and one of 10,001 gets 422 with nothing stored', async () => {
  // §1 batch: 1 to 10,000 readings; §1 Error codes 422: a batch over 10,000
  // (a hub configured for longer lines, as the contract allows: such batches exceed 64 KiB)
  const { tcpPort, stop, dataDir } = await startHub({ maxLineBytes: 4 * 1024 * 1024 });
  const s = await connect(tcpPort);
  await s.hello('batch-limit');
  const t0 = nextTs();
  const full = Array.from({ length: 10_000 }, (_, i) => ({ metric: 'temperature', value: i, ts: t0 + i }));
  await s.send({ type: 'batch', seq: 1, readings: full });
  await s.ackCovering(1, 15_000);
  const over = Array.from({ length: 10_001 }, (_, i) => ({ metric: 'humidity', value: i, ts: t0 + i }));
  await s.send({ type: 'batch', seq: 2, readings: over });
  const e = await s.next({ type: 'error' }, 15_000);
  assert.is(e.code, 422);
  await s.close();
  await stop();
  const rows = await readStoredReadings(dataDir);
  assert.is(rows.filter((r) => r.metric === 'temperature').length, 10_000);
  assert.is(rows.filter((r) => r.metric === 'humidity').length, 0);
});

test('a standalone reading may carry the seq of a batch sent before it on the same connection plus one', async () => {
  // §1 Names: seq is one sequence over all messages of a connection, whatever their type
  const s = await welcomed('seq-mixed');
  const ts = nextTs();
  await s.sendRaw(
    line({ type: 'reading', metric: 'a', value: 1, ts, seq: 1 }) +
      line({ type: 'batch', seq: 2, readings: [{ metric: 'b', value: 2, ts }] }) +
      line({ type: 'reading', metric: 'c', value: 3, ts, seq: 3 }),
  );
  await s.ackCovering(3);
  assert.equal(
    (await stored('seq-mixed')).map((r) => r.metric),
    ['a', 'b', 'c'],
  );
  assert.equal(
    s.received.filter((m) => m.type === 'error'),
    [],
  );
});

test.run();
