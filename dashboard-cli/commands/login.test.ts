// `login`, `logout` and `whoami` as users run them (docs/ADMIN.md "Logging in"), against the fake
// hub with a required login: the token is kept per hub in a 600 file in a 700 folder, sent with
// every later request, beaten by ROOMWATCH_TOKEN, forgotten by logout, and never printed.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { closedPort, startFakeHub } from '../testing/fake-hub.ts';
import type { FakeHub } from '../testing/fake-hub.ts';
import { runCliInProcess } from '../testing/run-cli-in-process.ts';
import { runCliProcess } from '../testing/run-cli-process.ts';

const alex = { user: 'alex', password: 'correct horse', role: 'viewer', rooms: ['living-room', 'server-room'] };
const reading = { sensor: 'a-temp', room: 'living-room', metric: 'temperature', value: 21.5, unit: 'C', ts: Date.now() - 1000 };

let hub: FakeHub;
let root: string;
/** A config folder that does not exist yet: login must create it. */
let configDir: string;
let env: Record<string, string>;

test.before.each(async () => {
  hub = await startFakeHub({ latest: { readings: [reading] }, access: { accounts: [alex], requireLogin: true } });
  root = mkdtempSync(join(tmpdir(), 'roomwatch-login-'));
  configDir = join(root, 'config', 'roomwatch');
  env = { ROOMWATCH_CONFIG_DIR: configDir, TZ: 'UTC' };
});

test.after.each(async () => {
  await hub.close();
  rmSync(root, { recursive: true, force: true });
});

const credentialsFile = (): string => join(configDir, 'credentials.json');
type StoredLogins = { hubs: Record<string, { user: string; token: string; expires_at: number }> };
const stored = (): StoredLogins => JSON.parse(readFileSync(credentialsFile(), 'utf8')) as StoredLogins;

async function login(extra: string[] = []) {
  return runCliProcess(['login', 'alex', '--password-stdin', '--hub', hub.url, ...extra], { env, stdin: `${alex.password}\n` });
}

test('login --password-stdin sends the first line as the password and keeps the token in a 600 file in a 700 folder', async () => {
  const result = await login();
  assert.is(result.code, 0, result.stderr);
  const request = hub.requests.find((r) => r.url === '/api/v1/login');
  assert.equal(JSON.parse(request?.body.toString('utf8') ?? ''), { user: 'alex', password: alex.password });
  assert.is(request?.authorization, undefined, 'a login carries no token');
  assert.is(statSync(configDir).mode & 0o777, 0o700);
  assert.is(statSync(credentialsFile()).mode & 0o777, 0o600);
  const [token] = [...hub.access.sessions.keys()];
  assert.equal(Object.keys(stored().hubs), [hub.url]);
  assert.is(stored().hubs[hub.url]?.token, token);
  assert.is(stored().hubs[hub.url]?.user, 'alex');
});

test('login says who, with role, rooms and expiry in local time, and never prints the token', async () => {
  const result = await login();
  assert.is(result.code, 0, result.stderr);
  const { token, expires_at: expiresAt } = stored().hubs[hub.url]!;
  const until = new Date(expiresAt).toISOString().slice(0, 19).replace('T', ' ');
  assert.is(result.stdout, `logged in as alex (viewer; rooms living-room, server-room) until ${until}\n`);
  assert.not.match(result.stdout + result.stderr, token);
});

test("login --json prints the hub's answer, token included, for programs", async () => {
  const result = await login(['--json']);
  assert.is(result.code, 0, result.stderr);
  const answer = JSON.parse(result.stdout) as { token: string; role: string };
  assert.is(answer.token, stored().hubs[hub.url]?.token);
  assert.is(answer.role, 'viewer');
});

test('after login, latest (and watch) send the stored token as a bearer token', async () => {
  assert.is((await login()).code, 0);
  const token = stored().hubs[hub.url]?.token;
  const latest = await runCliProcess(['latest', '--hub', hub.url], { env });
  assert.is(latest.code, 0, latest.stderr);
  assert.is(hub.requests.at(-1)?.authorization, `Bearer ${token}`);
  const watch = await runCliProcess(['watch', '--hub', hub.url, '--timeout', '2000'], { env });
  assert.is(hub.requests.at(-1)?.url, '/api/v1/stream');
  assert.is(hub.requests.at(-1)?.authorization, `Bearer ${token}`, watch.stderr);
});

test('the stored token is for its hub only: another URL gets no token', async () => {
  assert.is((await login()).code, 0);
  const other = await startFakeHub({ latest: { readings: [] } });
  try {
    const result = await runCliProcess(['latest', '--hub', other.url], { env });
    assert.is(result.code, 0, result.stderr);
    assert.is(other.requests[0]?.authorization, undefined);
  } finally {
    await other.close();
  }
});

test('ROOMWATCH_TOKEN wins over the stored login', async () => {
  assert.is((await login()).code, 0);
  hub.access.sessions.set('env-token', { user: 'ci', role: 'viewer', rooms: ['*'], expires_at: Date.now() + 60_000 });
  const result = await runCliProcess(['latest', '--hub', hub.url], { env: { ...env, ROOMWATCH_TOKEN: 'env-token' } });
  assert.is(result.code, 0, result.stderr);
  assert.is(hub.requests.at(-1)?.authorization, 'Bearer env-token');
});

test('logout ends the session on the hub with the stored token, and forgets it; then the hub asks for a login', async () => {
  assert.is((await login()).code, 0);
  const token = stored().hubs[hub.url]?.token;
  const result = await runCliProcess(['logout', '--hub', hub.url], { env });
  assert.is(result.code, 0, result.stderr);
  assert.is(result.stdout, `logged out of ${hub.url} (was alex)\n`);
  const request = hub.requests.at(-1);
  assert.is(request?.url, '/api/v1/logout');
  assert.is(request?.authorization, `Bearer ${token}`);
  assert.is(hub.access.sessions.size, 0);
  assert.equal(stored().hubs, {});
  const after = await runCliProcess(['latest', '--hub', hub.url], { env });
  assert.is(after.code, 1);
  assert.is(hub.requests.at(-1)?.authorization, undefined);
  assert.match(after.stderr, `this hub requires a login: run \`npm run cli -- login --hub ${hub.url}\``);
});

test('logout forgets the token even if the hub had ended the session (401), and says so when not logged in', async () => {
  assert.is((await login()).code, 0);
  hub.access.sessions.clear();
  const result = await runCliProcess(['logout', '--hub', hub.url], { env });
  assert.is(result.code, 0, result.stderr);
  assert.equal(stored().hubs, {});
  const again = await runCliProcess(['logout', '--hub', hub.url], { env });
  assert.is(again.code, 0, again.stderr);
  assert.is(again.stdout, `not logged in to ${hub.url}\n`);
});

test('logout with the hub down forgets the token, says the session stays valid, and exits 3', async () => {
  assert.is((await login()).code, 0);
  const url = hub.url;
  await hub.close();
  const result = await runCliProcess(['logout', '--hub', url], { env });
  assert.is(result.code, 3);
  assert.match(result.stderr, 'the hub could not be told to end the session; it stays valid until');
  assert.equal(stored().hubs, {});
  hub = await startFakeHub(); // for after.each
});

test('whoami shows user, role, rooms, expiry and where the token came from; on an open hub, that it is open', async () => {
  assert.is((await login()).code, 0);
  const result = await runCliProcess(['whoami', '--hub', hub.url], { env });
  assert.is(result.code, 0, result.stderr);
  assert.match(result.stdout, /^user +alex$/m);
  assert.match(result.stdout, /^role +viewer$/m);
  assert.match(result.stdout, /^rooms +living-room, server-room$/m);
  assert.match(result.stdout, /^until +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/m);
  assert.match(result.stdout, `token  the login kept in ${credentialsFile()}`);
  const open = await startFakeHub();
  try {
    const openResult = await runCliProcess(['whoami', '--hub', open.url], { env });
    assert.is(openResult.code, 0, openResult.stderr);
    assert.match(openResult.stdout, `the hub at ${open.url} is open`);
  } finally {
    await open.close();
  }
});

test("a wrong password exits 1 with the hub's message, and keeps nothing", async () => {
  const result = await runCliProcess(['login', '--user', 'alex', '--password-stdin', '--hub', hub.url], { env, stdin: 'wrong password\n' });
  assert.is(result.code, 1);
  assert.match(result.stderr, 'hub refused (401 bad_credentials): wrong user name or password');
  assert.not.ok(existsSync(credentialsFile()));
});

test('login without a user or a terminal, or with no password on stdin, is a usage error before any request', async () => {
  const noUser = await runCliInProcess(['login', '--password-stdin', '--hub', hub.url], { env, stdin: 'x\n' });
  assert.is(noUser.code, 2);
  assert.match(noUser.stderr, 'login needs USER');
  const noTerminal = await runCliInProcess(['login', 'alex', '--hub', hub.url], { env, stdin: 'x\n' });
  assert.is(noTerminal.code, 2);
  assert.match(noTerminal.stderr, '--password-stdin');
  const empty = await runCliInProcess(['login', 'alex', '--password-stdin', '--hub', hub.url], { env, stdin: '\n' });
  assert.is(empty.code, 2);
  const twoUsers = await runCliInProcess(['login', 'alex', '--user', 'sue', '--password-stdin', '--hub', hub.url], { env, stdin: 'x\n' });
  assert.is(twoUsers.code, 2);
  assert.is(hub.requests.length, 0);
});

test('a damaged credentials file is an error naming it (exit 2), unless ROOMWATCH_TOKEN makes it unneeded', async () => {
  assert.is((await login()).code, 0);
  const { writeFileSync } = await import('node:fs');
  writeFileSync(credentialsFile(), '{"hubs": nope');
  const result = await runCliProcess(['latest', '--hub', hub.url], { env });
  assert.is(result.code, 2);
  assert.match(result.stderr, `the credentials file ${credentialsFile()} is not valid JSON`);
  hub.access.sessions.set('env-token', { user: 'ci', role: 'viewer', rooms: ['*'], expires_at: Date.now() + 60_000 });
  const withEnv = await runCliProcess(['latest', '--hub', hub.url], { env: { ...env, ROOMWATCH_TOKEN: 'env-token' } });
  assert.is(withEnv.code, 0, withEnv.stderr);
});

test('on a terminal, the user name is asked with echo and the password without', async () => {
  const password = 'correct horse';
  const result = await runCliInProcess(['login', '--hub', hub.url], { stdinTTY: true, stdin: `alex\n${password}\n`, env });
  assert.is(result.code, 0, result.stderr);
  assert.match(result.stderr, /user: .*alex\r?\n/);
  assert.match(result.stderr, 'password for alex: \n');
  assert.not.match(result.stderr, password);
  assert.is(stored().hubs[hub.url]?.user, 'alex');
});

test('nothing listening: login exits 3 and keeps nothing', async () => {
  const port = await closedPort();
  const result = await runCliProcess(['login', 'alex', '--password-stdin', '--hub', `http://127.0.0.1:${port}`], { env, stdin: 'pw\n' });
  assert.is(result.code, 3);
  assert.not.ok(existsSync(credentialsFile()));
});

test.run();
