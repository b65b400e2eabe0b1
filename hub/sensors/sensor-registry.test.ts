// The sensor registry (room, metrics, last seen, address) and each sensor's
// connection history are persisted, and survive a restart.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DuckDBInstance } from '@duckdb/node-api';
import { startHub, tempDataDir } from '../../test/support/hub-process.ts';
import { connect } from '../../test/support/tcp-sensor.ts';
import { perTest } from '../../test/support/teardown.ts';
import { storePath } from '../../test/support/store-inspect.ts';
import { SensorRegistry } from './sensor-registry.ts';
import type { LoadedState } from '../store/store-messages.ts';

test.after.each(() => perTest.run());

async function query(dataDir: string, sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(storePath(dataDir));
  try {
    const c = await instance.connect();
    const rows = (await c.runAndReadAll(sql)).getRowObjectsJS();
    c.closeSync();
    return rows;
  } finally {
    instance.closeSync();
  }
}

test('every connection is recorded with its connect and disconnect time, a takeover included', async () => {
  const dir = (await tempDataDir()).path;
  const hub = await startHub({ dataDir: dir });
  const first = await connect(hub.tcpPort);
  await first.hello('reg-a', 'attic', { metrics: [{ metric: 'radon', unit: 'Bq/m3' }] });
  const second = await connect(hub.tcpPort);
  await second.hello('reg-a', 'cellar'); // takes over: the first gets 409 and is closed
  await first.closed();
  await second.send({ type: 'reading', metric: 'temperature', value: 12.5, seq: 1 });
  await second.ackCovering(1);
  await second.close();
  await hub.stop();

  const conns = await query(dir, 'SELECT sensor, connected_at, disconnected_at FROM connections ORDER BY id');
  assert.is(conns.length, 2);
  for (const c of conns) {
    assert.is(c.sensor, 'reg-a');
    assert.ok(
      c.disconnected_at !== null && Number(c.disconnected_at) >= Number(c.connected_at),
      `closed after it opened: ${JSON.stringify(c, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v))}`,
    );
  }
  const [sensor] = await query(dir, 'SELECT room, address, declared_metrics, last_seen, first_seen FROM sensors');
  assert.is(sensor!.room, 'cellar', 'the room of the latest hello');
  assert.match(String(sensor!.address), /^127\.0\.0\.1:\d+$/);
  assert.ok(Number(sensor!.last_seen) >= Number(sensor!.first_seen));
});

test('after a restart the registry still knows every sensor, its room and metrics, disconnected', async () => {
  const dir = (await tempDataDir()).path;
  const hub = await startHub({ dataDir: dir });
  const s = await connect(hub.tcpPort);
  await s.hello('reg-b', 'porch', { metrics: [{ metric: 'lux', unit: 'lx' }] });
  await s.send({ type: 'reading', metric: 'humidity', value: 71, seq: 1 });
  await s.ackCovering(1);
  await hub.stop(); // with the sensor still connected: the hub records the disconnect itself

  const again = await startHub({ dataDir: dir });
  const body = (await (await fetch(`http://127.0.0.1:${again.httpPort}/api/v1/sensors`)).json()) as { sensors: Record<string, unknown>[] };
  const [address] = await query(dir, 'SELECT address FROM sensors');
  assert.match(String(address!.address), /^127\.0\.0\.1:\d+$/);
  assert.equal(
    body.sensors.map((x) => ({ ...x, last_seen: typeof x.last_seen })),
    // source: a sensor that connected to the sensor port is known to arrive over tcp, even after a restart;
    // address: where its last connection came from, kept while it is away
    [
      {
        sensor: 'reg-b',
        room: 'porch',
        connected: false,
        last_seen: 'number',
        address: address!.address,
        metrics: ['humidity', 'lux'],
        source: 'tcp',
      },
    ],
  );
  await again.stop();
  const open = await query(dir, 'SELECT count(*) AS n FROM connections WHERE disconnected_at IS NULL');
  assert.is(Number(open[0]!.n), 0, 'no connection is left open in the history');
});

test("a stopped sensor's last_seen is stored as the hub last saw it, its room, address and metrics untouched by that update", async () => {
  const dir = (await tempDataDir()).path;
  let clock = Date.now();
  const hub = await startHub({ dataDir: dir, now: () => clock });
  const s = await connect(hub.tcpPort);
  await s.hello('reg-c', 'loft', { metrics: [{ metric: 'lux', unit: 'lx' }] });
  clock += 1_000;
  await s.send({ type: 'reading', metric: 'humidity', value: 40, seq: 1 });
  await s.ackCovering(1);
  clock += 1_000; // the disconnect's time: written alone, as a last_seen update
  await s.close();
  const seen = async () => {
    const body = (await (await fetch(`http://127.0.0.1:${hub.httpPort}/api/v1/sensors`)).json()) as {
      sensors: { connected: boolean; last_seen: number }[];
    };
    return body.sensors[0]!;
  };
  const deadline = Date.now() + 5_000;
  while ((await seen()).connected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const shown = await seen();
  assert.is(shown.connected, false, 'the hub saw the close');
  assert.is(shown.last_seen, clock);
  await hub.stop();

  const [row] = await query(dir, 'SELECT room, address, declared_metrics, last_seen, first_seen FROM sensors');
  assert.is(Number(row!.last_seen), clock, 'the last_seen the hub showed');
  assert.is(Number(row!.first_seen), clock - 2_000);
  assert.is(row!.room, 'loft');
  assert.match(String(row!.address), /^127\.0\.0\.1:\d+$/);
  assert.equal(JSON.parse(String(row!.declared_metrics)), { lux: 'lx' });
});

test('messages move last_seen in memory; it is written alone once a minute, with a disconnect, and all of it when forced', () => {
  const t0 = 1_800_000_000_000;
  const registry = new SensorRegistry(1_000, 60_000);
  const rec = registry.connect('seen-a', 'attic', '127.0.0.1:1', new Map([['lux', 'lx']]), t0);
  const first = registry.takeChanges(t0, false);
  assert.equal(
    first.sensors.map((r) => [r.sensor, r.lastSeen, r.lastSeenOnly ?? false]),
    [['seen-a', t0, false]],
    'a connect writes the whole row',
  );
  registry.touch(rec, t0 + 5_000);
  assert.equal(registry.takeChanges(t0 + 5_000, false).sensors, [], 'a message alone writes nothing within the minute');
  assert.ok(registry.hasChanges, 'but a stopping hub knows it is not written');
  registry.touch(rec, t0 + 30_000);
  const minute = registry.takeChanges(t0 + 60_000, false).sensors;
  assert.equal(
    minute.map((r) => [r.sensor, r.lastSeen, r.lastSeenOnly]),
    [['seen-a', t0 + 30_000, true]],
  );
  assert.not.ok(registry.hasChanges);
  assert.equal(registry.takeChanges(t0 + 121_000, false).sensors, [], 'unchanged: nothing to write');

  registry.touch(rec, t0 + 122_000);
  assert.equal(
    registry.takeChanges(t0 + 122_500, true).sensors.map((r) => [r.lastSeen, r.lastSeenOnly]),
    [[t0 + 122_000, true]],
    'forced (a stopping hub): written at once',
  );
  registry.disconnect(rec, rec.connectionId, t0 + 123_000);
  const bye = registry.takeChanges(t0 + 123_000, false);
  assert.equal(
    bye.connections.map((e) => e.kind),
    ['disconnect'],
  );
  assert.equal(
    bye.sensors.map((r) => [r.lastSeen, r.lastSeenOnly]),
    [[t0 + 123_000, true]],
    'with its connection event',
  );

  // A failed commit gives its rows back: a last_seen row goes again with the next commit.
  registry.touch(rec, t0 + 200_000);
  const lost = registry.takeChanges(t0 + 200_000, false);
  registry.restore(lost);
  assert.equal(
    registry.takeChanges(t0 + 200_001, false).sensors.map((r) => [r.lastSeen, r.lastSeenOnly]),
    [[t0 + 200_000, true]],
  );
});

test("the view lists the address of the sensor's latest connection, kept after it ends; null for one known only from data", () => {
  const registry = new SensorRegistry();
  const first = registry.connect('addr-a', 'attic', '10.0.0.5:40001', new Map(), 1_000);
  assert.is(registry.view(first).address, '10.0.0.5:40001');
  const again = registry.connect('addr-a', 'attic', '10.0.0.6:40002', new Map(), 2_000); // a takeover from elsewhere
  registry.disconnect(again, first.connectionId, 2_001); // the older connection ends: not this one
  assert.is(registry.view(again).address, '10.0.0.6:40002', 'the newer connection');
  registry.disconnect(again, again.connectionId, 3_000);
  assert.equal(
    { connected: registry.view(again).connected, address: registry.view(again).address },
    { connected: false, address: '10.0.0.6:40002' },
    'a disconnected sensor shows where it was last',
  );
  const uploaded = registry.seenInData('addr-upload', 'attic', 'lux', 4_000);
  assert.is(registry.view(uploaded).address, null);
});

// Every name Object.prototype has, as a key of the declared-metrics table. Only `constructor`
// passes the contract's metric pattern, but the table must hold any key it is given.
const PROTOTYPE_NAMES = Object.getOwnPropertyNames(Object.prototype);

test('declared metrics named like Object.prototype members are entries, and survive the JSON round trip of a restart', () => {
  assert.ok(PROTOTYPE_NAMES.includes('__proto__') && PROTOTYPE_NAMES.includes('constructor'));
  const declared = new Map(PROTOTYPE_NAMES.map((name, i) => [name, `u${i}`]));
  const registry = new SensorRegistry();
  const rec = registry.connect('proto-sensor', 'attic', '127.0.0.1:1', declared, 1_000);
  for (const [name, unit] of declared) assert.is(rec.declaredMetrics[name], unit, `unit of ${name}`);
  assert.not.ok('hello' in rec.declaredMetrics, 'an undeclared metric is not found');
  assert.equal(registry.view(rec).metrics, [...PROTOTYPE_NAMES].sort());

  // What the store does with the row: JSON text in a column, parsed again at the next start.
  const [row] = registry.takeChanges(2_000, true).sensors;
  const stored = JSON.parse(JSON.stringify(row)) as LoadedState['sensors'][number];
  const again = new SensorRegistry();
  again.load({ series: [], newest: [], sensors: [stored], maxConnectionId: 1, readingCount: 0 } as unknown as LoadedState);
  const loaded = again.records.get('proto-sensor')!;
  assert.equal(again.view(loaded).metrics, [...PROTOTYPE_NAMES].sort());
  for (const [name, unit] of declared) assert.is(loaded.declaredMetrics[name], unit, `unit of ${name} after the restart`);
  assert.is(Object.getPrototypeOf(loaded.declaredMetrics), null, 'no prototype to inherit from');
  assert.not.ok('hello' in loaded.declaredMetrics);
});

test('a plain object from hello, built with Object.fromEntries, keeps its own keys only', () => {
  const registry = new SensorRegistry();
  const rec = registry.connect('obj-sensor', 'attic', '127.0.0.1:1', Object.fromEntries([['constructor', 'x']]), 1_000);
  assert.is(rec.declaredMetrics.constructor, 'x');
  assert.not.ok('toString' in rec.declaredMetrics, 'nothing inherited');
  assert.equal(registry.view(rec).metrics, ['constructor']);
});

test('a stored row whose JSON holds a unit that is not a string loads without it', () => {
  const registry = new SensorRegistry();
  const row = {
    sensor: 's',
    room: 'r',
    firstSeen: 1,
    lastSeen: 2,
    address: null,
    declaredMetrics: JSON.parse('{"lux":"lx","bad":{"x":1}}') as unknown,
  };
  registry.load({ series: [], newest: [], sensors: [row], maxConnectionId: 0, readingCount: 0 } as unknown as LoadedState);
  assert.equal(registry.view(registry.records.get('s')!).metrics, ['lux']);
});

test.run();
