// The sensor's side of "Acks" (PROTOCOL.md §1 "Session rules"), without sockets.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ReadingInput, SensorMessage } from '../protocol/messages.ts';
import { Outbox } from './outbox.ts';

const reading = (ts: number): ReadingInput[] => [{ metric: 'temperature', value: 21, unit: 'C', ts }];

function drain(outbox: Outbox): SensorMessage[] {
  const out: SensorMessage[] = [];
  for (let m = outbox.takeNext(); m !== undefined; m = outbox.takeNext()) out.push(m);
  return out;
}

const seqs = (ms: SensorMessage[]) => ms.map((m) => ('seq' in m ? m.seq : undefined));

test('seq never resets: the next connection gets the unacked messages with their own seq, then new ones continue', () => {
  const outbox = new Outbox(100);
  outbox.newConnection();
  for (let i = 1; i <= 3; i++) outbox.add(reading(i));
  assert.equal(seqs(drain(outbox)), [1, 2, 3]);
  outbox.ack(1);
  outbox.newConnection();
  outbox.add(reading(4));
  const again = drain(outbox);
  assert.equal(seqs(again), [2, 3, 4]);
  assert.equal(again[0], { type: 'batch', seq: 2, readings: reading(2) });
  assert.equal(outbox.counts, {
    sentReadings: 4,
    resentReadings: 2,
    ackedReadings: 1,
    bufferedReadings: 3,
    droppedReadings: 0,
    rejectedReadings: 0,
  });
});

test('an ack covers only what this connection has carried, never messages still waiting to go out', () => {
  const outbox = new Outbox(100);
  outbox.newConnection();
  for (let i = 1; i <= 3; i++) outbox.add(reading(i));
  outbox.takeNext();
  outbox.takeNext();
  outbox.ack(99);
  assert.is(outbox.counts.ackedReadings, 2);
  assert.is(outbox.counts.bufferedReadings, 1);
  assert.equal(seqs(drain(outbox)), [3]);
});

test('a report goes out as a report on the connection its command came on, and as a batch with the same seq after that', () => {
  const outbox = new Outbox(100);
  outbox.newConnection();
  outbox.add(reading(1), 'c-1');
  assert.equal(drain(outbox), [{ type: 'report', id: 'c-1', seq: 1, readings: reading(1) }]);
  outbox.newConnection();
  assert.equal(drain(outbox), [{ type: 'batch', seq: 1, readings: reading(1) }]);
});

test('a full outbox drops the oldest message, even one in flight, and counts its readings', () => {
  const outbox = new Outbox(2);
  outbox.newConnection();
  outbox.add(reading(1));
  assert.equal(seqs(drain(outbox)), [1]);
  outbox.add(reading(2));
  outbox.add(reading(3));
  assert.equal(outbox.counts.droppedReadings, 1);
  assert.equal(seqs(drain(outbox)), [2, 3]);
  outbox.ack(3);
  assert.equal(outbox.counts, {
    sentReadings: 3,
    resentReadings: 0,
    ackedReadings: 2,
    bufferedReadings: 0,
    droppedReadings: 1,
    rejectedReadings: 0,
  });
});

test('a message the hub refused by its seq is never sent again, and its ack does not count it as stored', () => {
  const outbox = new Outbox(100);
  outbox.newConnection();
  for (let i = 1; i <= 3; i++) outbox.add(reading(i));
  drain(outbox);
  outbox.reject(2);
  assert.is(outbox.counts.rejectedReadings, 1);
  assert.is(outbox.counts.bufferedReadings, 2);
  outbox.newConnection();
  assert.equal(seqs(drain(outbox)), [1, 3]);
  outbox.ack(3);
  assert.equal(outbox.counts, {
    sentReadings: 3,
    resentReadings: 2,
    ackedReadings: 2,
    bufferedReadings: 0,
    droppedReadings: 0,
    rejectedReadings: 1,
  });
});

test('a message the hub failed to store (500) goes again under a new seq with the same readings', () => {
  const outbox = new Outbox(100);
  outbox.newConnection();
  outbox.add(reading(1));
  outbox.add(reading(2));
  drain(outbox);
  outbox.retryLater(1);
  outbox.ack(2);
  assert.is(outbox.counts.ackedReadings, 1, 'the ack covers the failed message, but does not count it as stored');
  assert.is(outbox.counts.bufferedReadings, 1);
  assert.equal(drain(outbox), [{ type: 'batch', seq: 3, readings: reading(1) }]);
  outbox.ack(3);
  assert.equal(outbox.counts, {
    sentReadings: 2,
    resentReadings: 1,
    ackedReadings: 2,
    bufferedReadings: 0,
    droppedReadings: 0,
    rejectedReadings: 0,
  });
});

test.run();
