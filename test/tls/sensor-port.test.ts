// docs/ADMIN.md "TLS" on the sensor port: with a certificate and key the hub speaks the same
// sensor protocol (PROTOCOL.md §1) inside TLS, and only inside TLS. Certificates are made with
// openssl for this run (test/support/certs.ts); real sockets on 127.0.0.1, port 0.
import type { TLSSocket } from 'node:tls';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SimulatedSensor, type SensorEvent } from '../../sensors/sensor-client.ts';
import { makeTestPki } from '../support/certs.ts';
import { startHub, withTimeout } from '../support/hub-process.ts';
import { getJsonTls } from '../support/https.ts';
import { sharedHub, stopSharedHubs } from '../support/shared-hub.ts';
import { openStream } from '../support/stream-client.ts';
import { connect } from '../support/tcp-sensor.ts';
import { Teardown, exitWhenDone, perTest } from '../support/teardown.ts';

const fileScope = new Teardown();
const pki = makeTestPki(fileScope);
const hub = sharedHub({ tlsCertFile: pki.certFile, tlsKeyFile: pki.keyFile });

test.after.each(() => perTest.run());
test.after(async () => {
  await stopSharedHubs();
  await fileScope.run();
  exitWhenDone();
});

const WAIT_MS = 10_000;
let nextTs = Date.now() - 60_000;

interface Latest {
  readings: { sensor: string; metric: string; value: number; ts: number }[];
}
interface Sensors {
  sensors: { sensor: string; connected: boolean }[];
}

/** A simulated sensor whose events can be awaited; stopped by the test's teardown. */
function simulator(sensorId: string, port: number, tls: { ca?: Buffer }) {
  const events: SensorEvent[] = [];
  const waiters: { match: (e: SensorEvent) => boolean; resolve: (e: SensorEvent) => void }[] = [];
  const sensor = new SimulatedSensor({
    sensorId,
    room: 'server-room',
    host: '127.0.0.1',
    port,
    intervalMs: 50,
    tls,
    backoff: { initialMs: 50, maxMs: 200 },
    onEvent: (e) => {
      events.push(e);
      const i = waiters.findIndex((w) => w.match(e));
      if (i >= 0) waiters.splice(i, 1)[0]?.resolve(e);
    },
  });
  perTest.add(`simulated sensor ${sensorId}`, () => sensor.stop());
  const next = (what: string, match: (e: SensorEvent) => boolean): Promise<SensorEvent> => {
    const seen = events.find(match);
    if (seen) return Promise.resolve(seen);
    const waiting = new Promise<SensorEvent>((resolve) => waiters.push({ match, resolve }));
    return withTimeout(waiting, WAIT_MS, `${sensorId}: ${what} (events so far: ${JSON.stringify(events.slice(-5))})`);
  };
  return { sensor, events, next };
}

test('a hub with a certificate accepts a TLS sensor: hello, welcome, a reading and its ack [§1 Example session]', async () => {
  const { tcpPort, httpPort } = await hub();
  const s = await connect(tcpPort, '127.0.0.1', perTest, { tls: { ca: pki.ca } });
  assert.ok((s.socket as TLSSocket).authorized, 'the hub certificate was verified against the test CA');
  const welcome = await s.hello('tls-raw-1', 'server-room');
  assert.is(welcome.sensor, 'tls-raw-1');
  const ts = ++nextTs;
  await s.send({ type: 'reading', metric: 'temperature', value: 24.5, unit: 'C', ts, seq: 1 });
  await s.ackCovering(1, WAIT_MS);
  const latest = await getJsonTls<Latest>(httpPort, '/api/v1/latest?sensor=tls-raw-1', pki.ca);
  assert.equal(
    latest.body.readings.map((r) => [r.metric, r.value, r.ts]),
    [['temperature', 24.5, ts]],
  );
});

test('the simulator with tls and the CA stores its readings: seen live over wss and in latest over https', async () => {
  const { tcpPort, httpPort } = await hub();
  const stream = await openStream(httpPort, perTest, { ca: pki.ca });
  await stream.subscribe({ sensor: 'tls-sim-1', replay: 0 });
  const { sensor, next } = simulator('tls-sim-1', tcpPort, { ca: pki.ca });
  sensor.start();
  await next('welcome', (e) => e.type === 'welcome');
  const live = await stream.readings(3, WAIT_MS);
  assert.equal([...new Set(live.map((r) => r.metric))].sort(), ['cpu_load', 'humidity', 'temperature']);
  await sensor.stop(); // bye: the final ack covers everything sent
  assert.ok(sensor.stats.ackedReadings >= 3, `acked ${sensor.stats.ackedReadings}`);
  assert.is(sensor.stats.bufferedReadings, 0, 'nothing left unacknowledged');
  const latest = await getJsonTls<Latest>(httpPort, '/api/v1/latest?sensor=tls-sim-1', pki.ca);
  assert.equal(
    latest.body.readings.map((r) => r.metric),
    ['cpu_load', 'humidity', 'temperature'],
  );
});

test('a plain TCP client on the TLS port gets no answer, has nothing stored, and the hub keeps serving', async () => {
  const { tcpPort, httpPort } = await hub();
  const plain = await connect(tcpPort);
  await plain.send({ type: 'hello', v: 1, sensor: 'tls-plain-1' });
  await plain.send({ type: 'reading', metric: 'temperature', value: 1, ts: ++nextTs, seq: 1 });
  await plain.closed(WAIT_MS);
  assert.is(plain.received.length, 0, 'not one protocol message in the clear');

  const s = await connect(tcpPort, '127.0.0.1', perTest, { tls: { ca: pki.ca } });
  await s.hello('tls-after-plain', 'server-room');
  await s.sync(WAIT_MS);
  const sensors = await getJsonTls<Sensors>(httpPort, '/api/v1/sensors', pki.ca);
  const ids = sensors.body.sensors.map((x) => x.sensor);
  assert.ok(ids.includes('tls-after-plain'), 'the TLS sensor is known');
  assert.not.ok(ids.includes('tls-plain-1'), 'the plain one is not');
  const latest = await getJsonTls<Latest>(httpPort, '/api/v1/latest?sensor=tls-plain-1', pki.ca);
  assert.equal(latest.body.readings, []);
});

test('a sensor that trusts another CA fails the handshake and is never connected', async () => {
  const { tcpPort, httpPort } = await hub();
  const raw = await connect(tcpPort, '127.0.0.1', perTest, { tls: { ca: pki.otherCa } }).then(
    () => undefined,
    (err: NodeJS.ErrnoException) => err,
  );
  assert.is(raw?.code, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', `raw TLS client: ${String(raw)}`);

  const { sensor, next } = simulator('tls-wrong-ca', tcpPort, { ca: pki.otherCa });
  sensor.start();
  const failed = await next('tls-error', (e) => e.type === 'tls-error');
  assert.equal(failed, { type: 'tls-error', code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', message: 'unable to verify the first certificate' });
  await next('backoff: it retries, as the certificate may be fixed', (e) => e.type === 'backoff');
  assert.is(sensor.stats.connected, false);
  assert.match(sensor.stats.lastError ?? '', /TLS handshake with 127\.0\.0\.1:\d+ failed/);
  await sensor.stop();
  const sensors = await getJsonTls<Sensors>(httpPort, '/api/v1/sensors', pki.ca);
  assert.not.ok(
    sensors.body.sensors.some((x) => x.sensor === 'tls-wrong-ca'),
    'the hub never heard its hello',
  );
});

test("a sensor without a CA checks the hub against Node's default store, which does not hold a self-made CA", async () => {
  const { tcpPort } = await hub();
  const { sensor, next } = simulator('tls-no-ca', tcpPort, {});
  sensor.start();
  const failed = await next('tls-error', (e) => e.type === 'tls-error');
  assert.is((failed as { code?: string }).code, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  assert.is(sensor.stats.connected, false);
});

test('a certificate for another name is refused by a sensor that connects to 127.0.0.1', async () => {
  const other = await startHub({ tlsCertFile: pki.wrongNameCertFile, tlsKeyFile: pki.wrongNameKeyFile });
  const { sensor, next } = simulator('tls-wrong-name', other.tcpPort, { ca: pki.ca });
  sensor.start();
  const failed = await next('tls-error', (e) => e.type === 'tls-error');
  assert.is((failed as { code?: string }).code, 'ERR_TLS_CERT_ALTNAME_INVALID');
});

test('a connection that never starts its handshake is dropped at the idle timeout', async () => {
  const quick = await startHub({ tlsCertFile: pki.certFile, tlsKeyFile: pki.keyFile, idleTimeoutMs: 300 });
  const silent = await connect(quick.tcpPort);
  await silent.closed(WAIT_MS);
  assert.is(silent.received.length, 0);
  // and the port still serves
  const s = await connect(quick.tcpPort, '127.0.0.1', perTest, { tls: { ca: pki.ca } });
  await s.hello('tls-after-silent');
});

test.run();
