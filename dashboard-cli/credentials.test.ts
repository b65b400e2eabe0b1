// Where logins are kept and how (docs/ADMIN.md "Logging in"): the config folder's precedence, one
// key per hub, a file readable by its owner alone, replaced whole, and a damaged file named.
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CredentialsStore, configDir, credentialsPath, hubKey, readCredentials, writeCredentials } from './credentials.ts';
import { LocalFileError } from './errors.ts';

const linux = { platform: 'linux' as const, home: '/home/alex' };
const windows = { platform: 'win32' as const, home: 'C:\\Users\\alex' };
const login = { user: 'alex', token: 'tok-alex-1', expires_at: 1_763_755_200_000 };

let dir: string;
test.before.each(() => {
  dir = mkdtempSync(join(tmpdir(), 'roomwatch-credentials-'));
});
test.after.each(() => {
  rmSync(dir, { recursive: true, force: true });
});

const mode = (path: string): number => statSync(path).mode & 0o777;

test('the config folder is $ROOMWATCH_CONFIG_DIR, else $XDG_CONFIG_HOME/roomwatch, else ~/.config/roomwatch', () => {
  assert.is(configDir({ ROOMWATCH_CONFIG_DIR: '/etc/rw', XDG_CONFIG_HOME: '/x' }, linux), '/etc/rw');
  assert.is(configDir({ XDG_CONFIG_HOME: '/x' }, linux), '/x/roomwatch');
  assert.is(configDir({}, linux), '/home/alex/.config/roomwatch');
  assert.is(configDir({ ROOMWATCH_CONFIG_DIR: '', XDG_CONFIG_HOME: '' }, linux), '/home/alex/.config/roomwatch', 'empty counts as unset');
  assert.is(configDir({ XDG_CONFIG_HOME: 'relative/dir' }, linux), '/home/alex/.config/roomwatch', 'the XDG spec ignores a relative path');
  assert.is(credentialsPath({}, linux), '/home/alex/.config/roomwatch/credentials.json');
});

test('on Windows the folder is %APPDATA%\\roomwatch', () => {
  assert.is(configDir({ APPDATA: 'C:\\Users\\alex\\AppData\\Roaming' }, windows), 'C:\\Users\\alex\\AppData\\Roaming\\roomwatch');
  assert.is(configDir({}, windows), 'C:\\Users\\alex\\AppData\\Roaming\\roomwatch');
  assert.is(configDir({ ROOMWATCH_CONFIG_DIR: 'D:\\rw' }, windows), 'D:\\rw');
  assert.is(credentialsPath({ APPDATA: 'C:\\AD' }, windows), 'C:\\AD\\roomwatch\\credentials.json');
});

test('a hub URL is one key however it is written: default port, case and trailing slash do not count', () => {
  assert.is(hubKey(new URL('http://Hub.local:80/')), 'http://hub.local');
  assert.is(hubKey(new URL('http://127.0.0.1:8080')), 'http://127.0.0.1:8080');
  assert.is(hubKey(new URL('https://proxy.example/roomwatch/')), 'https://proxy.example/roomwatch');
  assert.is.not(hubKey(new URL('https://hub:8080')), hubKey(new URL('http://hub:8080')));
});

test('the folder is created 700 and the file written 600, as JSON of {"hubs":{...}}', () => {
  const folder = join(dir, 'a', 'roomwatch');
  const file = join(folder, 'credentials.json');
  writeCredentials(file, { hubs: { 'http://h:1': login } });
  assert.is(mode(folder), 0o700);
  assert.is(mode(file), 0o600);
  assert.equal(JSON.parse(readFileSync(file, 'utf8')), { hubs: { 'http://h:1': login } });
  assert.equal(readdirSync(folder), ['credentials.json'], 'no temporary file is left behind');
});

test('a file that existed with a looser mode is 600 after a write', () => {
  const file = join(dir, 'credentials.json');
  writeFileSync(file, JSON.stringify({ hubs: {} }));
  chmodSync(file, 0o644);
  writeCredentials(file, { hubs: { 'http://h:1': login } });
  assert.is(mode(file), 0o600);
});

test('no file is no logins; save and forget keep the other hubs', () => {
  const store = new CredentialsStore(join(dir, 'credentials.json'));
  assert.is(store.get('http://h:1'), undefined);
  store.save('http://h:1', login);
  store.save('http://h:2', { ...login, user: 'sue' });
  assert.equal(store.get('http://h:1'), login);
  assert.is(store.forget('http://h:1'), true);
  assert.is(store.forget('http://h:1'), false);
  assert.equal(readCredentials(store.file), { hubs: { 'http://h:2': { ...login, user: 'sue' } } });
});

test('a hub key "__proto__" in the file stays a key: read back, and kept when another hub is saved', () => {
  // Not a key this CLI writes (hub keys start with a scheme), but a file is not to be trusted.
  const file = join(dir, 'credentials.json');
  writeFileSync(file, JSON.stringify({ hubs: JSON.parse(`{"__proto__":${JSON.stringify(login)}}`) as unknown }));
  const read = readCredentials(file);
  assert.ok(Object.hasOwn(read.hubs, '__proto__'), 'an own key');
  assert.equal(Object.getPrototypeOf(read.hubs), Object.prototype, 'the prototype is untouched');
  new CredentialsStore(file).save('http://h:1', login);
  const written = JSON.parse(readFileSync(file, 'utf8')) as { hubs: object };
  assert.equal(Object.keys(written.hubs), ['__proto__', 'http://h:1']);
});

test('a damaged file is a LocalFileError that names it and says what to do', () => {
  const file = join(dir, 'credentials.json');
  const cases = [
    '{"hubs":',
    '[]',
    '{"hubs":{"http://h:1":{"user":"a","token":"x y","expires_at":1}}}',
    '{"hubs":{"http://h:1":{"user":"a","token":"t"}}}',
  ];
  for (const text of cases) {
    writeFileSync(file, text);
    try {
      readCredentials(file);
      assert.unreachable(`accepted ${text}`);
    } catch (error) {
      assert.instance(error, LocalFileError, text);
      assert.match((error as Error).message, file);
      assert.match((error as Error).message, 'delete it and log in again');
    }
  }
});

test.run();
