// docs/API.md "GET /api/v1/stream", limits: what one WebSocket can make the hub do is bounded.
// A flood of subscribes is cut off (error, then close 1008), a subscribe while a replay is read
// is refused without changing anything, a message over 64 KiB closes the socket (1009), one
// client may not open more than so many streams (429 before the upgrade), and replays of many
// sockets at once all arrive (they wait their turn, hub-wide), while sensors keep getting acks.
import { test } from 'uvu';
import WebSocket from 'ws';
import * as assert from 'uvu/assert';
import { expectRefused } from '../support/access-setup.ts';
import { waitFor } from '../support/api-client.ts';
import { tryUpgrade } from '../support/auth-stream.ts';
import { startHub, withTimeout } from '../support/hub-process.ts';
import { sharedHub, stopSharedHubs } from '../support/shared-hub.ts';
import { openStream, type StreamClient, type StreamReading } from '../support/stream-client.ts';
import { connect, type TcpSensor } from '../support/tcp-sensor.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';
import { tsSequence } from '../support/wire.ts';

const hub = sharedHub();
const nextTs = tsSequence();
test.after.each(() => perTest.run());
test.after(async () => {
  await stopSharedHubs();
  exitWhenDone();
});

async function sensor(id: string, room: string): Promise<TcpSensor> {
  const s = await connect((await hub()).tcpPort);
  await s.hello(id, room);
  return s;
}

async function stream(): Promise<StreamClient> {
  return openStream((await hub()).httpPort);
}

/** Stores `n` readings of `s` at ts t0.. in batches of 1000 and waits for the last ack. */
async function store(s: TcpSensor, t0: number, n: number, seq0: number): Promise<number> {
  let seq = seq0;
  for (let done = 0; done < n; done += 1000, seq++) {
    const k = Math.min(1000, n - done);
    await s.send({
      type: 'batch',
      seq,
      readings: Array.from({ length: k }, (_, i) => ({ metric: 'temperature', value: i, ts: t0 + done + i })),
    });
  }
  await s.ackCovering(seq - 1, 20_000);
  return seq;
}

/** The close code and reason the hub gave. */
function closeOf(c: StreamClient, timeoutMs = 10_000): Promise<{ code: number; reason: string }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the stream was still open after ${timeoutMs} ms`)), timeoutMs);
    c.ws.once('close', (code, reason) => {
      clearTimeout(timer);
      resolve({ code, reason: reason.toString() });
    });
  });
}

test('a flood of subscribes with replay 1000 is cut off: an error, then close 1008; sensor acks keep coming', async () => {
  const s = await sensor('sl-flood', 'sl-flood-room');
  const t0 = nextTs();
  let seq = await store(s, t0, 5_000, 1);
  const c = await stream();
  const closed = closeOf(c);
  const message = JSON.stringify({ type: 'subscribe', replay: 1000 });
  for (let i = 0; i < 2_000; i++) c.send(message);
  const { code, reason } = await closed;
  assert.is(code, 1008, `closed as a policy violation (${reason})`);
  assert.match(reason, /too many messages/);
  const refusal = c.received.find((m) => m.type === 'error' && m.code === 'too_many_messages');
  assert.ok(refusal, `the error before the close: ${JSON.stringify(c.received.filter((m) => m.type !== 'reading').slice(0, 5))}`);
  assert.match(String(refusal.message), /messages in 10 s/);
  assert.ok(c.received.filter((m) => m.type === 'subscribed').length <= 1, 'at most the first subscribe was answered');

  // The hub goes on: a sensor's reading is acked promptly, and a new stream gets it live.
  const after = await stream();
  await after.subscribe({ sensor: 'sl-flood', replay: 0 });
  const sent = performance.now();
  await s.send({ type: 'reading', metric: 'temperature', value: 1, ts: t0 + 10_000, seq });
  await s.ackCovering(seq++, 5_000);
  assert.ok(performance.now() - sent < 5_000);
  assert.is((await after.readings(1))[0]?.ts, t0 + 10_000);
});

test('a subscribe while the previous one’s replay is read is refused with replay_in_progress, and the first subscription stands', async () => {
  const a = await sensor('sl-busy-a', 'sl-busy-room');
  const b = await sensor('sl-busy-b', 'sl-busy-room');
  const t0 = nextTs();
  await store(a, t0, 1_000, 1);
  await b.send({ type: 'reading', metric: 'temperature', value: 5, ts: t0, seq: 1 });
  await b.ackCovering(1);
  const c = await stream();
  // Both in one write: the second arrives while the first's replay is still in the store.
  c.ws.send(JSON.stringify({ type: 'subscribe', sensor: 'sl-busy-a', replay: 1000 }));
  c.ws.send(JSON.stringify({ type: 'subscribe', sensor: 'sl-busy-b', replay: 10 }));
  const first = await c.next((m) => m.type === 'subscribed' || m.type === 'error');
  const second = await c.next((m) => m.type === 'subscribed' || m.type === 'error');
  const answers = [first, second].map((m) => (m.type === 'error' ? m.code : `subscribed ${JSON.stringify(m.replayed)}`)).sort();
  assert.equal(answers, ['replay_in_progress', 'subscribed 1000']);
  const replay = await c.readings(1000, 20_000);
  assert.ok(
    replay.every((r) => r.sensor === 'sl-busy-a'),
    'the replay is the first subscription’s',
  );
  // Live: b's reading does not come (the second subscribe changed nothing), a's does.
  await b.send({ type: 'reading', metric: 'temperature', value: 6, ts: t0 + 5_000, seq: 2 });
  await b.ackCovering(2);
  await a.send({ type: 'reading', metric: 'temperature', value: 7, ts: t0 + 5_000, seq: 10 });
  const live = (await c.next({ type: 'reading', ts: t0 + 5_000 })) as unknown as StreamReading;
  assert.is(live.sensor, 'sl-busy-a');
  // Once the replay is out, a new subscribe is taken.
  assert.equal(await c.subscribe({ sensor: 'sl-busy-b', replay: 10 }), { replayed: 2 });
});

test('many sockets subscribing with replay 1000 at once each get their whole replay', async () => {
  const s = await sensor('sl-many', 'sl-many-room');
  const t0 = nextTs();
  await store(s, t0, 2_000, 1);
  const clients = await Promise.all(Array.from({ length: 12 }, () => stream()));
  const replies = await Promise.all(clients.map((c) => c.subscribe({ sensor: 'sl-many', replay: 1000 }, 30_000)));
  assert.ok(
    replies.every((r) => r.replayed === 1000),
    JSON.stringify(replies),
  );
  for (const c of clients) {
    const got = await c.readings(1000, 30_000);
    assert.is(got[0]!.ts, t0 + 1_000);
    assert.is(got[999]!.ts, t0 + 1_999);
  }
});

test('beyond streamMaxConnectionsPerUser open streams, an upgrade is refused with 429 too_many_streams and Retry-After; closing one makes room', async () => {
  const h = await startHub({ streamMaxConnectionsPerUser: 3 });
  const open = await Promise.all([1, 2, 3].map(() => openStream(h.httpPort)));
  const refused = await tryUpgrade(h.httpPort);
  expectRefused(refused, 429, 'too_many_streams', 'the 4th stream');
  await open[0]!.close();
  await waitFor('room for a new stream', async () => (await tryUpgrade(h.httpPort)).status === 101);
});

test('a stream whose client answers no ping is cut; one that answers stays', async () => {
  const h = await startHub({ streamHeartbeatMs: 200 });
  const s = await connect(h.tcpPort);
  await s.hello('sl-ping', 'sl-ping-room');
  const answers = await openStream(h.httpPort);
  await answers.subscribe({ sensor: 'sl-ping', replay: 0 });
  // A peer gone without closing: it never answers a ping.
  const silent = new WebSocket(`ws://127.0.0.1:${h.httpPort}/api/v1/stream`, { autoPong: false });
  perTest.add('silent websocket', () => silent.terminate());
  const cut = new Promise<number>((resolve) => silent.once('close', (code) => resolve(code)));
  await new Promise((resolve) => silent.once('open', resolve));
  assert.is(await withTimeout(cut, 10_000, 'the silent stream cut'), 1006, 'cut, not closed: it would not answer a close either');
  const ts = nextTs();
  await s.send({ type: 'reading', metric: 'temperature', value: 1, ts, seq: 1 });
  assert.is((await answers.readings(1))[0]?.ts, ts, 'the answering stream, pinged as often, still streams');
});

test('a message over 64 KiB closes the stream with 1009 (message too big)', async () => {
  const c = await stream();
  const closed = closeOf(c);
  c.send({ type: 'subscribe', sensor: Array.from({ length: 2_000 }, (_, i) => `sl-big-${i}-${'x'.repeat(30)}`) });
  assert.is((await closed).code, 1009);
  // A subscribe with a long list under the limit is fine.
  const ok = await stream();
  assert.equal(await ok.subscribe({ sensor: Array.from({ length: 500 }, (_, i) => `sl-big-${i}`), replay: 0 }), { replayed: 0 });
});

test.run();
