// Contract §1 Session rules "Acks" and "Identity": what an ack promises, coalescing, messages
// without seq, duplicates, resends after a reconnect, readings that arrive out of order.
// Tests that must see every stored row stop their own hub and read its DuckDB file.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startHub } from '../support/hub-process.ts';
import { latest } from '../support/http.ts';
import { sharedHub, stopSharedHubs } from '../support/shared-hub.ts';
import { readStoredReadings } from '../support/store-inspect.ts';
import { connect, type HubReply } from '../support/tcp-sensor.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';
import { line, tsSequence } from '../support/wire.ts';

const hub = sharedHub();
const nextTs = tsSequence();
test.after.each(() => perTest.run());
test.after(async () => {
  await stopSharedHubs();
  exitWhenDone();
});

const acks = (received: readonly HubReply[]): number[] => received.filter((m) => m.type === 'ack').map((m) => m.seq as number);
const errors = (received: readonly HubReply[]): HubReply[] => received.filter((m) => m.type === 'error');

test('an acknowledged reading is in the store after the hub stops', async () => {
  // §1 Acks: a message with a seq is acknowledged once it is durably stored
  const { tcpPort, stop, dataDir } = await startHub();
  const s = await connect(tcpPort);
  await s.hello('ack-durable', 'lab');
  const ts = nextTs();
  await s.send({ type: 'reading', metric: 'temperature', value: 21.25, ts, seq: 1 });
  assert.is((await s.next({ type: 'ack' })).seq, 1);
  await s.close();
  await stop();
  assert.equal(await readStoredReadings(dataDir), [
    { sensor: 'ack-durable', room: 'lab', metric: 'temperature', unit: 'C', ts, value: 21.25 },
  ]);
});

test('an ack arrives within 1 s of the message', async () => {
  // §1 Acks: the hub sends an ack within 1 s of storing (lead: group commit every ~50 ms)
  const { tcpPort } = await hub();
  const s = await connect(tcpPort);
  await s.hello('ack-latency');
  // The first commit of a fresh store may be slow; the promise is about a hub that is running.
  await s.send({ type: 'reading', metric: 'temperature', value: 1, ts: nextTs(), seq: 1 });
  await s.ackCovering(1);
  const sent = Date.now();
  await s.send({ type: 'reading', metric: 'temperature', value: 2, ts: nextTs(), seq: 2 });
  await s.ackCovering(2, 1_000);
  assert.ok(Date.now() - sent <= 1_000);
});

test('acks are coalesced: many messages end with an ack of the highest seq, and acks only go up', async () => {
  // §1 Acks: acks may be coalesced (only the highest seq)
  const { tcpPort, httpPort } = await hub();
  const s = await connect(tcpPort);
  await s.hello('ack-coalesce');
  const ts = nextTs();
  let chunk = '';
  for (let seq = 1; seq <= 50; seq++) chunk += line({ type: 'reading', metric: 'temperature', value: seq, ts: ts + seq, seq });
  await s.sendRaw(chunk);
  await s.next({ type: 'ack', seq: 50 });
  await s.sync();
  const seen = acks(s.received);
  assert.ok(seen.length >= 1 && seen.length <= 50, `${seen.length} acks`);
  assert.ok(
    seen.every((seq, i) => i === 0 || seq > (seen[i - 1] as number)),
    `acks strictly increasing: ${seen.join(',')}`,
  );
  assert.ok(
    seen.every((seq) => seq >= 1 && seq <= 50),
    'no ack of a seq that was never sent',
  );
  assert.equal(
    (await latest(httpPort, { sensor: 'ack-coalesce' })).map((r) => [r.value, r.ts]),
    [[50, ts + 50]],
  );
});

test('an ack covers a message that was answered with an error', async () => {
  // §1 ack: every message with a seq <= seq is durably stored, or was answered with an error
  const { tcpPort, httpPort } = await hub();
  const s = await connect(tcpPort);
  await s.hello('ack-covers-error');
  const ts = nextTs();
  await s.sendRaw(
    line({ type: 'reading', metric: 'temperature', value: 1, ts, seq: 1 }) +
      line({ type: 'reading', metric: 'Not-A-Metric', value: 2, ts, seq: 2 }) +
      line({ type: 'reading', metric: 'humidity', value: 3, ts, seq: 3 }),
  );
  const e = await s.next({ type: 'error' });
  assert.is(e.code, 422);
  assert.is(e.seq, 2);
  await s.ackCovering(3);
  const order = s.received.map((m) => (m.type === 'error' ? 'error 2' : m.type === 'ack' ? `ack ${m.seq}` : m.type));
  assert.ok(
    order.indexOf('error 2') < order.findIndex((x) => x === 'ack 3'),
    `the error comes before the ack that covers it: ${order.join(', ')}`,
  );
  assert.equal(
    (await latest(httpPort, { sensor: 'ack-covers-error' })).map((r) => r.metric),
    ['humidity', 'temperature'],
  );
});

test('each connection is acknowledged with its own seq numbers', async () => {
  // §1 Acks: "every message of this connection with a seq <= seq"; seq is per connection
  const { tcpPort } = await hub();
  const a = await connect(tcpPort);
  await a.hello('ack-own-a');
  const b = await connect(tcpPort);
  await b.hello('ack-own-b');
  const ts = nextTs();
  await a.send({ type: 'reading', metric: 'temperature', value: 1, ts, seq: 1000 });
  await b.send({ type: 'reading', metric: 'temperature', value: 1, ts, seq: 7 });
  await a.next({ type: 'ack', seq: 1000 });
  await b.next({ type: 'ack', seq: 7 });
  await a.sync();
  await b.sync();
  assert.equal(acks(a.received), [1000]);
  assert.equal(acks(b.received), [7]);
});

test('messages without seq are stored but never acknowledged', async () => {
  // §1 Acks: messages without seq are never acknowledged
  const { tcpPort, httpPort } = await hub();
  const s = await connect(tcpPort);
  await s.hello('ack-none');
  const ts = nextTs();
  await s.send({ type: 'reading', metric: 'temperature', value: 1, ts });
  await s.send({ type: 'batch', readings: [{ metric: 'humidity', value: 2, ts }] });
  // bye makes the hub store what it has and send its last ack, if it owes one, then close.
  await s.send({ type: 'bye' });
  await s.closed();
  assert.equal(acks(s.received), []);
  assert.equal(errors(s.received), []);
  assert.equal(
    (await latest(httpPort, { sensor: 'ack-none' })).map((r) => r.metric),
    ['humidity', 'temperature'],
  );
});

test('a message without seq between seq’d ones does not disturb their acks', async () => {
  // §1 Acks: only messages with a seq are acknowledged; acks carry the highest seq covered
  const { tcpPort } = await hub();
  const s = await connect(tcpPort);
  await s.hello('ack-mixed');
  const ts = nextTs();
  await s.sendRaw(
    line({ type: 'reading', metric: 'a', value: 1, ts, seq: 1 }) +
      line({ type: 'reading', metric: 'b', value: 1, ts }) +
      line({ type: 'reading', metric: 'c', value: 1, ts, seq: 2 }),
  );
  await s.next({ type: 'ack', seq: 2 });
  assert.ok(acks(s.received).every((seq) => seq === 1 || seq === 2));
});

test('the same (sensor, metric, ts) sent twice is stored once, with the first value, and both are acknowledged', async () => {
  // §1 Identity: at most one reading per identity; a repeat is acknowledged and changes nothing
  const { tcpPort, stop, dataDir } = await startHub();
  const s = await connect(tcpPort);
  await s.hello('dup-same');
  const ts = nextTs();
  await s.send({ type: 'reading', metric: 'temperature', value: 20, ts, seq: 1 });
  await s.next({ type: 'ack', seq: 1 });
  await s.send({ type: 'reading', metric: 'temperature', value: 99, unit: 'F', ts, seq: 2 });
  await s.next({ type: 'ack', seq: 2 });
  assert.equal(errors(s.received), []);
  await s.close();
  await stop();
  const rows = await readStoredReadings(dataDir);
  assert.equal(
    rows.map((r) => [r.sensor, r.metric, r.ts, r.value, r.unit]),
    [['dup-same', 'temperature', ts, 20, 'C']],
  );
});

test('a repeated identity inside one batch is stored once', async () => {
  // §1 Identity: the hub keeps at most one reading per identity, also within one message
  const { tcpPort, stop, dataDir } = await startHub();
  const s = await connect(tcpPort);
  await s.hello('dup-in-batch');
  const ts = nextTs();
  await s.send({
    type: 'batch',
    seq: 1,
    readings: [
      { metric: 'temperature', value: 1, ts },
      { metric: 'temperature', value: 2, ts },
      { metric: 'humidity', value: 3, ts },
    ],
  });
  await s.next({ type: 'ack', seq: 1 });
  assert.equal(errors(s.received), []);
  await s.close();
  await stop();
  const rows = await readStoredReadings(dataDir);
  assert.equal(
    rows.map((r) => [r.metric, r.ts]),
    [
      ['humidity', ts],
      ['temperature', ts],
    ],
  );
});

test('readings that share ts but differ in sensor or metric are all stored', async () => {
  // §1 Identity: a reading is identified by (sensor, metric, ts) — all three
  const { tcpPort, stop, dataDir } = await startHub();
  const ts = nextTs();
  for (const id of ['id-a', 'id-b']) {
    const s = await connect(tcpPort);
    await s.hello(id);
    await s.send({
      type: 'batch',
      seq: 1,
      readings: [
        { metric: 'temperature', value: 1, ts },
        { metric: 'humidity', value: 1, ts },
      ],
    });
    await s.next({ type: 'ack', seq: 1 });
    await s.close();
  }
  await stop();
  const rows = await readStoredReadings(dataDir);
  assert.equal(
    rows.map((r) => `${r.sensor}/${r.metric}`),
    ['id-a/humidity', 'id-a/temperature', 'id-b/humidity', 'id-b/temperature'],
  );
});

test('resending unacknowledged readings after a reconnect stores each reading exactly once', async () => {
  // §1 Acks + Identity: a sensor resends what was not acked; with ts set, storage is exactly-once
  const { tcpPort, stop, dataDir } = await startHub();
  const t0 = nextTs();
  const messages = Array.from({ length: 20 }, (_, i) => ({ type: 'reading', metric: 'temperature', value: i, ts: t0 + i }));

  const first = await connect(tcpPort);
  await first.hello('resend');
  // Sent, then the connection dies at once: some of these may be stored, none is known to be.
  await first.sendRaw(messages.map((m, i) => line({ ...m, seq: i + 1 })).join(''));
  first.socket.destroy();

  const second = await connect(tcpPort);
  await second.hello('resend');
  await second.sendRaw(messages.map((m, i) => line({ ...m, seq: i + 1 })).join(''));
  await second.next({ type: 'ack', seq: 20 });
  // One more new reading after the resend, to show the session goes on normally.
  await second.send({ type: 'reading', metric: 'temperature', value: 20, ts: t0 + 20, seq: 21 });
  await second.next({ type: 'ack', seq: 21 });
  assert.equal(errors(second.received), []);
  await second.close();
  await stop();

  const rows = await readStoredReadings(dataDir);
  assert.equal(
    rows.map((r) => [r.ts, r.value]),
    Array.from({ length: 21 }, (_, i) => [t0 + i, i]),
  );
});

test('resending acknowledged readings after a reconnect changes nothing and is acknowledged', async () => {
  // §1 Identity: a repeat is a duplicate, is acknowledged like any other, and changes nothing stored
  const { tcpPort, stop, dataDir } = await startHub();
  const t0 = nextTs();
  const batch = (values: number[]): object => ({
    type: 'batch',
    seq: 1,
    readings: values.map((value, i) => ({ metric: 'humidity', value, ts: t0 + i })),
  });
  const a = await connect(tcpPort);
  await a.hello('resend-acked');
  await a.send(batch([40, 41, 42]));
  await a.next({ type: 'ack', seq: 1 });
  await a.close();
  const b = await connect(tcpPort);
  await b.hello('resend-acked');
  await b.send(batch([90, 91, 92]));
  await b.next({ type: 'ack', seq: 1 });
  assert.equal(errors(b.received), []);
  await b.close();
  await stop();
  assert.equal(
    (await readStoredReadings(dataDir)).map((r) => r.value),
    [40, 41, 42],
  );
});

test('an older reading that arrives later is stored but does not move latest backwards', async () => {
  // §1 Identity + §2 latest: the newest reading is the one with the largest ts, not the last received
  const { tcpPort, httpPort, stop, dataDir } = await startHub();
  const s = await connect(tcpPort);
  await s.hello('out-of-order');
  const ts = nextTs();
  await s.send({ type: 'reading', metric: 'temperature', value: 25, ts, seq: 1 });
  await s.next({ type: 'ack', seq: 1 });
  await s.send({ type: 'reading', metric: 'temperature', value: 15, ts: ts - 60_000, seq: 2 });
  await s.next({ type: 'ack', seq: 2 });
  assert.equal(
    (await latest(httpPort, { sensor: 'out-of-order' })).map((r) => [r.value, r.ts]),
    [[25, ts]],
  );
  await s.close();
  await stop();
  assert.equal(
    (await readStoredReadings(dataDir)).map((r) => [r.ts, r.value]),
    [
      [ts - 60_000, 15],
      [ts, 25],
    ],
  );
});

test('an older reading inside a batch does not move latest backwards either', async () => {
  // §2 latest: largest ts per (sensor, metric), whatever the order inside a batch
  const { tcpPort, httpPort } = await hub();
  const s = await connect(tcpPort);
  await s.hello('out-of-order-batch');
  const ts = nextTs();
  await s.send({
    type: 'batch',
    seq: 1,
    readings: [
      { metric: 'humidity', value: 2, ts: ts + 10 },
      { metric: 'humidity', value: 1, ts },
    ],
  });
  await s.next({ type: 'ack', seq: 1 });
  assert.equal(
    (await latest(httpPort, { sensor: 'out-of-order-batch' })).map((r) => [r.value, r.ts]),
    [[2, ts + 10]],
  );
});

test('a duplicate with another value does not change what latest shows', async () => {
  // §1 Identity: a repeat "does not change what is stored" — latest included
  const { tcpPort, httpPort } = await hub();
  const s = await connect(tcpPort);
  await s.hello('dup-latest');
  const ts = nextTs();
  await s.send({ type: 'reading', metric: 'temperature', value: 20, ts, seq: 1 });
  await s.next({ type: 'ack', seq: 1 });
  await s.send({ type: 'reading', metric: 'temperature', value: 99, ts, seq: 2 });
  await s.send({ type: 'batch', seq: 3, readings: [{ metric: 'temperature', value: 98, unit: 'K', ts }] });
  await s.next({ type: 'ack', seq: 3 });
  assert.equal(
    (await latest(httpPort, { sensor: 'dup-latest' })).map((r) => [r.value, r.unit, r.ts]),
    [[20, 'C', ts]],
  );
});

test('a reading resent after the sensor moved to another room is still a duplicate and stored once', async () => {
  // §1 Identity is (sensor, metric, ts): neither room nor unit is part of it
  const { tcpPort, stop, dataDir } = await startHub();
  const ts = nextTs();
  const a = await connect(tcpPort);
  await a.hello('dup-moved', 'kitchen');
  await a.send({ type: 'reading', metric: 'temperature', value: 20, ts, seq: 1 });
  await a.next({ type: 'ack', seq: 1 });
  await a.close();
  const b = await connect(tcpPort);
  await b.hello('dup-moved', 'hall', { metrics: [{ metric: 'temperature', unit: 'F' }] });
  await b.send({ type: 'reading', metric: 'temperature', value: 68, ts, seq: 1 });
  await b.next({ type: 'ack', seq: 1 });
  assert.equal(errors(b.received), []);
  await b.close();
  await stop();
  assert.equal(
    (await readStoredReadings(dataDir)).map((r) => [r.room, r.metric, r.unit, r.ts, r.value]),
    [['kitchen', 'temperature', 'C', ts, 20]],
  );
});

test('latest shows one reading per (sensor, metric) after the sensor changed room and unit', async () => {
  // §2 latest: the newest reading of every (sensor, metric), in the room it was taken in
  const { tcpPort, httpPort } = await hub();
  const ts = nextTs();
  const a = await connect(tcpPort);
  await a.hello('moved-latest', 'kitchen');
  await a.send({ type: 'reading', metric: 'temperature', value: 20, ts, seq: 1 });
  await a.next({ type: 'ack', seq: 1 });
  await a.close();
  const b = await connect(tcpPort);
  await b.hello('moved-latest', 'hall');
  await b.send({ type: 'reading', metric: 'temperature', value: 293, unit: 'K', ts: ts + 1000, seq: 1 });
  await b.next({ type: 'ack', seq: 1 });
  assert.equal(
    (await latest(httpPort, { sensor: 'moved-latest' })).map((r) => [r.room, r.metric, r.value, r.unit, r.ts]),
    [['hall', 'temperature', 293, 'K', ts + 1000]],
  );
});

test.run();
