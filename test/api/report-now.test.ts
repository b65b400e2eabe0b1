// Contract §2 "Report now: POST /api/v1/report-now": the answer's shape, sensors that answer,
// stay silent, answer with an error or freeze, overlapping rounds, filters, timeout_ms checks,
// and late reports. Sensors are raw TCP sensors that do exactly what a test says, and the
// project's SimulatedSensor for the ordinary case. One hub for the file, except where a test
// needs "no sensor connected".
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SimulatedSensor } from '../../sensors/sensor-client.ts';
import { csvRecords, errorBody, history, json, postJson, waitFor, type RawResponse } from '../support/api-client.ts';
import { latest, sensors, type LatestReading } from '../support/http.ts';
import { startHub } from '../support/hub-process.ts';
import { sharedHub, stopSharedHubs } from '../support/shared-hub.ts';
import { connect, type HubReply, type TcpSensor } from '../support/tcp-sensor.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';
import { tsSequence } from '../support/wire.ts';

const hub = sharedHub();
const nextTs = tsSequence();
test.after.each(() => perTest.run());
test.after(async () => {
  await stopSharedHubs();
  exitWhenDone();
});

/** Slack for a busy 2-core machine on top of a promised time. */
const MARGIN_MS = 3_000;

interface Answer {
  id: string;
  requested: number;
  responded: number;
  missing: string[];
  readings: LatestReading[];
  errors?: { sensor: string; code: number; message: string }[];
}

async function reportNow(port: number, body?: unknown): Promise<{ answer: Answer; ms: number; res: RawResponse }> {
  const started = performance.now();
  const res = await postJson(port, '/api/v1/report-now', body);
  const ms = performance.now() - started;
  if (res.status !== 200) throw new Error(`POST /api/v1/report-now ${JSON.stringify(body)}: ${res.status} ${res.text.slice(0, 300)}`);
  const answer = json<Answer>(res);
  assert.type(answer.id, 'string');
  assert.ok(answer.id.length > 0, 'a command id');
  assert.ok(Number.isInteger(answer.requested) && Number.isInteger(answer.responded), 'requested and responded are counts');
  assert.ok(Array.isArray(answer.missing) && Array.isArray(answer.readings), 'missing and readings are arrays');
  return { answer, ms, res };
}

/** A raw sensor, welcomed, with the given metrics declared in hello. */
async function rawSensor(id: string, room: string, metrics: string[] = ['temperature']): Promise<TcpSensor> {
  const { tcpPort } = await hub();
  const s = await connect(tcpPort);
  const units: Record<string, string> = { temperature: 'C', humidity: '%', cpu_load: '%', lux: 'lx' };
  await s.hello(id, room, { metrics: metrics.map((metric) => ({ metric, unit: units[metric] ?? '' })) });
  return s;
}

/**
 * Answers each command the sensor gets with what `reply` returns (nothing if null), until the
 * connection closes. The commands it got are in `s.received`.
 */
function answerCommands(s: TcpSensor, reply: (cmd: HubReply) => object | null): void {
  void (async () => {
    for (;;) {
      let cmd: HubReply;
      try {
        cmd = await s.next({ type: 'command' }, 600_000);
      } catch {
        return; // closed by the test's teardown
      }
      const message = reply(cmd);
      if (message) await s.send(message);
    }
  })();
}

/** A report of one reading per metric, values from `value`, ts now. */
function reporter(metrics: string[], value: (metric: string) => number = () => 20): (cmd: HubReply) => object {
  let seq = 1000;
  return (cmd) => {
    const ts = nextTs();
    return { type: 'report', id: cmd.id, seq: ++seq, readings: metrics.map((metric) => ({ metric, value: value(metric), ts })) };
  };
}

const commandIds = (s: TcpSensor): unknown[] => s.received.filter((m) => m.type === 'command').map((m) => m.id);

// ---------------------------------------------------------------- answers

test('with no sensor connected, report-now answers at once with requested 0', async () => {
  // §2 Report now: "No sensor connected: an immediate answer with requested 0"
  const { httpPort } = await startHub();
  for (const body of [undefined, {}, { timeout_ms: 20_000 }]) {
    const { answer, ms } = await reportNow(httpPort, body);
    assert.is(answer.requested, 0);
    assert.is(answer.responded, 0);
    assert.equal(answer.missing, []);
    assert.equal(answer.readings, []);
    assert.ok(ms < 1_500, `answered in ${ms.toFixed(0)} ms, not after the timeout`);
  }
});

test('simulated sensors that answer are responded, with a fresh reading of each metric, then in latest and history', async () => {
  // §2 Report now: "answers when all have reported ... each reading {sensor,room,metric,value,unit,ts}"; "The reported readings are stored"
  const { httpPort, tcpPort } = await hub();
  const sims = ['rn-sim-1', 'rn-sim-2'].map((sensorId) => {
    const s = new SimulatedSensor({ sensorId, room: 'rn-sim-room', host: '127.0.0.1', port: tcpPort, intervalMs: 3_600_000 });
    perTest.add(`simulated sensor ${sensorId}`, () => s.stop());
    s.start();
    return s;
  });
  await waitFor('both simulated sensors connected', () => sims.every((s) => s.stats.connected));
  // Their first reading (taken at start) is in; the report must be newer.
  await waitFor('the first readings stored', async () => (await latest(httpPort, { room: 'rn-sim-room' })).length === 6);
  const asked = Date.now();
  const { answer, ms } = await reportNow(httpPort, { sensor: 'rn-sim-1,rn-sim-2', timeout_ms: 10_000 });
  assert.is(answer.requested, 2);
  assert.is(answer.responded, 2);
  assert.equal(answer.missing, []);
  assert.is(answer.errors, undefined, 'no errors');
  assert.ok(ms < 10_000, `answered when all had reported (${ms.toFixed(0)} ms), not at the timeout`);
  const got = answer.readings.map((r) => `${r.sensor}/${r.metric}`).sort();
  assert.equal(got, [
    'rn-sim-1/cpu_load',
    'rn-sim-1/humidity',
    'rn-sim-1/temperature',
    'rn-sim-2/cpu_load',
    'rn-sim-2/humidity',
    'rn-sim-2/temperature',
  ]);
  for (const r of answer.readings) {
    assert.equal(Object.keys(r).sort(), ['metric', 'room', 'sensor', 'ts', 'unit', 'value']);
    assert.is(r.room, 'rn-sim-room');
    assert.type(r.value, 'number');
    assert.is(r.unit, r.metric === 'temperature' ? 'C' : '%');
    assert.ok(Number.isInteger(r.ts) && r.ts >= asked - 1_000, `a fresh ts: ${r.ts} (asked at ${asked})`);
  }
  const key = (r: LatestReading) => `${r.sensor} ${r.metric} ${r.value} ${r.unit} ${r.ts}`;
  const wanted = answer.readings.map(key).sort();
  await waitFor('the reported readings in latest', async () => {
    const now = (await latest(httpPort, { sensor: 'rn-sim-1,rn-sim-2' })).map(key).sort();
    return JSON.stringify(now) === JSON.stringify(wanted) || undefined;
  });
  await waitFor('the reported readings in history', async () => {
    const rows = csvRecords(await history(httpPort, { sensor: 'rn-sim-1,rn-sim-2', time: 'ms' })).map(
      (r) => `${r.sensor} ${r.metric} ${r.value} ${r.unit} ${r.ts}`,
    );
    return wanted.every((w) => rows.includes(w)) || undefined;
  });
});

test('once report-now has answered, the readings it returned are already in latest and history', async () => {
  // §2 Report now: "The reported readings are stored, and show in latest, history.csv and stream" — a user
  // who asks for fresh readings and then reads latest must see them
  const { httpPort } = await hub();
  const s = await rawSensor('rn-visible', 'rn-visible-room');
  answerCommands(
    s,
    reporter(['temperature'], () => 17.5),
  );
  for (let round = 0; round < 3; round++) {
    const { answer } = await reportNow(httpPort, { sensor: 'rn-visible', timeout_ms: 10_000 });
    assert.is(answer.responded, 1);
    const reported = answer.readings[0]!;
    assert.equal(
      (await latest(httpPort, { sensor: 'rn-visible' })).map((r) => r.ts),
      [reported.ts],
      `round ${round}: latest right after the answer`,
    );
    const rows = csvRecords(await history(httpPort, { sensor: 'rn-visible', time: 'ms' })).map((r) => Number(r.ts));
    assert.ok(rows.includes(reported.ts), `round ${round}: history right after the answer has ${reported.ts}: ${rows.join(',')}`);
  }
});

test('a raw sensor’s report comes back exactly, with its room and the units it declared', async () => {
  // §2 Report now: readings {sensor,room,metric,value,unit,ts}; §1 unit absent: the unit declared in hello
  const { httpPort } = await hub();
  const s = await rawSensor('rn-exact', 'rn-exact-room', ['temperature', 'lux']);
  const ts = nextTs();
  answerCommands(s, (cmd) => ({
    type: 'report',
    id: cmd.id,
    seq: 1,
    readings: [
      { metric: 'temperature', value: 21.25, ts },
      { metric: 'lux', value: 300, ts }, // no unit: the one declared in hello
    ],
  }));
  const { answer } = await reportNow(httpPort, { sensor: 'rn-exact' });
  // The contract gives no order for an answer's readings.
  assert.equal(
    [...answer.readings].sort((a, b) => (a.metric < b.metric ? -1 : 1)),
    [
      { sensor: 'rn-exact', room: 'rn-exact-room', metric: 'lux', value: 300, unit: 'lx', ts },
      { sensor: 'rn-exact', room: 'rn-exact-room', metric: 'temperature', value: 21.25, unit: 'C', ts },
    ],
  );
  assert.equal(commandIds(s), [answer.id], 'the command carried the answer’s id');
  const cmd = s.received.find((m) => m.type === 'command');
  assert.is(cmd?.command, 'report-now');
  await s.ackCovering(1);
});

test('a silent sensor is missing after timeout_ms, and the answer comes within timeout_ms and a margin', async () => {
  // §2 Report now: "answers when all have reported or the timeout has passed"
  const { httpPort } = await hub();
  const talker = await rawSensor('rn-silent-talker', 'rn-silent-room');
  answerCommands(talker, reporter(['temperature']));
  const silent = await rawSensor('rn-silent-quiet', 'rn-silent-room');
  const timeoutMs = 1_500;
  const { answer, ms } = await reportNow(httpPort, { room: 'rn-silent-room', timeout_ms: timeoutMs });
  assert.is(answer.requested, 2);
  assert.is(answer.responded, 1);
  assert.equal(answer.missing, ['rn-silent-quiet']);
  assert.equal(
    answer.readings.map((r) => r.sensor),
    ['rn-silent-talker'],
  );
  assert.ok(ms >= timeoutMs - 100, `waited for the silent one: ${ms.toFixed(0)} ms`);
  assert.ok(ms < timeoutMs + MARGIN_MS, `answered ${ms.toFixed(0)} ms after the request, timeout ${timeoutMs}`);
  assert.equal(commandIds(silent), [answer.id], 'the silent one was asked');
});

test('a sensor that answers with error 501 is missing and in errors with code 501, without waiting for the timeout', async () => {
  // §2 Report now: "A sensor that answers with an error (such as 501) is in missing and also in errors"
  const { httpPort } = await hub();
  const ok = await rawSensor('rn-501-ok', 'rn-501-room');
  answerCommands(ok, reporter(['temperature']));
  const refuser = await rawSensor('rn-501-refuser', 'rn-501-room');
  answerCommands(refuser, (cmd) => ({ type: 'error', code: 501, message: `unknown command ${String(cmd.command)}`, id: cmd.id }));
  const timeoutMs = 20_000;
  const { answer, ms } = await reportNow(httpPort, { room: 'rn-501-room', timeout_ms: timeoutMs });
  assert.is(answer.requested, 2);
  assert.is(answer.responded, 1);
  assert.equal(answer.missing, ['rn-501-refuser']);
  assert.ok(Array.isArray(answer.errors), `errors in ${JSON.stringify(answer)}`);
  assert.is(answer.errors.length, 1);
  const e = answer.errors[0]!;
  assert.is(e.sensor, 'rn-501-refuser');
  assert.is(e.code, 501);
  assert.type(e.message, 'string');
  assert.ok(ms < timeoutMs / 2, `an error is an answer: ${ms.toFixed(0)} ms`);
  // The sensor's error was not a protocol error: its connection stays.
  await refuser.sync();
});

test('a frozen sensor (a socket that never reads) does not hold the others beyond the timeout', async () => {
  // §2 Report now: answer when all reported or the timeout passed; STYLE 7: a frozen peer never stalls the rest
  const { httpPort } = await hub();
  const answering = await Promise.all(['rn-frozen-a', 'rn-frozen-b'].map((id) => rawSensor(id, 'rn-frozen-room')));
  for (const s of answering) answerCommands(s, reporter(['temperature']));
  const frozen = await rawSensor('rn-frozen-ice', 'rn-frozen-room');
  frozen.socket.pause();
  const timeoutMs = 1_500;
  for (let round = 0; round < 3; round++) {
    const { answer, ms } = await reportNow(httpPort, { room: 'rn-frozen-room', timeout_ms: timeoutMs });
    assert.is(answer.responded, 2, `round ${round}`);
    assert.equal(answer.readings.map((r) => r.sensor).sort(), ['rn-frozen-a', 'rn-frozen-b']);
    assert.ok(
      answer.missing.includes('rn-frozen-ice') || answer.requested === 2,
      `the frozen one is missing or was dropped: ${JSON.stringify(answer)}`,
    );
    assert.ok(ms < timeoutMs + MARGIN_MS, `round ${round} answered after ${ms.toFixed(0)} ms`);
  }
});

test('two overlapping report-now requests each get their own id and their own complete answer', async () => {
  // §2 Report now: each request is answered with its own id, requested, responded and readings
  const { httpPort } = await hub();
  const ids = ['rn-overlap-a', 'rn-overlap-b'];
  const ss = await Promise.all(ids.map((id) => rawSensor(id, 'rn-overlap-room')));
  // Each sensor answers only once it has both commands, so neither request can end before
  // both were sent; the value says which command a reading answers.
  ss.forEach((s, k) => {
    void (async () => {
      try {
        const first = await s.next({ type: 'command' }, 30_000);
        const second = await s.next({ type: 'command' }, 30_000);
        for (const [i, cmd] of [first, second].entries()) {
          await s.send({
            type: 'report',
            id: cmd.id,
            seq: i + 1,
            readings: [{ metric: 'temperature', value: 100 * (k + 1) + i, ts: nextTs() }],
          });
        }
      } catch {
        // teardown
      }
    })();
  });
  const [one, two] = await Promise.all([
    reportNow(httpPort, { room: 'rn-overlap-room', timeout_ms: 15_000 }),
    reportNow(httpPort, { room: 'rn-overlap-room', timeout_ms: 15_000 }),
  ]);
  assert.is.not(one.answer.id, two.answer.id);
  for (const { answer, ms } of [one, two]) {
    assert.is(answer.requested, 2);
    assert.is(answer.responded, 2);
    assert.equal(answer.missing, []);
    assert.equal(
      answer.readings.map((r) => r.sensor),
      ids,
    );
    assert.ok(ms < 15_000, `complete before the timeout: ${ms.toFixed(0)} ms`);
  }
  // Readings went to the round whose command they answered.
  for (const [k, s] of ss.entries()) {
    const cmds = s.received.filter((m) => m.type === 'command').map((m) => m.id);
    assert.is(cmds.length, 2);
    for (const { answer } of [one, two]) {
      const i = cmds.indexOf(answer.id);
      assert.ok(i >= 0, `${ids[k]} got the command of ${answer.id}`);
      assert.is(answer.readings.find((r) => r.sensor === ids[k])?.value, 100 * (k + 1) + i);
    }
  }
});

test('filters choose which connected sensors get the command: room, sensor (also as an array), metric, together', async () => {
  // §2 Filters on report-now: "all given filters must match"; "sends command report-now to every connected sensor that matches"
  const { httpPort } = await hub();
  const spec: [string, string, string][] = [
    ['rn-f-a', 'rn-f-r1', 'temperature'],
    ['rn-f-b', 'rn-f-r2', 'humidity'],
    ['rn-f-c', 'rn-f-r1', 'humidity'],
  ];
  const ss = new Map<string, TcpSensor>();
  for (const [id, room, metric] of spec) {
    const s = await rawSensor(id, room, [metric]);
    await s.send({ type: 'reading', metric, value: 1, ts: nextTs(), seq: 1 });
    await s.ackCovering(1);
    answerCommands(s, reporter([metric]));
    ss.set(id, s);
  }
  const rounds: [object, string[]][] = [
    [{ room: 'rn-f-r1' }, ['rn-f-a', 'rn-f-c']],
    [{ room: 'rn-f-r1,rn-f-r2' }, ['rn-f-a', 'rn-f-b', 'rn-f-c']],
    [{ sensor: ['rn-f-a', 'rn-f-b'] }, ['rn-f-a', 'rn-f-b']],
    [{ sensor: 'rn-f-b' }, ['rn-f-b']],
    [{ sensor: 'rn-f-a,rn-f-b,rn-f-c', metric: 'humidity' }, ['rn-f-b', 'rn-f-c']],
    [{ room: 'rn-f-r1', metric: ['humidity'] }, ['rn-f-c']],
    [{ room: 'rn-f-r2', sensor: 'rn-f-a' }, []],
  ];
  for (const [filters, expected] of rounds) {
    const { answer } = await reportNow(httpPort, { ...filters, timeout_ms: 10_000 });
    const what = JSON.stringify(filters);
    assert.is(answer.requested, expected.length, `${what}: requested`);
    assert.is(answer.responded, expected.length, `${what}: responded`);
    assert.equal([...new Set(answer.readings.map((r) => r.sensor))].sort(), expected, `${what}: readings`);
    for (const [id, s] of ss) {
      await s.sync();
      assert.is(commandIds(s).includes(answer.id), expected.includes(id), `${what}: ${id} got the command?`);
    }
  }
});

test('a bad timeout_ms, filter or body is a 400 with the error body', async () => {
  // §2 Report now: "timeout_ms (an integer, default 2000, 0 to 30000; anything else: 400)"
  const { httpPort } = await hub();
  const bad: unknown[] = [
    { timeout_ms: -1 },
    { timeout_ms: 30_001 },
    { timeout_ms: 1.5 },
    { timeout_ms: 'x' },
    { timeout_ms: '1000' },
    { timeout_ms: true },
    { timeout_ms: [1000] },
    { sensor: 'bad/id' },
    { room: 'a room' },
    { metric: 'Temp' },
    { sensor: [1, 2] },
    [1, 2],
  ];
  for (const body of bad) {
    const res = await postJson(httpPort, '/api/v1/report-now', body);
    assert.is(res.status, 400, `${JSON.stringify(body)}: ${res.text.slice(0, 200)}`);
    errorBody(res);
  }
  // The bounds themselves are good.
  for (const timeout_ms of [0, 30_000]) {
    const { answer } = await reportNow(httpPort, { sensor: 'rn-nobody', timeout_ms });
    assert.is(answer.requested, 0);
  }
});

test('timeout_ms: null is refused like any other value that is not an integer', async () => {
  // §2 Report now: "timeout_ms (an integer, default 2000, 0 to 30000; anything else: 400)": null is given, and not an integer
  const { httpPort } = await hub();
  const res = await postJson(httpPort, '/api/v1/report-now', { sensor: 'rn-nobody', timeout_ms: null });
  assert.is(res.status, 400, res.text.slice(0, 200));
  errorBody(res);
});

test('a report that comes after the timeout is stored and acknowledged, not refused', async () => {
  // §2 Report now: "The reported readings are stored"; §1 404 is for "a command id the hub does not know"
  const { httpPort } = await hub();
  const late = await rawSensor('rn-late', 'rn-late-room');
  const { answer } = await reportNow(httpPort, { sensor: 'rn-late', timeout_ms: 300 });
  assert.equal(answer.missing, ['rn-late']);
  const cmd = await late.next({ type: 'command' });
  assert.is(cmd.id, answer.id);
  const ts = nextTs();
  await late.send({ type: 'report', id: cmd.id, seq: 7, readings: [{ metric: 'temperature', value: 19.5, ts }] });
  await late.ackCovering(7);
  assert.equal(
    late.received.filter((m) => m.type === 'error'),
    [],
    'no error for a late report',
  );
  assert.equal(
    (await latest(httpPort, { sensor: 'rn-late' })).map((r) => [r.value, r.ts]),
    [[19.5, ts]],
  );
  assert.equal(
    csvRecords(await history(httpPort, { sensor: 'rn-late', time: 'ms' })).map((r) => [r.value, Number(r.ts)]),
    [['19.5', ts]],
  );
});

test('report-now does not disturb the sensors list: the asked sensors stay connected', async () => {
  // §2 sensors: connected; a command round is not a reason to drop a sensor that answered
  const { httpPort } = await hub();
  const s = await rawSensor('rn-stays', 'rn-stays-room');
  answerCommands(s, reporter(['temperature']));
  await reportNow(httpPort, { sensor: 'rn-stays' });
  await s.sync();
  assert.is((await sensors(httpPort)).find((x) => x.sensor === 'rn-stays')?.connected, true);
});

test('an unknown body field is refused with 400, so a typo never asks every sensor', async () => {
  const { httpPort } = await hub();
  const res = await postJson(httpPort, '/api/v1/report-now', { sensors: 'one-sensor' });
  assert.is(res.status, 400, res.text);
  assert.is(errorBody(res).code, 'bad_parameter');
  assert.match(errorBody(res).message, /sensors/);
});

test.run();
