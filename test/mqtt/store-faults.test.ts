/**
 * The bridge under a failing store (hub/store/store-faults.ts): commits that fail and are
 * retried acknowledge nothing early and lose nothing; a message whose rows the store refuses
 * is found, refused and acknowledged, and the messages that came with it are stored.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { waitFor } from '../support/api-client.ts';
import { startHub } from '../support/hub-process.ts';
import { mosquittoInstalled, startMosquitto } from '../support/mosquitto.ts';
import { readStoredReadings } from '../support/store-inspect.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';
import { linksUp, mqttCounter } from './mqtt-support.ts';

test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

const installed = mosquittoInstalled('MQTT bridge with store faults (test/mqtt/store-faults.test.ts)');

test('half the commits failing: every message is stored once, acknowledged only after its commit', async () => {
  if (!installed) return;
  const broker = await startMosquitto();
  const hub = await startHub({
    mqttUrl: broker.url,
    mqttConnections: 2,
    storeFaults: { seed: 7, commitFailureRate: 0.5, commitDelayMs: 0 },
  });
  await linksUp(hub.httpPort, 3);
  const payloads = Array.from({ length: 300 }, (_, i) => JSON.stringify({ humidity: i }));
  await broker.publish('zigbee2mqtt/basement', payloads);
  await waitFor(
    '300 messages committed',
    async () => (await mqttCounter(hub.httpPort, 'roomwatch_mqtt_messages_total', { outcome: 'stored' })) === 300,
    60_000,
  );
  assert.ok((await mqttCounter(hub.httpPort, 'roomwatch_commit_failures_total')) > 0, 'some commits did fail');
  await hub.stop();
  const values = (await readStoredReadings(hub.dataDir)).filter((r) => r.sensor === 'basement').map((r) => r.value);
  assert.equal(
    values.sort((a, b) => a - b),
    payloads.map((_, i) => i),
  );
});

test('a message whose rows the store refuses is refused and acknowledged; the messages with it are stored', async () => {
  if (!installed) return;
  const broker = await startMosquitto();
  const hub = await startHub({
    mqttUrl: broker.url,
    mqttConnections: 1,
    storeFaults: { seed: 1, commitFailureRate: 0, commitDelayMs: 0, poisonMetric: 'poison' },
  });
  await linksUp(hub.httpPort, 2);
  const payloads = Array.from({ length: 50 }, (_, i) => JSON.stringify(i === 25 ? { poison: 1 } : { humidity: i }));
  await broker.publish('zigbee2mqtt/shed', payloads);
  await waitFor(
    'the poisoned message refused',
    async () => (await mqttCounter(hub.httpPort, 'roomwatch_mqtt_refused_total', { reason: 'store_refused' })) === 1,
    60_000,
  );
  await waitFor(
    'the 49 others stored',
    async () => (await mqttCounter(hub.httpPort, 'roomwatch_mqtt_messages_total', { outcome: 'stored' })) === 49,
    60_000,
  );
  await hub.stop();
  const stored = (await readStoredReadings(hub.dataDir)).filter((r) => r.sensor === 'shed');
  assert.is(stored.filter((r) => r.metric === 'humidity').length, 49);
  assert.is(stored.filter((r) => r.metric === 'poison').length, 0);
});

test.run();
