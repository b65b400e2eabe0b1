// Contract §1 "Acks" under failure: an ack only ever follows the commit that stored the
// message; a message the store cannot take is answered with 500 and takes no other with it;
// a store that cannot write gets 503 to its sensors, never an ack, and health says so.
// Faults are injected in the store (hub/store/store-faults.ts); the full disk is in test/faults/.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startHub } from '../support/hub-process.ts';
import { getJson, latest, sensors } from '../support/http.ts';
import { readStoredReadings } from '../support/store-inspect.ts';
import { connect, type HubReply } from '../support/tcp-sensor.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';
import { line, tsSequence } from '../support/wire.ts';
import { waitFor } from '../support/api-client.ts';

const nextTs = tsSequence();
test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

const acks = (received: readonly HubReply[]): number[] => received.filter((m) => m.type === 'ack').map((m) => m.seq as number);
const PROTOTYPE_NAMES = ['constructor', 'to_string', 'prototype', 'value_of', 'has_own_property'];

test('a metric named after a member of Object.prototype is stored with an empty unit, and every other sensor goes on', async () => {
  const { tcpPort, httpPort, stop, dataDir } = await startHub();
  const odd = await connect(tcpPort);
  await odd.hello('proto-metrics', 'lab', { metrics: [{ metric: 'constructor' }] });
  const ts = nextTs();
  let seq = 0;
  for (const metric of PROTOTYPE_NAMES) await odd.send({ type: 'reading', metric, value: 1, ts, seq: ++seq });
  await odd.ackCovering(seq);
  assert.equal(
    odd.received.filter((m) => m.type === 'error'),
    [],
  );
  const other = await connect(tcpPort);
  await other.hello('proto-bystander', 'lab');
  await other.send({ type: 'reading', metric: 'temperature', value: 20, ts, seq: 1 });
  await other.ackCovering(1);
  const rows = await latest(httpPort, { room: 'lab' });
  assert.equal(
    rows.map((r) => [r.sensor, r.metric, r.unit]).sort(),
    [...PROTOTYPE_NAMES.map((m) => ['proto-metrics', m, '']), ['proto-bystander', 'temperature', 'C']].sort(),
  );
  const health = await getJson<{ status: string }>(httpPort, '/api/v1/health');
  assert.is(health.status, 200);
  assert.is(health.body.status, 'ok');
  assert.ok((await sensors(httpPort)).some((s) => s.sensor === 'proto-metrics' && s.metrics.includes('constructor')));
  await odd.close();
  await other.close();
  await stop();
  assert.is((await readStoredReadings(dataDir)).length, PROTOTYPE_NAMES.length + 1);
});

test('a message the store cannot take is answered with 500 and the others in its commit are stored and acked', async () => {
  const { tcpPort, httpPort, stop, dataDir } = await startHub({
    storeFaults: { seed: 1, commitFailureRate: 0, commitDelayMs: 0, poisonMetric: 'poison' },
    // one commit holds everything below
    flushIntervalMs: 200,
  });
  const a = await connect(tcpPort);
  const b = await connect(tcpPort);
  await a.hello('poison-a', 'lab');
  await b.hello('poison-b', 'lab');
  const ts = nextTs();
  await a.sendRaw(
    line({ type: 'reading', metric: 'temperature', value: 1, ts, seq: 1 }) +
      line({
        type: 'batch',
        seq: 2,
        readings: [
          { metric: 'poison', value: 2, ts },
          { metric: 'humidity', value: 3, ts },
        ],
      }) +
      line({ type: 'reading', metric: 'humidity', value: 4, ts: ts + 1, seq: 3 }),
  );
  await b.send({ type: 'batch', seq: 7, readings: [{ metric: 'temperature', value: 5, ts }] });
  const refused = await a.next({ type: 'error' });
  assert.is(refused.code, 500);
  assert.is(refused.seq, 2);
  await a.ackCovering(3);
  await b.ackCovering(7);
  // the error came before any ack that covers its seq
  const order = a.received.map((m) => (m.type === 'ack' ? `ack${m.seq}` : m.type === 'error' ? `error${m.seq}` : m.type));
  const errorAt = order.indexOf('error2');
  assert.ok(
    a.received.every((m, i) => m.type !== 'ack' || (m.seq as number) < 2 || i > errorAt),
    order.join(' '),
  );
  // the hub does not loop on the poisoned rows: the next reading is stored and acked at once
  await a.send({ type: 'reading', metric: 'temperature', value: 6, ts: ts + 2, seq: 4 });
  await a.ackCovering(4);
  const health = await getJson<{ status: string }>(httpPort, '/api/v1/health');
  assert.is(health.body.status, 'ok');
  await a.close();
  await b.close();
  await stop();
  const stored = (await readStoredReadings(dataDir)).map((r) => `${r.sensor}/${r.metric}=${r.value}`).sort();
  assert.equal(stored, ['poison-a/humidity=4', 'poison-a/temperature=1', 'poison-a/temperature=6', 'poison-b/temperature=5']);
});

test('while commits fail nothing is acked; after a while sensors get 503, hellos are turned away and health is 503 with the reason', async () => {
  const { tcpPort, httpPort } = await startHub({
    storeFaults: { seed: 2, commitFailureRate: 1, commitDelayMs: 0 },
    storeUnavailableAfterMs: 300,
  });
  const s = await connect(tcpPort);
  await s.hello('failing-store', 'lab');
  const ts = nextTs();
  for (let seq = 1; seq <= 3; seq++) await s.send({ type: 'reading', metric: 'temperature', value: seq, ts: ts + seq, seq });
  const health = await waitFor('health to say the store fails', async () => {
    const h = await getJson<{ status: string; store_error?: string }>(httpPort, '/api/v1/health');
    return h.status === 503 ? h : undefined;
  });
  assert.is(health.body.status, 'store_failing');
  assert.match(String(health.body.store_error), /injected fault/);
  const closing = await s.next({ type: 'error' }, 10_000);
  assert.is(closing.code, 503);
  await s.closed();
  assert.equal(acks(s.received), []);
  const late = await connect(tcpPort);
  await late.send({ type: 'hello', v: 1, sensor: 'late-comer' });
  assert.is((await late.next({ type: 'error' })).code, 503);
  await late.closed();
});

test('a hub stopping while its store fails acks nothing it did not store, and still stops', async () => {
  const { tcpPort, stop } = await startHub({
    storeFaults: { seed: 3, commitFailureRate: 1, commitDelayMs: 0 },
    storeUnavailableAfterMs: 2_000,
  });
  const s = await connect(tcpPort);
  await s.hello('stop-failing', 'lab');
  const ts = nextTs();
  for (let seq = 1; seq <= 5; seq++) await s.send({ type: 'batch', seq, readings: [{ metric: 'temperature', value: seq, ts: ts + seq }] });
  await s.sync();
  await stop();
  await s.closed();
  assert.equal(acks(s.received), []);
  assert.ok(s.received.some((m) => m.type === 'error' && m.code === 503));
});

test('commits that fail now and then are retried: every reading is acked and stored exactly once', async () => {
  const { tcpPort, stop, dataDir } = await startHub({
    storeFaults: { seed: 4, commitFailureRate: 0.4, commitDelayMs: 0 },
    flushIntervalMs: 10,
  });
  const s = await connect(tcpPort);
  await s.hello('flaky-store', 'lab');
  const ts = nextTs();
  for (let seq = 1; seq <= 40; seq++) await s.send({ type: 'reading', metric: 'temperature', value: seq, ts: ts + seq, seq });
  await s.ackCovering(40, 20_000);
  assert.equal(
    s.received.filter((m) => m.type === 'error'),
    [],
  );
  await s.close();
  await stop();
  const values = (await readStoredReadings(dataDir)).map((r) => r.value).sort((x, y) => x - y);
  assert.equal(
    values,
    Array.from({ length: 40 }, (_, i) => i + 1),
  );
});

test('a connection that never says hello is closed with 401', async () => {
  const { tcpPort } = await startHub({ helloTimeoutMs: 300 });
  const s = await connect(tcpPort);
  await s.sendRaw(' ');
  const err = await s.next({ type: 'error' }, 5_000);
  assert.is(err.code, 401);
  assert.match(String(err.message), /no hello/);
  await s.closed();
});

test.run();
