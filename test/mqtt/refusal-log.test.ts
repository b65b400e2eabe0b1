// A refused MQTT message is logged with what was wrong, but the line quotes a bounded part of the
// topic and of the detail: a topic may be 64 KiB, and a device's names end up in the detail.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '../support/api-client.ts';
import { latest } from '../support/http.ts';
import { startHub, tempDataDir } from '../support/hub-process.ts';
import { mosquittoInstalled, startMosquitto } from '../support/mosquitto.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';
import { linksUp, mqttCounter } from './mqtt-support.ts';

test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

const installed = mosquittoInstalled('MQTT refusal log (test/mqtt/refusal-log.test.ts)');

test('the refusal of a message on a 20,000-character topic is logged in a line of bounded length', async () => {
  if (!installed) return;
  const broker = await startMosquitto();
  const dataDir = (await tempDataDir()).path;
  const logFile = join(dataDir, 'hub.log');
  const hub = await startHub({ dataDir, mqttUrl: broker.url, mqttConnections: 1, logLevel: 'warn', logFile });
  await linksUp(hub.httpPort, 2);
  const name = `dev-${'x'.repeat(20_000)}`;
  await broker.publish(`zigbee2mqtt/${name}`, ['{"temperature":']);
  await broker.publish('zigbee2mqtt/after', ['{"temperature":12.5}']);
  await waitFor('the next message stored', async () => (await latest(hub.httpPort, { sensor: 'after' })).length === 1);
  assert.is(await mqttCounter(hub.httpPort, 'roomwatch_mqtt_refused_total', { reason: 'malformed' }), 1);
  // The file rotates daily under a dated name (hub.YYYY-MM-DD.N.log): every file the hub wrote is read.
  const line = await waitFor('the refusal in the log', async () =>
    readdirSync(dataDir)
      .filter((f) => f.startsWith('hub.'))
      .flatMap((f) => readFileSync(join(dataDir, f), 'utf8').split('\n'))
      .find((l) => l.includes('mqtt message refused')),
  );
  const entry = JSON.parse(line) as { topic: string; detail: string; reason: string };
  assert.is(entry.reason, 'malformed');
  assert.ok(entry.topic.startsWith('zigbee2mqtt/dev-xxx'), entry.topic.slice(0, 40));
  assert.match(entry.topic, /\.\.\. \(\d+ more characters\)$/);
  assert.ok(line.length < 1_000, `the line is ${line.length} characters`);
});

test.run();
