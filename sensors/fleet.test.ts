// Many sensors in one process, against a scripted hub on a real socket (PROTOCOL.md §1, §3 "Sensors").
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SensorFleet, fleetSensorIds, type FleetOptions } from './fleet.ts';
import { ScriptedHub, type PeerConnection } from './scripted-hub.ts';

const hubs: ScriptedHub[] = [];
const fleets: SensorFleet[] = [];

test.after.each(async () => {
  await Promise.all(fleets.splice(0).map((f) => f.stop()));
  await Promise.all(hubs.splice(0).map((h) => h.close()));
});

async function startHub(onConnection?: (peer: PeerConnection) => void): Promise<ScriptedHub> {
  const hub = await ScriptedHub.start(onConnection);
  hubs.push(hub);
  return hub;
}

function makeFleet(options: Partial<FleetOptions> & { port: number }): SensorFleet {
  const fleet = new SensorFleet({ count: 20, host: '127.0.0.1', intervalMs: 3_600_000, backoff: { initialMs: 5, maxMs: 50 }, ...options });
  fleets.push(fleet);
  return fleet;
}

/** The hello of each of the first `n` connections. */
async function hellos(hub: ScriptedHub, n: number): Promise<Record<string, unknown>[]> {
  const out = [];
  for (let i = 0; i < n; i++) out.push(await (await hub.nextConnection()).next('hello'));
  return out;
}

test('sensor ids are the prefix and a number zero-padded to the width of the count, at least three digits', () => {
  assert.equal(fleetSensorIds(3, 'sim'), ['sim-001', 'sim-002', 'sim-003']);
  const fifty = fleetSensorIds(50, 'sim');
  assert.is(fifty[0], 'sim-001');
  assert.is(fifty[49], 'sim-050');
  assert.is(fleetSensorIds(10_000, 'lab')[9_999], 'lab-10000');
  assert.is(fleetSensorIds(10_000, 'lab')[0], 'lab-00001');
});

// §1 "Sensor to hub": every sensor opens with its own hello.
test('20 sensors all say hello with distinct ids in the given rooms, round-robin', async () => {
  const hub = await startHub();
  const rooms = ['lab', 'attic', 'server-room'];
  const fleet = makeFleet({ port: hub.port, rooms, idPrefix: 'sim', waveSize: 7, waveIntervalMs: 5 });
  await fleet.start();
  const seen = await hellos(hub, 20);
  const bySensor = new Map(seen.map((h) => [h.sensor as string, h]));
  assert.is(bySensor.size, 20, 'distinct ids');
  fleetSensorIds(20, 'sim').forEach((id, i) => {
    const hello = bySensor.get(id);
    assert.ok(hello, `${id} said hello`);
    assert.is(hello.room, rooms[i % rooms.length]);
    assert.is(hello.v, 1);
    assert.equal(
      (hello.metrics as { metric: string }[]).map((m) => m.metric),
      ['temperature', 'humidity', 'cpu_load'],
    );
  });
  assert.is(fleet.stats.started, 20);
});

test('the default rooms are living-room, bedroom, kitchen, server-room and greenhouse', () => {
  const fleet = makeFleet({ port: 1, count: 6 });
  assert.equal(
    fleet.sensors.map((s) => s.room),
    ['living-room', 'bedroom', 'kitchen', 'server-room', 'greenhouse', 'living-room'],
  );
});

test('big fleets connect in waves: only the first wave starts at once, and stop() cancels the rest', async () => {
  const hub = await startHub();
  const fleet = makeFleet({ port: hub.port, count: 12, waveSize: 5, waveIntervalMs: 3_600_000 });
  const starting = fleet.start();
  const first = await hellos(hub, 5);
  assert.equal(first.map((h) => h.sensor).sort(), fleetSensorIds(5, 'sim'));
  assert.is(fleet.stats.started, 5);
  await fleet.stop();
  await starting;
  assert.is(fleet.stats.started, 5);
  assert.ok(fleet.sensors.every((s) => s.isStopped));
});

test('first readings are spread over the interval, the same way for the same seed', () => {
  const offsets = (seed: number) => makeFleet({ port: 1, count: 50, intervalMs: 1000, seed }).sensors.map((s) => s.firstTickDelayMs);
  const a = offsets(7);
  assert.equal(a, offsets(7));
  assert.not.equal(a, offsets(8));
  for (const ms of a) assert.ok(ms >= 0 && ms < 1000, `offset ${ms}`);
  assert.ok(new Set(a).size > 40, 'not in lockstep');
  assert.ok(Math.max(...a) - Math.min(...a) > 500, 'spread over the interval');
});

// §1 "Session rules": acks and bye; §3: the fleet's totals.
test('fleet stats add up the sensors, and stop() ends with everything acknowledged', async () => {
  const hub = await startHub((peer) => {
    peer.autoWelcome = true;
    peer.autoAck = true;
  });
  const fleet = makeFleet({ port: hub.port, count: 10, intervalMs: 20, waveSize: 100 });
  await fleet.start();
  const peers: PeerConnection[] = [];
  for (let i = 0; i < 10; i++) peers.push(await hub.nextConnection());
  // Two batches on every connection: every sensor is welcomed and sending.
  await Promise.all(peers.map(async (p) => (await p.next('batch'), await p.next('batch'))));
  const running = fleet.stats;
  assert.is(running.sensors, 10);
  assert.is(running.connected, 10);
  assert.ok(running.sentReadings >= 60, `sent ${running.sentReadings}`);
  await fleet.stop();
  const s = fleet.stats;
  assert.is(s.connected, 0);
  assert.is(s.bufferedReadings, 0);
  assert.is(s.droppedReadings, 0);
  assert.is(s.ackedReadings, s.sentReadings, 'the final acks cover everything sent');
  for (const p of peers)
    assert.ok(
      p.messages.some((m) => m.type === 'bye'),
      'each sensor said bye',
    );
});

// §1 "Session rules": 409 ends one sensor; the rest carry on.
test('a sensor replaced by a newer connection (409) is counted, and the others stay connected', async () => {
  const hub = await startHub((peer) => (peer.autoWelcome = true));
  const fleet = makeFleet({ port: hub.port, count: 3 });
  await fleet.start();
  const peers = [await hub.nextConnection(), await hub.nextConnection(), await hub.nextConnection()];
  await Promise.all(peers.map((p) => p.next('hello')));
  const victim = peers[0]!;
  victim.send({ type: 'error', code: 409, message: 'replaced by a newer connection' });
  victim.socket.end();
  await victim.closed;
  const victimSensor = fleet.sensors.find((s) => s.sensorId === (victim.messages[0]!.sensor as string))!;
  // The close reaches the sensor after the 409 line, so by its close the sensor has stopped.
  assert.ok(victimSensor.isStopped);
  assert.equal(fleet.stats.stoppedByCode, { 409: 1 });
});

test('bad fleet options fail at construction with a message naming the option', () => {
  assert.throws(() => new SensorFleet({ count: 0, host: 'h', port: 1, intervalMs: 10 }), /count/);
  assert.throws(() => new SensorFleet({ count: 1, host: 'h', port: 1, intervalMs: 10, rooms: [] }), /rooms/);
  assert.throws(() => new SensorFleet({ count: 1, host: 'h', port: 1, intervalMs: 10, rooms: ['no spaces'] }), /room/);
  assert.throws(() => new SensorFleet({ count: 1, host: 'h', port: 1, intervalMs: 10, idPrefix: 'x'.repeat(70) }), /idPrefix/);
  assert.throws(() => new SensorFleet({ count: 1, host: 'h', port: 0, intervalMs: 10 }), /port/);
});

test.run();
