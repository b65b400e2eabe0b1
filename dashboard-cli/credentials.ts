/**
 * Where the CLI keeps its logins (docs/ADMIN.md "Logging in"): `credentials.json` in the user's
 * config folder, `{"hubs":{"<hub URL>":{"user","token","expires_at"}}}`, one login per hub.
 *
 * The folder is created 700 and the file written 600, since a token is as good as a password
 * until it expires. The file is replaced whole (a temporary file renamed over it), so a crash or
 * a full disk never leaves half a file, and a CLI reading it at the same time never sees one.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { homedir, platform } from 'node:os';
import { dirname, join, posix, win32 } from 'node:path';
import type { Env } from './args.ts';
import { describeFsError } from './describe-error.ts';
import { LocalFileError } from './errors.ts';

export const CREDENTIALS_FILE_NAME = 'credentials.json';
const DIR_MODE = 0o700;
const FILE_MODE = 0o600;

/** One hub's login, as `POST /api/v1/login` gave it. */
export interface StoredLogin {
  user: string;
  token: string;
  /** ms since the Unix epoch */
  expires_at: number;
}

export interface CredentialsFile {
  /** by normalised hub URL (hubKey) */
  hubs: Record<string, StoredLogin>;
}

export interface SystemInfo {
  platform: NodeJS.Platform;
  home: string;
}

/**
 * The config folder: $ROOMWATCH_CONFIG_DIR, else %APPDATA%\roomwatch on Windows, else
 * $XDG_CONFIG_HOME/roomwatch (only an absolute one counts, as the XDG spec says), else
 * ~/.config/roomwatch. An empty variable counts as unset.
 */
export function configDir(env: Env, system: SystemInfo = { platform: platform(), home: homedir() }): string {
  const set = (name: string): string | undefined => (env[name] === '' ? undefined : env[name]);
  const own = set('ROOMWATCH_CONFIG_DIR');
  if (own !== undefined) return own;
  if (system.platform === 'win32') return win32.join(set('APPDATA') ?? win32.join(system.home, 'AppData', 'Roaming'), 'roomwatch');
  const xdg = set('XDG_CONFIG_HOME');
  if (xdg !== undefined && posix.isAbsolute(xdg)) return posix.join(xdg, 'roomwatch');
  return posix.join(system.home, '.config', 'roomwatch');
}

export function credentialsPath(env: Env, system?: SystemInfo): string {
  const dir = configDir(env, system);
  return (system?.platform ?? platform()) === 'win32' ? win32.join(dir, CREDENTIALS_FILE_NAME) : posix.join(dir, CREDENTIALS_FILE_NAME);
}

/**
 * A hub's key in the file: scheme, host, the port unless it is the default, and the path prefix
 * without a trailing slash. `http://Hub:80/` and `http://hub` are one hub; `localhost` and
 * `127.0.0.1` are two, as they may well be (another machine's name in a proxy setup).
 */
export function hubKey(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
}

function damaged(file: string, problem: string): LocalFileError {
  return new LocalFileError(`the credentials file ${file} ${problem}; fix it, or delete it and log in again`);
}

/** The file's logins; no file is no logins. A file that is not what this CLI writes is a LocalFileError naming it (exit 2). */
export function readCredentials(file: string): CredentialsFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { hubs: {} };
    throw new LocalFileError(`cannot read the credentials file ${file}: ${describeFsError(error)}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw damaged(file, `is not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw damaged(file, 'does not hold a JSON object');
  const hubs = (parsed as { hubs?: unknown }).hubs;
  if (typeof hubs !== 'object' || hubs === null || Array.isArray(hubs)) throw damaged(file, 'has no "hubs" object');
  const logins: [string, StoredLogin][] = [];
  for (const [key, login] of Object.entries(hubs)) {
    const where = `hubs[${JSON.stringify(key)}]`;
    if (typeof login !== 'object' || login === null) throw damaged(file, `has ${where} that is not an object`);
    const { user, token, expires_at: expiresAt } = login as Record<string, unknown>;
    if (typeof user !== 'string') throw damaged(file, `has ${where}.user that is not a string`);
    // A token must fit in a header; anything else was not written by this CLI.
    if (typeof token !== 'string' || !/^[\x21-\x7e]+$/.test(token)) throw damaged(file, `has ${where}.token that is not a token`);
    if (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt))
      throw damaged(file, `has ${where}.expires_at that is not a time in ms`);
    logins.push([key, { user, token, expires_at: expiresAt }]);
  }
  // fromEntries defines own properties: a key "__proto__" stays a key (and is written back), not a prototype.
  return { hubs: Object.fromEntries(logins) };
}

/** Replaces the file with `data`: folder made 700 if missing, a temporary file written 600, synced, and renamed over it. */
export function writeCredentials(file: string, data: CredentialsFile): void {
  const dir = dirname(file);
  const temp = join(dir, `.${CREDENTIALS_FILE_NAME}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    mkdirSync(dir, { recursive: true, mode: DIR_MODE });
    // 'wx': a file left by someone else under this random name is not written through.
    const fd = openSync(temp, 'wx', FILE_MODE);
    try {
      writeSync(fd, JSON.stringify(data, null, 2) + '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
  } catch (error) {
    rmSync(temp, { force: true });
    throw new LocalFileError(`cannot write the credentials file ${file}: ${describeFsError(error)}`);
  }
  try {
    // The new file was created 600 already; this is for a umask or file system that did otherwise.
    chmodSync(file, FILE_MODE);
  } catch {
    // Windows has no such modes; the file is in the user's own profile there.
  }
}

/** The logins of one credentials file. Each call reads the file afresh, so two CLIs logging in to two hubs keep both logins. */
export class CredentialsStore {
  constructor(readonly file: string) {}

  get(hub: string): StoredLogin | undefined {
    const { hubs } = readCredentials(this.file);
    return Object.hasOwn(hubs, hub) ? hubs[hub] : undefined;
  }

  save(hub: string, login: StoredLogin): void {
    const data = readCredentials(this.file);
    data.hubs[hub] = login;
    writeCredentials(this.file, data);
  }

  /** Forgets the hub's login; false if there was none. */
  forget(hub: string): boolean {
    const data = readCredentials(this.file);
    if (!Object.hasOwn(data.hubs, hub)) return false;
    delete data.hubs[hub];
    writeCredentials(this.file, data);
    return true;
  }
}
