/**
 * The hub's TLS certificate and key, read once at start and checked as a pair, so a wrong file
 * (a CSR instead of a certificate, the key of another certificate) fails the start with a
 * message naming it rather than every handshake later. One pair serves both ports.
 */
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';

export interface TlsCredentials {
  /** PEM: the hub's certificate, then any intermediates */
  cert: Buffer;
  /** PEM: its private key, unencrypted */
  key: Buffer;
  /** for the start log: what clients will see */
  subject: string;
  subjectAltName: string | null;
  validTo: string;
}

/** Reads and checks the pair; throws an Error whose message names the file at fault. */
export function loadTlsCredentials(certFile: string, keyFile: string): TlsCredentials {
  const read = (name: string, file: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new Error(`${name} "${file}" cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  };
  const cert = read('tlsCertFile', certFile);
  const key = read('tlsKeyFile', keyFile);
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch {
    throw new Error(`tlsCertFile "${certFile}" is not a PEM certificate (it should begin with -----BEGIN CERTIFICATE-----)`);
  }
  try {
    // Parses the key and checks that it belongs to the certificate, as every handshake would.
    createSecureContext({ cert, key });
  } catch (err) {
    const reason = (err as Error).message;
    throw new Error(
      /mismatch/i.test(reason)
        ? `tlsKeyFile "${keyFile}" is not the key of the certificate in "${certFile}"`
        : `tlsKeyFile "${keyFile}" is not a usable unencrypted PEM private key (${reason})`,
    );
  }
  return { cert, key, subject: x509.subject.replace(/\n/g, ', '), subjectAltName: x509.subjectAltName ?? null, validTo: x509.validTo };
}
