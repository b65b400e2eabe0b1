// What the CLI tells the user after an access refusal (docs/ADMIN.md "What a refused request gets"):
// each 401 code says what to do, 403 shows the hub's message, 429 says how long to wait; all exit 1.
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HubRefused } from './errors.ts';
import { ROOMS_ADVICE, refusalAdvice } from './refusal-advice.ts';
import { startFakeHub } from './testing/fake-hub.ts';
import type { FakeHub, FakeHubOptions } from './testing/fake-hub.ts';
import { runCliProcess } from './testing/run-cli-process.ts';

const fromLogin = { source: 'login' as const, expiredLogin: undefined, loginCommand: 'npm run cli -- login' };
const fromEnv = { ...fromLogin, source: 'env' as const };
const refused = (status: number, code: string, retryAfterS?: number) => new HubRefused(status, code, 'm', undefined, retryAfterS);

test('each 401 code says what to do, and a token from ROOMWATCH_TOKEN is not met with "log in again"', () => {
  assert.is(
    refusalAdvice(refused(401, 'unauthorized'), { ...fromLogin, source: 'none' }),
    'this hub requires a login: run `npm run cli -- login`',
  );
  assert.is(refusalAdvice(refused(401, 'token_expired'), fromLogin), 'your login has expired: run `npm run cli -- login` again');
  assert.is(
    refusalAdvice(refused(401, 'bad_token'), fromLogin),
    "the hub does not know your token (logged out or the hub's users changed): run `npm run cli -- login`",
  );
  assert.match(refusalAdvice(refused(401, 'token_expired'), fromEnv) ?? '', 'the token in ROOMWATCH_TOKEN has expired');
  assert.match(refusalAdvice(refused(401, 'bad_token'), fromEnv) ?? '', 'the hub does not know the token in ROOMWATCH_TOKEN');
  assert.is(refusalAdvice(refused(401, 'bad_credentials'), fromLogin), undefined, "the hub's own message says it all");
});

test('a 429 says how long to wait; other refusals but 403 get no advice', () => {
  assert.is(refusalAdvice(refused(429, 'rate_limited', 7), fromLogin), 'wait 7 seconds and try again');
  assert.is(refusalAdvice(refused(429, 'too_many_attempts', 1), fromLogin), 'too many failed logins: wait 1 second before trying again');
  assert.is(refusalAdvice(refused(429, 'rate_limited'), fromLogin), 'wait a while and try again');
  assert.is(refusalAdvice(refused(400, 'bad_filter'), fromLogin), undefined);
});

test("a 403 for a room says an admin gives rooms, every room with '*'; one for a role, how roles are given", () => {
  const room = refusalAdvice(refused(403, 'forbidden_room'), fromLogin) ?? '';
  assert.match(room, "npm run cli -- users set NAME --room ROOM[,ROOM...], or --room '*' for every room");
  assert.match(room, 'whoami');
  assert.match(refusalAdvice(refused(403, 'forbidden'), fromLogin) ?? '', 'users set NAME --role viewer|operator|admin');
});

test('a 409 about admins says the command that fixes it; a code this CLI does not know gets no advice', () => {
  assert.match(refusalAdvice(refused(409, 'admin_required'), fromLogin) ?? '', 'npm run cli -- users import FILE');
  assert.match(refusalAdvice(refused(409, 'last_admin'), fromLogin) ?? '', 'npm run cli -- users set NAME --role admin');
  const newer = refused(403, 'forbidden_building');
  assert.is(newer.code, undefined, 'not a code of the registry');
  assert.is(newer.codeSent, 'forbidden_building', 'but still shown as sent');
  assert.is(refusalAdvice(newer, fromLogin), undefined);
});

let root: string;
let hubs: FakeHub[] = [];
test.before.each(() => {
  root = mkdtempSync(join(tmpdir(), 'roomwatch-advice-'));
});
test.after.each(async () => {
  for (const hub of hubs) await hub.close();
  hubs = [];
  rmSync(root, { recursive: true, force: true });
});

async function hubWith(options: FakeHubOptions): Promise<FakeHub> {
  const hub = await startFakeHub(options);
  hubs.push(hub);
  return hub;
}

/** The CLI's environment with this hub's login stored as given; the hub from ROOMWATCH_HUB, as most users set it. */
function envWithLogin(hub: FakeHub, login?: { token: string; expires_at: number }): Record<string, string> {
  const configDir = join(root, 'config');
  if (login) {
    mkdirSync(configDir, { recursive: true });
    writeFileSync(join(configDir, 'credentials.json'), JSON.stringify({ hubs: { [hub.url]: { user: 'alex', ...login } } }));
  }
  return { ROOMWATCH_CONFIG_DIR: configDir, ROOMWATCH_HUB: hub.url, TZ: 'UTC' };
}

const HOUR_MS = 3600_000;
const session = (expiresAt: number) => ({ user: 'alex', role: 'viewer', rooms: ['hall'], expires_at: expiresAt });

test('no login on a hub that requires one: 401 unauthorized, "run login", exit 1', async () => {
  const hub = await hubWith({ latest: { readings: [] }, access: { requireLogin: true } });
  const result = await runCliProcess(['latest'], { env: envWithLogin(hub) });
  assert.is(result.code, 1);
  assert.match(result.stderr, 'hub refused (401 unauthorized): this hub requires a login\n');
  assert.match(result.stderr, 'this hub requires a login: run `npm run cli -- login`\n');
});

test('a stored login the hub says has expired (token_expired): "log in again", exit 1', async () => {
  const hub = await hubWith({
    latest: { readings: [] },
    access: { requireLogin: true, sessions: { 'tok-1': session(Date.now() - 1000) } },
  });
  // The CLI's copy still looks valid (clocks differ); the hub decides.
  const result = await runCliProcess(['latest'], { env: envWithLogin(hub, { token: 'tok-1', expires_at: Date.now() + HOUR_MS }) });
  assert.is(result.code, 1);
  assert.is(hub.requests[0]?.authorization, 'Bearer tok-1');
  assert.match(result.stderr, 'your login has expired: run `npm run cli -- login` again');
});

test('a stored token the hub does not know (bad_token): "the hub does not know your token", exit 1', async () => {
  const hub = await hubWith({ latest: { readings: [] }, access: { requireLogin: true } });
  const result = await runCliProcess(['sensors'], { env: envWithLogin(hub, { token: 'tok-gone', expires_at: Date.now() + HOUR_MS }) });
  assert.is(result.code, 1);
  assert.match(result.stderr, "the hub does not know your token (logged out or the hub's users changed): run `npm run cli -- login`");
});

test('a stored login past its expires_at is not sent, and the 401 says that login expired', async () => {
  const hub = await hubWith({ latest: { readings: [] }, access: { requireLogin: true } });
  const expiresAt = Date.UTC(2025, 10, 21, 8, 30, 0);
  const result = await runCliProcess(['latest'], { env: envWithLogin(hub, { token: 'tok-old', expires_at: expiresAt }) });
  assert.is(result.code, 1);
  assert.is(hub.requests[0]?.authorization, undefined);
  assert.match(result.stderr, 'your login as alex expired at 2025-11-21 08:30:00: run `npm run cli -- login` again');
});

test('with --hub, the advice names the hub in the login command', async () => {
  const hub = await hubWith({ latest: { readings: [] }, access: { requireLogin: true } });
  const result = await runCliProcess(['latest', '--hub', hub.url], { env: { ROOMWATCH_CONFIG_DIR: join(root, 'none') } });
  assert.is(result.code, 1);
  assert.match(result.stderr, `run \`npm run cli -- login --hub ${hub.url}\``);
});

test('a refused WebSocket upgrade (watch) gets the same advice', async () => {
  const hub = await hubWith({ stream: {}, access: { requireLogin: true } });
  const result = await runCliProcess(['watch'], { env: envWithLogin(hub) });
  assert.is(result.code, 1);
  assert.match(result.stderr, 'this hub requires a login: run `npm run cli -- login`');
});

test("403 forbidden_room prints the hub's message, then how an admin gives rooms, and exits 1", async () => {
  const body = JSON.stringify({
    error: { code: 'forbidden_room', message: 'room greenhouse is not one of your rooms (living-room, server-room)' },
  });
  const hub = await hubWith({ refuse: { status: 403, body } });
  const result = await runCliProcess(['latest', '--room', 'greenhouse'], { env: envWithLogin(hub) });
  assert.is(result.code, 1);
  assert.is(
    result.stderr,
    'roomwatch: hub refused (403 forbidden_room): room greenhouse is not one of your rooms (living-room, server-room)\n' +
      ROOMS_ADVICE +
      '\n',
  );
});

test('429 says to wait the Retry-After seconds, and exits 1', async () => {
  const body = JSON.stringify({ error: { code: 'rate_limited', message: 'too many requests' } });
  const hub = await hubWith({ refuse: { status: 429, body, headers: { 'retry-after': '12' } } });
  const result = await runCliProcess(['sensors'], { env: envWithLogin(hub) });
  assert.is(result.code, 1);
  assert.match(result.stderr, 'hub refused (429 rate_limited): too many requests\nwait 12 seconds and try again\n');
  const login = await runCliProcess(['login', 'alex', '--password-stdin'], { env: envWithLogin(hub), stdin: 'password\n' });
  assert.is(login.code, 1);
  assert.match(login.stderr, 'wait 12 seconds');
});

test.run();
