// One simulated sensor against a scripted hub on a real socket (PROTOCOL.md §1).
import net from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { backoffCeilingMs, backoffDelayMs } from './backoff.ts';
import { SIMULATED_METRICS } from './models.ts';
import { Feed, ScriptedHub, type PeerConnection, type WireObject } from './scripted-hub.ts';
import { SimulatedSensor, type SensorClientOptions, type SensorEvent } from './sensor-client.ts';

const HOUR_MS = 3_600_000;
let clockMs = Date.UTC(2025, 10, 21, 12);

const hubs: ScriptedHub[] = [];
const sensors: SimulatedSensor[] = [];

test.after.each(async () => {
  await Promise.all(sensors.splice(0).map((s) => s.stop()));
  await Promise.all(hubs.splice(0).map((h) => h.close()));
});

async function startHub(onConnection?: (peer: PeerConnection) => void): Promise<ScriptedHub> {
  const hub = await ScriptedHub.start(onConnection);
  hubs.push(hub);
  return hub;
}

/**
 * A sensor whose readings the test takes by hand (takeReading), so every seq is the test's
 * doing: its own ticks are an hour apart.
 */
function startSensor(port: number, overrides: Partial<SensorClientOptions> = {}): { sensor: SimulatedSensor; events: Feed<SensorEvent> } {
  const events = new Feed<SensorEvent>();
  const sensor = new SimulatedSensor({
    sensorId: 'test-sensor-1',
    room: 'kitchen',
    host: '127.0.0.1',
    port,
    intervalMs: HOUR_MS,
    firstTickDelayMs: HOUR_MS,
    backoff: { initialMs: 5, maxMs: 50 },
    now: () => clockMs,
    onEvent: (e) => events.add(e),
    ...overrides,
  });
  sensors.push(sensor);
  sensor.start();
  return { sensor, events };
}

const seqOf = (seq: number) => (m: WireObject) => m.seq === seq;

// §1 "Sensor to hub": hello must be the first message.
test('hello is the first message, with v 1, the sensor id, the room and the declared metrics', async () => {
  const hub = await startHub();
  startSensor(hub.port);
  const peer = await hub.nextConnection();
  const first = await peer.next();
  assert.equal(first, { type: 'hello', v: 1, sensor: 'test-sensor-1', room: 'kitchen', metrics: [...SIMULATED_METRICS] });
});

// §1 "Session rules": a hub that requires tokens reads it from hello.
test('a configured token travels in hello', async () => {
  const hub = await startHub();
  startSensor(hub.port, { token: 's3cret' });
  const hello = await (await hub.nextConnection()).next('hello');
  assert.is(hello.token, 's3cret');
});

// §1 "Session rules": only hello (or ping) before the welcome.
test('readings taken before the welcome wait for it, then follow hello in order', async () => {
  const hub = await startHub();
  const { sensor } = startSensor(hub.port);
  const peer = await hub.nextConnection();
  await peer.next('hello');
  sensor.takeReading();
  sensor.takeReading();
  assert.is(peer.messages.length, 1, 'nothing but hello before the welcome');
  peer.send({ type: 'welcome', v: 1, sensor: 'test-sensor-1', time: Date.now() });
  await peer.next('batch', seqOf(2));
  assert.equal(
    peer.messages.map((m) => [m.type, m.seq]),
    [
      ['hello', undefined],
      ['batch', 1],
      ['batch', 2],
    ],
  );
});

// §1 "Names and values": seq strictly increasing within one connection; ts set so resends are exactly-once.
test('every batch carries one reading per metric stamped by the injected clock, and a strictly increasing seq', async () => {
  const hub = await startHub();
  let tick = 0;
  const base = Date.UTC(2025, 10, 21, 8);
  startSensor(hub.port, { intervalMs: 20, firstTickDelayMs: 0, now: () => base + 1000 * tick++ });
  const peer = await hub.nextConnection();
  await peer.welcome();
  const batches: WireObject[] = [];
  for (let i = 0; i < 5; i++) batches.push(await peer.next('batch'));
  let lastSeq = 0;
  let lastTs = 0;
  for (const b of batches) {
    const seq = b.seq as number;
    assert.ok(Number.isInteger(seq) && seq > lastSeq, `seq ${seq} after ${lastSeq}`);
    lastSeq = seq;
    const readings = b.readings as { metric: string; unit: string; ts: number; value: number }[];
    assert.equal(
      readings.map((r) => [r.metric, r.unit]),
      SIMULATED_METRICS.map((m) => [m.metric, m.unit]),
    );
    const ts = readings[0]!.ts;
    assert.ok(Number.isInteger(ts) && ts >= base && (ts - base) % 1000 === 0, `ts ${ts} comes from the injected clock`);
    assert.ok(ts > lastTs, 'each batch is a new reading of the clock');
    lastTs = ts;
    for (const r of readings) assert.is(r.ts, ts);
  }
});

// §1 "Session rules": a sensor keeps every message until an ack covers it, and resends the rest after a reconnect.
test('after a reconnect the unacked messages are sent again with the same seq and ts, and acked ones are not', async () => {
  const hub = await startHub();
  const { sensor } = startSensor(hub.port);
  const first = await hub.nextConnection();
  await first.welcome();
  for (let i = 0; i < 3; i++) {
    clockMs += 1000;
    sensor.takeReading();
  }
  const third = await first.next('batch', seqOf(3));
  first.send({ type: 'ack', seq: 2 });
  first.socket.end();

  const second = await hub.nextConnection();
  await second.welcome();
  const resent = await second.next('batch');
  assert.equal(resent, third, 'the same seq, ts and values');
  clockMs += 1000;
  sensor.takeReading();
  await second.next('batch', seqOf(4));
  assert.equal(
    second.messages.map((m) => [m.type, m.seq]),
    [
      ['hello', undefined],
      ['batch', 3],
      ['batch', 4],
    ],
  );
  const s = sensor.stats;
  assert.is(s.ackedReadings, 6);
  assert.is(s.sentReadings, 12);
  assert.is(s.resentReadings, 3);
  assert.is(s.bufferedReadings, 6);
  assert.is(s.reconnects, 1);
});

// §1 "Session rules" and §2 "Report now": the hub forgets a command with its connection.
test('a report that was not acked before a reconnect is resent as a batch with the same seq and readings', async () => {
  const hub = await startHub();
  startSensor(hub.port);
  const first = await hub.nextConnection();
  await first.welcome();
  first.send({ type: 'command', id: 'c-1', command: 'report-now' });
  const report = await first.next('report');
  first.socket.end();
  const second = await hub.nextConnection();
  await second.welcome();
  const resent = await second.next();
  assert.equal(resent, { type: 'batch', seq: report.seq, readings: report.readings });
});

test('a full buffer drops the oldest messages and counts the dropped readings', async () => {
  const hub = await startHub();
  const { sensor } = startSensor(hub.port, { maxUnackedMessages: 3 });
  const peer = await hub.nextConnection();
  await peer.next('hello');
  for (let i = 0; i < 5; i++) {
    clockMs += 1000;
    sensor.takeReading();
  }
  assert.is(sensor.stats.droppedReadings, 6);
  assert.is(sensor.stats.bufferedReadings, 9);
  peer.send({ type: 'welcome', v: 1, sensor: 'test-sensor-1', time: Date.now() });
  await peer.next('batch', seqOf(5));
  assert.equal(
    peer.messages.filter((m) => m.type === 'batch').map((m) => m.seq),
    [3, 4, 5],
  );
  peer.send({ type: 'ack', seq: 5 });
  // The report comes after the ack on the same stream, so once it arrives the ack was applied.
  peer.send({ type: 'command', id: 'sync', command: 'report-now' });
  await peer.next('report');
  assert.is(sensor.stats.ackedReadings, 9);
  assert.is(sensor.stats.bufferedReadings, 3, 'only the report is waiting for its ack');
  assert.is(sensor.stats.droppedReadings, 6);
});

test('backoff: the ceiling doubles per failed attempt up to maxMs, and the delay is drawn below it (full jitter)', () => {
  const backoff = { initialMs: 250, maxMs: 30_000 };
  assert.equal(
    Array.from({ length: 10 }, (_, i) => backoffCeilingMs(i, backoff)),
    [250, 500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000],
  );
  assert.is(
    backoffDelayMs(3, backoff, () => 0),
    0,
  );
  assert.is(
    backoffDelayMs(3, backoff, () => 0.5),
    1000,
  );
  assert.is(
    backoffDelayMs(3, backoff, () => 0.999999),
    1999,
  );
  assert.is(backoffCeilingMs(10_000, backoff), 30_000);
});

// §1 "Session rules": sensors reconnect with exponential backoff and jitter.
test('reconnect attempts wait longer after each failure, and the backoff starts over after a welcome', async () => {
  let accepted = 0;
  const hub = await startHub((peer) => {
    // The first four connections fail at once; the fifth is welcomed and then dropped.
    if (++accepted <= 4) peer.socket.destroy();
  });
  const { events } = startSensor(hub.port, { backoff: { initialMs: 20, maxMs: 10_000 }, random: () => 0.999 });
  const delays: number[] = [];
  for (let i = 0; i < 4; i++) delays.push(((await events.next('backoff', (e) => e.type === 'backoff')) as { delayMs: number }).delayMs);
  assert.equal(delays, [19, 39, 79, 159]);
  const fifth = await hub.connections.next('fifth connection', (c) => hub.connections.items.indexOf(c) === 4);
  const t = hub.acceptTimesMs;
  for (let i = 0; i < 4; i++) {
    const gap = t[i + 1]! - t[i]!;
    // Timers may fire up to a millisecond early; they are never much early, but may be late on a busy machine.
    assert.ok(gap >= delays[i]! - 2, `attempt ${i + 2} came ${gap.toFixed(1)} ms after the previous, expected at least ${delays[i]} ms`);
  }
  assert.ok(t[4]! - t[3]! > t[1]! - t[0]!, 'the last wait is longer than the first');

  await fifth.welcome();
  await events.next('welcome', (e) => e.type === 'welcome');
  fifth.socket.destroy();
  const after = (await events.next('backoff after welcome', (e) => e.type === 'backoff')) as { attempt: number; delayMs: number };
  assert.equal(after, { type: 'backoff', attempt: 0, delayMs: 19 });
});

test('a refused connection is recorded and retried, and stop() ends the retrying', async () => {
  const closed = net.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', () => resolve()));
  const port = (closed.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const { sensor, events } = startSensor(port);
  await events.next('first backoff', (e) => e.type === 'backoff');
  await events.next('second backoff', (e) => e.type === 'backoff');
  assert.match(sensor.stats.lastError ?? '', /ECONNREFUSED/);
  assert.is(sensor.stats.connected, false);
  await sensor.stop();
  assert.ok(sensor.isStopped);
});

test('a hub that accepts but never welcomes is left after welcomeTimeoutMs and tried again', async () => {
  const hub = await startHub();
  const { sensor } = startSensor(hub.port, { welcomeTimeoutMs: 50 });
  const first = await hub.nextConnection();
  await first.next('hello');
  await first.closed;
  const second = await hub.nextConnection();
  await second.welcome();
  assert.match(sensor.stats.lastError ?? '', /no welcome/);
});

// §1 "Hub to sensor": command report-now.
test('report-now is answered at once with a report carrying the command id and one fresh reading per metric', async () => {
  const hub = await startHub();
  const { sensor } = startSensor(hub.port);
  const peer = await hub.nextConnection();
  await peer.welcome();
  sensor.takeReading();
  const batch = await peer.next('batch');
  clockMs += 7_000;
  peer.send({ type: 'command', id: 'c-7f3a', command: 'report-now' });
  const report = await peer.next('report');
  assert.is(report.id, 'c-7f3a');
  assert.ok((report.seq as number) > (batch.seq as number), 'the report takes the next seq');
  const readings = report.readings as { metric: string; unit: string; ts: number; value: number }[];
  assert.equal(
    readings.map((r) => [r.metric, r.unit, r.ts]),
    SIMULATED_METRICS.map((m) => [m.metric, m.unit, clockMs]),
  );
  for (const r of readings) assert.ok(Number.isFinite(r.value));
});

// §1 "Sensor to hub": error 501 for a command the sensor does not know.
test('an unknown command gets error 501 with the command id, and the connection carries on', async () => {
  const hub = await startHub();
  startSensor(hub.port);
  const peer = await hub.nextConnection();
  await peer.welcome();
  peer.send({ type: 'command', id: 'c-8', command: 'reboot' });
  const error = await peer.next('error');
  assert.is(error.code, 501);
  assert.is(error.id, 'c-8');
  assert.type(error.message, 'string');
  peer.send({ type: 'command', id: 'c-9', command: 'report-now' });
  assert.is((await peer.next('report')).id, 'c-9');
});

// §1 "Session rules": a second connection with the same id takes over; the older gets 409.
test('409 (replaced by a newer connection) stops the sensor without reconnecting', async () => {
  const hub = await startHub();
  const { sensor, events } = startSensor(hub.port);
  const peer = await hub.nextConnection();
  await peer.welcome();
  peer.send({ type: 'error', code: 409, message: 'replaced by a newer connection' });
  peer.socket.end();
  const stopped = await events.next('stopped', (e) => e.type === 'stopped');
  assert.equal(stopped, { type: 'stopped', code: 409 });
  await peer.closed;
  assert.ok(sensor.isStopped);
  assert.is(sensor.stats.stoppedByCode, 409);
  assert.match(sensor.stats.lastError ?? '', /409/);
  assert.is(events.items.filter((e) => e.type === 'backoff').length, 0, 'no reconnect was scheduled');
  sensor.takeReading();
  assert.is(sensor.stats.bufferedReadings, 0, 'a stopped sensor takes no readings');
  assert.is(hub.connections.items.length, 1);
});

// §1 "Session rules" and "Error codes": a bad token, a forbidden id or a wrong version will not get better by retrying.
test('401, 403 and 505 after hello stop the sensor without reconnecting, with the error in its stats', async () => {
  for (const code of [401, 403, 505]) {
    const hub = await startHub();
    const { sensor, events } = startSensor(hub.port);
    const peer = await hub.nextConnection();
    await peer.next('hello');
    peer.send({ type: 'error', code, message: 'no' });
    peer.socket.end();
    assert.equal(await events.next('stopped', (e) => e.type === 'stopped'), { type: 'stopped', code });
    await peer.closed;
    assert.is(sensor.stats.stoppedByCode, code);
    assert.match(sensor.stats.lastError ?? '', new RegExp(String(code)));
    assert.is(events.items.filter((e) => e.type === 'backoff').length, 0);
  }
});

// §1 "Session rules": a hub that stops sends its last ack, then 503, and closes.
test('503 (shutting down) is followed by a reconnect that resends what was not acked', async () => {
  const hub = await startHub();
  const { sensor, events } = startSensor(hub.port);
  const first = await hub.nextConnection();
  await first.welcome();
  sensor.takeReading();
  sensor.takeReading();
  await first.next('batch', seqOf(2));
  first.send({ type: 'ack', seq: 1 });
  first.send({ type: 'error', code: 503, message: 'shutting down' });
  first.socket.end();
  const second = await hub.nextConnection();
  await second.welcome();
  assert.is((await second.next('batch')).seq, 2);
  assert.ok(
    events.items.some((e) => e.type === 'backoff'),
    'the reconnect went through backoff',
  );
  assert.is(sensor.stats.stoppedByCode, null);
});

// §1 "Error codes": an error with a seq answers that message; resending it would fail the same way.
test('a message the hub refused by its seq (422) is not sent again after a reconnect', async () => {
  const hub = await startHub();
  const { sensor } = startSensor(hub.port);
  const first = await hub.nextConnection();
  await first.welcome();
  sensor.takeReading();
  sensor.takeReading();
  await first.next('batch', seqOf(2));
  first.send({ type: 'error', code: 422, message: 'reading 0: bad', seq: 1, index: 0 });
  first.socket.end();
  const second = await hub.nextConnection();
  await second.welcome();
  assert.is((await second.next('batch')).seq, 2);
  sensor.takeReading();
  await second.next('batch', seqOf(3));
  assert.equal(
    second.messages.filter((m) => m.type === 'batch').map((m) => m.seq),
    [2, 3],
  );
  assert.is(sensor.stats.rejectedReadings, 3);
});

// §1 "Session rules": the hub acks within 1 s of storing; silence means the connection is broken.
test('a connection that brings no ack within ackTimeoutMs is replaced, and what it carried is sent again', async () => {
  const hub = await startHub();
  const { sensor } = startSensor(hub.port, { ackTimeoutMs: 100 });
  const first = await hub.nextConnection();
  await first.welcome();
  sensor.takeReading();
  const batch = await first.next('batch');
  await first.closed;
  const second = await hub.nextConnection();
  await second.welcome();
  assert.equal(await second.next('batch'), batch);
  assert.match(sensor.stats.lastError ?? '', /no ack within 100 ms/);
});

// The hub's idle timeout must not close a sensor that reads rarely.
test('a ping goes out when nothing has been sent for pingIdleMs', async () => {
  const hub = await startHub();
  startSensor(hub.port, { pingIdleMs: 40 });
  const peer = await hub.nextConnection();
  await peer.welcome();
  const ping = await peer.next('ping');
  assert.equal(ping, { type: 'ping' });
});

// Backpressure: a sensor never buffers without bound in its socket.
test('when the socket pushes back the sensor waits for drain, keeps buffering, and then sends everything in order', async () => {
  const hub = await startHub();
  const { sensor, events } = startSensor(hub.port, { maxUnackedMessages: 200_000 });
  const peer = await hub.nextConnection();
  await peer.welcome();
  await events.next('welcome', (e) => e.type === 'welcome');
  await new Promise<void>((resolve) => {
    // Stop reading, so the kernel buffers fill and the sensor's socket pushes back.
    peer.socket.pause();
    setImmediate(resolve);
  });
  // Kernel buffers differ between machines: write until the socket pushes back, then some more.
  let total = 0;
  while (!sensor.stats.writeBlocked && total < 2_000_000) {
    sensor.takeReading();
    total++;
  }
  assert.ok(sensor.stats.writeBlocked, 'the socket pushed back');
  for (let i = 0; i < 1000; i++) sensor.takeReading();
  total += 1000;
  assert.ok(sensor.stats.sentReadings < total * 3, 'messages wait in the buffer instead of the socket');
  assert.is(sensor.stats.bufferedReadings, total * 3);
  peer.socket.resume();
  await peer.next('batch', seqOf(total), 60_000);
  const seqs = peer.messages.filter((m) => m.type === 'batch').map((m) => m.seq as number);
  assert.is(seqs.length, total);
  assert.ok(
    seqs.every((s, i) => s === i + 1),
    'every seq once, in order',
  );
  assert.is(sensor.stats.writeBlocked, false);
});

// Lifecycle: stop() says bye and leaves nothing behind.
test('stop() sends bye, waits for the final ack and the close, and leaves no open handles', async () => {
  const before = resourceCounts();
  const hub = await ScriptedHub.start();
  const { sensor } = startSensor(hub.port);
  const peer = await hub.nextConnection();
  peer.answerBye = false;
  await peer.welcome();
  sensor.takeReading();
  sensor.takeReading();
  await peer.next('batch', seqOf(2));
  const stopping = sensor.stop();
  await peer.next('bye');
  peer.send({ type: 'ack', seq: 2 });
  peer.socket.end();
  await stopping;
  assert.ok(sensor.isStopped);
  assert.is(sensor.stats.ackedReadings, 6, 'the final ack was read');
  assert.is(sensor.stats.bufferedReadings, 0);
  assert.is(sensor.stats.connected, false);
  await peer.closed;
  await hub.close();
  // Handles of earlier tests may still be closing, so nothing may be above the count at the start.
  const after = resourceCounts();
  for (const [kind, n] of Object.entries(after))
    assert.ok(n <= (before[kind] ?? 0), `${n} ${kind} open after stop, ${before[kind] ?? 0} before`);
});

test('stop() gives up waiting after stopTimeoutMs when the hub never answers bye', async () => {
  const hub = await startHub();
  const { sensor, events } = startSensor(hub.port, { stopTimeoutMs: 50 });
  const peer = await hub.nextConnection();
  peer.answerBye = false;
  await peer.welcome();
  await events.next('welcome', (e) => e.type === 'welcome');
  const stopping = sensor.stop();
  await peer.next('bye');
  await stopping;
  await peer.closed;
  assert.ok(sensor.isStopped);
});

test('stop() while connecting or backing off ends at once', async () => {
  const hub = await startHub((peer) => peer.socket.destroy());
  const { sensor, events } = startSensor(hub.port, { backoff: { initialMs: 10_000, maxMs: 10_000 }, random: () => 0.999 });
  await events.next('backoff', (e) => e.type === 'backoff');
  await sensor.stop();
  assert.ok(sensor.isStopped);
});

function resourceCounts(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) if (r !== 'TTYWrap' && r !== 'PipeWrap') counts[r] = (counts[r] ?? 0) + 1;
  return counts;
}

test.run();
