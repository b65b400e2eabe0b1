/**
 * The built-in mappings end to end: a real Mosquitto, `mosquitto_pub` as the devices publishing
 * the payloads their projects document (documented-payloads.ts), and an in-process hub with
 * `--mqtt`: each lands in `latest` with the right sensor, metric, unit and ts; discovery
 * configs give ESPHome its units; a malformed payload is counted and the next one still works;
 * a retained message updates latest but is not history.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { history, waitFor } from '../support/api-client.ts';
import { latest, sensors, type LatestReading } from '../support/http.ts';
import { startHub } from '../support/hub-process.ts';
import { mosquittoInstalled, startMosquitto } from '../support/mosquitto.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';
import * as documented from './documented-payloads.ts';
import type { DocumentedPayload } from './documented-payloads.ts';
import { linksUp, mqttCounter } from './mqtt-support.ts';

test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

const installed = mosquittoInstalled('MQTT bridge presets (test/mqtt/presets.test.ts)');

/** A broker, the ESPHome discovery config retained on it, and a hub bridged to it with its links subscribed. */
async function bridged(retained: DocumentedPayload[] = []) {
  const broker = await startMosquitto();
  for (const p of [documented.esphomeDiscovery, ...retained]) await broker.publish(p.topic, [p.payload], { retain: true });
  const hub = await startHub({ mqttUrl: broker.url, mqttConnections: 2 });
  await linksUp(hub.httpPort, 3);
  return { broker, hub };
}

function find(readings: LatestReading[], sensor: string, metric: string): LatestReading | undefined {
  return readings.find((r) => r.sensor === sensor && r.metric === metric);
}

test("each built-in mapping's documented payload lands in latest with its sensor, metric, unit and the device's ts", async () => {
  if (!installed) return;
  const { broker, hub } = await bridged();
  const cases = [
    documented.zigbeeAqara,
    documented.zigbeeSwitchLastSeen,
    documented.zigbeePlug,
    documented.tasmotaAm2301,
    documented.tasmotaBme280,
    documented.tasmotaTwoDs18b20,
    documented.shellyTemperature,
    documented.shellyFullStatus,
    documented.esphomeState,
    documented.esphomeUndiscovered,
  ];
  const before = Date.now();
  for (const p of cases) await broker.publish(p.topic, [p.payload]);
  const expected = cases.flatMap((p) => p.expected);
  const all = await waitFor('every documented reading in latest', async () => {
    const l = await latest(hub.httpPort);
    return expected.every((e) => find(l, e.sensor, e.metric)) && l;
  });
  const after = Date.now();
  for (const e of expected) {
    const got = find(all, e.sensor, e.metric)!;
    const what = `${e.sensor} ${e.metric}`;
    assert.is(got.value, e.value, what);
    assert.is(got.unit, e.unit, what);
    if (e.ts !== undefined) assert.is(got.ts, e.ts, `${what}: the device's own time`);
    else assert.ok(got.ts >= before && got.ts <= after, `${what}: stamped when the hub received it (${got.ts})`);
  }
  const listed = (await sensors(hub.httpPort)) as (Awaited<ReturnType<typeof sensors>>[number] & { source?: string })[];
  const hall = listed.find((s) => s.sensor === 'hall_wall_switch');
  assert.ok(hall, 'a friendly name made valid is the sensor id `sensors` lists');
  assert.is(hall.source, 'mqtt', 'and it says how its readings arrive');
  assert.is(await mqttCounter(hub.httpPort, 'roomwatch_mqtt_messages_total', { outcome: 'stored' }), cases.length);
});

test('a malformed payload is counted and logged as refused, and the next message of that device is stored', async () => {
  if (!installed) return;
  const { broker, hub } = await bridged();
  await broker.publish('zigbee2mqtt/cellar', ['{"temperature":', '{"temperature":12.5}']);
  const [r] = await waitFor('the good message in latest', async () => {
    const l = await latest(hub.httpPort, { sensor: 'cellar' });
    return l.length > 0 && l;
  });
  assert.is(r!.value, 12.5);
  assert.is(await mqttCounter(hub.httpPort, 'roomwatch_mqtt_refused_total', { reason: 'malformed' }), 1);
  assert.is(await mqttCounter(hub.httpPort, 'roomwatch_mqtt_messages_total', { outcome: 'refused' }), 1);
  await broker.publish('node9/sensor/probe/state', ['nan']);
  await waitFor(
    'nan counted as not_numeric',
    async () => (await mqttCounter(hub.httpPort, 'roomwatch_mqtt_refused_total', { reason: 'not_numeric' })) === 1,
  );
});

test('a retained message updates latest but is not history: it is in latest, not in the export', async () => {
  if (!installed) return;
  const attic: DocumentedPayload = {
    what: 'retained',
    topic: 'zigbee2mqtt/attic',
    payload: '{"temperature":15.5,"last_seen":1700000000000}',
    expected: [],
  };
  const { broker, hub } = await bridged([attic]);
  const [r] = await waitFor('the retained reading in latest', async () => {
    const l = await latest(hub.httpPort, { sensor: 'attic' });
    return l.length > 0 && l;
  });
  assert.equal([r!.value, r!.ts, r!.unit], [15.5, 1700000000000, 'C']);
  // A live message of another device after it, and its commit: the retained one would have been committed with or before it.
  await broker.publish('zigbee2mqtt/porch', ['{"temperature":9}']);
  await waitFor('the live reading stored', async () => (await history(hub.httpPort, { sensor: 'porch' })).includes('porch'));
  const csv = await history(hub.httpPort, { sensor: 'attic' });
  assert.is(csv.trim().split('\n').length, 1, `only the header: ${csv}`);
  assert.is(await mqttCounter(hub.httpPort, 'roomwatch_mqtt_messages_total', { outcome: 'retained' }), 1);
});

test.run();
