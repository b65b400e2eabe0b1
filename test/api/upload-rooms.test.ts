// docs/API.md "Rooms of an upload" (PROTOCOL.md §2 "Bulk upload" and "Rooms", ADMIN.md "Users,
// roles and rooms"): an upload writes only sensors in the uploader's rooms. A sensor the hub
// knows is in the room it is in now, whatever the rows say; a new sensor is in its rows' room.
// A refused upload stores nothing, changes nothing of the sensor, and says nothing of the room
// it is in or of what it stored. sandy: operator of greenhouse and server-room.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { csvRecords, errorBody, json } from '../support/api-client.ts';
import { asUser, expectRefused, seedDemo, startAccessHub, type DemoTokens } from '../support/access-setup.ts';
import type { InProcessHub } from '../support/hub-process.ts';
import type { LatestReading, SensorInfo } from '../support/http.ts';
import { connect, type TcpSensor } from '../support/tcp-sensor.ts';
import { exitWhenDone, perTest, Teardown } from '../support/teardown.ts';
import { tsSequence } from '../support/wire.ts';

const fileScope = new Teardown();
const nextTs = tsSequence();
test.after.each(() => perTest.run());
test.after(async () => {
  await fileScope.run();
  exitWhenDone();
});

const HEADER = 'ts,sensor,room,metric,value,unit';
const LR = 'ur-lr-rack1'; // living-room: not sandy's
const GH = 'ur-gh-1'; // greenhouse: sandy's
let seq = 0;

interface Setup {
  h: InProcessHub;
  lr: TcpSensor;
  users: DemoTokens;
}

let starting: Promise<Setup> | undefined;
function setup(): Promise<Setup> {
  return (starting ??= (async () => {
    const h = await startAccessHub({}, fileScope);
    const lr = await connect(h.tcpPort, '127.0.0.1', fileScope);
    await lr.hello(LR, 'living-room');
    const gh = await connect(h.tcpPort, '127.0.0.1', fileScope);
    await gh.hello(GH, 'greenhouse');
    await send(gh, 27, nextTs());
    const users = await seedDemo(h.httpPort);
    return { h, lr, users };
  })());
}

async function send(s: TcpSensor, value: number, ts: number): Promise<void> {
  const n = ++seq;
  await s.send({ type: 'reading', metric: 'temperature', value, unit: 'C', ts, seq: n });
  await s.ackCovering(n);
}

async function asSue<T>(path: string): Promise<T> {
  const { h, users } = await setup();
  const res = await asUser(h.httpPort, users.sue).get(path);
  assert.is(res.status, 200, `${path}: ${res.text.slice(0, 200)}`);
  return path.includes('.csv') ? (csvRecords(res.text) as T) : json<T>(res);
}

test('an operator cannot upload rows for another room’s sensor under her own room; its readings stay its own', async () => {
  // The finding: sandy uploaded rack1 (not hers) with room=greenhouse, took the identity of its next
  // reading (acked, then dropped as a duplicate), hid its latest, and added a metric to it.
  const { h, lr, users } = await setup();
  const sandy = asUser(h.httpPort, users.sandy);
  const stored = nextTs();
  await send(lr, 21, stored);
  const ahead = Date.now() + 23 * 3600_000; // inside the contract's 24 h: a valid ts, so only the room rule stops it
  const res = await sandy.upload(
    [
      HEADER,
      `${ahead},${LR},greenhouse,temperature,99,C`,
      `${stored},${LR},greenhouse,temperature,98,C`,
      `${ahead},${LR},greenhouse,pressure,1000,hPa`,
    ].join('\n') + '\n',
  );
  expectRefused(res, 403, 'forbidden_room', 'rows for a living-room sensor');
  const e = errorBody(res);
  assert.ok(e.message.includes(LR), `names the sensor it refused: ${e.message}`);
  assert.not.ok(/living-room/.test(res.text), `says nothing of the room the sensor is in: ${res.text}`);
  assert.not.ok('duplicates' in e || 'accepted' in e || /duplicate/i.test(e.message), `no count of what is stored: ${res.text}`);

  // The sensor's own next reading, at the ts the upload tried to take, is stored and is its latest.
  await send(lr, 22, ahead);
  const history = await asSue<Record<string, string>[]>(`/api/v1/history.csv?sensor=${LR}&time=ms`);
  assert.equal(
    history.map((r) => [Number(r.ts), r.room, r.metric, r.value]),
    [
      [stored, 'living-room', 'temperature', '21'],
      [ahead, 'living-room', 'temperature', '22'],
    ],
  );
  const latest = (await asSue<{ readings: LatestReading[] }>(`/api/v1/latest?sensor=${LR}`)).readings;
  assert.equal(
    latest.map((r) => [r.metric, r.value, r.ts]),
    [['temperature', 22, ahead]],
  );
  const listed = (await asSue<{ sensors: SensorInfo[] }>('/api/v1/sensors')).sensors.find((s) => s.sensor === LR);
  assert.equal(listed?.room, 'living-room');
  assert.equal(listed?.metrics, ['temperature'], 'no metric added');
});

test('rows without a room for another room’s sensor are refused the same way, naming no room', async () => {
  const { h, users } = await setup();
  const res = await asUser(h.httpPort, users.sandy).upload(`ts,sensor,metric,value\n${nextTs()},${LR},temperature,5\n`);
  expectRefused(res, 403, 'forbidden_room');
  assert.not.ok(/living-room/.test(res.text), `says nothing of the sensor's room: ${res.text}`);
});

test('one refused sensor refuses the whole file; the message lists only what the file itself named', async () => {
  const { h, users } = await setup();
  const sandy = asUser(h.httpPort, users.sandy);
  const t = nextTs();
  const res = await sandy.upload(
    [
      HEADER,
      `${t},ur-new-1,greenhouse,temperature,1,C`,
      `${t},${LR},server-room,temperature,2,C`,
      `${t},ur-new-2,attic,temperature,3,C`,
    ].join('\n') + '\n',
  );
  expectRefused(res, 403, 'forbidden_room');
  const { message } = errorBody(res);
  assert.match(message, /attic/, 'the room the file wrote');
  assert.match(message, new RegExp(LR));
  assert.not.ok(/ur-new-1/.test(message) || /living-room/.test(message), message);
  const after = await asSue<Record<string, string>[]>('/api/v1/history.csv?sensor=ur-new-1,ur-new-2');
  assert.equal(after, [], 'nothing stored');
  const known = (await asSue<{ sensors: SensorInfo[] }>('/api/v1/sensors')).sensors.map((s) => s.sensor);
  assert.not.ok(known.includes('ur-new-1') || known.includes('ur-new-2'), 'no sensor registered');
});

test('her own sensor in another of her rooms, and a new sensor in her room, upload; a new one in default does not', async () => {
  // PROTOCOL.md §2 Rooms: an uploaded row keeps its room column; a never-seen sensor is in its rows' room
  const { h, users } = await setup();
  const sandy = asUser(h.httpPort, users.sandy);
  const t = nextTs();
  const ok = await sandy.upload(
    [HEADER, `${t},${GH},server-room,humidity,60,%`, `${t},ur-new-3,greenhouse,temperature,25,C`].join('\n') + '\n',
  );
  assert.is(ok.status, 200, ok.text);
  assert.equal(json(ok), { accepted: 2, duplicates: 0 });
  const rows = await asSue<Record<string, string>[]>(
    `/api/v1/history.csv?sensor=${GH},ur-new-3&metric=humidity,temperature&time=ms&from=${t}`,
  );
  assert.equal(
    rows.map((r) => [r.sensor, r.room, r.metric]),
    [
      [GH, 'server-room', 'humidity'],
      ['ur-new-3', 'greenhouse', 'temperature'],
    ],
  );
  const sensors = (await asSue<{ sensors: SensorInfo[] }>('/api/v1/sensors')).sensors;
  assert.is(sensors.find((s) => s.sensor === GH)?.room, 'greenhouse', 'an upload does not move a sensor');
  assert.is(sensors.find((s) => s.sensor === 'ur-new-3')?.room, 'greenhouse');
  const unroomed = await sandy.upload(`ts,sensor,metric,value\n${t},ur-new-4,temperature,1\n`);
  expectRefused(unroomed, 403, 'forbidden_room', 'a new sensor with no room goes to default');
  assert.match(errorBody(unroomed).message, /default/);
});

test('an admin of every room may write any sensor', async () => {
  const { h, users } = await setup();
  const res = await asUser(h.httpPort, users.root).upload(`${HEADER}\n${nextTs()},${LR},living-room,humidity,40,%\n`);
  assert.is(res.status, 200, res.text);
});

test.run();
