// One connection of a simulated sensor, against a scripted hub on a real socket (PROTOCOL.md §1).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HubConnection, type ConnectionEvents, type HubConnectionOptions } from './hub-connection.ts';
import { Outbox } from './outbox.ts';
import { Feed, ScriptedHub } from './scripted-hub.ts';

type Seen = { event: keyof ConnectionEvents; args: unknown[] };

const hubs: ScriptedHub[] = [];
const connections: HubConnection[] = [];

test.after.each(async () => {
  for (const c of connections.splice(0)) c.destroy();
  await Promise.all(hubs.splice(0).map((h) => h.close()));
});

async function startHub(): Promise<ScriptedHub> {
  const hub = await ScriptedHub.start();
  hubs.push(hub);
  return hub;
}

/** A connection whose every event the test sees, in order. */
function connect(port: number, outbox: Outbox, overrides: Partial<HubConnectionOptions> = {}): { conn: HubConnection; seen: Feed<Seen> } {
  const seen = new Feed<Seen>();
  const record =
    (event: keyof ConnectionEvents) =>
    (...args: unknown[]) =>
      seen.add({ event, args });
  const events: ConnectionEvents = {
    problem: record('problem'),
    tlsFailed: record('tlsFailed'),
    welcomed: record('welcomed'),
    reportNow: record('reportNow'),
    hubError: record('hubError'),
    refusedForGood: record('refusedForGood'),
    closed: record('closed'),
  };
  const conn = new HubConnection(
    {
      host: '127.0.0.1',
      port,
      hello: { type: 'hello', v: 1, sensor: 'conn-test-1', room: 'kitchen' },
      welcomeTimeoutMs: 10_000,
      pingIdleMs: 10_000,
      ackTimeoutMs: 10_000,
      stopTimeoutMs: 10_000,
      ...overrides,
    },
    outbox,
    events,
  );
  connections.push(conn);
  return { conn, seen };
}

const reading = () => [{ metric: 'temperature', value: 21.5, ts: Date.UTC(2025, 10, 21, 12) }];
const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

test('a closed connection reports its close once and leaves no timer; a flush on it takes nothing from the outbox', async () => {
  const hub = await startHub();
  const outbox = new Outbox(100);
  const timersBefore = timers();
  const { conn, seen } = connect(hub.port, outbox);
  const peer = await hub.nextConnection();
  await peer.welcome();
  await seen.next('welcomed', (s) => s.event === 'welcomed');
  peer.socket.end();
  await seen.next('closed', (s) => s.event === 'closed');
  assert.is(timers(), timersBefore, 'the welcome, ping and ack timers are gone with the connection');
  outbox.add(reading());
  conn.flush();
  assert.is(outbox.counts.sentReadings, 0, 'a stale connection carries nothing');
  assert.is(seen.items.filter((s) => s.event === 'closed').length, 1);
  assert.is(seen.items.at(-1)?.event, 'closed', 'nothing after closed');
});

// §1 "Session rules": unacked messages are sent again after a reconnect, by the new connection only.
test('the next connection carries what the closed one could not, with the same seq', async () => {
  const hub = await startHub();
  const outbox = new Outbox(100);
  const first = connect(hub.port, outbox);
  const peer1 = await hub.nextConnection();
  await peer1.welcome();
  outbox.add(reading());
  first.conn.flush();
  const sent = await peer1.next('batch');
  peer1.socket.end();
  await first.seen.next('closed', (s) => s.event === 'closed');
  const second = connect(hub.port, outbox);
  const peer2 = await hub.nextConnection();
  await peer2.welcome();
  assert.equal(await peer2.next('batch'), sent);
  first.conn.flush();
  peer2.send({ type: 'ack', seq: sent.seq });
  // A line the sensor cannot read comes back as a problem: once it has, the ack before it was handled.
  peer2.send({ type: 'ping' });
  await second.seen.next('problem', (s) => s.event === 'problem');
  assert.is(outbox.counts.ackedReadings, 1);
  assert.is(outbox.counts.resentReadings, 1, 'sent once by each connection, and no more');
});

// §1 "Session rules": after 503 the hub closes; one that does not is closed by the sensor.
test('after a 503 the connection closes itself within stopTimeoutMs if the hub does not', async () => {
  const hub = await startHub();
  const { seen } = connect(hub.port, new Outbox(100), { stopTimeoutMs: 50 });
  const peer = await hub.nextConnection();
  await peer.welcome();
  peer.send({ type: 'error', code: 503, message: 'shutting down' });
  const closed = await seen.next('closed', (s) => s.event === 'closed', 5_000);
  assert.equal(closed.args, [false]);
  assert.equal(
    seen.items.map((s) => s.event),
    ['welcomed', 'hubError', 'closed'],
  );
  await peer.closed;
});

test.run();
