// docs/ADMIN.md "TLS", the hub's side at start: a certificate and key go together, must be
// readable, and must be a pair; any fault stops the start with a message naming the option,
// so a hub meant to serve TLS never comes up as a plain one.
import { writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildHub } from '../../hub/hub.ts';
import { resolveHubOptions } from '../../hub/setup/options.ts';
import { makeTestPki } from '../support/certs.ts';
import { tempDataDir } from '../support/hub-process.ts';
import { Teardown, exitWhenDone, perTest } from '../support/teardown.ts';

const fileScope = new Teardown();
const pki = makeTestPki(fileScope);

test.after.each(() => perTest.run());
test.after(async () => {
  await fileScope.run();
  exitWhenDone();
});

async function startError(tls: { tlsCertFile?: string | null; tlsKeyFile?: string | null }): Promise<string> {
  const dataDir = (await tempDataDir()).path;
  try {
    buildHub({ dataDir, logLevel: 'silent', tcpPort: 0, httpPort: 0, ...tls });
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error(`buildHub accepted ${JSON.stringify(tls)}`);
}

test('a certificate without a key, or a key without a certificate, is refused naming both options', async () => {
  assert.match(await startError({ tlsCertFile: pki.certFile }), /tlsCertFile and tlsKeyFile go together \(--tls-cert and --tls-key\)/);
  assert.match(await startError({ tlsKeyFile: pki.keyFile }), /tlsCertFile and tlsKeyFile go together/);
});

test('a certificate file that cannot be read is refused naming the option and the file', async () => {
  const missing = join(pki.dir, 'missing.crt');
  assert.match(
    await startError({ tlsCertFile: missing, tlsKeyFile: pki.keyFile }),
    new RegExp(`tlsCertFile "${missing}" cannot be read \\(ENOENT\\)`),
  );
});

test('a file that is no certificate is refused as such', async () => {
  const notPem = join(pki.dir, 'not-a-cert.pem');
  writeFileSync(notPem, 'not a certificate\n');
  assert.match(
    await startError({ tlsCertFile: notPem, tlsKeyFile: pki.keyFile }),
    /tlsCertFile ".*not-a-cert\.pem" is not a PEM certificate/,
  );
});

test('the key of another certificate is refused: the pair must match', async () => {
  assert.match(
    await startError({ tlsCertFile: pki.certFile, tlsKeyFile: pki.wrongNameKeyFile }),
    /tlsKeyFile ".*elsewhere\.key" is not the key of the certificate in ".*hub\.crt"/,
  );
});

test('neither given (null by default, or empty) is a plain hub; given, both become absolute paths', () => {
  assert.is(resolveHubOptions({}).tlsCertFile, null);
  const empty = resolveHubOptions({ tlsCertFile: '', tlsKeyFile: '' });
  assert.equal([empty.tlsCertFile, empty.tlsKeyFile], [null, null]);
  const given = resolveHubOptions({ tlsCertFile: relative(process.cwd(), pki.certFile), tlsKeyFile: pki.keyFile });
  assert.equal([given.tlsCertFile, given.tlsKeyFile], [pki.certFile, pki.keyFile]);
});

test.run();
