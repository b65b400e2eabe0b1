/**
 * Nothing the broker kept is lost, whatever happens to the hub (docs/INTEGRATIONS.md "What is
 * guaranteed"): the bridge's sessions are persistent, and a message is acknowledged to the
 * broker (PUBACK) only once the commit that holds its readings has returned. Real processes: a
 * Mosquitto, `mosquitto_pub` as the devices, the hub as `hub/main.ts --mqtt URL`, killed with
 * SIGKILL where that is the point; what was stored is read from the DuckDB file afterwards.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { waitFor } from '../support/api-client.ts';
import { getJson } from '../support/http.ts';
import { startHubProcess, tempDataDir, withTimeout, type HubProcess } from '../support/hub-process.ts';
import { mosquittoInstalled, startMosquitto, type Mosquitto } from '../support/mosquitto.ts';
import { readStoredReadings } from '../support/store-inspect.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';
import { linksUp, mqttCounter } from './mqtt-support.ts';

test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

const installed = mosquittoInstalled('MQTT bridge durability (test/mqtt/durability.test.ts)');
const LINKS = 2;

async function bridgedHub(broker: Mosquitto, dataDir: string): Promise<HubProcess> {
  const hub = await startHubProcess({ dataDir, args: ['--mqtt', broker.url, '--mqtt-connections', String(LINKS), '--log-level', 'warn'] });
  await linksUp(hub.httpPort, LINKS + 1);
  return hub;
}

async function stopped(hub: HubProcess): Promise<void> {
  hub.kill('SIGTERM');
  const { code } = await withTimeout(hub.exited, 30_000, 'the hub stopping');
  assert.is(code, 0, hub.output());
}

test('the hub down while 500 QoS 1 messages are published, then started: all 500 stored, each once', async () => {
  if (!installed) return;
  const broker = await startMosquitto();
  const dataDir = (await tempDataDir()).path;
  // The first start makes the bridge's persistent sessions and their shared subscription.
  await stopped(await bridgedHub(broker, dataDir));
  // No device time: a message stored twice would show as two readings.
  const payloads = Array.from({ length: 500 }, (_, i) => JSON.stringify({ humidity: i }));
  await broker.publish('zigbee2mqtt/cellar', payloads, { qos: 1 });
  const hub = await bridgedHub(broker, dataDir);
  await waitFor(
    '500 readings stored',
    async () => (await mqttCounter(hub.httpPort, 'roomwatch_mqtt_readings_stored_total')) >= 500,
    60_000,
  );
  await stopped(hub);
  const values = (await readStoredReadings(dataDir)).filter((r) => r.sensor === 'cellar').map((r) => r.value);
  assert.is(values.length, 500, 'each message stored once');
  assert.equal(
    [...values].sort((a, b) => a - b),
    payloads.map((_, i) => i),
  );
});

test('kill -9 of the hub mid-stream: every message the broker delivered is stored, none twice', async () => {
  if (!installed) return;
  const broker = await startMosquitto();
  const dataDir = (await tempDataDir()).path;
  const first = await bridgedHub(broker, dataDir);
  // The device's own time (Zigbee2MQTT's last_seen: epoch): a message delivered again is the same reading.
  const n = 20_000;
  const t0 = Date.now() - 3_600_000;
  const payloads = Array.from({ length: n }, (_, i) => JSON.stringify({ temperature: i / 100, last_seen: t0 + i }));
  const publishing = broker.publish('zigbee2mqtt/rack', payloads, { qos: 1 });
  await waitFor(
    'the hub storing the stream',
    async () => (await mqttCounter(first.httpPort, 'roomwatch_mqtt_readings_stored_total')) >= 1_000,
    60_000,
  );
  first.kill('SIGKILL');
  await first.exited;
  await publishing; // the broker has every message: those not acknowledged wait in the bridge's sessions
  const second = await bridgedHub(broker, dataDir);
  // health's readings_stored counts the rows in the store, those of the killed hub included
  await waitFor(
    `all ${n} readings stored`,
    async () => (await getJson<{ readings_stored: number }>(second.httpPort, '/api/v1/health')).body.readings_stored >= n,
    120_000,
  );
  await stopped(second);
  const rows = (await readStoredReadings(dataDir)).filter((r) => r.sensor === 'rack');
  const seen = new Set(rows.map((r) => r.ts));
  assert.is(seen.size, rows.length, 'no reading stored twice');
  assert.is(rows.length, n, `every message stored (${n - rows.length} missing)`);
});

test.run();
