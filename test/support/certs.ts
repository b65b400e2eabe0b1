/**
 * Certificates for the TLS tests, made with `openssl` at test time in a temp dir, so no key is
 * ever committed. `makeTestPki()` gives a CA, a hub certificate it signed (for 127.0.0.1 and
 * localhost), a second, unrelated CA (the "wrong CA" a client may be given), and a hub
 * certificate for another name (signed by the right CA). EC P-256 keys: quick to make.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { perTest, type Teardown } from './teardown.ts';

export interface TestPki {
  dir: string;
  /** the CA that signed the hub's certificates */
  caFile: string;
  ca: Buffer;
  /** the hub: subjectAltName IP:127.0.0.1, DNS:localhost */
  certFile: string;
  keyFile: string;
  /** a CA that signed nothing the hub has */
  otherCaFile: string;
  otherCa: Buffer;
  /** signed by the right CA, but only for DNS:elsewhere.example */
  wrongNameCertFile: string;
  wrongNameKeyFile: string;
}

function openssl(dir: string, args: string[]): void {
  const result = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8', timeout: 30_000 });
  if (result.error) throw new Error(`openssl could not run (${result.error.message}); the TLS tests need it on the PATH`);
  if (result.status !== 0) throw new Error(`openssl ${args.join(' ')} failed (${result.status}):\n${result.stderr}`);
}

/** Flags written as on a command line; none of these has a space in its value. */
const words = (text: string): string[] => text.trim().split(/\s+/);
const EC_KEY = '-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes';

function makeCa(dir: string, name: string, cn: string): void {
  openssl(dir, [
    ...words(`req -x509 -new ${EC_KEY} -keyout ${name}.key -out ${name}.crt -days 2`),
    ...['-subj', `/CN=${cn}`],
    ...words('-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign'),
  ]);
}

function makeServerCert(dir: string, name: string, ca: string, altNames: string): void {
  openssl(dir, words(`req -new ${EC_KEY} -keyout ${name}.key -out ${name}.csr -subj /CN=${name}`));
  writeFileSync(
    join(dir, `${name}.ext`),
    `subjectAltName=${altNames}\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n`,
  );
  const serial = `0x${Date.now().toString(16)}`;
  openssl(
    dir,
    words(`x509 -req -in ${name}.csr -CA ${ca}.crt -CAkey ${ca}.key -set_serial ${serial} -days 2 -out ${name}.crt -extfile ${name}.ext`),
  );
}

/** Makes the certificates; the directory is removed by `scope`'s teardown. */
export function makeTestPki(scope: Teardown = perTest): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'roomwatch-tls-'));
  scope.add(`certificates in ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  makeCa(dir, 'ca', 'Roomwatch test CA');
  makeCa(dir, 'other-ca', 'Some other CA');
  makeServerCert(dir, 'hub', 'ca', 'IP:127.0.0.1,DNS:localhost');
  makeServerCert(dir, 'elsewhere', 'ca', 'DNS:elsewhere.example');
  const file = (name: string): string => join(dir, name);
  return {
    dir,
    caFile: file('ca.crt'),
    ca: readFileSync(file('ca.crt')),
    certFile: file('hub.crt'),
    keyFile: file('hub.key'),
    otherCaFile: file('other-ca.crt'),
    otherCa: readFileSync(file('other-ca.crt')),
    wrongNameCertFile: file('elsewhere.crt'),
    wrongNameKeyFile: file('elsewhere.key'),
  };
}
