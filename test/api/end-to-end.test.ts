// Contract §3 "Running it", end to end with real processes: the hub (hub/main.ts), a fleet of 50
// simulated sensors (sensors/main.ts) and the user CLI (dashboard-cli/main.ts), then SIGTERM
// for both and a restart of the hub on the same data folder: latest survives.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { waitFor } from '../support/api-client.ts';
import { latest, sensors, type LatestReading } from '../support/http.ts';
import { startHubProcess, tempDataDir, withTimeout } from '../support/hub-process.ts';
import { runNode, spawnNode } from '../support/node-process.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';

test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

const SENSORS = 50;
const SERIES = SENSORS * 3;

const key = (r: LatestReading): string => `${r.sensor} ${r.room} ${r.metric} ${r.value} ${r.unit} ${r.ts}`;

test('a 50-sensor fleet fills latest with 150 series, the CLI reads them, both stop on SIGTERM with 0, and latest survives a restart', async () => {
  // §3 Running it: hub, sensors and CLI as processes; SIGTERM: "store and acknowledge what was received, close the store, exit 0"
  const dataDir = (await tempDataDir()).path;
  const hub = await startHubProcess({ dataDir });
  const fleet = spawnNode([
    'sensors/main.ts',
    '--count',
    String(SENSORS),
    '--host',
    '127.0.0.1',
    '--port',
    String(hub.tcpPort),
    '--interval',
    '200',
  ]);

  const filled = await waitFor(
    `${SERIES} series in latest`,
    async () => {
      const readings = await latest(hub.httpPort);
      return readings.length === SERIES ? readings : undefined;
    },
    90_000,
    250,
  ).catch((err: Error) => {
    throw new Error(`${err.message}\nfleet stderr: ${fleet.stderr().slice(-1500)}\nhub output: ${hub.output().slice(-1500)}`);
  });
  assert.is(new Set(filled.map((r) => r.sensor)).size, SENSORS);
  assert.equal([...new Set(filled.map((r) => r.metric))].sort(), ['cpu_load', 'humidity', 'temperature']);

  const hubUrl = `http://127.0.0.1:${hub.httpPort}`;
  const cliLatest = await runNode(['dashboard-cli/main.ts', 'latest', '--json', '--hub', hubUrl]);
  assert.is(cliLatest.code, 0, `cli latest: ${cliLatest.stderr}`);
  const shown = JSON.parse(cliLatest.stdout) as { readings: LatestReading[] };
  assert.is(shown.readings.length, SERIES);
  assert.equal(new Set(shown.readings.map((r) => `${r.sensor}/${r.metric}`)).size, SERIES);

  const cliSensors = await runNode(['dashboard-cli/main.ts', 'sensors', '--json', '--hub', hubUrl]);
  assert.is(cliSensors.code, 0, `cli sensors: ${cliSensors.stderr}`);
  const listed = (JSON.parse(cliSensors.stdout) as { sensors: { sensor: string; connected: boolean }[] }).sensors;
  assert.is(listed.length, SENSORS);
  assert.ok(
    listed.every((s) => s.connected),
    `all connected: ${listed
      .filter((s) => !s.connected)
      .map((s) => s.sensor)
      .join(', ')}`,
  );

  fleet.kill('SIGTERM');
  const fleetExit = await withTimeout(fleet.exited, 30_000, 'the fleet after SIGTERM');
  assert.equal(fleetExit, { code: 0, signal: null }, `fleet: ${fleet.stderr().slice(-1000)}`);

  // What the hub shows once the fleet has gone is what it must show after a restart.
  await waitFor('every sensor disconnected', async () => (await sensors(hub.httpPort)).every((s) => !s.connected), 30_000);
  const before = (await latest(hub.httpPort)).map(key);
  assert.is(before.length, SERIES);

  hub.kill('SIGTERM');
  const hubExit = await withTimeout(hub.exited, 30_000, 'the hub after SIGTERM');
  assert.equal(hubExit, { code: 0, signal: null }, `hub: ${hub.output().slice(-1500)}`);

  const again = await startHubProcess({ dataDir });
  assert.equal((await latest(again.httpPort)).map(key), before);
  const known = await sensors(again.httpPort);
  assert.is(known.length, SENSORS);
  assert.ok(
    known.every((s) => !s.connected && s.metrics.length === 3),
    'known, not connected, with their metrics',
  );
  again.kill('SIGTERM');
  assert.is((await withTimeout(again.exited, 30_000, 'the restarted hub after SIGTERM')).code, 0);
});

test.run();
