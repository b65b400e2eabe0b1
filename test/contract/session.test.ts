// Contract §1 "Session rules": hello and welcome, what may come before hello, versions, a second
// hello, ping, bye, a sensor's own error message, idle connections, report-now commands.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startHub } from '../support/hub-process.ts';
import { latest, requestJson } from '../support/http.ts';
import { sharedHub, stopSharedHubs } from '../support/shared-hub.ts';
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

const errors = (received: readonly HubReply[]): HubReply[] => received.filter((m) => m.type === 'error');

test('a good hello is answered with welcome carrying v 1, the sensor id and the hub clock', async () => {
  // §1 Hub to sensor: welcome { v (1), sensor, time (hub clock) }
  const { tcpPort } = await hub();
  const s = await connect(tcpPort);
  const before = Date.now();
  const welcome = await s.hello('session-welcome', 'lab');
  const after = Date.now();
  assert.is(welcome.v, 1);
  assert.is(welcome.sensor, 'session-welcome');
  assert.ok(Number.isInteger(welcome.time), 'time is integer ms');
  assert.ok(
    (welcome.time as number) >= before - 1000 && (welcome.time as number) <= after + 1000,
    `time ${welcome.time} is now (${before}..${after})`,
  );
});

test('the welcome time is the hub clock, not the sensor machine clock', async () => {
  // §1 welcome.time is the hub clock (injected: a hub whose clock is a day behind)
  const hubNow = Date.now() - 86_400_000;
  const { tcpPort } = await startHub({ now: () => hubNow });
  const s = await connect(tcpPort);
  const welcome = await s.hello('session-clock');
  assert.is(welcome.time, hubNow);
});

test('a hello with only v and sensor (no room, token or metrics) is welcomed', async () => {
  // §1 Sensor to hub: room?, token?, metrics? are optional
  const { tcpPort } = await hub();
  const s = await connect(tcpPort);
  await s.send({ type: 'hello', v: 1, sensor: 'session-minimal' });
  assert.is((await s.next()).type, 'welcome');
});

test('a hello that declares metrics and units is welcomed', async () => {
  // §1 Sensor to hub: metrics? (array of {"metric","unit"})
  const { tcpPort } = await hub();
  const s = await connect(tcpPort);
  await s.hello('session-declares', 'lab', {
    metrics: [
      { metric: 'temperature', unit: 'C' },
      { metric: 'pressure', unit: 'hPa' },
    ],
  });
});

test('a hello with a token is welcomed by a hub that requires no tokens, and a token that is not a string gets 400', async () => {
  // §1 hello token? (401 only "where the hub requires tokens"); §1 Error codes 400: a field of the wrong type
  const { tcpPort } = await hub();
  const s = await connect(tcpPort);
  await s.send({ type: 'hello', v: 1, sensor: 'session-token', token: 42 });
  assert.is((await s.next()).code, 400);
  await s.hello('session-token', undefined, { token: 'not-needed-here' });
});

test('a reading before hello gets error 401 and is not stored', async () => {
  // §1 Session rules: a well-formed message other than hello or ping before a good hello gets 401 and is dropped
  const { tcpPort, httpPort } = await hub();
  const s = await connect(tcpPort);
  const early = nextTs();
  await s.send({ type: 'reading', metric: 'temperature', value: 99, ts: early, seq: 1 });
  assert.is((await s.next({ type: 'error' })).code, 401);
  await s.hello('session-early');
  const ts = nextTs();
  await s.send({ type: 'reading', metric: 'humidity', value: 50, ts, seq: 2 });
  await s.ackCovering(2);
  assert.equal(
    (await latest(httpPort, { sensor: 'session-early' })).map((r) => [r.metric, r.ts]),
    [['humidity', ts]],
  );
});

test('a batch, a report and a bye before hello each get error 401 and the connection stays open', async () => {
  // §1 Session rules: any well-formed message other than hello or ping before hello -> 401
  const { tcpPort } = await hub();
  const s = await connect(tcpPort);
  const messages = [
    { type: 'batch', readings: [{ metric: 'temperature', value: 1, ts: nextTs() }] },
    { type: 'report', id: 'c-1', readings: [{ metric: 'temperature', value: 1, ts: nextTs() }] },
    { type: 'bye' },
  ];
  for (const m of messages) {
    await s.send(m);
    assert.is((await s.next({ type: 'error' })).code, 401, `for ${m.type}`);
  }
  await s.hello('session-early-kinds');
});

test('a ping before hello gets a pong', async () => {
  // §1 Sensor to hub: hello must be the first message; only ping may come before it
  const { tcpPort } = await hub();
  const s = await connect(tcpPort);
  await s.send({ type: 'ping', id: 'early' });
  const pong = await s.next();
  assert.is(pong.type, 'pong');
  assert.is(pong.id, 'early');
  await s.hello('session-ping-first');
});

test('a malformed line before hello gets 400, not 401', async () => {
  // §1 Session rules: (a malformed line gets 400, as always)
  const { tcpPort } = await hub();
  const s = await connect(tcpPort);
  for (const bad of ['not json', '[]', '{"type":"nonsense"}', '{}']) {
    await s.sendRaw(bad + '\n');
    assert.is((await s.next({ type: 'error' })).code, 400, `for ${bad}`);
  }
  await s.hello('session-malformed-first');
});

test('a hello with v 2 gets error 505 and the connection is closed', async () => {
  // §1 Session rules: v other than 1 -> error 505 and close
  const { tcpPort } = await hub();
  const s = await connect(tcpPort);
  await s.send({ type: 'hello', v: 2, sensor: 'session-v2' });
  assert.is((await s.next()).code, 505);
  await s.closed();
  assert.not.ok(s.received.some((m) => m.type === 'welcome'));
});

test('a hello with v 0 gets error 505 and the connection is closed', async () => {
  // §1 Session rules: v other than 1 -> 505 and close
  const { tcpPort } = await hub();
  const s = await connect(tcpPort);
  await s.send({ type: 'hello', v: 0, sensor: 'session-v0' });
  assert.is((await s.next()).code, 505);
  await s.closed();
});

test('a hello without v, or with v not a number, gets 400 and the connection stays open for a good hello', async () => {
  // Lead decision (contract: "a field of the wrong type" is 400): v missing or not a number -> 400, stays open
  const { tcpPort } = await hub();
  const s = await connect(tcpPort);
  for (const v of [undefined, '1', null, [1]]) {
    await s.send({ type: 'hello', ...(v !== undefined ? { v } : {}), sensor: 'session-v-type' });
    assert.is((await s.next()).code, 400, `for v ${JSON.stringify(v)}`);
  }
  await s.hello('session-v-type');
});

test('a hello with an invalid sensor id gets 422 and a corrected hello on the same connection is welcomed', async () => {
  // Lead decision: invalid sensor id or room in hello -> 422, connection stays open
  const { tcpPort } = await hub();
  const s = await connect(tcpPort);
  await s.send({ type: 'hello', v: 1, sensor: 'bad sensor id' });
  assert.is((await s.next()).code, 422);
  await s.send({ type: 'hello', v: 1, sensor: 'session-room', room: 'bad/room' });
  assert.is((await s.next()).code, 422);
  const welcome = await s.hello('session-corrected', 'good-room');
  assert.is(welcome.sensor, 'session-corrected');
});

test('a hello without a sensor id, or with one that is not a string, gets 400', async () => {
  // §1 Error codes: 400 for a field of the wrong type
  const { tcpPort } = await hub();
  const s = await connect(tcpPort);
  for (const sensor of [undefined, 42, null]) {
    await s.send({ type: 'hello', v: 1, ...(sensor !== undefined ? { sensor } : {}) });
    assert.is((await s.next()).code, 400, `for sensor ${JSON.stringify(sensor)}`);
  }
  await s.hello('session-sensor-type');
});

test('a second hello on a welcomed connection gets 400 and the session goes on as the first sensor', async () => {
  // Lead decision: a second hello -> 400; contract: hello "must be the first message"
  const { tcpPort, httpPort } = await hub();
  const s = await connect(tcpPort);
  await s.hello('session-first');
  await s.send({ type: 'hello', v: 1, sensor: 'session-second' });
  assert.is((await s.next()).code, 400);
  const ts = nextTs();
  await s.send({ type: 'reading', metric: 'temperature', value: 22, ts, seq: 1 });
  await s.ackCovering(1);
  assert.equal(
    (await latest(httpPort, { sensor: 'session-first' })).map((r) => r.ts),
    [ts],
  );
  assert.equal(await latest(httpPort, { sensor: 'session-second' }), []);
});

test('ping gets pong with the hub time and the id echoed, a string or a number', async () => {
  // §1 ping { id? } -> pong { time, id? }
  const { tcpPort } = await hub();
  const s = await connect(tcpPort);
  await s.hello('session-ping');
  await s.send({ type: 'ping', id: 'abc-1' });
  const p1 = await s.next({ type: 'pong' });
  assert.is(p1.id, 'abc-1');
  assert.ok(Number.isInteger(p1.time) && Math.abs((p1.time as number) - Date.now()) < 5_000, `time ${p1.time} is the hub clock`);
  await s.send({ type: 'ping', id: 17 });
  assert.is((await s.next({ type: 'pong' })).id, 17);
});

test('ping without an id gets a pong without an id', async () => {
  // §1 ping { id? } -> pong { time, id? }
  const { tcpPort } = await hub();
  const s = await connect(tcpPort);
  await s.hello('session-ping-noid');
  await s.send({ type: 'ping' });
  const pong = await s.next({ type: 'pong' });
  assert.ok(Number.isInteger(pong.time));
  assert.is(pong.id, undefined);
});

test('the pong time is the hub clock', async () => {
  // §1 pong { time }: injected hub clock
  const hubNow = Date.now() + 3_600_000;
  const { tcpPort } = await startHub({ now: () => hubNow });
  const s = await connect(tcpPort);
  await s.send({ type: 'ping', id: 1 });
  assert.is((await s.next({ type: 'pong' })).time, hubNow);
});

test('bye makes the hub store what it has, send the last ack and close', async () => {
  // §1 bye: the hub sends its last ack and closes
  const { tcpPort, httpPort } = await startHub({ flushIntervalMs: 10_000 });
  const s = await connect(tcpPort);
  await s.hello('session-bye');
  const ts = nextTs();
  await s.sendRaw(
    line({ type: 'reading', metric: 'temperature', value: 1, ts, seq: 1 }) +
      line({ type: 'reading', metric: 'humidity', value: 2, ts, seq: 2 }) +
      line({ type: 'bye' }),
  );
  // A 10 s group-commit interval lets the hub hold the commit; bye must not wait for it.
  await s.ackCovering(2, 5_000);
  await s.closed();
  assert.equal(errors(s.received), []);
  assert.equal(
    (await latest(httpPort, { sensor: 'session-bye' })).map((r) => r.metric),
    ['humidity', 'temperature'],
  );
});

test('bye with nothing to acknowledge closes without an ack or an error', async () => {
  // §1 bye; messages without seq are never acknowledged
  const { tcpPort } = await hub();
  const s = await connect(tcpPort);
  await s.hello('session-bye-empty');
  await s.send({ type: 'bye' });
  await s.closed();
  assert.equal(
    s.received.map((m) => m.type),
    ['welcome'],
  );
});

test('an error message from the sensor that answers no command is taken without a reply', async () => {
  // §1 Sensor to hub: error { code, message, id? }
  const { tcpPort } = await hub();
  const s = await connect(tcpPort);
  await s.hello('session-sensor-error');
  await s.send({ type: 'error', code: 501, message: 'unknown command', id: 'no-such-command' });
  await s.send({ type: 'error', code: 500, message: 'my disk is full' });
  await s.sync();
  assert.equal(errors(s.received), []);
});

test('a connection with no line for idleTimeoutMs is closed by the hub', async () => {
  // Lead decision (STYLE 8: every socket gets an idle timeout): idle connections are closed
  const { tcpPort } = await startHub({ idleTimeoutMs: 500 });
  const s = await connect(tcpPort);
  await s.hello('session-idle');
  await s.closed(10_000);
});

test('a connection that says nothing at all, not even hello, is closed after idleTimeoutMs', async () => {
  // Lead decision: idle connections are closed, welcomed or not
  const { tcpPort } = await startHub({ idleTimeoutMs: 500 });
  const s = await connect(tcpPort);
  await s.closed(10_000);
});

test('a connection that keeps sending pings is not closed as idle', async () => {
  // Lead decision: idle means no line for idleTimeoutMs
  const idleTimeoutMs = 1_000;
  const { tcpPort } = await startHub({ idleTimeoutMs });
  const s = await connect(tcpPort);
  await s.hello('session-busy');
  const until = Date.now() + idleTimeoutMs * 2.5;
  while (Date.now() < until) await s.sync();
  assert.not.ok(s.isClosed);
});

test('report-now sends a command, and the report answering it is stored like a batch and acknowledged', async () => {
  // §1 command report-now -> report { id, readings, seq? } "stored like a batch"; §2 POST /api/v1/report-now
  const { tcpPort, httpPort } = await hub();
  const s = await connect(tcpPort);
  await s.hello('session-report', 'attic');
  const answer = requestJson<{ requested: number; responded: number; readings: { sensor: string; metric: string; value: number }[] }>(
    httpPort,
    'POST',
    '/api/v1/report-now',
    { sensor: 'session-report', timeout_ms: 10_000 },
  );
  answer.catch(() => {}); // awaited below; handled now so a failing test cannot crash the file
  const command = await s.next({ type: 'command' });
  assert.is(command.command, 'report-now');
  assert.type(command.id, 'string');
  const ts = nextTs();
  await s.send({
    type: 'report',
    id: command.id,
    seq: 1,
    readings: [
      { metric: 'temperature', value: 18.25, ts },
      { metric: 'humidity', value: 61, ts },
    ],
  });
  await s.ackCovering(1);
  const res = await answer;
  assert.is(res.status, 200);
  assert.is(res.body.requested, 1);
  assert.is(res.body.responded, 1);
  assert.equal(res.body.readings.map((r) => [r.sensor, r.metric, r.value]).sort(), [
    ['session-report', 'humidity', 61],
    ['session-report', 'temperature', 18.25],
  ]);
  const rows = await latest(httpPort, { sensor: 'session-report' });
  assert.equal(
    rows.map((r) => [r.metric, r.value, r.unit, r.room, r.ts]),
    [
      ['humidity', 61, '%', 'attic', ts],
      ['temperature', 18.25, 'C', 'attic', ts],
    ],
  );
  assert.equal(errors(s.received), []);
});

test('a report whose id the hub never issued gets 404 with that id, and nothing is stored', async () => {
  // Lead decision (§1 Error codes 404: a report for a command id the hub does not know)
  const { tcpPort, httpPort } = await hub();
  const s = await connect(tcpPort);
  await s.hello('session-report-404');
  await s.send({ type: 'report', id: 'never-issued', seq: 1, readings: [{ metric: 'temperature', value: 1, ts: nextTs() }] });
  const e = await s.next({ type: 'error' });
  assert.is(e.code, 404);
  assert.is(e.id, 'never-issued');
  const ts = nextTs();
  await s.send({ type: 'reading', metric: 'humidity', value: 3, ts, seq: 2 });
  await s.ackCovering(2);
  assert.equal(
    (await latest(httpPort, { sensor: 'session-report-404' })).map((r) => r.metric),
    ['humidity'],
  );
});

test('a sensor that answers report-now with error 501 stays connected', async () => {
  // §1 Sensor to hub: error, e.g. 501 for a command the sensor does not know; §2 errors in report-now
  const { tcpPort, httpPort } = await hub();
  const s = await connect(tcpPort);
  await s.hello('session-501');
  const answer = requestJson<{ responded: number; missing: string[]; errors?: { sensor: string; code: number }[] }>(
    httpPort,
    'POST',
    '/api/v1/report-now',
    {
      sensor: 'session-501',
      timeout_ms: 10_000,
    },
  );
  answer.catch(() => {}); // awaited below; handled now so a failing test cannot crash the file
  const command = await s.next({ type: 'command' });
  await s.send({ type: 'error', code: 501, message: 'report-now is not supported', id: command.id });
  const res = await answer;
  assert.is(res.status, 200);
  assert.is(res.body.responded, 0);
  assert.equal(res.body.missing, ['session-501']);
  assert.equal(
    res.body.errors?.map((e) => [e.sensor, e.code]),
    [['session-501', 501]],
  );
  await s.sync();
  assert.equal(errors(s.received), []);
});

test('the example session of the contract works as written', async () => {
  // §1 Example session, verbatim except for the command id, which the hub chooses
  const { tcpPort, httpPort } = await startHub();
  const s = await connect(tcpPort);
  await s.sendRaw('{"type":"hello","v":1,"sensor":"rack1-temp","room":"server-room"}\n');
  const welcome = await s.next();
  assert.equal([welcome.type, welcome.v, welcome.sensor], ['welcome', 1, 'rack1-temp']);
  await s.sendRaw('{"type":"reading","metric":"temperature","value":24.5,"unit":"C","ts":1763712000100,"seq":1}\n');
  await s.sendRaw('{"type":"batch","seq":2,"readings":[{"metric":"cpu_load","value":37,"unit":"%","ts":1763712000200}]}\n');
  await s.next({ type: 'ack', seq: 2 });
  const answer = requestJson<{ responded: number }>(httpPort, 'POST', '/api/v1/report-now', { sensor: 'rack1-temp', timeout_ms: 10_000 });
  answer.catch(() => {}); // awaited below; handled now so a failing test cannot crash the file
  const command = await s.next({ type: 'command' });
  assert.is(command.command, 'report-now');
  await s.sendRaw(
    `{"type":"report","id":${JSON.stringify(command.id)},"readings":[{"metric":"temperature","value":24.6,"unit":"C","ts":1763712001000}]}\n`,
  );
  assert.is((await answer).body.responded, 1);
  // The report has no seq, so no ack tells when it is stored; bye makes the hub commit it.
  await s.send({ type: 'bye' });
  await s.closed();
  assert.equal(errors(s.received), []);
  const rows = await latest(httpPort, { sensor: 'rack1-temp' });
  assert.equal(
    rows.map((r) => [r.sensor, r.room, r.metric, r.value, r.unit, r.ts]),
    [
      ['rack1-temp', 'server-room', 'cpu_load', 37, '%', 1763712000200],
      ['rack1-temp', 'server-room', 'temperature', 24.6, 'C', 1763712001000],
    ],
  );
});

test.run();
