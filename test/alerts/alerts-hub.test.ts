// docs/ALERTS.md: alerts in a running hub, on an injected clock (the hub's `now` and its alert
// timers are one FakeClock). Rules through the API; readings through the sensor port, evaluated
// once committed; events in GET /api/v1/alerts and /metrics; state across restarts in every
// state (firing, pending, cleared while down, silent); rooms.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { json, request, upload, waitFor, type RawResponse } from '../support/api-client.ts';
import { activity, asUser, DEMO_PASSWORD, expectRefused, login, seedDemo } from '../support/access-setup.ts';
import { FakeClock } from '../support/fake-clock.ts';
import { startHub, tempDataDir, type InProcessHub } from '../support/hub-process.ts';
import { connect, type TcpSensor } from '../support/tcp-sensor.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';

test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

interface Event {
  id: number;
  ts: number;
  rule: string;
  state: string;
  sensor: string;
  room: string;
  metric: string | null;
  value: number | null;
}
interface AlertsAnswer {
  firing: Event[];
  events: Event[];
  last_id: number;
}

async function hubOn(clock: FakeClock, dataDir?: string): Promise<InProcessHub> {
  return startHub({ now: clock.now, alertClock: clock, ...(dataDir ? { dataDir } : {}) });
}

function ok(res: RawResponse, what: string): RawResponse {
  if (res.status >= 300) throw new Error(`${what}: ${res.status} ${res.text.slice(0, 300)}`);
  return res;
}

async function putRule(h: InProcessHub, name: string, body: object, token?: string): Promise<RawResponse> {
  return asUser(h.httpPort, token).put(`/api/v1/alerts/rules/${encodeURIComponent(name)}`, body);
}

async function alerts(h: InProcessHub, query = '', token?: string): Promise<AlertsAnswer> {
  return json<AlertsAnswer>(ok(await asUser(h.httpPort, token).get(`/api/v1/alerts${query}`), 'GET /api/v1/alerts'));
}

/** A sensor whose readings are committed (and so evaluated) when `send` returns: the hub acks only after commit. */
async function sensor(h: InProcessHub, id: string, room: string, clock: FakeClock) {
  const s: TcpSensor = await connect(h.tcpPort);
  await s.hello(id, room);
  let seq = 0;
  let ts = 0;
  return {
    async send(metric: string, value: number) {
      seq++;
      ts = Math.max(ts + 1, clock.now()); // a repeated (sensor, metric, ts) is a duplicate, not a reading
      await s.send({ type: 'reading', metric, value, ts, seq });
      await s.ackCovering(seq);
    },
    close: () => s.close(),
  };
}

/** Lets alert time pass: the clock's timers (the alert tick) run as they fall due. */
function pass(clock: FakeClock, ms: number): void {
  for (let t = 0; t < ms; t += 1_000) clock.advance(Math.min(1_000, ms - t));
}

test('rules through the API: created, listed, refused with a reason, deleted; a rule named constructor', async () => {
  const clock = new FakeClock(Date.now());
  const h = await hubOn(clock);
  expectRefused(await request(h.httpPort, '/api/v1/alerts/rules/constructor'), 404, 'not_found');
  const created = ok(await putRule(h, 'constructor', { rule: 'temperature  > 30 for 120s clear < 29', room: 'lab' }), 'PUT');
  assert.is(created.status, 201);
  assert.equal(json(created), {
    name: 'constructor',
    rule: 'temperature > 30 for 2m clear < 29',
    room: 'lab',
    sensor: null,
    webhooks: [],
    updated_at: clock.now(),
    firing: 0,
  });
  assert.is((await putRule(h, 'constructor', { rule: 'temperature > 31' })).status, 200, 'a replace is 200');
  expectRefused(await putRule(h, 'bad', { rule: 'temperature > 30 clear > 31' }), 400, 'bad_alert_rule');
  expectRefused(await putRule(h, 'bad', { rule: 'no data for 5m', webhooks: ['ftp://x'] }), 400, 'bad_alert_rule');
  expectRefused(await putRule(h, 'bad', { rule: 'no data for 5m', sensor: 'a b' }), 400, 'bad_alert_rule');
  expectRefused(await putRule(h, 'bad', { rule: 'no data for 5m', extra: 1 }), 400, 'bad_parameter');
  expectRefused(await putRule(h, '__proto__', { rule: 'no data for 5m' }), 400, 'bad_parameter');
  const list = json<{ rules: { name: string; rule: string }[] }>(await request(h.httpPort, '/api/v1/alerts/rules'));
  assert.equal(
    list.rules.map((r) => [r.name, r.rule]),
    [['constructor', 'temperature > 31']],
  );
  assert.is((await asUser(h.httpPort).del('/api/v1/alerts/rules/constructor')).status, 200);
  expectRefused(await asUser(h.httpPort).del('/api/v1/alerts/rules/constructor'), 404, 'not_found');
  expectRefused(await asUser(h.httpPort).del('/api/v1/alerts/rules/toString'), 404, 'not_found');
});

test('a rule with for 2m fires 2 minutes after the first hot reading, not before; events and /metrics say so; hysteresis clears it', async () => {
  const clock = new FakeClock(Date.now());
  const h = await hubOn(clock);
  ok(await putRule(h, 'hot', { rule: 'temperature > 30 for 2m clear < 29', room: 'lab' }), 'PUT');
  const s = await sensor(h, 'rack1', 'lab', clock);
  await s.send('temperature', 31);
  pass(clock, 119_000);
  await s.send('temperature', 32);
  assert.equal((await alerts(h)).events, [], 'not before 2 minutes');
  pass(clock, 1_000);
  const fired = await alerts(h);
  assert.equal(
    fired.events.map((e) => [e.rule, e.state, e.sensor, e.room, e.metric, e.value]),
    [['hot', 'firing', 'rack1', 'lab', 'temperature', 32]],
  );
  assert.equal(fired.firing, fired.events);
  const metrics = (await request(h.httpPort, '/metrics')).text;
  assert.match(metrics, /roomwatch_alerts_firing\{rule="hot"\} 1\n/);
  await s.send('temperature', 29.5); // inside the hysteresis band: still firing
  await s.send('temperature', 28);
  const after = await alerts(h, `?after=${fired.last_id}`);
  assert.equal(
    after.events.map((e) => [e.state, e.value]),
    [['cleared', 28]],
  );
  assert.equal(after.firing, []);
  assert.match((await request(h.httpPort, '/metrics')).text, /roomwatch_alerts_firing\{rule="hot"\} 0\n/);
  assert.equal(
    (await alerts(h, '?state=cleared')).events.map((e) => e.state),
    ['cleared'],
  );
});

test('restart while firing: the alert is still firing and a hot reading does not fire it again', async () => {
  const clock = new FakeClock(Date.now());
  const dir = await tempDataDir();
  let h = await hubOn(clock, dir.path);
  ok(await putRule(h, 'hot', { rule: 'temperature > 30' }), 'PUT');
  let s = await sensor(h, 'rack1', 'lab', clock);
  await s.send('temperature', 31);
  await s.close();
  await h.stop();
  h = await hubOn(clock, dir.path);
  const restored = await alerts(h);
  assert.equal(
    restored.firing.map((e) => [e.rule, e.sensor, e.state]),
    [['hot', 'rack1', 'firing']],
  );
  s = await sensor(h, 'rack1', 'lab', clock);
  await s.send('temperature', 35);
  assert.is((await alerts(h)).events.length, 1, 'no second firing event');
  await s.send('temperature', 20);
  assert.equal(
    (await alerts(h)).events.map((e) => e.state),
    ['firing', 'cleared'],
  );
});

test('restart while pending: the wait starts again from the first reading after start (never fires early)', async () => {
  const clock = new FakeClock(Date.now());
  const dir = await tempDataDir();
  let h = await hubOn(clock, dir.path);
  ok(await putRule(h, 'hot', { rule: 'temperature > 30 for 2m' }), 'PUT');
  let s = await sensor(h, 'rack1', 'lab', clock);
  await s.send('temperature', 31);
  pass(clock, 90_000);
  await s.close();
  await h.stop();
  h = await hubOn(clock, dir.path);
  s = await sensor(h, 'rack1', 'lab', clock);
  await s.send('temperature', 31);
  pass(clock, 119_000);
  assert.equal((await alerts(h)).events, []);
  pass(clock, 1_000);
  assert.equal(
    (await alerts(h)).events.map((e) => e.state),
    ['firing'],
  );
});

test('restart after it cleared while the hub was down (its newest stored reading is below the clear): it clears at start', async () => {
  const clock = new FakeClock(Date.now());
  const dir = await tempDataDir();
  let h = await hubOn(clock, dir.path);
  ok(await putRule(h, 'hot', { rule: 'temperature > 30 clear < 29' }), 'PUT');
  const s = await sensor(h, 'rack1', 'lab', clock);
  await s.send('temperature', 31);
  await s.close();
  // A newer reading the engine never evaluated: uploads are history, not alerts (docs/ALERTS.md).
  const res = await upload(
    h.httpPort,
    `sensor,room,metric,value,unit,ts\nrack1,lab,temperature,25,,${new Date(clock.now() + 1_000).toISOString()}\n`,
  );
  assert.is(res.status, 200, res.text);
  assert.equal(
    (await alerts(h)).firing.map((e) => e.sensor),
    ['rack1'],
  );
  await h.stop();
  h = await hubOn(clock, dir.path);
  const answer = await alerts(h);
  assert.equal(answer.firing, []);
  assert.equal(
    answer.events.map((e) => [e.state, e.value]),
    [
      ['firing', 31],
      ['cleared', 25],
    ],
  );
});

test('no data for 5m: fires for a silent sensor, survives a restart without firing again, and clears at its next reading', async () => {
  const clock = new FakeClock(Date.now());
  const dir = await tempDataDir();
  let h = await hubOn(clock, dir.path);
  ok(await putRule(h, 'silent', { rule: 'no data for 5m', sensor: 'rack*' }), 'PUT');
  let s = await sensor(h, 'rack1', 'lab', clock);
  await s.send('temperature', 20);
  const other = await sensor(h, 'desk1', 'lab', clock);
  await other.send('temperature', 20);
  pass(clock, 299_000);
  assert.equal((await alerts(h)).events, []);
  pass(clock, 1_000);
  assert.equal(
    (await alerts(h)).events.map((e) => [e.state, e.sensor, e.metric]),
    [['firing', 'rack1', null]],
  );
  await s.close();
  await other.close();
  await h.stop();
  h = await hubOn(clock, dir.path);
  pass(clock, 600_000);
  assert.is((await alerts(h)).events.length, 1, 'still firing, not again');
  s = await sensor(h, 'rack1', 'lab', clock);
  await s.send('temperature', 21);
  assert.equal(
    (await alerts(h)).events.map((e) => e.state),
    ['firing', 'cleared'],
  );
});

test('rooms: a user sees the events of their rooms only; only admins manage rules, and their changes are in the activity log', async () => {
  const clock = new FakeClock(Date.now());
  const h = await hubOn(clock);
  ok(await putRule(h, 'hot', { rule: 'temperature > 30' }), 'PUT');
  for (const [id, room] of [
    ['a', 'server-room'],
    ['b', 'greenhouse'],
  ] as const) {
    const s = await sensor(h, id, room, clock);
    await s.send('temperature', 40);
    await s.close();
  }
  const { root, alex } = await seedDemo(h.httpPort);
  assert.equal((await alerts(h, '', root)).firing.map((e) => e.room).sort(), ['greenhouse', 'server-room']);
  const mine = await alerts(h, '', alex);
  assert.equal(
    mine.events.map((e) => e.room),
    ['server-room'],
  );
  assert.equal(
    mine.firing.map((e) => e.room),
    ['server-room'],
  );
  expectRefused(await asUser(h.httpPort, alex).get('/api/v1/alerts?room=greenhouse'), 403, 'forbidden_room');
  expectRefused(await putRule(h, 'x', { rule: 'no data for 5m' }, alex), 403, 'forbidden');
  expectRefused(await asUser(h.httpPort, alex).get('/api/v1/alerts/rules'), 403, 'forbidden');
  expectRefused(await asUser(h.httpPort).get('/api/v1/alerts'), 401, 'unauthorized');
  assert.ok((await login(h.httpPort, 'sue', DEMO_PASSWORD)).token);
  // /metrics' alert families are hub-wide: not for a user of some rooms
  assert.not.match((await asUser(h.httpPort, alex).get('/metrics')).text, /roomwatch_alerts_firing/);
  assert.match((await asUser(h.httpPort, root).get('/metrics')).text, /roomwatch_alerts_firing\{rule="hot"\} 2/);

  ok(await putRule(h, 'cold', { rule: 'temperature < 5' }, root), 'PUT as root');
  expectRefused(await putRule(h, 'bad', { rule: 'temperature >' }, root), 400, 'bad_alert_rule');
  ok(await asUser(h.httpPort, root).del('/api/v1/alerts/rules/cold'), 'DELETE as root');
  const audit = await waitFor('the rule changes in the activity log', async () => {
    const a = await activity(h.httpPort, root, '?action=alert.put,alert.delete&actor=root');
    return a.events.length >= 3 && a.events;
  });
  assert.equal(
    audit.map((e) => [e.action, e.target, e.outcome, e.code]),
    [
      ['alert.put', 'cold', 'ok', 201],
      ['alert.put', 'bad', 'failed', 400],
      ['alert.delete', 'cold', 'ok', 200],
    ],
  );
});

test.run();
