// Contract §1 Session rules "takeover" and "Shutdown", and §3 signals: a newer connection with the
// same sensor id replaces the older; a stopping hub sends the last ack, then 503, then closes;
// kill -9 after an ack loses nothing acknowledged. The process tests run hub/main.ts for real.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startHub, startHubProcess, tempDataDir } from '../support/hub-process.ts';
import { latest } from '../support/http.ts';
import { readStoredReadings } from '../support/store-inspect.ts';
import { connect, type HubReply, type TcpSensor } from '../support/tcp-sensor.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';
import { line, tsSequence } from '../support/wire.ts';

const nextTs = tsSequence();
test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

/** A promise's error, or null when it resolves: lets a test wait on it later without an unhandled rejection. */
function settle(p: Promise<unknown>): Promise<Error | null> {
  return p.then(
    () => null,
    (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
  );
}

/** The hub's messages in order, as short labels: "ack 3", "error 503", "welcome". */
function trace(received: readonly HubReply[]): string[] {
  return received.map((m) => (m.type === 'ack' ? `ack ${m.seq}` : m.type === 'error' ? `error ${m.code}` : m.type));
}

/** Asserts the end of a session: the last ack covers `lastSeq`, then error 503 is the final message. */
function assertLastAckThen503(s: TcpSensor, lastSeq: number | undefined): void {
  const t = trace(s.received);
  assert.is(t[t.length - 1], 'error 503', `503 is the last message: ${t.join(', ')}`);
  const i503 = t.length - 1;
  const ackSeqs = s.received.filter((m) => m.type === 'ack').map((m) => m.seq as number);
  if (lastSeq === undefined) {
    assert.equal(ackSeqs, [], 'no ack when nothing had a seq');
    return;
  }
  const iLastAck = t.lastIndexOf(`ack ${lastSeq}`);
  assert.ok(iLastAck >= 0 && iLastAck < i503, `an ack of ${lastSeq} comes before the 503: ${t.join(', ')}`);
  assert.ok(Math.max(...ackSeqs) === lastSeq, `no ack beyond ${lastSeq}: ${t.join(', ')}`);
}

// ---------------------------------------------------------------- takeover

test('a second connection with the same sensor id takes over: the older gets 409 and is closed, the newer keeps working', async () => {
  // §1 Session rules: a second connection with the same sensor id takes over (409 to the older)
  const { tcpPort, httpPort } = await startHub();
  const older = await connect(tcpPort);
  await older.hello('takeover', 'hall');
  const ts = nextTs();
  await older.send({ type: 'reading', metric: 'temperature', value: 1, ts, seq: 1 });
  await older.ackCovering(1);

  const newer = await connect(tcpPort);
  await newer.hello('takeover', 'hall');
  const e = await older.next({ type: 'error' });
  assert.is(e.code, 409);
  await older.closed();

  await newer.send({ type: 'reading', metric: 'humidity', value: 2, ts, seq: 1 });
  await newer.ackCovering(1);
  await newer.sync();
  assert.not.ok(newer.isClosed);
  assert.equal(
    newer.received.filter((m) => m.type === 'error'),
    [],
  );
  assert.equal(
    (await latest(httpPort, { sensor: 'takeover' })).map((r) => [r.metric, r.value]),
    [
      ['humidity', 2],
      ['temperature', 1],
    ],
  );
});

test('a takeover leaves other sensors alone', async () => {
  // §1 Session rules: takeover is by sensor id only
  const { tcpPort } = await startHub();
  const other = await connect(tcpPort);
  await other.hello('takeover-bystander');
  const a = await connect(tcpPort);
  await a.hello('takeover-target');
  const b = await connect(tcpPort);
  await b.hello('takeover-target');
  assert.is((await a.next({ type: 'error' })).code, 409);
  await a.closed();
  await other.sync();
  assert.equal(
    other.received.filter((m) => m.type === 'error'),
    [],
  );
});

test('the sensor replaced three times over ends with only the newest connection open', async () => {
  // §1 Session rules: each newer connection replaces the one before it
  const { tcpPort } = await startHub();
  const conns: TcpSensor[] = [];
  for (let i = 0; i < 3; i++) {
    const s = await connect(tcpPort);
    await s.hello('takeover-chain');
    conns.push(s);
  }
  for (const s of conns.slice(0, 2)) {
    assert.is((await s.next({ type: 'error' })).code, 409);
    await s.closed();
  }
  await conns[2]?.sync();
});

// ---------------------------------------------------------------- shutdown, in process

test('on hub.stop() a connected sensor gets its last ack, then error 503, then the close, and the readings are stored', async () => {
  // §1 Shutdown: a hub that stops sends each sensor its last ack, then 503 ("shutting down"), and closes
  // A 10 s group-commit interval lets the hub hold the commit; stop() must not lose it.
  const { tcpPort, stop, dataDir } = await startHub({ flushIntervalMs: 10_000 });
  const s = await connect(tcpPort);
  await s.hello('shutdown-ack');
  const ts = nextTs();
  await s.sendRaw([1, 2, 3].map((seq) => line({ type: 'reading', metric: 'temperature', value: seq, ts: ts + seq, seq })).join(''));
  await s.sync(); // the hub has read all three
  const stopping = settle(stop());
  await s.closed(15_000);
  const stopError = await stopping;
  assert.ok(stopError === null, `hub.stop(): ${stopError?.message}`);
  assertLastAckThen503(s, 3);
  assert.equal(
    (await readStoredReadings(dataDir)).map((r) => r.value),
    [1, 2, 3],
  );
});

test('on hub.stop() a sensor with nothing to acknowledge gets error 503 and the close, and no ack', async () => {
  // §1 Shutdown; §1 Acks: messages without seq are never acknowledged
  const { tcpPort, stop } = await startHub();
  const s = await connect(tcpPort);
  await s.hello('shutdown-idle');
  await s.send({ type: 'reading', metric: 'temperature', value: 1, ts: nextTs() });
  await s.sync();
  const stopping = settle(stop());
  await s.closed(15_000);
  const stopError = await stopping;
  assert.ok(stopError === null, `hub.stop(): ${stopError?.message}`);
  assertLastAckThen503(s, undefined);
});

test('on hub.stop() every connected sensor gets its own last ack before its 503', async () => {
  // §1 Shutdown: "sends each sensor its last ack"
  const { tcpPort, stop, dataDir } = await startHub({ flushIntervalMs: 10_000 });
  const sensors: TcpSensor[] = [];
  const ts = nextTs();
  for (const [i, id] of ['shutdown-a', 'shutdown-b', 'shutdown-c'].entries()) {
    const s = await connect(tcpPort);
    await s.hello(id);
    const lastSeq = 10 * (i + 1);
    await s.send({ type: 'reading', metric: 'temperature', value: i, ts, seq: lastSeq });
    await s.sync();
    sensors.push(s);
  }
  const stopping = settle(stop());
  await Promise.all(sensors.map((s) => s.closed(15_000)));
  const stopError = await stopping;
  assert.ok(stopError === null, `hub.stop(): ${stopError?.message}`);
  sensors.forEach((s, i) => assertLastAckThen503(s, 10 * (i + 1)));
  assert.equal(
    (await readStoredReadings(dataDir)).map((r) => r.sensor),
    ['shutdown-a', 'shutdown-b', 'shutdown-c'],
  );
});

test('a stopped hub accepts no new connections', async () => {
  // §3: stop accepting
  const { tcpPort, stop } = await startHub();
  await stop();
  let refused = false;
  try {
    const s = await connect(tcpPort);
    // Something else may have taken the port; then it at least is not our hub answering hello.
    await s.send({ type: 'hello', v: 1, sensor: 'too-late' });
    await s.next({ type: 'welcome' }, 1_000);
  } catch {
    refused = true;
  }
  assert.ok(refused);
});

// ---------------------------------------------------------------- as a process

test('on SIGTERM the hub process sends the last ack, then 503, closes, stores everything and exits 0', async () => {
  // §1 Shutdown; §3 SIGINT/SIGTERM: stop accepting, store and acknowledge what was received, exit 0
  const dir = await tempDataDir();
  const p = await startHubProcess({ dataDir: dir.path });
  const s = await connect(p.tcpPort);
  await s.hello('sigterm', 'lab');
  const ts = nextTs();
  await s.sendRaw(
    Array.from({ length: 20 }, (_, i) => line({ type: 'reading', metric: 'temperature', value: i, ts: ts + i, seq: i + 1 })).join(''),
  );
  await s.sync();
  p.kill('SIGTERM');
  await s.closed(15_000);
  const exit = await p.exited;
  assert.equal(exit, { code: 0, signal: null }, `exit status; output:\n${p.output()}`);
  assertLastAckThen503(s, 20);
  const rows = await readStoredReadings(dir.path);
  assert.is(rows.length, 20);
  assert.ok(rows.every((r) => r.sensor === 'sigterm' && r.room === 'lab' && r.unit === 'C'));
});

test('on SIGINT the hub process stops cleanly and exits 0', async () => {
  // §3 SIGINT/SIGTERM: exit 0
  const dir = await tempDataDir();
  const p = await startHubProcess({ dataDir: dir.path });
  const s = await connect(p.tcpPort);
  await s.hello('sigint');
  await s.send({ type: 'reading', metric: 'temperature', value: 1, ts: nextTs(), seq: 1 });
  await s.sync();
  p.kill('SIGINT');
  await s.closed(15_000);
  assert.equal(await p.exited, { code: 0, signal: null }, `exit status; output:\n${p.output()}`);
  assertLastAckThen503(s, 1);
});

test('after kill -9 right after an ack, a restarted hub has every acknowledged reading, and a resend stores each reading once', async () => {
  // §1 Acks: a crash of the hub process (kill -9) after the ack loses none of it;
  // §1 Identity: resending after the reconnect gives exactly-once storage
  const dir = await tempDataDir();
  const first = await startHubProcess({ dataDir: dir.path });
  const t0 = nextTs();
  const batches = 30;
  const perBatch = 100;
  const batchLine = (k: number): string =>
    line({
      type: 'batch',
      seq: k,
      readings: Array.from({ length: perBatch }, (_, i) => ({ metric: 'temperature', value: k * 1000 + i, ts: t0 + k * perBatch + i })),
    });
  const all = Array.from({ length: batches }, (_, k) => batchLine(k + 1)).join('');

  const s = await connect(first.tcpPort);
  await s.hello('crash');
  void s.sendRaw(all);
  const ack = await s.next({ type: 'ack' }, 15_000);
  first.kill('SIGKILL'); // in the same tick as the ack arrived
  const ackedSeq = ack.seq as number;
  assert.equal(await first.exited, { code: null, signal: 'SIGKILL' });
  await s.closed();

  const second = await startHubProcess({ dataDir: dir.path });
  // Through the API of the restarted hub: the newest acknowledged reading (or a newer one) is there.
  const newestAckedTs = t0 + ackedSeq * perBatch + perBatch - 1;
  const [newest] = await latest(second.httpPort, { sensor: 'crash' });
  assert.ok(newest && newest.ts >= newestAckedTs, `latest ts ${newest?.ts} covers the acked batch ${ackedSeq} (ts ${newestAckedTs})`);

  // The sensor reconnects and resends everything, acknowledged or not.
  const again = await connect(second.tcpPort);
  await again.hello('crash');
  await again.sendRaw(all);
  await again.next({ type: 'ack', seq: batches }, 30_000);
  assert.equal(
    again.received.filter((m) => m.type === 'error'),
    [],
  );
  await again.close();
  second.kill('SIGTERM');
  assert.equal(await second.exited, { code: 0, signal: null }, `exit status; output:\n${second.output()}`);

  const rows = await readStoredReadings(dir.path);
  assert.is(rows.length, batches * perBatch, 'each reading stored exactly once');
  assert.is(new Set(rows.map((r) => r.ts)).size, batches * perBatch);
});

test('after kill -9 right after an ack, the acknowledged readings are in the store file', async () => {
  // §1 Acks: durable means in the store, read here straight from the DuckDB file after the crash
  const dir = await tempDataDir();
  const p = await startHubProcess({ dataDir: dir.path });
  const s = await connect(p.tcpPort);
  await s.hello('crash-file');
  const t0 = nextTs();
  void s.sendRaw(
    Array.from({ length: 200 }, (_, i) => line({ type: 'reading', metric: 'humidity', value: i, ts: t0 + i, seq: i + 1 })).join(''),
  );
  const ack = await s.next({ type: 'ack' }, 15_000);
  p.kill('SIGKILL');
  const ackedSeq = ack.seq as number;
  await p.exited;
  const rows = await readStoredReadings(dir.path);
  const stored = new Set(rows.map((r) => r.ts));
  const missing = Array.from({ length: ackedSeq }, (_, i) => t0 + i).filter((ts) => !stored.has(ts));
  assert.equal(missing, [], `ack ${ackedSeq} covered readings that are not in the store`);
});

test.run();
