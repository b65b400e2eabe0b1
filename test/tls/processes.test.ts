// docs/ADMIN.md "TLS" as people run it (PROTOCOL.md §3): `npm start -- --tls-cert F --tls-key K`
// (or ROOMWATCH_TLS_CERT / ROOMWATCH_TLS_KEY), `npm run sensors -- --tls --ca F`, as processes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeTestPki } from '../support/certs.ts';
import { startHubProcess, tempDataDir } from '../support/hub-process.ts';
import { getJsonTls } from '../support/https.ts';
import { runNode } from '../support/node-process.ts';
import { Teardown, exitWhenDone, perTest } from '../support/teardown.ts';

const fileScope = new Teardown();
const pki = makeTestPki(fileScope);

test.after.each(() => perTest.run());
test.after(async () => {
  await fileScope.run();
  exitWhenDone();
});

function listeningLine(output: string): Record<string, unknown> {
  const line = output.split('\n').find((l) => l.includes('"hub listening"'));
  if (!line) throw new Error(`no "hub listening" line in:\n${output}`);
  return JSON.parse(line) as Record<string, unknown>;
}

test('the hub process with --tls-cert and --tls-key serves https and logs tls: true', async () => {
  const hub = await startHubProcess({ dataDir: (await tempDataDir()).path, args: ['--tls-cert', pki.certFile, '--tls-key', pki.keyFile] });
  assert.is(listeningLine(hub.output()).tls, true);
  const health = await getJsonTls<{ status: string }>(hub.httpPort, '/api/v1/health', pki.ca);
  assert.is(health.body.status, 'ok');
});

test('ROOMWATCH_TLS_CERT and ROOMWATCH_TLS_KEY do what the flags do; without them the line says tls: false', async () => {
  const tls = await startHubProcess({
    dataDir: (await tempDataDir()).path,
    env: { ROOMWATCH_TLS_CERT: pki.certFile, ROOMWATCH_TLS_KEY: pki.keyFile },
  });
  assert.is(listeningLine(tls.output()).tls, true);
  const plain = await startHubProcess({ dataDir: (await tempDataDir()).path, env: { ROOMWATCH_TLS_CERT: '', ROOMWATCH_TLS_KEY: '' } });
  assert.is(listeningLine(plain.output()).tls, false);
});

test('the hub process with --tls-cert alone exits 2 saying both are needed', async () => {
  const dataDir = (await tempDataDir()).path;
  const r = await runNode(['hub/main.ts', '--tcp-port', '0', '--http-port', '0', '--data', dataDir, '--tls-cert', pki.certFile], 30_000, {
    env: { ROOMWATCH_TLS_KEY: '' },
  });
  assert.is(r.code, 2, r.stderr);
  assert.match(r.stderr, /tlsCertFile and tlsKeyFile go together \(--tls-cert and --tls-key\)/);
});

test('the simulator process with --ca connects over TLS, and its readings are stored', async () => {
  const hub = await startHubProcess({ dataDir: (await tempDataDir()).path, args: ['--tls-cert', pki.certFile, '--tls-key', pki.keyFile] });
  const r = await runNode(
    [
      'sensors/main.ts',
      '--count',
      '3',
      '--prefix',
      'tlsproc',
      '--host',
      '127.0.0.1',
      '--port',
      String(hub.tcpPort),
      '--interval',
      '100',
      '--ca',
      pki.caFile,
      '--duration',
      '1',
    ],
    60_000,
  );
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /fleet started: 3 sensors -> 127\.0\.0\.1:\d+ \(TLS\)/);
  assert.match(r.stdout, /unacked 0,/);
  const sensors = await getJsonTls<{ sensors: { sensor: string; metrics: string[] }[] }>(hub.httpPort, '/api/v1/sensors', pki.ca);
  assert.equal(
    sensors.body.sensors.map((s) => [s.sensor, s.metrics.length]),
    [
      ['tlsproc-001', 3],
      ['tlsproc-002', 3],
      ['tlsproc-003', 3],
    ],
  );
});

test('the simulator process with another CA says on stderr that the certificate is not trusted', async () => {
  const hub = await startHubProcess({ dataDir: (await tempDataDir()).path, args: ['--tls-cert', pki.certFile, '--tls-key', pki.keyFile] });
  const r = await runNode(
    ['sensors/main.ts', '--count', '2', '--host', '127.0.0.1', '--port', String(hub.tcpPort), '--duration', '1'],
    60_000,
    { env: { ROOMWATCH_CA: pki.otherCaFile } },
  );
  assert.is(r.code, 1, `nothing was stored: ${r.stderr}`);
  assert.match(
    r.stderr,
    /TLS handshake with 127\.0\.0\.1:\d+ failed: unable to verify the first certificate \(the hub's certificate is not trusted: the CA in --ca did not sign it\)/,
  );
  assert.is(r.stderr.match(/TLS handshake/g)?.length, 1, 'said once, not once per sensor and attempt');
});

test.run();
