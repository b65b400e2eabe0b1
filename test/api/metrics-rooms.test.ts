// docs/API.md "GET /metrics", docs/ADMIN.md "Users, roles and rooms": rooms scope a scrape like
// every other answer. The sensor counts and the reading gauges count only the asker's rooms;
// the hub-wide counters, which would show other rooms' activity, go only to a user of every
// room (`*`). The demo users: alex (viewer: living-room, server-room), sue (admin of the three
// rooms, listed), root (admin, `*`).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { waitFor } from '../support/api-client.ts';
import { asUser, seedDemo, startAccessHub, type DemoTokens } from '../support/access-setup.ts';
import type { InProcessHub } from '../support/hub-process.ts';
import { parseExposition, value, type Exposition } from '../support/prometheus.ts';
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

/** Families whose numbers cover the whole hub; a sample of any of them tells of every room. */
const HUB_WIDE = [
  'roomwatch_sensor_connections',
  'roomwatch_sensor_connections_accepted_total',
  'roomwatch_messages_total',
  'roomwatch_readings_received_total',
  'roomwatch_readings_stored_total',
  'roomwatch_duplicates_total',
  'roomwatch_acks_total',
  'roomwatch_commits_total',
  'roomwatch_buffered_readings',
  'roomwatch_rejected_total',
  'roomwatch_report_now_rounds_total',
  'roomwatch_stream_subscribers',
];

interface Setup {
  h: InProcessHub;
  users: DemoTokens;
  greenhouse: TcpSensor;
}

let seq = 0;
async function sensorIn(h: InProcessHub, id: string, room: string): Promise<TcpSensor> {
  const s = await connect(h.tcpPort, '127.0.0.1', fileScope);
  await s.hello(id, room);
  await s.send({ type: 'reading', metric: 'temperature', value: 20, ts: nextTs(), seq: ++seq });
  await s.ackCovering(seq);
  return s;
}

let starting: Promise<Setup> | undefined;
function setup(): Promise<Setup> {
  return (starting ??= (async () => {
    const h = await startAccessHub({}, fileScope);
    await sensorIn(h, 'mr-lr', 'living-room');
    await sensorIn(h, 'mr-sr', 'server-room');
    const greenhouse = await sensorIn(h, 'mr-gh', 'greenhouse');
    const offline = await sensorIn(h, 'mr-gh-old', 'greenhouse');
    await offline.close();
    const users = await seedDemo(h.httpPort);
    await waitFor(
      'the closed sensor counted as disconnected',
      async () => value(parseExposition((await asUser(h.httpPort, users.root).get('/metrics')).text), 'roomwatch_sensors_connected') === 3,
    );
    return { h, users, greenhouse };
  })());
}

async function scrapeText(token: string): Promise<string> {
  const { h } = await setup();
  const res = await asUser(h.httpPort, token).get('/metrics');
  assert.is(res.status, 200, res.text.slice(0, 200));
  return res.text;
}

const scrape = async (token: string): Promise<Exposition> => parseExposition(await scrapeText(token));

test('alex’s sensor counts are those of his rooms: 2 known, 2 connected', async () => {
  const { users } = await setup();
  const e = await scrape(users.alex);
  assert.is(value(e, 'roomwatch_sensors_known'), 2);
  assert.is(value(e, 'roomwatch_sensors_connected'), 2);
});

test('a user of every room (`*`) counts every sensor: 4 known, 3 connected', async () => {
  const { users } = await setup();
  const e = await scrape(users.root);
  assert.is(value(e, 'roomwatch_sensors_known'), 4);
  assert.is(value(e, 'roomwatch_sensors_connected'), 3);
});

test('the hub-wide counters go only to a user of every room, not to alex nor to sue with her three listed rooms', async () => {
  const { users } = await setup();
  const root = await scrape(users.root);
  for (const name of HUB_WIDE) assert.ok(root.types.has(name.replace(/_total$/, '')) || root.types.has(name), `root has ${name}`);
  for (const [who, token] of [
    ['alex', users.alex],
    ['sue', users.sue],
  ] as const) {
    const e = await scrape(token);
    const present = HUB_WIDE.filter((name) => e.types.has(name) || e.types.has(name.replace(/_total$/, '')));
    assert.equal(present, [], `${who} gets no hub-wide family`);
    assert.ok(e.types.has('roomwatch_reading') && e.types.has('roomwatch_sensors_known'), `${who} still has the room-scoped families`);
  }
});

test('nothing in alex’s scrape moves when a greenhouse sensor sends, connects or leaves', async () => {
  const { h, users, greenhouse } = await setup();
  const before = await scrapeText(users.alex);
  await greenhouse.send({ type: 'batch', seq: ++seq, readings: [1, 2, 3].map((v) => ({ metric: 'humidity', value: v, ts: nextTs() })) });
  await greenhouse.ackCovering(seq);
  const newcomer = await sensorIn(h, 'mr-gh-new', 'greenhouse');
  await newcomer.close();
  assert.is(await scrapeText(users.alex), before);
});

test.run();
