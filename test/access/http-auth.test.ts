// docs/ADMIN.md "Access control": when the API asks for credentials, what every route answers
// without them, with a bad or expired token and with a role that may not; health; the open
// mode of a fresh loopback hub; logging in and out; sessions ended by user changes; the last
// admin (the login throttle: login-throttle.test.ts). Real hubs on 127.0.0.1, real HTTP and
// WebSocket requests.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { json, request, type RawResponse } from '../support/api-client.ts';
import {
  ADMIN_NAME,
  ADMIN_PASSWORD,
  DEMO_PASSWORD,
  asUser,
  bearer,
  bootstrapAdmin,
  codeOf,
  expectRefused,
  healthAuth,
  login,
  loginRequest,
  movableClock,
  putUser,
  startAccessHub,
  type LoginAnswer,
  type Role,
} from '../support/access-setup.ts';
import { openStreamAs, tryUpgrade } from '../support/auth-stream.ts';
import { connect } from '../support/tcp-sensor.ts';
import { REPO_ROOT, withTimeout, type InProcessHub } from '../support/hub-process.ts';
import { exitWhenDone, perTest, Teardown } from '../support/teardown.ts';

const fileScope = new Teardown();
test.after.each(() => perTest.run());
test.after(async () => {
  await fileScope.run();
  exitWhenDone();
});

// ---------------------------------------------------------------- the routes

interface Route {
  name: string;
  method: string;
  path: string;
  body?: string;
  contentType?: string;
  /** the WebSocket upgrade of the stream */
  ws?: boolean;
  /** the least role that may use it */
  minRole: Role;
}

const UPLOAD_CSV = `ts,sensor,room,metric,value,unit\n${Date.now() - 60_000},auth-upload,auth-lab,temperature,21.5,C\n`;

const ROUTES: Route[] = [
  { name: 'GET /api/v1/sensors', method: 'GET', path: '/api/v1/sensors', minRole: 'viewer' },
  { name: 'GET /api/v1/latest', method: 'GET', path: '/api/v1/latest', minRole: 'viewer' },
  { name: 'GET /api/v1/history.csv', method: 'GET', path: '/api/v1/history.csv', minRole: 'viewer' },
  { name: 'GET /api/v1/stream (upgrade)', method: 'GET', path: '/api/v1/stream', ws: true, minRole: 'viewer' },
  { name: 'GET /metrics', method: 'GET', path: '/metrics', minRole: 'viewer' },
  { name: 'GET /api/v1/whoami', method: 'GET', path: '/api/v1/whoami', minRole: 'viewer' },
  {
    name: 'POST /api/v1/readings',
    method: 'POST',
    path: '/api/v1/readings',
    body: UPLOAD_CSV,
    contentType: 'text/csv',
    minRole: 'operator',
  },
  {
    name: 'POST /api/v1/report-now',
    method: 'POST',
    path: '/api/v1/report-now',
    body: '{"timeout_ms":0}',
    contentType: 'application/json',
    minRole: 'operator',
  },
  { name: 'GET /api/v1/activity', method: 'GET', path: '/api/v1/activity', minRole: 'admin' },
  { name: 'GET /api/v1/users', method: 'GET', path: '/api/v1/users', minRole: 'admin' },
  {
    name: 'PUT /api/v1/users/NAME',
    method: 'PUT',
    path: '/api/v1/users/auth-someone',
    body: JSON.stringify({ role: 'viewer', rooms: ['auth-lab'], password: 'someone-password' }),
    contentType: 'application/json',
    minRole: 'admin',
  },
  { name: 'DELETE /api/v1/users/NAME', method: 'DELETE', path: '/api/v1/users/auth-nobody', minRole: 'admin' },
  { name: 'GET /api/v1/tokens', method: 'GET', path: '/api/v1/tokens', minRole: 'admin' },
  {
    name: 'POST /api/v1/tokens',
    method: 'POST',
    path: '/api/v1/tokens',
    body: JSON.stringify({ sensor: 'auth-*', rooms: ['auth-lab'] }),
    contentType: 'application/json',
    minRole: 'admin',
  },
  { name: 'DELETE /api/v1/tokens/ID', method: 'DELETE', path: '/api/v1/tokens/t-00000000', minRole: 'admin' },
];

/** Logout is a route like the others for missing and bad tokens, but using it ends the session: kept apart. */
const LOGOUT: Route = { name: 'POST /api/v1/logout', method: 'POST', path: '/api/v1/logout', minRole: 'viewer' };

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

function hit(port: number, route: Route, headers: Record<string, string> = {}): Promise<RawResponse> {
  if (route.ws) return tryUpgrade(port, headers);
  return request(port, route.path, {
    method: route.method,
    headers: { ...headers, ...(route.contentType ? { 'content-type': route.contentType } : {}) },
    ...(route.body !== undefined ? { body: route.body } : {}),
  });
}

/** `route: status code` for every route whose answer is not `status` with `code`; [] when all are. */
async function mismatches(port: number, routes: Route[], headers: Record<string, string>, status: number, code: string): Promise<string[]> {
  const wrong: string[] = [];
  for (const route of routes) {
    const res = await hit(port, route, headers);
    const got = res.status === status ? codeOf(res) : `${res.status} ${codeOf(res)}`;
    if (res.status !== status || got !== code) wrong.push(`${route.name}: ${res.status} ${codeOf(res)}`);
    else if (status === 401 && code === 'unauthorized' && !/^Bearer\b/.test(String(res.headers['www-authenticate'] ?? '')))
      wrong.push(`${route.name}: no "WWW-Authenticate: Bearer" header`);
  }
  return wrong;
}

// ---------------------------------------------------------------- a hub with an admin, a viewer and an operator

interface Seeded {
  h: InProcessHub;
  root: string;
  viewer: string;
  operator: string;
}

let seeding: Promise<Seeded> | undefined;
function seeded(): Promise<Seeded> {
  return (seeding ??= (async () => {
    const h = await startAccessHub({}, fileScope);
    const root = await bootstrapAdmin(h.httpPort);
    await putUser(h.httpPort, 'vic', { role: 'viewer', rooms: ['*'], password: 'vic-password' }, root);
    await putUser(h.httpPort, 'opal', { role: 'operator', rooms: ['*'], password: 'opal-password' }, root);
    const viewer = (await login(h.httpPort, 'vic', 'vic-password')).token;
    const operator = (await login(h.httpPort, 'opal', 'opal-password')).token;
    return { h, root, viewer, operator };
  })());
}

// ---------------------------------------------------------------- refused requests

test('without an Authorization header every route answers 401 unauthorized with WWW-Authenticate: Bearer', async () => {
  // ADMIN.md "What a refused request gets": no Authorization header where a login is required: 401 (WWW-Authenticate: Bearer) unauthorized
  const { h } = await seeded();
  assert.equal(await mismatches(h.httpPort, [...ROUTES, LOGOUT], {}, 401, 'unauthorized'), []);
});

test('a token the hub does not know gets 401 bad_token on every route', async () => {
  // ADMIN.md: a token the hub does not know (or malformed, or its session ended): 401 bad_token
  const { h } = await seeded();
  assert.equal(await mismatches(h.httpPort, [...ROUTES, LOGOUT], bearer('rws_' + 'a1'.repeat(32)), 401, 'bad_token'), []);
  assert.equal(await mismatches(h.httpPort, [...ROUTES, LOGOUT], bearer('x'), 401, 'bad_token'), [], 'a malformed token');
});

test('a session past its expiry gets 401 token_expired on every route, and works until then', async () => {
  // ADMIN.md "Logging in": valid for --session-ttl; "a token past its expiry: 401 token_expired"
  const clock = movableClock();
  const ttl = 10 * 60_000;
  const h = await startAccessHub({ now: clock.now, sessionTtlMs: ttl });
  await bootstrapAdmin(h.httpPort);
  const before = clock.now();
  const session = await login(h.httpPort, ADMIN_NAME, ADMIN_PASSWORD);
  const after = clock.now();
  assert.ok(
    session.expires_at >= before + ttl && session.expires_at <= after + ttl,
    `expires_at ${session.expires_at} is login time + ${ttl}`,
  );

  clock.advance(ttl - 30_000);
  const still = await asUser(h.httpPort, session.token).get('/api/v1/whoami');
  assert.is(still.status, 200, `30 s before its expiry the session works (${still.text.slice(0, 200)})`);

  clock.advance(60_000);
  assert.equal(await mismatches(h.httpPort, [...ROUTES, LOGOUT], bearer(session.token), 401, 'token_expired'), []);
  // a fresh login still works on the moved clock
  const fresh = await login(h.httpPort, ADMIN_NAME, ADMIN_PASSWORD);
  assert.is((await asUser(h.httpPort, fresh.token).get('/api/v1/sensors')).status, 200);
});

test('a viewer gets 403 forbidden for upload, report-now, activity, users and tokens', async () => {
  // ADMIN.md "Users, roles and rooms": viewer may read sensors, latest, history.csv, stream, /metrics
  const { h, viewer } = await seeded();
  const refused = ROUTES.filter((r) => RANK[r.minRole] > RANK.viewer);
  assert.equal(refused.length, 9);
  assert.equal(await mismatches(h.httpPort, refused, bearer(viewer), 403, 'forbidden'), []);
  // the refused upload stored nothing
  const stored = await asUser(h.httpPort, viewer).get('/api/v1/latest?sensor=auth-upload');
  assert.equal(json<{ readings: unknown[] }>(stored).readings, []);
});

test('an operator gets 403 forbidden for activity, users and tokens', async () => {
  // ADMIN.md: operator: what a viewer may, and upload and report-now; admin: users, tokens, activity
  const { h, operator } = await seeded();
  const refused = ROUTES.filter((r) => r.minRole === 'admin');
  assert.equal(refused.length, 7);
  assert.equal(await mismatches(h.httpPort, refused, bearer(operator), 403, 'forbidden'), []);
});

test('a viewer may read: sensors, latest, history.csv, the stream, /metrics and whoami', async () => {
  // ADMIN.md: viewer: read: sensors, latest, history.csv, stream, /metrics
  const { h, viewer } = await seeded();
  const wrong: string[] = [];
  for (const route of ROUTES.filter((r) => r.minRole === 'viewer')) {
    const res = await hit(h.httpPort, route, bearer(viewer));
    if (res.status !== (route.ws ? 101 : 200)) wrong.push(`${route.name}: ${res.status} ${codeOf(res)}`);
  }
  assert.equal(wrong, []);
});

test('an operator may upload and ask for a report; an admin may use every route', async () => {
  // ADMIN.md "Users, roles and rooms"
  const { h, operator, root } = await seeded();
  const up = await asUser(h.httpPort, operator).upload(UPLOAD_CSV);
  assert.is(up.status, 200, up.text);
  const rn = await asUser(h.httpPort, operator).post('/api/v1/report-now', { timeout_ms: 0 });
  assert.is(rn.status, 200, rn.text);
  for (const path of ['/api/v1/activity', '/api/v1/users', '/api/v1/tokens', '/metrics', '/api/v1/sensors']) {
    const res = await asUser(h.httpPort, root).get(path);
    assert.is(res.status, 200, `${path} as admin: ${res.text.slice(0, 200)}`);
  }
  assert.is((await tryUpgrade(h.httpPort, bearer(root))).status, 101, 'the stream upgrade as admin');
});

test('a refused stream upgrade leaves nothing open: the hub still stops promptly', async () => {
  // ADMIN.md: the stream checks the upgrade's Authorization (401 before the WebSocket opens); PROTOCOL.md §3: SIGINT/SIGTERM stop the hub
  const h = await startAccessHub();
  await bootstrapAdmin(h.httpPort);
  expectRefused(await tryUpgrade(h.httpPort), 401, 'unauthorized', 'the upgrade without a token');
  expectRefused(await tryUpgrade(h.httpPort, bearer('x')), 401, 'bad_token', 'the upgrade with a bad token');
  const started = performance.now();
  await withTimeout(h.stop(), 10_000, 'hub.stop() after refused upgrades');
  assert.ok(performance.now() - started < 10_000);
});

// ---------------------------------------------------------------- health, whoami, the open mode

test('health answers 200 without credentials (and with bad ones) and says the API requires a login', async () => {
  // ADMIN.md: GET /api/v1/health never asks for credentials; "auth":{"users":"required"|"open","sensors":...}
  const { h } = await seeded();
  const plain = await request(h.httpPort, '/api/v1/health');
  assert.is(plain.status, 200, plain.text);
  const withBad = await request(h.httpPort, '/api/v1/health', { headers: bearer('not-a-session') });
  assert.is(withBad.status, 200, 'a bad token on health is ignored');
  assert.equal(json<{ auth: unknown }>(plain).auth, { users: 'required', sensors: 'open' }, 'users exist, no sensor token yet');
});

test('a fresh loopback hub with no users answers every route without a token, and says so', async () => {
  // ADMIN.md "When the hub asks for credentials": loopback, no users: open, anyone on this machine may do everything
  const h = await startAccessHub();
  assert.equal(await healthAuth(h.httpPort), { status: 200, auth: { users: 'open', sensors: 'open' } });
  const wrong: string[] = [];
  // creating a user closes the API: that route goes last
  const ordered = [...ROUTES.filter((r) => r.method !== 'PUT'), ...ROUTES.filter((r) => r.method === 'PUT')];
  for (const route of ordered) {
    const res = await hit(h.httpPort, route);
    if (res.status === 401 || res.status === 403 || res.status >= 500) wrong.push(`${route.name}: ${res.status} ${codeOf(res)}`);
  }
  assert.equal(wrong, []);
  const who = await asUser(h.httpPort).get('/api/v1/whoami');
  assert.is(who.status, 200);
  assert.is(json<{ auth?: unknown }>(who).auth, 'open');
});

test('the first user closes the API: the next request without a token gets 401', async () => {
  // ADMIN.md: "the API asks for a login as soon as one user exists"
  const h = await startAccessHub();
  assert.is((await asUser(h.httpPort).get('/api/v1/sensors')).status, 200, 'open before');
  const created = await asUser(h.httpPort).put('/api/v1/users/first', { role: 'admin', rooms: ['*'], password: 'first-password' });
  assert.is(created.status, 201, created.text);
  expectRefused(await asUser(h.httpPort).get('/api/v1/sensors'), 401, 'unauthorized');
  expectRefused(
    await asUser(h.httpPort).put('/api/v1/users/second', { role: 'admin', rooms: ['*'], password: 'second-password' }),
    401,
    'unauthorized',
  );
  assert.equal((await healthAuth(h.httpPort)).auth, { users: 'required', sensors: 'open' });
});

test('whoami tells whose session a token is', async () => {
  // ADMIN.md "Logging in": GET /api/v1/whoami tells who a token belongs to
  const { h, viewer } = await seeded();
  const res = await asUser(h.httpPort, viewer).get('/api/v1/whoami');
  assert.is(res.status, 200, res.text);
  const body = json<{ user?: unknown; role?: unknown; rooms?: unknown }>(res);
  assert.is(body.user, 'vic');
  assert.is(body.role, 'viewer');
  assert.equal(body.rooms, ['*']);
});

// ---------------------------------------------------------------- logging in and out

test('a good login answers token, expires_at (12 h by default), user, role and rooms', async () => {
  // ADMIN.md "Logging in": {"token","expires_at","user","role","rooms"}; --session-ttl default 12 h
  const { h, root } = await seeded();
  await putUser(h.httpPort, 'auth-lena', { role: 'operator', rooms: ['greenhouse', 'attic'], password: 'lena-password' }, root);
  const before = Date.now();
  const res = await loginRequest(h.httpPort, 'auth-lena', 'lena-password');
  const after = Date.now();
  assert.is(res.status, 200, res.text);
  const body = json<LoginAnswer>(res);
  assert.equal(Object.keys(body).sort(), ['expires_at', 'role', 'rooms', 'token', 'user']);
  assert.type(body.token, 'string');
  assert.ok(body.token.length >= 20, 'a token long enough not to be guessed');
  const ttl = 12 * 3600_000;
  assert.ok(
    Number.isInteger(body.expires_at) && body.expires_at >= before + ttl - 1_000 && body.expires_at <= after + ttl + 1_000,
    `expires_at ${body.expires_at} is in 12 h`,
  );
  assert.is(body.user, 'auth-lena');
  assert.is(body.role, 'operator');
  assert.equal([...body.rooms].sort(), ['attic', 'greenhouse']);
  assert.is((await asUser(h.httpPort, body.token).get('/api/v1/sensors')).status, 200, 'the token works');
  const second = await login(h.httpPort, 'auth-lena', 'lena-password');
  assert.is.not(second.token, body.token, 'every login is a new session');
});

test('a wrong password and an unknown user get the same 401 bad_credentials, each after at least 300 ms', async () => {
  // ADMIN.md: "the same answer, 401 bad_credentials, after the same delay (at least 300 ms)"
  const { h } = await seeded();
  const timed = async (user: string, password: string) => {
    const started = performance.now();
    const res = await loginRequest(h.httpPort, user, password);
    return { res, ms: performance.now() - started };
  };
  const wrong = await timed('vic', 'not-the-password');
  const unknown = await timed('auth-nobody-at-all', 'not-the-password');
  expectRefused(wrong.res, 401, 'bad_credentials', 'wrong password');
  expectRefused(unknown.res, 401, 'bad_credentials', 'unknown user');
  assert.is(unknown.res.text, wrong.res.text, 'the same body');
  assert.ok(wrong.ms >= 290, `the wrong password was answered after ${wrong.ms.toFixed(0)} ms`);
  assert.ok(unknown.ms >= 290, `the unknown user was answered after ${unknown.ms.toFixed(0)} ms`);
  assert.is((await loginRequest(h.httpPort, 'vic', '')).status, 401, 'an empty password');
});

test('logout ends the session it is sent with, and only that one', async () => {
  // ADMIN.md: "POST /api/v1/logout ends the session it is sent with"; a token whose session ended: 401 bad_token
  const { h } = await seeded();
  const a = await login(h.httpPort, 'vic', 'vic-password');
  const b = await login(h.httpPort, 'vic', 'vic-password');
  const out = await asUser(h.httpPort, a.token).post('/api/v1/logout');
  assert.ok(out.status === 200 || out.status === 204, `logout: ${out.status} ${out.text}`);
  expectRefused(await asUser(h.httpPort, a.token).get('/api/v1/whoami'), 401, 'bad_token', 'whoami after logout');
  expectRefused(await asUser(h.httpPort, a.token).get('/api/v1/sensors'), 401, 'bad_token', 'sensors after logout');
  expectRefused(await asUser(h.httpPort, a.token).post('/api/v1/logout'), 401, 'bad_token', 'a second logout');
  assert.is((await asUser(h.httpPort, b.token).get('/api/v1/sensors')).status, 200, 'the other session of the same user lives on');
});

test('deleting a user ends their sessions and their password no longer logs in', async () => {
  // ADMIN.md: "Deleting a user ... ends all their sessions"
  const { h, root } = await seeded();
  await putUser(h.httpPort, 'auth-gone', { role: 'viewer', rooms: ['*'], password: 'gone-password' }, root);
  const s1 = await login(h.httpPort, 'auth-gone', 'gone-password');
  const s2 = await login(h.httpPort, 'auth-gone', 'gone-password');
  const del = await asUser(h.httpPort, root).del('/api/v1/users/auth-gone');
  assert.ok(del.status === 200 || del.status === 204, `DELETE: ${del.status} ${del.text}`);
  expectRefused(await asUser(h.httpPort, s1.token).get('/api/v1/sensors'), 401, 'bad_token', 'first session');
  expectRefused(await asUser(h.httpPort, s2.token).get('/api/v1/latest'), 401, 'bad_token', 'second session');
  expectRefused(await loginRequest(h.httpPort, 'auth-gone', 'gone-password'), 401, 'bad_credentials');
});

test("a change to a user's role or rooms applies to their next request; a new password ends their sessions", async () => {
  // ADMIN.md "Logging in": "A change to a user's role or rooms applies to their next request; deleting a user or
  // changing their password ends all their sessions"
  const { h, root } = await seeded();
  const name = 'auth-changes';
  await putUser(h.httpPort, name, { role: 'viewer', rooms: ['a'], password: 'first-password' }, root);
  const s1 = await login(h.httpPort, name, 'first-password');
  const csv = `ts,sensor,room,metric,value,unit\n${Date.now() - 30_000},auth-changes-s,a,temperature,1,C\n`;
  expectRefused(await asUser(h.httpPort, s1.token).upload(csv), 403, 'forbidden', 'a viewer uploads');
  expectRefused(await asUser(h.httpPort, s1.token).get('/api/v1/latest?room=b'), 403, 'forbidden_room', 'room b before');

  const role = await asUser(h.httpPort, root).put(`/api/v1/users/${name}`, { role: 'operator', rooms: ['a'] });
  assert.is(role.status, 200, `changing the role answers 200: ${role.text}`);
  const up = await asUser(h.httpPort, s1.token).upload(csv);
  assert.is(up.status, 200, `the same session uploads as an operator now: ${up.text.slice(0, 200)}`);

  await putUser(h.httpPort, name, { role: 'operator', rooms: ['a', 'b'] }, root);
  const roomB = await asUser(h.httpPort, s1.token).get('/api/v1/latest?room=b');
  assert.is(roomB.status, 200, `the same session sees room b now: ${roomB.text.slice(0, 200)}`);
  await putUser(h.httpPort, name, { role: 'viewer', rooms: ['b'] }, root);
  expectRefused(await asUser(h.httpPort, s1.token).upload(csv), 403, 'forbidden', 'demoted back to viewer');
  expectRefused(await asUser(h.httpPort, s1.token).get('/api/v1/latest?room=a'), 403, 'forbidden_room', 'room a taken away');
  const who = json<{ role?: unknown; rooms?: unknown }>(await asUser(h.httpPort, s1.token).get('/api/v1/whoami'));
  assert.equal([who.role, who.rooms], ['viewer', ['b']], 'whoami shows the user as they are now');

  const s2 = await login(h.httpPort, name, 'first-password');
  assert.is(s2.role, 'viewer', 'the password was unchanged by a PUT without one');
  await putUser(h.httpPort, name, { role: 'viewer', rooms: ['b'], password: 'second-password' }, root);
  expectRefused(await asUser(h.httpPort, s1.token).get('/api/v1/sensors'), 401, 'bad_token', 'the first session, after a password change');
  expectRefused(await asUser(h.httpPort, s2.token).get('/api/v1/sensors'), 401, 'bad_token', 'the second session, after a password change');
  expectRefused(await loginRequest(h.httpPort, name, 'first-password'), 401, 'bad_credentials', 'the old password');
  assert.equal((await login(h.httpPort, name, 'second-password')).rooms, ['b']);
});

test('a stream outlives the expiry of the login that opened it', async () => {
  // ADMIN.md "What a refused request gets": "The check is made when the stream opens: a stream outlives the expiry of the login that opened it"
  const clock = movableClock();
  const ttl = 5 * 60_000;
  const h = await startAccessHub({ now: clock.now, sessionTtlMs: ttl });
  const root = await bootstrapAdmin(h.httpPort);
  const stream = await openStreamAs(h.httpPort, root);
  await stream.subscribe({ replay: 0 });
  clock.advance(ttl + 60_000);
  expectRefused(await asUser(h.httpPort, root).get('/api/v1/sensors'), 401, 'token_expired', 'the login has expired');
  const s = await connect(h.tcpPort);
  await s.hello('auth-after-expiry', 'lab');
  const ts = clock.now() - 1_000;
  await s.send({ type: 'reading', metric: 'temperature', value: 20, unit: 'C', ts, seq: 1 });
  await s.ackCovering(1);
  const r = await stream.next({ type: 'reading', sensor: 'auth-after-expiry' });
  assert.is(r.ts, ts);
});

test('sessions survive a restart of the hub on the same data folder', async () => {
  // ADMIN.md "Logging in": "Sessions survive a hub restart: the hub keeps only their SHA-256 hashes"
  const h1 = await startAccessHub();
  const root = await bootstrapAdmin(h1.httpPort);
  const ended = await login(h1.httpPort, ADMIN_NAME, ADMIN_PASSWORD);
  await asUser(h1.httpPort, ended.token).post('/api/v1/logout');
  await h1.stop();
  const h2 = await startAccessHub({ dataDir: h1.dataDir });
  const who = await asUser(h2.httpPort, root).get('/api/v1/whoami');
  assert.is(who.status, 200, `the session still works after the restart: ${who.text.slice(0, 200)}`);
  assert.is(json<{ user?: unknown }>(who).user, ADMIN_NAME);
  expectRefused(await asUser(h2.httpPort, ended.token).get('/api/v1/whoami'), 401, 'bad_token', 'a session ended before the restart');
  expectRefused(await asUser(h2.httpPort).get('/api/v1/sensors'), 401, 'unauthorized', 'the API is still closed');
});

// ---------------------------------------------------------------- managing users

test('the last admin can be neither deleted nor demoted (409 last_admin)', async () => {
  // ADMIN.md "Users from the command line": "the last admin cannot be deleted or demoted (409 last_admin)"
  const h = await startAccessHub();
  const root = await bootstrapAdmin(h.httpPort);
  expectRefused(await asUser(h.httpPort, root).del(`/api/v1/users/${ADMIN_NAME}`), 409, 'last_admin', 'delete the only user');
  await putUser(h.httpPort, 'auth-viewer', { role: 'viewer', rooms: ['*'], password: 'viewer-password' }, root);
  expectRefused(await asUser(h.httpPort, root).del(`/api/v1/users/${ADMIN_NAME}`), 409, 'last_admin', 'delete');
  expectRefused(
    await asUser(h.httpPort, root).put(`/api/v1/users/${ADMIN_NAME}`, { role: 'operator', rooms: ['*'] }),
    409,
    'last_admin',
    'demote',
  );
  assert.is((await asUser(h.httpPort, root).get('/api/v1/users')).status, 200, 'the refused changes left the admin and the session alone');
  await putUser(h.httpPort, 'second-admin', { role: 'admin', rooms: ['*'], password: 'second-password' }, root);
  const demoted = await asUser(h.httpPort, root).put(`/api/v1/users/${ADMIN_NAME}`, { role: 'viewer', rooms: ['*'] });
  assert.is(demoted.status, 200, `with another admin, demoting works: ${demoted.text}`);
});

test('the first user of a hub must be an admin (409 admin_required), and the API stays open until one is made', async () => {
  // ADMIN.md "Users from the command line": "the first users must include one (409 admin_required, so an open hub is
  // never locked with no one able to manage it)"
  const h = await startAccessHub();
  const viewer = await asUser(h.httpPort).put('/api/v1/users/auth-first-viewer', {
    role: 'viewer',
    rooms: ['*'],
    password: 'viewer-password',
  });
  expectRefused(viewer, 409, 'admin_required');
  assert.is((await asUser(h.httpPort).get('/api/v1/sensors')).status, 200, 'still open');
  expectRefused(await loginRequest(h.httpPort, 'auth-first-viewer', 'viewer-password'), 401, 'bad_credentials', 'the viewer was not made');
  await bootstrapAdmin(h.httpPort);
  expectRefused(await asUser(h.httpPort).get('/api/v1/sensors'), 401, 'unauthorized', 'closed once the admin exists');
});

test('importing users is all or none; the demo users load on an open hub and close its API', async () => {
  // ADMIN.md: POST /api/v1/users/import with {"users":[{"user","password","role","rooms"}]} (all or none; answers
  // {"created":[...],"updated":[...]}); "the first users must include one [admin] (409 admin_required)"; Demo users
  const h = await startAccessHub();
  const open = asUser(h.httpPort);
  const demo = JSON.parse(readFileSync(join(REPO_ROOT, 'fixtures', 'demo-users.json'), 'utf8')) as {
    users: { user: string; role: string }[];
  };

  const oneBad = await open.post('/api/v1/users/import', {
    users: [...demo.users, { user: 'auth-bad', password: 'short', role: 'viewer', rooms: ['*'] }],
  });
  assert.ok(
    oneBad.status >= 400 && oneBad.status < 500,
    `an import with a 5-character password: ${oneBad.status} ${oneBad.text.slice(0, 200)}`,
  );
  const noAdmin = await open.post('/api/v1/users/import', { users: demo.users.filter((u) => u.role !== 'admin') });
  expectRefused(noAdmin, 409, 'admin_required', 'an import without an admin');
  assert.is((await open.get('/api/v1/sensors')).status, 200, 'nothing was created: still open');

  const res = await open.post('/api/v1/users/import', demo);
  assert.ok(res.status === 200 || res.status === 201, `the demo import: ${res.status} ${res.text.slice(0, 200)}`);
  const body = json<{ created: string[]; updated: string[] }>(res);
  assert.equal([...body.created].sort(), ['alex', 'sandy', 'sue']);
  assert.equal(body.updated, []);
  expectRefused(await open.get('/api/v1/sensors'), 401, 'unauthorized', 'the API is closed');
  const alex = await login(h.httpPort, 'alex', DEMO_PASSWORD);
  assert.equal([alex.role, [...alex.rooms].sort()], ['viewer', ['living-room', 'server-room']]);
  expectRefused(await loginRequest(h.httpPort, 'auth-bad', 'short'), 401, 'bad_credentials', 'the bad user of the refused import');
});

test('users: 201 created, 200 changed, a password needed to create and at least 8 characters; the list shows no password or hash', async () => {
  // ADMIN.md "Users from the command line" (API) and "Passwords: at least 8 characters ... Neither passwords nor hashes ever leave the hub"
  const { h, root } = await seeded();
  const admin = asUser(h.httpPort, root);
  const noPassword = await admin.put('/api/v1/users/auth-nopw', { role: 'viewer', rooms: ['*'] });
  assert.ok(
    noPassword.status >= 400 && noPassword.status < 500 && noPassword.status !== 401 && noPassword.status !== 403,
    `creating without a password: ${noPassword.status}`,
  );
  const short = await admin.put('/api/v1/users/auth-short', { role: 'viewer', rooms: ['*'], password: 'seven77' });
  assert.ok(
    short.status >= 400 && short.status < 500 && short.status !== 401 && short.status !== 403,
    `a 7-character password: ${short.status}`,
  );
  expectRefused(await loginRequest(h.httpPort, 'auth-short', 'seven77'), 401, 'bad_credentials', 'the refused user was not created');

  const created = await admin.put('/api/v1/users/auth-eight', { role: 'viewer', rooms: ['*'], password: 'eight888' });
  assert.is(created.status, 201, created.text);
  const changed = await admin.put('/api/v1/users/auth-eight', { role: 'viewer', rooms: ['living-room'] });
  assert.is(changed.status, 200, changed.text);

  const list = await admin.get('/api/v1/users');
  assert.is(list.status, 200);
  assert.not.match(list.text, /scrypt|eight888|"password"|hash|salt/i, 'no password, hash or salt in the list');
  const users = json<{ users: { name?: unknown; user?: unknown; role: unknown; rooms: unknown }[] }>(list).users;
  const eight = users.find((u) => (u.name ?? u.user) === 'auth-eight');
  assert.ok(eight, `auth-eight is listed: ${list.text.slice(0, 300)}`);
  assert.is(eight.role, 'viewer');
  assert.equal(eight.rooms, ['living-room']);
});

test.run();
