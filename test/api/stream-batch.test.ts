// docs/API.md "GET /api/v1/stream", `"batch": true` (an addition to the contract's §2 "Live
// stream", for clients that pay per message, such as the dashboard): the readings ready at once
// come as one `readings` message whose elements are exactly the reading messages a subscriber
// without it gets, in the same order; without it, the contract's one message per reading.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startHub } from '../support/hub-process.ts';
import { openStream, type StreamMessage } from '../support/stream-client.ts';
import { connect } from '../support/tcp-sensor.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';

test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

const BATCH = 2_000;

/** The reading messages of `received` after `subscribed`, batches opened up, in order. */
function readingsOf(received: readonly StreamMessage[]): StreamMessage[] {
  const out: StreamMessage[] = [];
  for (const m of received) {
    if (m.type === 'reading') out.push(m);
    if (m.type === 'readings') out.push(...(m.readings as StreamMessage[]));
  }
  return out;
}

async function until(what: string, ok: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('with batch, a replay and a burst of live readings come in a few readings messages holding exactly what a plain subscriber gets one by one', async () => {
  const h = await startHub();
  const s = await connect(h.tcpPort);
  await s.hello('batch-a', 'attic');
  const t0 = Date.now() - 60_000;
  await s.send({ type: 'batch', seq: 1, readings: [0, 1, 2].map((i) => ({ metric: 'lux', value: i, ts: t0 + i })) });
  await s.ackCovering(1);

  const plain = await openStream(h.httpPort);
  const batched = await openStream(h.httpPort);
  assert.equal(await plain.subscribe({ replay: 3 }), { replayed: 3 });
  assert.equal(await batched.subscribe({ replay: 3, batch: true }), { replayed: 3 });
  // A burst: 2,000 readings in four batches sent at once (a line holds at most 64 KiB), and one more.
  for (let b = 0; b < 4; b++) {
    const readings = Array.from({ length: BATCH / 4 }, (_, i) => ({
      metric: 'temperature',
      value: i / 10,
      ts: t0 + 10 + b * (BATCH / 4) + i,
    }));
    await s.send({ type: 'batch', seq: 2 + b, readings });
  }
  await s.send({ type: 'reading', metric: 'humidity', value: 50, ts: t0 + 10 + BATCH, seq: 6 });
  await s.ackCovering(6);
  const total = 3 + BATCH + 1;
  await until(
    'every reading at both subscribers',
    () => readingsOf(plain.received).length >= total && readingsOf(batched.received).length >= total,
  );

  const one = readingsOf(plain.received);
  const many = readingsOf(batched.received);
  assert.equal(many, one, 'the same reading messages, in the same order');
  assert.is(one.length, total, 'never a duplicate');
  assert.ok(
    plain.received.every((m) => m.type !== 'readings'),
    'a subscriber that did not ask gets the contract messages only',
  );
  const batches = batched.received.filter((m) => m.type === 'readings');
  assert.ok(
    batched.received.every((m) => m.type !== 'reading'),
    'with batch, no reading comes alone',
  );
  assert.ok(batches.length >= 1 && batches.length <= 50, `${total} readings in ${batches.length} messages`);
  await plain.close();
  await batched.close();
  await s.close();
});

test('batch must be true or false: anything else is bad_parameter, and the subscription before it stays', async () => {
  const h = await startHub();
  const c = await openStream(h.httpPort);
  assert.equal(await c.subscribe({ replay: 0, batch: false }), { replayed: 0 });
  const refused = await c.subscribeReply({ batch: 'yes' });
  assert.is(refused.type, 'error');
  assert.is(refused.code, 'bad_parameter');
  const s = await connect(h.tcpPort);
  await s.hello('batch-b', 'attic');
  await s.send({ type: 'reading', metric: 'lux', value: 7, seq: 1 });
  await s.ackCovering(1);
  const [r] = await c.readings(1);
  assert.is(r!.sensor, 'batch-b', 'the earlier subscription (batch false: one message per reading) still holds');
  await c.close();
  await s.close();
});

test.run();
