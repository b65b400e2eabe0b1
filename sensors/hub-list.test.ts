// A cluster's hubs for the simulator (`--host a,b,c`): the list's grammar, the delay rule, and
// real sensors against scripted hubs: one that loses its hub moves to the next at once and
// resends what was not acked; a fleet starts spread over the hubs.
import net from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseSensorCli } from './cli-options.ts';
import { SensorFleet } from './fleet.ts';
import { hubListText, nextAttemptDelay, parseHubList } from './hub-list.ts';
import { ScriptedHub } from './scripted-hub.ts';
import { SimulatedSensor } from './sensor-client.ts';

const HOUR_MS = 3_600_000;
const opened: { close(): Promise<void> }[] = [];
const stoppers: (() => Promise<void>)[] = [];
test.after.each(async () => {
  await Promise.all(stoppers.splice(0).map((s) => s()));
  await Promise.all(opened.splice(0).map((h) => h.close()));
});

test('a host list: host, host:port, [v6]:port and a bare v6 address; hosts without a port take --port', () => {
  assert.equal(parseHubList('a', 7777), [{ host: 'a', port: 7777 }]);
  assert.equal(parseHubList('a:7001, b ,[::1]:7003,::1', 7777), [
    { host: 'a', port: 7001 },
    { host: 'b', port: 7777 },
    { host: '::1', port: 7003 },
    { host: '::1', port: 7777 },
  ]);
  for (const bad of ['', 'a,,b', 'a:0', 'a:70000', 'a:x', ':7', 'a b', 'fe80::1::2:7']) {
    assert.throws(() => parseHubList(bad, 7777), undefined, bad);
  }
  assert.is(hubListText(parseHubList('a:1,[::1]:2', 7777)), 'a:1, [::1]:2');
});

test('no wait while hubs of the list are left to try; the backoff after each full round of failures', () => {
  const rounds: number[] = [];
  const backoff = (round: number) => (rounds.push(round), 100 * (round + 1));
  assert.equal(
    [0, 1, 2, 3, 4, 5].map((failures) => nextAttemptDelay(failures, 3, backoff)),
    [0, 0, 100, 0, 0, 200],
  );
  assert.equal(rounds, [0, 1]);
  assert.equal(
    [0, 1, 2].map((failures) => nextAttemptDelay(failures, 1, (r) => r + 1)),
    [1, 2, 3],
    'one hub: the backoff of every failure, as before',
  );
});

test('--host a,b,c: the hubs in order, the first as host and port; a bad item is a usage error naming it', () => {
  const parsed = parseSensorCli(['--host', 'h1:7001,h2', '--port', '7002'], {});
  assert.is(parsed.kind, 'run');
  if (parsed.kind !== 'run') return;
  assert.equal(parsed.options.hubs, [
    { host: 'h1', port: 7001 },
    { host: 'h2', port: 7002 },
  ]);
  assert.is(parsed.options.host, 'h1');
  assert.is(parsed.options.port, 7001);
  const bad = parseSensorCli(['--host', 'h1,,h2'], {});
  assert.is(bad.kind, 'usage-error');
  if (bad.kind === 'usage-error') assert.match(bad.message, /--host/);
  const single = parseSensorCli([], { ROOMWATCH_HOST: 'box', ROOMWATCH_TCP_PORT: '9000' });
  assert.ok(single.kind === 'run' && single.options.hubs.length === 1 && single.options.port === 9000);
});

test('a sensor that loses its hub moves to the next at once and resends what was not acked, same seq and ts', async () => {
  const a = await ScriptedHub.start();
  const b = await ScriptedHub.start();
  opened.push(a, b);
  let clockMs = 1_000_000;
  const sensor = new SimulatedSensor({
    sensorId: 'mover-1',
    room: 'lab',
    host: '127.0.0.1',
    port: a.port,
    hubs: [
      { host: '127.0.0.1', port: a.port },
      { host: '127.0.0.1', port: b.port },
    ],
    intervalMs: HOUR_MS,
    firstTickDelayMs: HOUR_MS,
    // A wait would outlast the test: moving to the next hub must not wait.
    backoff: { initialMs: 60_000, maxMs: 60_000 },
    now: () => clockMs,
  });
  stoppers.push(() => sensor.stop());
  sensor.start();
  const onA = await a.nextConnection();
  await onA.welcome();
  for (let i = 0; i < 3; i++) {
    clockMs += 1_000;
    sensor.takeReading();
  }
  const third = await onA.next('batch', (m) => m.seq === 3);
  onA.send({ type: 'ack', seq: 1 });
  await onA.next('batch', (m) => m.seq === 3, 0).catch(() => undefined);
  onA.socket.destroy(); // hub A dies

  const onB = await b.nextConnection(5_000);
  await onB.welcome();
  const resent = [await onB.next('batch'), await onB.next('batch')];
  assert.equal(
    resent.map((m) => m.seq),
    [2, 3],
    'what A did not ack, in order',
  );
  assert.equal(resent[1], third, 'the same seq, ts and values');
  assert.is(a.connections.items.length, 1, 'no second try of the lost hub first');
});

test('a hub that refuses connections is passed over for the next; a fleet starts spread over the hubs', async () => {
  const closed = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
  const b = await ScriptedHub.start((peer) => (peer.autoWelcome = true));
  const c = await ScriptedHub.start((peer) => (peer.autoWelcome = true));
  opened.push(b, c);
  const fleet = new SensorFleet({
    count: 6,
    host: '127.0.0.1',
    port: closed,
    hubs: [
      { host: '127.0.0.1', port: closed },
      { host: '127.0.0.1', port: b.port },
      { host: '127.0.0.1', port: c.port },
    ],
    intervalMs: HOUR_MS,
    waveSize: 6,
    backoff: { initialMs: 60_000, maxMs: 60_000 },
  });
  stoppers.push(() => fleet.stop());
  await fleet.start();
  const hellos = async (hub: ScriptedHub, n: number) => {
    const ids: unknown[] = [];
    for (let i = 0; i < n; i++) ids.push((await (await hub.nextConnection(5_000)).next('hello')).sensor);
    return ids.sort();
  };
  // Sensors 0 and 3 start on the refusing hub and move to b; 1 and 4 start on b; 2 and 5 on c.
  assert.equal(await hellos(c, 2), ['sim-003', 'sim-006']);
  assert.equal(await hellos(b, 4), ['sim-001', 'sim-002', 'sim-004', 'sim-005']);
});

test.run();
