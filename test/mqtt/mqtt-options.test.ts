/**
 * The MQTT options are checked with the hub's (docs/ADMIN.md "The MQTT bridge"): a mistake stops
 * the start with the option's name, and a mapping file's mistake with its place in the file.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildHub } from '../../hub/hub.ts';
import { resolveHubOptions } from '../../hub/setup/options.ts';
import { tempDataDir } from '../support/hub-process.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';

test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

function refusal(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected the options to be refused');
}

test('each MQTT option that cannot work is named, with what to give instead', () => {
  assert.match(
    refusal(() => resolveHubOptions({ mqttUrl: 'http://broker:1883' })),
    'must start with mqtt:// or mqtts://',
  );
  assert.match(
    refusal(() => resolveHubOptions({ mqttUrl: 'mqtt://broker/topic' })),
    'must not have a path',
  );
  assert.match(
    refusal(() => resolveHubOptions({ mqttUser: 'hub' })),
    'mqttUser is for the MQTT bridge: give the broker with mqttUrl',
  );
  assert.match(
    refusal(() => resolveHubOptions({ mqttUrl: 'mqtt://b', mqttPasswordFile: '/nonexistent/pass' })),
    'mqttPasswordFile "/nonexistent/pass" cannot be read (ENOENT)',
  );
  assert.match(
    refusal(() => resolveHubOptions({ mqttUrl: 'mqtt://b', mqttConnections: 0 })),
    'mqttConnections must be a whole number from 1 to 64',
  );
  assert.match(
    refusal(() => resolveHubOptions({ mqttUrl: 'mqtt://b', mqttClientId: 'a/b' })),
    'mqttClientId must be 1 to 40 letters',
  );
  assert.not.throws(() => resolveHubOptions({ mqttUrl: 'mqtts://user:secret@broker.home.lan' }));
});

test('a mapping file that breaks a rule stops buildHub with the file, the place in it and the rule', async () => {
  const dir = (await tempDataDir()).path;
  const map = join(dir, 'map.json');
  writeFileSync(map, JSON.stringify({ sensors: { 'Living Room': { room: 'living room' } } }));
  const message = refusal(() => buildHub({ dataDir: dir, mqttUrl: 'mqtt://127.0.0.1:1', mqttMapFile: map, logLevel: 'silent' }));
  assert.match(message, 'invalid hub options');
  assert.match(message, `mqtt mapping file ${map}`);
  assert.match(message, 'sensors["Living Room"].room "living room" must be a room');
});

test('a CA file is for mqtts:// brokers, and a password needs a user', async () => {
  const dir = (await tempDataDir()).path;
  const file = join(dir, 'x.pem');
  writeFileSync(file, 'not used');
  assert.match(
    refusal(() => buildHub({ dataDir: dir, mqttUrl: 'mqtt://127.0.0.1:1', mqttCaFile: file, logLevel: 'silent' })),
    'mqttCaFile is for mqtts:// brokers',
  );
  assert.match(
    refusal(() => buildHub({ dataDir: dir, mqttUrl: 'mqtt://127.0.0.1:1', mqttPasswordFile: file, logLevel: 'silent' })),
    'a password needs a user name',
  );
});

test.run();
