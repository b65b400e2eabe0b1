// docs/ADMIN.md "Users, roles and rooms": rooms scope everything a user sees or does, whatever
// the role. The demo users (alex viewer: living-room, server-room; sandy operator: greenhouse,
// server-room; sue admin: all three) on one hub with a raw TCP sensor in each room: alex must
// not see greenhouse through any route, sandy's report-now and uploads stay in her rooms.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { csvRecords, csvRows, json, type RawResponse } from '../support/api-client.ts';
import { asUser, expectRefused, putUser, login, seedDemo, startAccessHub, type DemoTokens } from '../support/access-setup.ts';
import { openStreamAs } from '../support/auth-stream.ts';
import type { InProcessHub } from '../support/hub-process.ts';
import { parseExposition } from '../support/prometheus.ts';
import type { LatestReading, SensorInfo } from '../support/http.ts';
import { connect, type HubReply, type TcpSensor } from '../support/tcp-sensor.ts';
import { exitWhenDone, perTest, Teardown } from '../support/teardown.ts';
import { tsSequence } from '../support/wire.ts';

const fileScope = new Teardown();
const nextTs = tsSequence();
test.after.each(() => perTest.run());
test.after(async () => {
  await fileScope.run();
  exitWhenDone();
});

let seqCounter = 0;
const nextSeq = (): number => ++seqCounter;

const LR = 'rs-lr-1';
const GH = 'rs-gh-1';
const SR = 'rs-sr-1';

interface Setup {
  h: InProcessHub;
  lr: TcpSensor;
  gh: TcpSensor;
  sr: TcpSensor;
  users: DemoTokens;
}

/** Sends one reading with a fresh seq and waits for the ack covering it (the reading is stored then). */
async function sendReading(s: TcpSensor, metric: string, value: number, ts = nextTs()): Promise<number> {
  const seq = nextSeq();
  await s.send({ type: 'reading', metric, value, unit: metric === 'temperature' ? 'C' : '%', ts, seq });
  await s.ackCovering(seq);
  return ts;
}

/** Answers every report-now command with one temperature reading, until the connection closes. */
function answerCommands(s: TcpSensor, value: number): void {
  void (async () => {
    for (;;) {
      let cmd: HubReply;
      try {
        cmd = await s.next({ type: 'command' }, 600_000);
      } catch {
        return;
      }
      await s.send({ type: 'report', id: cmd.id, seq: nextSeq(), readings: [{ metric: 'temperature', value, unit: 'C', ts: nextTs() }] });
    }
  })();
}

let starting: Promise<Setup> | undefined;
function setup(): Promise<Setup> {
  return (starting ??= (async () => {
    const h = await startAccessHub({}, fileScope);
    // No users and no tokens yet: the sensor port and the API are open.
    const sensor = async (id: string, room: string, value: number) => {
      const s = await connect(h.tcpPort, '127.0.0.1', fileScope);
      await s.hello(id, room, { metrics: [{ metric: 'temperature', unit: 'C' }] });
      await sendReading(s, 'temperature', value);
      answerCommands(s, value + 0.5);
      return s;
    };
    const lr = await sensor(LR, 'living-room', 21);
    const gh = await sensor(GH, 'greenhouse', 28);
    const sr = await sensor(SR, 'server-room', 35);
    const users = await seedDemo(h.httpPort);
    return { h, lr, gh, sr, users };
  })());
}

async function latestAs(token: string, query = ''): Promise<LatestReading[]> {
  const { h } = await setup();
  const res = await asUser(h.httpPort, token).get(`/api/v1/latest${query}`);
  assert.is(res.status, 200, `latest${query}: ${res.text.slice(0, 200)}`);
  return json<{ readings: LatestReading[] }>(res).readings;
}

async function historyAs(token: string, query = ''): Promise<RawResponse> {
  const { h } = await setup();
  return asUser(h.httpPort, token).get(`/api/v1/history.csv${query}`);
}

const rooms = (rows: { room?: string }[]): string[] => [...new Set(rows.map((r) => String(r.room)))].sort();

// ---------------------------------------------------------------- latest, sensors, history

test('latest shows alex only readings of his rooms; sue sees all three', async () => {
  // ADMIN.md: "latest ... hold only readings taken in the user's rooms"
  const { users } = await setup();
  const alex = await latestAs(users.alex);
  assert.equal(rooms(alex), ['living-room', 'server-room']);
  assert.ok(alex.some((r) => r.sensor === LR) && alex.some((r) => r.sensor === SR), 'his sensors are there');
  assert.not.ok(
    alex.some((r) => r.sensor === GH),
    'no greenhouse sensor',
  );
  assert.equal(rooms(await latestAs(users.sue)), ['greenhouse', 'living-room', 'server-room']);
});

test('latest with a room filter outside alex’s rooms answers 403 forbidden_room, even mixed with one of his', async () => {
  // ADMIN.md: "A filter that names a room outside them answers 403 (forbidden_room), so a typo never looks like an empty room"
  const { h, users } = await setup();
  const alex = asUser(h.httpPort, users.alex);
  expectRefused(await alex.get('/api/v1/latest?room=greenhouse'), 403, 'forbidden_room', 'room=greenhouse');
  expectRefused(await alex.get('/api/v1/latest?room=living-room,greenhouse'), 403, 'forbidden_room', 'room=living-room,greenhouse');
  expectRefused(await alex.get('/api/v1/latest?room=no-such-room'), 403, 'forbidden_room', 'a room that does not exist');
  assert.equal(rooms(await latestAs(users.alex, '?room=living-room')), ['living-room']);
});

test('latest filtered on a greenhouse sensor gives alex nothing', async () => {
  // ADMIN.md: rooms scope latest; a sensor filter is not a room filter: it just matches nothing he may see
  const { users } = await setup();
  assert.equal(await latestAs(users.alex, `?sensor=${GH}`), []);
  assert.equal(rooms(await latestAs(users.alex, `?sensor=${GH},${LR}`)), ['living-room']);
  assert.is((await latestAs(users.sue, `?sensor=${GH}`)).length, 1, 'sue sees it');
});

test('sensors lists for alex only the sensors whose current room is one of his', async () => {
  // ADMIN.md: "sensors lists only sensors whose current room is one of them"
  const { h, users } = await setup();
  const res = await asUser(h.httpPort, users.alex).get('/api/v1/sensors');
  assert.is(res.status, 200);
  const list = json<{ sensors: SensorInfo[] }>(res).sensors;
  const ids = list.map((s) => s.sensor);
  assert.ok(ids.includes(LR) && ids.includes(SR), `his sensors: ${ids.join(', ')}`);
  assert.not.ok(ids.includes(GH), 'no greenhouse sensor');
  assert.not.ok(
    list.some((s) => s.room === 'greenhouse'),
    'no sensor in greenhouse',
  );
  const sue = json<{ sensors: SensorInfo[] }>(await asUser(h.httpPort, users.sue).get('/api/v1/sensors')).sensors;
  assert.ok(
    sue.some((s) => s.sensor === GH),
    'sue sees it',
  );
});

test('history.csv gives alex no greenhouse row; a greenhouse room filter is 403 before any CSV', async () => {
  // ADMIN.md: history.csv holds only readings taken in the user's rooms; a room filter outside them: 403 forbidden_room
  const { users } = await setup();
  const all = await historyAs(users.alex);
  assert.is(all.status, 200, all.text.slice(0, 200));
  const rows = csvRecords(all.text);
  assert.equal(rooms(rows), ['living-room', 'server-room']);
  assert.not.ok(
    rows.some((r) => r.sensor === GH),
    'no greenhouse sensor row',
  );

  const refused = await historyAs(users.alex, '?room=greenhouse');
  expectRefused(refused, 403, 'forbidden_room');
  assert.match(String(refused.headers['content-type']), /json/, 'an error body, not CSV');

  const bySensor = await historyAs(users.alex, `?sensor=${GH}`);
  assert.is(bySensor.status, 200);
  assert.equal(csvRows(bySensor.text), [['ts', 'sensor', 'room', 'metric', 'value', 'unit']], 'the header only');

  const buckets = await historyAs(users.alex, '?every=1d');
  assert.is(buckets.status, 200);
  assert.equal(rooms(csvRecords(buckets.text)), ['living-room', 'server-room'], 'aggregated buckets keep to his rooms too');

  const sue = csvRecords((await historyAs(users.sue, `?sensor=${GH}`)).text);
  assert.ok(sue.length >= 1, 'sue gets the greenhouse rows');
});

test('a sensor that moved is listed in its new room, and only the readings taken in alex’s rooms show', async () => {
  // ADMIN.md: "sensors lists only sensors whose current room is one of them"; PROTOCOL.md §2: each stored reading keeps the room it was taken in
  const { h, users } = await setup();
  const before = await connect(h.tcpPort);
  await before.hello('rs-mover', 'greenhouse');
  const ghTs = await sendReading(before, 'humidity', 80);
  await before.close();
  const after = await connect(h.tcpPort);
  await after.hello('rs-mover', 'living-room');
  const lrTs = await sendReading(after, 'temperature', 22);

  const sensorsRes = await asUser(h.httpPort, users.alex).get('/api/v1/sensors');
  const mover = json<{ sensors: SensorInfo[] }>(sensorsRes).sensors.find((s) => s.sensor === 'rs-mover');
  assert.ok(mover, 'alex sees the sensor now in living-room');
  assert.is(mover.room, 'living-room');

  assert.equal(
    (await latestAs(users.alex, '?sensor=rs-mover')).map((r) => [r.metric, r.room, r.ts]),
    [['temperature', 'living-room', lrTs]],
    'not the humidity it read in the greenhouse',
  );
  const hist = csvRecords((await historyAs(users.alex, '?sensor=rs-mover&time=ms')).text);
  assert.equal(
    hist.map((r) => [r.metric, r.room, Number(r.ts)]),
    [['temperature', 'living-room', lrTs]],
  );
  const sueHist = csvRecords((await historyAs(users.sue, '?sensor=rs-mover&time=ms')).text);
  assert.equal(
    sueHist.map((r) => [r.metric, r.room, Number(r.ts)]),
    [
      ['humidity', 'greenhouse', ghTs],
      ['temperature', 'living-room', lrTs],
    ],
  );
});

// ---------------------------------------------------------------- stream

test('the stream replays and sends live to alex no greenhouse reading, even when one arrives', async () => {
  // ADMIN.md: "stream ... hold only readings taken in the user's rooms"
  const { h, users, gh, lr } = await setup();
  const alex = await openStreamAs(h.httpPort, users.alex);
  const sue = await openStreamAs(h.httpPort, users.sue);
  const { replayed } = await alex.subscribe({ replay: 1000 });
  await sue.subscribe({ replay: 0 });
  const replay = await alex.readings(replayed);
  assert.ok(replayed >= 2, `alex's replay has his rooms' readings (${replayed})`);
  assert.not.ok(
    replay.some((r) => r.room === 'greenhouse'),
    `no greenhouse reading in the replay: ${JSON.stringify(replay.filter((r) => r.room === 'greenhouse'))}`,
  );
  const ghTs = await sendReading(gh, 'temperature', 29);
  const lrTs = await sendReading(lr, 'temperature', 21.25);
  // The greenhouse reading was stored (acked) before the living-room one was even sent.
  const live = await alex.next({ type: 'reading', sensor: LR, ts: lrTs });
  assert.is(live.room, 'living-room');
  assert.not.ok(
    alex.received.some((m) => m.type === 'reading' && (m.room === 'greenhouse' || m.sensor === GH)),
    'alex got no greenhouse reading',
  );
  await sue.next({ type: 'reading', sensor: GH, ts: ghTs });
  await sue.next({ type: 'reading', sensor: LR, ts: lrTs });
});

test('a subscription naming a room outside alex’s rooms gets error forbidden_room and the socket closes with 1008', async () => {
  // ADMIN.md: "a subscription naming a room outside the user's rooms gets {"type":"error","code":"forbidden_room",...}
  // and the socket closes with 1008"
  const { h, users } = await setup();
  for (const room of ['greenhouse', 'living-room,greenhouse', ['living-room', 'greenhouse']]) {
    const s = await openStreamAs(h.httpPort, users.alex);
    const reply = await s.subscribeReply({ room, replay: 10 });
    assert.is(reply.type, 'error', `subscribe room=${JSON.stringify(room)}: ${JSON.stringify(reply)}`);
    assert.is(reply.code, 'forbidden_room', `error code for room=${JSON.stringify(room)}`);
    assert.is(await s.closed(), 1008, 'close code');
    assert.not.ok(
      s.received.some((m) => m.type === 'reading'),
      'no reading was sent',
    );
  }
  const ok = await openStreamAs(h.httpPort, users.alex);
  const { replayed } = await ok.subscribe({ room: 'living-room', replay: 1000 });
  assert.equal(rooms(await ok.readings(replayed)), ['living-room']);
});

test('a subscription on a greenhouse sensor id gives alex nothing of it', async () => {
  // ADMIN.md: the stream holds only readings taken in the user's rooms (a sensor filter is not a room filter)
  const { h, users, gh, lr } = await setup();
  const only = await openStreamAs(h.httpPort, users.alex);
  assert.equal(await only.subscribe({ sensor: GH, replay: 100 }), { replayed: 0 });
  const s = await openStreamAs(h.httpPort, users.alex);
  const { replayed } = await s.subscribe({ sensor: `${GH},${LR}`, replay: 100 });
  const replay = await s.readings(replayed);
  assert.ok(replayed >= 1, 'the living-room sensor is replayed');
  assert.equal([...new Set(replay.map((r) => r.sensor))], [LR], 'only the living-room sensor in the replay');
  await sendReading(gh, 'temperature', 30);
  // the barrier, on the same socket: the greenhouse reading was stored before this one was sent
  const lrTs = await sendReading(lr, 'temperature', 21.75);
  await s.next({ type: 'reading', sensor: LR, ts: lrTs });
  assert.not.ok(
    s.received.some((m) => m.type === 'reading' && m.sensor === GH),
    `no reading of the greenhouse sensor: ${JSON.stringify(s.received.filter((m) => m.sensor === GH))}`,
  );
  assert.not.ok(
    only.received.some((m) => m.type === 'reading'),
    'nothing on the greenhouse-only subscription',
  );
});

// ---------------------------------------------------------------- report-now

test('report-now by sandy asks only the sensors of her rooms; requested counts only them', async () => {
  // ADMIN.md: "report-now asks only sensors in them"
  const { h, users, lr, gh, sr } = await setup();
  const commandsBefore = (s: TcpSensor) => s.received.filter((m) => m.type === 'command').length;
  const lrBefore = commandsBefore(lr);
  const ghBefore = commandsBefore(gh);
  const srBefore = commandsBefore(sr);
  const res = await asUser(h.httpPort, users.sandy).post('/api/v1/report-now', { timeout_ms: 10_000 });
  assert.is(res.status, 200, res.text);
  const answer = json<{ requested: number; responded: number; missing: string[]; readings: LatestReading[] }>(res);
  assert.is(answer.requested, 2, `requested: ${res.text}`);
  assert.is(answer.responded, 2);
  assert.equal(answer.missing, []);
  assert.equal(rooms(answer.readings), ['greenhouse', 'server-room']);
  await lr.sync(); // any command for it was written before the answer, so before this pong
  assert.is(commandsBefore(lr), lrBefore, 'the living-room sensor got no command');
  assert.is(commandsBefore(gh), ghBefore + 1);
  assert.is(commandsBefore(sr), srBefore + 1);
});

test('report-now by sandy naming living-room is 403 forbidden_room; naming its sensor asks no one', async () => {
  // ADMIN.md: a room filter outside the user's rooms: 403 forbidden_room; report-now asks only sensors in them
  const { h, users, lr } = await setup();
  const sandy = asUser(h.httpPort, users.sandy);
  expectRefused(await sandy.post('/api/v1/report-now', { room: 'living-room', timeout_ms: 0 }), 403, 'forbidden_room');
  expectRefused(await sandy.post('/api/v1/report-now', { room: ['greenhouse', 'living-room'], timeout_ms: 0 }), 403, 'forbidden_room');
  const commands = lr.received.filter((m) => m.type === 'command').length;
  const bySensor = await sandy.post('/api/v1/report-now', { sensor: LR, timeout_ms: 2_000 });
  assert.is(bySensor.status, 200, bySensor.text);
  assert.is(json<{ requested: number }>(bySensor).requested, 0);
  await lr.sync();
  assert.is(lr.received.filter((m) => m.type === 'command').length, commands, 'the living-room sensor got no command');
});

// ---------------------------------------------------------------- /metrics

test('/metrics gives alex no sample of a greenhouse reading; sue’s scrape has it', async () => {
  // ADMIN.md: "the latest-reading gauges of /metrics hold only readings taken in the user's rooms"
  const { h, users } = await setup();
  const scrape = async (token: string) => {
    const res = await asUser(h.httpPort, token).get('/metrics');
    assert.is(res.status, 200, res.text.slice(0, 200));
    return parseExposition(res.text);
  };
  const alex = await scrape(users.alex);
  const leaked = alex.samples.filter((s) => s.labels.room === 'greenhouse' || s.labels.sensor === GH);
  assert.equal(leaked, [], 'no greenhouse sample for alex');
  assert.ok(
    alex.samples.some((s) => s.name === 'roomwatch_reading' && s.labels.room === 'living-room'),
    'his own rooms are there',
  );
  const sue = await scrape(users.sue);
  assert.ok(
    sue.samples.some((s) => s.name === 'roomwatch_reading' && s.labels.room === 'greenhouse' && s.labels.sensor === GH),
    'sue has the greenhouse gauge',
  );
});

// ---------------------------------------------------------------- uploads

test('an upload by sandy with one row in living-room is refused as a whole with 403, and nothing is stored', async () => {
  // ADMIN.md: "An upload with even one row in another room is refused as a whole with 403, and nothing is stored"
  const { h, users } = await setup();
  const t = [nextTs(), nextTs(), nextTs()];
  const good = [`${t[0]},rs-up-gh,greenhouse,temperature,27,C`, `${t[1]},rs-up-sr,server-room,temperature,33,C`];
  const bad = `${t[2]},rs-up-lr,living-room,temperature,20,C`;
  const header = 'ts,sensor,room,metric,value,unit';
  const sandy = asUser(h.httpPort, users.sandy);

  expectRefused(await sandy.upload([header, good[0], bad, good[1]].join('\n') + '\n'), 403, 'forbidden_room');
  const stored = csvRecords((await historyAs(users.sue, '?sensor=rs-up-gh,rs-up-sr,rs-up-lr')).text);
  assert.equal(stored, [], 'nothing stored');

  const ok = await sandy.upload([header, ...good].join('\n') + '\n');
  assert.is(ok.status, 200, ok.text);
  assert.equal(json(ok), { accepted: 2, duplicates: 0 });
  const after = csvRecords((await historyAs(users.sue, '?sensor=rs-up-gh,rs-up-sr,rs-up-lr&time=ms')).text);
  assert.equal(
    after.map((r) => [r.sensor, r.room]),
    [
      ['rs-up-gh', 'greenhouse'],
      ['rs-up-sr', 'server-room'],
    ],
  );
});

test('an upload row without a room is judged by the room it is stored in: the sensor’s known room, else default', async () => {
  // PROTOCOL.md §2 Rooms: an uploaded row's room is its room column, else the sensor's known room, else default;
  // ADMIN.md: an upload with a row in another room is refused with 403
  const { h, users } = await setup();
  const sandy = asUser(h.httpPort, users.sandy);
  const known = await sandy.upload(`ts,sensor,metric,value,unit\n${nextTs()},${GH},humidity,71,%\n`);
  assert.is(known.status, 200, `a greenhouse sensor's row without a room: ${known.text}`);
  const unknownSensor = await sandy.upload(`ts,sensor,metric,value,unit\n${nextTs()},rs-up-nowhere,humidity,50,%\n`);
  expectRefused(unknownSensor, 403, 'forbidden_room', 'a new sensor without a room lands in "default"');
  const alexKnown = await asUser(h.httpPort, users.alex).upload(`ts,sensor,metric,value,unit\n${nextTs()},${LR},humidity,40,%\n`);
  expectRefused(alexKnown, 403, 'forbidden', 'a viewer may not upload at all, whatever the rooms');
});

// ---------------------------------------------------------------- every room

test('a user with rooms ["*"] sees every room, present and future', async () => {
  // ADMIN.md: "The room * means every room, present and future"
  const { h, users } = await setup();
  await putUser(h.httpPort, 'rs-wide', { role: 'viewer', rooms: ['*'], password: 'wide-password' }, users.root);
  const wide = (await login(h.httpPort, 'rs-wide', 'wide-password')).token;
  const all = rooms(await latestAs(wide));
  for (const r of ['greenhouse', 'living-room', 'server-room']) assert.ok(all.includes(r), `${r} in ${all.join(', ')}`);
  assert.equal(rooms(await latestAs(wide, '?room=greenhouse')), ['greenhouse']);

  const attic = await connect(h.tcpPort);
  await attic.hello('rs-attic-1', 'attic');
  await sendReading(attic, 'temperature', 15);
  assert.equal(rooms(await latestAs(wide, '?room=attic')), ['attic'], 'a room that did not exist when the user was made');
  const sensorsRes = await asUser(h.httpPort, wide).get('/api/v1/sensors');
  assert.ok(
    json<{ sensors: SensorInfo[] }>(sensorsRes).sensors.some((s) => s.sensor === 'rs-attic-1'),
    'the attic sensor is listed',
  );
  const s = await openStreamAs(h.httpPort, wide);
  await s.subscribe({ room: 'attic', replay: 0 });
  const ts = await sendReading(attic, 'temperature', 15.5);
  await s.next({ type: 'reading', sensor: 'rs-attic-1', ts });
  assert.not.ok(
    (await latestAs(users.alex)).some((r) => r.room === 'attic'),
    'alex does not see the attic',
  );
  expectRefused(await asUser(h.httpPort, users.alex).get('/api/v1/latest?room=attic'), 403, 'forbidden_room', 'alex naming the attic');
});

test.run();
