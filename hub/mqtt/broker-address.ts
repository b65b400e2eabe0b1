/**
 * Where the user's broker is and how to log in: `--mqtt mqtt://user:pass@host:1883` or
 * `mqtts://host:8883`, with the user from `--mqtt-user` and the password from
 * `--mqtt-password-file` (so it is not on the command line, where `ps` shows it) when given,
 * and a CA certificate file for a broker whose certificate no public CA signed (`--mqtt-ca`).
 */
import { readFileSync } from 'node:fs';

export interface BrokerAddress {
  host: string;
  port: number;
  tls: boolean;
  /** TLS: the name the broker's certificate must carry (SNI is sent for a name, not for an address) */
  servername: string;
  ca?: Buffer;
  username?: string;
  password?: string;
  /** the URL without its password, for logs */
  display: string;
}

export interface BrokerCredentials {
  user: string | null;
  passwordFile: string | null;
  caFile: string | null;
}

/** Why `url` is not a broker URL the bridge can use, or null. */
export function brokerUrlProblem(url: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `mqtt "${url}" must be a URL like mqtt://host:1883 or mqtts://user@host:8883`;
  }
  if (u.protocol !== 'mqtt:' && u.protocol !== 'mqtts:')
    return `mqtt "${redact(u)}" must start with mqtt:// or mqtts:// (got ${u.protocol}//)`;
  if (u.hostname === '') return `mqtt "${redact(u)}" must name the broker's host`;
  if (u.pathname !== '' && u.pathname !== '/')
    return `mqtt "${redact(u)}" must not have a path (${u.pathname}): topics come from the mapping`;
  return null;
}

/** Reads the password and CA files; throws an Error naming the option when one cannot be read. */
export function brokerAddress(url: string, creds: BrokerCredentials): BrokerAddress {
  const problem = brokerUrlProblem(url);
  if (problem !== null) throw new Error(problem);
  const u = new URL(url);
  const tls = u.protocol === 'mqtts:';
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  const username = creds.user ?? (u.username === '' ? undefined : decodeURIComponent(u.username));
  let password = u.password === '' ? undefined : decodeURIComponent(u.password);
  if (creds.passwordFile !== null)
    password = readOptionFile('mqttPasswordFile', creds.passwordFile)
      .toString('utf8')
      .replace(/\r?\n$/, '');
  if (password !== undefined && username === undefined)
    throw new Error('mqtt: a password needs a user name (--mqtt-user, or user@ in the URL)');
  if (creds.caFile !== null && !tls) throw new Error(`mqttCaFile is for mqtts:// brokers; "${redact(u)}" is plain mqtt://`);
  return {
    host,
    port: u.port === '' ? (tls ? 8883 : 1883) : Number(u.port),
    tls,
    servername: host,
    ...(creds.caFile !== null && { ca: readOptionFile('mqttCaFile', creds.caFile) }),
    ...(username !== undefined && { username }),
    ...(password !== undefined && { password }),
    display: redact(u),
  };
}

function readOptionFile(option: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new Error(`${option} "${file}" cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

function redact(u: URL): string {
  const copy = new URL(u.href);
  if (copy.password !== '') copy.password = '***';
  return copy.href.replace(/\/$/, '');
}
