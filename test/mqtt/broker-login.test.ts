/**
 * The bridge logs in as the operator says (docs/INTEGRATIONS.md "Options"): a user and a
 * password from the URL, or from --mqtt-user and a password file; TLS to an mqtts:// broker
 * whose certificate chains to --mqtt-ca. A login the broker refuses does not stop the hub: it
 * says why in its log and keeps trying.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { waitFor } from '../support/api-client.ts';
import { makeTestPki } from '../support/certs.ts';
import { latest } from '../support/http.ts';
import { startHub, startHubProcess, tempDataDir } from '../support/hub-process.ts';
import { mosquittoInstalled, startMosquitto } from '../support/mosquitto.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';
import { freePort } from '../../scripts/bench/free-port.ts';
import { linksUp, mqttCounter } from './mqtt-support.ts';

test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

const installed = mosquittoInstalled('MQTT bridge login (test/mqtt/broker-login.test.ts)');

/** A broker that asks every client for a login: user `hub` (password `hub-secret`) and `device`. */
async function lockedBroker(extra: string[] = []) {
  const dir = (await tempDataDir()).path;
  const passwd = join(dir, 'passwd');
  for (const [user, password, create] of [
    ['hub', 'hub-secret', true],
    ['device', 'device-secret', false],
  ] as const) {
    const r = spawnSync('/usr/bin/mosquitto_passwd', [...(create ? ['-c'] : []), '-b', passwd, user, password], { encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
  }
  const broker = await startMosquitto(['allow_anonymous false', `password_file ${passwd}`, ...extra]);
  return { broker, dir };
}

test('over mqtts:// with --mqtt-ca, the user from --mqtt-user and the password from its file: readings arrive', async () => {
  if (!installed) return;
  const pki = makeTestPki();
  const tlsPort = await freePort();
  const { broker, dir } = await lockedBroker([`listener ${tlsPort} 127.0.0.1`, `certfile ${pki.certFile}`, `keyfile ${pki.keyFile}`]);
  const passwordFile = join(dir, 'mqtt.pass');
  writeFileSync(passwordFile, 'hub-secret\n', { mode: 0o600 });
  const hub = await startHub({
    mqttUrl: `mqtts://127.0.0.1:${tlsPort}`,
    mqttUser: 'hub',
    mqttPasswordFile: passwordFile,
    mqttCaFile: pki.caFile,
    mqttConnections: 1,
  });
  await linksUp(hub.httpPort, 2);
  await broker.publish('zigbee2mqtt/vault', ['{"humidity":41}'], { user: 'device', password: 'device-secret' });
  const [r] = await waitFor('the reading in latest', async () => {
    const l = await latest(hub.httpPort, { sensor: 'vault' });
    return l.length > 0 && l;
  });
  assert.is(r!.value, 41);
});

test('a password the broker refuses: the hub runs, logs why and what to check, and the bridge stays down', async () => {
  if (!installed) return;
  const { broker } = await lockedBroker();
  const dataDir = (await tempDataDir()).path;
  const hub = await startHubProcess({ dataDir, args: ['--mqtt', `mqtt://hub:wrong@127.0.0.1:${broker.port}`, '--mqtt-connections', '1'] });
  await waitFor('the refusal in the log', () => hub.output().includes('not authorized: check the user name and password'), 30_000);
  assert.ok(!hub.output().includes('wrong'), 'the password is not logged');
  assert.is(await mqttCounter(hub.httpPort, 'roomwatch_mqtt_links_connected'), 0);
  const health = await fetch(`http://127.0.0.1:${hub.httpPort}/api/v1/health`);
  assert.is(health.status, 200, 'the hub serves while the broker refuses it');
});

test.run();
