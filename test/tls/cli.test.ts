// docs/ADMIN.md "TLS" for the user CLI: an https:// hub URL is verified against --ca (or
// ROOMWATCH_CA) for every request, streamed ones and the wss: stream included; a certificate it
// cannot trust is "no connection" (exit 3, PROTOCOL.md §3) with a message saying what to do.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runCliInProcess } from '../../dashboard-cli/testing/run-cli-in-process.ts';
import { runCliProcess } from '../../dashboard-cli/testing/run-cli-process.ts';
import { makeTestPki } from '../support/certs.ts';
import { startHub } from '../support/hub-process.ts';
import { getJsonTls } from '../support/https.ts';
import { sharedHub, stopSharedHubs } from '../support/shared-hub.ts';
import { connect } from '../support/tcp-sensor.ts';
import { Teardown, exitWhenDone, perTest } from '../support/teardown.ts';

const fileScope = new Teardown();
const pki = makeTestPki(fileScope);
const startedHub = sharedHub({ tlsCertFile: pki.certFile, tlsKeyFile: pki.keyFile });

test.after.each(() => perTest.run());
test.after(async () => {
  await stopSharedHubs();
  await fileScope.run();
  exitWhenDone();
});

const TS = Date.UTC(2025, 10, 21, 8, 0, 0);
let stored: Promise<{ tcpPort: number; httpPort: number; url: string }> | undefined;

/** The shared TLS hub, with one reading of rack1-temp stored through a TLS sensor connection. */
function hub(): Promise<{ tcpPort: number; httpPort: number; url: string }> {
  stored ??= (async () => {
    const { tcpPort, httpPort } = await startedHub();
    const s = await connect(tcpPort, '127.0.0.1', fileScope, { tls: { ca: pki.ca } });
    await s.hello('rack1-temp', 'server-room');
    await s.send({ type: 'reading', metric: 'temperature', value: 24.5, unit: 'C', ts: TS, seq: 1 });
    await s.ackCovering(1);
    await s.close();
    return { tcpPort, httpPort, url: `https://127.0.0.1:${httpPort}` };
  })();
  return stored;
}

test('latest against an https hub with --ca prints its readings and exits 0', async () => {
  const { url } = await hub();
  const r = await runCliProcess(['latest', '--json', '--hub', url, '--ca', pki.caFile]);
  assert.is(r.code, 0, r.stderr);
  const body = JSON.parse(r.stdout) as { readings: { sensor: string; value: number; ts: number }[] };
  assert.equal(
    body.readings.map((x) => [x.sensor, x.value, x.ts]),
    [['rack1-temp', 24.5, TS]],
  );
});

test('ROOMWATCH_CA and ROOMWATCH_HUB do what --ca and --hub do', async () => {
  const { url } = await hub();
  const r = await runCliInProcess(['sensors', '--json'], { env: { ROOMWATCH_HUB: url, ROOMWATCH_CA: pki.caFile } });
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /"sensor":"rack1-temp"/);
});

test('latest with another CA exits 3 and says the certificate is not trusted by that CA', async () => {
  const { url } = await hub();
  const r = await runCliProcess(['latest', '--hub', url, '--ca', pki.otherCaFile]);
  assert.is(r.code, 3, r.stderr);
  assert.is(r.stdout, '');
  assert.match(
    r.stderr,
    /no secure connection to the hub at https:\/\/127\.0\.0\.1:\d+: the hub's certificate is not trusted \(.*\): the CA in --ca did not sign it/,
  );
  assert.not.match(r.stderr, /Is the hub running/);
});

test("latest with no CA at all checks Node's default store, which does not trust the hub: exit 3", async () => {
  const { url } = await hub();
  const r = await runCliInProcess(['latest', '--hub', url]);
  assert.is(r.code, 3, r.stderr);
  assert.match(r.stderr, /the hub's certificate is not trusted .*pass --ca FILE/);
});

test('a certificate for another name exits 3 naming the host and the names the certificate is for', async () => {
  const other = await startHub({ tlsCertFile: pki.wrongNameCertFile, tlsKeyFile: pki.wrongNameKeyFile });
  const r = await runCliInProcess(['latest', '--hub', `https://127.0.0.1:${other.httpPort}`, '--ca', pki.caFile]);
  assert.is(r.code, 3, r.stderr);
  assert.match(r.stderr, /the hub's certificate is not for 127\.0\.0\.1 \(it is for DNS:elsewhere\.example\)/);
});

test('an https:// URL to a hub without TLS exits 3 and says the hub does not speak TLS there', async () => {
  const plain = await startHub();
  const r = await runCliInProcess(['latest', '--hub', `https://127.0.0.1:${plain.httpPort}`, '--ca', pki.caFile]);
  assert.is(r.code, 3, r.stderr);
  assert.match(r.stderr, /the hub does not speak TLS on this port/);
});

test('an http:// URL to a hub that serves TLS exits 3 and suggests https://', async () => {
  const { httpPort } = await hub();
  const r = await runCliInProcess(['latest', '--hub', `http://127.0.0.1:${httpPort}`, '--ca', pki.caFile]);
  assert.is(r.code, 3, r.stderr);
  assert.match(r.stderr, /use an https:\/\/ URL/);
});

test('history over https with --ca streams the stored rows', async () => {
  const { url } = await hub();
  const r = await runCliInProcess(['history', '--time', 'ms', '--hub', url, '--ca', pki.caFile]);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, `ts,sensor,room,metric,value,unit\n${TS},rack1-temp,server-room,temperature,24.5,C\n`);
});

test('history with another CA exits 3 with the certificate message', async () => {
  const { url } = await hub();
  const r = await runCliInProcess(['history', '--hub', url, '--ca', pki.otherCaFile]);
  assert.is(r.code, 3, r.stderr);
  assert.match(r.stderr, /the hub's certificate is not trusted/);
});

test('upload over https with --ca stores the rows', async () => {
  const { url, httpPort } = await hub();
  const file = join(pki.dir, 'upload.csv');
  writeFileSync(file, `ts,sensor,room,metric,value,unit\n${TS},tls-upload,kitchen,humidity,40,%\n`);
  const r = await runCliInProcess(['upload', file, '--json', '--hub', url, '--ca', pki.caFile]);
  assert.is(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout), { accepted: 1, duplicates: 0 });
  const latest = await getJsonTls<{ readings: { sensor: string }[] }>(httpPort, '/api/v1/latest?sensor=tls-upload', pki.ca);
  assert.is(latest.body.readings.length, 1);
});

test('watch over wss with --ca receives a reading', async () => {
  const { url } = await hub();
  const r = await runCliProcess([
    'watch',
    '--sensor',
    'rack1-temp',
    '--replay',
    '1',
    '--count',
    '1',
    '--json',
    '--hub',
    url,
    '--ca',
    pki.caFile,
  ]);
  assert.is(r.code, 0, r.stderr);
  const messages = r.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { type: string; sensor?: string; ts?: number });
  assert.equal(
    messages.map((m) => m.type),
    ['subscribed', 'reading'],
  );
  assert.is(messages[1]?.sensor, 'rack1-temp');
  assert.is(messages[1]?.ts, TS);
});

test('watch over wss with another CA exits 3 with the certificate message', async () => {
  const { url } = await hub();
  const r = await runCliInProcess(['watch', '--hub', url, '--ca', pki.otherCaFile]);
  assert.is(r.code, 3, r.stderr);
  assert.match(r.stderr, /no secure connection .* the hub's certificate is not trusted .*the CA in --ca did not sign it/);
});

test('a --ca file that cannot be read, or holds no certificate, exits 2 before any request', async () => {
  const { url } = await hub();
  const missing = await runCliInProcess(['latest', '--hub', url, '--ca', join(pki.dir, 'no-such.crt')]);
  assert.is(missing.code, 2, missing.stderr);
  assert.match(missing.stderr, /cannot read the CA file .*no such file or directory/);
  const notPem = join(pki.dir, 'not-a-cert.txt');
  writeFileSync(notPem, 'hello\n');
  const bad = await runCliInProcess(['latest', '--hub', url, '--ca', notPem]);
  assert.is(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /holds no PEM certificate/);
});

test.run();
