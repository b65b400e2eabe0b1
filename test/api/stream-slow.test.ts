// Contract §2 "Live stream": "A slow client must not slow the hub or other clients". With many
// subscribers that never read, the hub holds no more than its budget for all of them together
// (roomwatch_stream_queued_bytes), closes them, and a subscriber that reads gets every reading;
// a subscriber whose socket takes nothing for streamDrainTimeoutMs is closed with 1013.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { request, waitFor } from '../support/api-client.ts';
import { startHub } from '../support/hub-process.ts';
import { find, parseExposition, value } from '../support/prometheus.ts';
import { openStream, type StreamClient } from '../support/stream-client.ts';
import { connect } from '../support/tcp-sensor.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';
import { line, tsSequence } from '../support/wire.ts';

const nextTs = tsSequence();
test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

// Long names make long messages, so a stalled socket fills after fewer readings.
const ID = 'ss-source-with-a-rather-long-sensor-name-0123456789';
const ROOM = 'ss-room-with-a-rather-long-room-name-0123456789';

async function metrics(httpPort: number): Promise<ReturnType<typeof parseExposition>> {
  const res = await request(httpPort, '/metrics');
  assert.is(res.status, 200);
  return parseExposition(res.text);
}

/** Opens `n` streams subscribed to ID, each then stalled (its socket no longer read). */
async function stalledSubscribers(httpPort: number, n: number): Promise<StreamClient[]> {
  const out: StreamClient[] = [];
  for (let i = 0; i < n; i++) {
    const c = await openStream(httpPort);
    await c.subscribe({ sensor: ID, replay: 0 });
    c.pause();
    out.push(c);
  }
  return out;
}

test('30 subscribers that never read: the hub holds at most its budget for them, closing those it cannot hold, and a reading subscriber loses nothing', async () => {
  // What waits for a stalled subscriber is held once for all of them (20 bytes a row in the
  // stream's log), so the budget bites on their sockets' unsent bytes: 30 x 64 KiB is over 1 MiB.
  const budget = 1024 * 1024;
  const { httpPort, tcpPort } = await startHub({ streamMaxQueuedBytes: budget, streamDrainTimeoutMs: 120_000 });
  const stuck = await stalledSubscribers(httpPort, 30);
  const reader = await openStream(httpPort);
  await reader.subscribe({ sensor: ID, replay: 0 });
  const s = await connect(tcpPort);
  await s.hello(ID, ROOM);
  const t0 = nextTs() - 600_000;
  const batches = 80;
  const perBatch = 1_000;
  let worstHeld = 0;
  for (let k = 0; k < batches; k++) {
    const readings = Array.from({ length: perBatch }, (_, i) => ({ metric: 't', value: i, ts: t0 + k * perBatch + i }));
    await s.sendRaw(line({ type: 'batch', seq: k + 1, readings }));
    await s.ackCovering(k + 1, 10_000);
    const got = await reader.readings(perBatch, 20_000);
    assert.is(got.at(-1)!.ts, t0 + (k + 1) * perBatch - 1, `batch ${k}: the reader is up to date`);
    const m = await metrics(httpPort);
    assert.is(find(m, 'roomwatch_stream_queued_bytes').length, 1, 'the hub exposes what it holds for subscribers');
    worstHeld = Math.max(worstHeld, value(m, 'roomwatch_stream_queued_bytes'));
    assert.ok(worstHeld <= budget, `after batch ${k} the hub holds ${worstHeld} bytes for subscribers; the budget is ${budget}`);
  }
  assert.equal(
    reader.received.filter((m) => m.type !== 'reading' && m.type !== 'subscribed'),
    [],
    'the reader was never told of a drop',
  );
  assert.is(reader.received.filter((m) => m.type === 'reading').length, batches * perBatch);

  // Over the budget the hub closed stalled subscribers (nothing else closes them within the
  // 120 s drain timeout); the ones it could hold within the budget, once they read again, are
  // told what they lost and get the newest readings, or are closed: never silently behind.
  const after = await metrics(httpPort);
  const closedByBudget = value(after, 'roomwatch_stream_closed_slow_total');
  assert.ok(closedByBudget > 0, 'the budget closed stalled subscribers');
  assert.is(value(after, 'roomwatch_stream_subscribers'), 1 + stuck.length - closedByBudget);
  const lastTs = t0 + batches * perBatch - 1;
  for (const c of stuck) c.resume();
  const outcomes = await Promise.all(
    stuck.map((c) =>
      c
        .next((m) => m.type === 'reading' && m.ts === lastTs, 20_000)
        .then(
          () => 'caught up',
          async () => `closed ${await c.closed(20_000)}`,
        ),
    ),
  );
  for (const [i, outcome] of outcomes.entries()) {
    if (outcome === 'caught up') {
      assert.ok(
        stuck[i]!.received.some((m) => m.type === 'dropped'),
        'a stalled subscriber that caught up was told what it lost',
      );
    } else assert.ok(outcome === 'closed 1013' || outcome === 'closed 1006', `closed (1013, or cut): ${outcome}`);
  }
  assert.is(outcomes.filter((o) => o !== 'caught up').length, closedByBudget, 'those the budget closed, and only those');
  assert.is(reader.closeCode, null, 'the reader stays');
});

test('a subscriber whose socket takes nothing for streamDrainTimeoutMs is closed with 1013', async () => {
  const { httpPort, tcpPort } = await startHub({ streamDrainTimeoutMs: 1_500, streamMaxQueuedMessages: 200_000 });
  const [stuck] = await stalledSubscribers(httpPort, 1);
  const s = await connect(tcpPort);
  await s.hello(ID, ROOM);
  const t0 = nextTs() - 600_000;
  // Enough to fill the socket's buffers, so readings wait in the hub.
  for (let k = 0; k < 60; k++) {
    const readings = Array.from({ length: 1_000 }, (_, i) => ({ metric: 't', value: i, ts: t0 + k * 1_000 + i }));
    await s.sendRaw(line({ type: 'batch', seq: k + 1, readings }));
    await s.ackCovering(k + 1, 10_000);
  }
  await waitFor('the stalled subscriber closed', async () => value(await metrics(httpPort), 'roomwatch_stream_closed_slow_total') === 1);
  stuck!.resume();
  // It reads what was in flight, then the close frame.
  assert.is(await stuck!.closed(20_000), 1013);
});

test.run();
