// docs/API.md "Browser sessions": a login with "cookie": true puts the session in an HttpOnly,
// SameSite=Strict cookie (no token in the body) and a CSRF token in a readable one; the cookie
// opens every route a bearer token opens; a change made with it needs X-CSRF-Token and no
// foreign Origin (403 csrf_refused); logout clears both cookies and ends the login; a cookie
// the hub does not know (another hub's, a logged-out one) is a 401 that clears them; bearer
// tokens work as before, with no CSRF header.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { json, request } from '../support/api-client.ts';
import {
  asUser,
  DEMO_PASSWORD,
  expectRefused,
  movableClock,
  putUser,
  seedDemo,
  startAccessHub,
  type DemoTokens,
} from '../support/access-setup.ts';
import { cookieLogin, cookieLoginRequest, ownOrigin, setCookies } from '../support/cookie-session.ts';
import type { InProcessHub } from '../support/hub-process.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';

test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

async function demoHub(options: Parameters<typeof startAccessHub>[0] = {}): Promise<{ h: InProcessHub; tokens: DemoTokens }> {
  const h = await startAccessHub(options);
  return { h, tokens: await seedDemo(h.httpPort) };
}

test('a cookie login sets an HttpOnly SameSite=Strict session cookie and a readable CSRF cookie, named for the port, and no token in the body', async () => {
  const { h } = await demoHub();
  const res = await cookieLoginRequest(h.httpPort, 'alex', DEMO_PASSWORD);
  assert.is(res.status, 200, res.text);
  const body = json<Record<string, unknown>>(res);
  assert.not.ok('token' in body, `no token in the body: ${res.text}`);
  assert.is(body.user, 'alex');
  assert.is(body.role, 'viewer');
  assert.equal(body.rooms, ['living-room', 'server-room']);
  assert.is(body.csrf_cookie, `roomwatch_csrf_${h.httpPort}`);
  const cookies = setCookies(res);
  const session = cookies.get(`roomwatch_session_${h.httpPort}`);
  const csrf = cookies.get(`roomwatch_csrf_${h.httpPort}`);
  assert.ok(session && csrf, `both cookies: ${String(res.headers['set-cookie'])}`);
  const ttlS = Math.round(((body.expires_at as number) - Date.now()) / 1000);
  for (const c of [session, csrf]) {
    assert.is(c.attributes.get('samesite'), 'Strict', `${c.name} SameSite`);
    assert.is(c.attributes.get('path'), '/', `${c.name} Path`);
    assert.not.ok(c.attributes.has('secure'), `${c.name}: not Secure over plain http`);
    assert.ok(Math.abs(Number(c.attributes.get('max-age')) - ttlS) <= 5, `${c.name} Max-Age ${c.attributes.get('max-age')} ≈ ${ttlS}`);
  }
  assert.ok(session.attributes.has('httponly'), 'the session cookie is HttpOnly');
  assert.not.ok(csrf.attributes.has('httponly'), 'the CSRF cookie is readable by the page');
  assert.match(session.value, /^rwu_/);
  assert.is.not(csrf.value, session.value);
  assert.not.ok(csrf.value.includes(session.value.slice(4, 20)), 'the CSRF value does not show the secret');
  // A plain login is unchanged: the token in the body, no cookie.
  const plain = await asUser(h.httpPort).post('/api/v1/login', { user: 'alex', password: DEMO_PASSWORD });
  assert.is(plain.status, 200);
  assert.type(json<{ token: string }>(plain).token, 'string');
  assert.is(plain.headers['set-cookie'], undefined);
});

test('the cookie alone opens latest, sensors, history, whoami (with the CSRF cookie name); without it 401', async () => {
  const { h } = await demoHub();
  const s = await cookieLogin(h.httpPort, 'alex', DEMO_PASSWORD);
  for (const path of ['/api/v1/latest', '/api/v1/sensors', '/api/v1/history.csv?room=living-room', '/api/v1/whoami']) {
    const res = await s.get(path);
    assert.is(res.status, 200, `${path}: ${res.text.slice(0, 200)}`);
  }
  const who = json<Record<string, unknown>>(await s.get('/api/v1/whoami'));
  assert.is(who.user, 'alex');
  assert.is(who.csrf_cookie, `roomwatch_csrf_${h.httpPort}`);
  expectRefused(await asUser(h.httpPort).get('/api/v1/latest'), 401, 'unauthorized', 'no cookie');
  // Only the session cookie counts: the CSRF cookie alone is no credential.
  expectRefused(await asUser(h.httpPort).get('/api/v1/latest', { cookie: `${s.csrf.name}=${s.csrf.value}` }), 401, 'unauthorized');
});

test('a change with the cookie needs X-CSRF-Token of its login and no foreign Origin: else 403 csrf_refused', async () => {
  const { h } = await demoHub();
  const root = await cookieLogin(h.httpPort, 'root', 'root-password-1');
  const newbie = { role: 'viewer', rooms: ['kitchen'], password: 'newbie-password-1' };
  const path = '/api/v1/users/newbie';
  expectRefused(await root.send('PUT', path, { body: newbie }), 403, 'csrf_refused', 'no CSRF header');
  expectRefused(await root.send('PUT', path, { body: newbie, origin: 'none' }), 403, 'csrf_refused', 'no CSRF header, no Origin');
  expectRefused(await root.send('PUT', path, { body: newbie, csrf: 'forged' }), 403, 'csrf_refused', 'a forged CSRF header');
  // Another login's CSRF token (valid, but bound to another session) does not pass.
  const other = await cookieLogin(h.httpPort, 'root', 'root-password-1');
  expectRefused(await root.send('PUT', path, { body: newbie, csrf: other.csrf.value }), 403, 'csrf_refused', "another login's token");
  for (const origin of ['http://evil.example', `http://127.0.0.1:${h.httpPort + 1}`, `https://127.0.0.1:${h.httpPort}`, 'null']) {
    expectRefused(await root.send('PUT', path, { body: newbie, csrf: true, origin }), 403, 'csrf_refused', `Origin ${origin}`);
  }
  assert.is((await asUser(h.httpPort).get(path)).status, 401, 'nothing was changed so far');
  // The same with the header, from the hub's own page (or from no page at all): done.
  const done = await root.send('PUT', path, { body: newbie, csrf: true });
  assert.is(done.status, 201, done.text);
  assert.is((await root.send('DELETE', path, { csrf: true, origin: 'none' })).status, 200);
  // Reads need no header.
  assert.is((await root.get('/api/v1/users', { origin: 'http://evil.example' })).status, 200);
});

test('a POST from a foreign Origin is refused before the login check, on a hub with users and on an open one', async () => {
  const { h } = await demoHub();
  const evil = { origin: 'http://evil.example' };
  expectRefused(await cookieLoginRequest(h.httpPort, 'alex', DEMO_PASSWORD, evil), 403, 'csrf_refused', 'a login from another site');
  expectRefused(await request(h.httpPort, '/api/v1/logout', { method: 'POST', headers: evil }), 403, 'csrf_refused', 'no credential');
  // An open hub (no users, loopback) needs no login: a foreign page must still not drive it.
  const open = await startAccessHub();
  assert.is(json<{ auth: string }>(await asUser(open.httpPort).get('/api/v1/whoami')).auth, 'open');
  const mallory = JSON.stringify({ role: 'admin', rooms: ['*'], password: 'mallory-pw-1' });
  const put = (origin: string) =>
    request(open.httpPort, '/api/v1/users/mallory', {
      method: 'PUT',
      headers: { 'content-type': 'application/json', origin },
      body: mallory,
    });
  expectRefused(await put('http://evil.example'), 403, 'csrf_refused', 'open hub, foreign Origin');
  assert.is(json<{ auth: string }>(await asUser(open.httpPort).get('/api/v1/whoami')).auth, 'open', 'still no user');
  const own = await put(ownOrigin(open.httpPort));
  assert.is(own.status, 201, `open hub, its own Origin: ${own.text}`);
});

test('logout with the cookie clears both cookies (Max-Age=0) and ends the login: the cookie then gets 401', async () => {
  const { h } = await demoHub();
  const s = await cookieLogin(h.httpPort, 'alex', DEMO_PASSWORD);
  expectRefused(await s.send('POST', '/api/v1/logout'), 403, 'csrf_refused', 'logout without the CSRF header');
  const out = await s.send('POST', '/api/v1/logout', { csrf: true });
  assert.is(out.status, 200, out.text);
  const cleared = setCookies(out);
  for (const name of [s.session.name, s.csrf.name]) {
    const c = cleared.get(name);
    assert.ok(c, `${name} cleared: ${String(out.headers['set-cookie'])}`);
    assert.is(c.value, '');
    assert.is(c.attributes.get('max-age'), '0');
  }
  const after = await s.get('/api/v1/latest');
  expectRefused(after, 401, 'bad_token', 'the cookie after logout');
  // A refused cookie is cleared too, so the page knows at once to show the login form.
  assert.is(setCookies(after).get(s.session.name)?.attributes.get('max-age'), '0');
});

test("a session cookie from one hub is refused by another (401), under its own name or the other hub's", async () => {
  const { h: one } = await demoHub();
  const { h: two } = await demoHub();
  const s = await cookieLogin(one.httpPort, 'alex', DEMO_PASSWORD);
  assert.is.not(s.session.name, `roomwatch_session_${two.httpPort}`, 'two hubs on one host name their cookies apart');
  expectRefused(await asUser(two.httpPort).get('/api/v1/latest', { cookie: s.cookieHeader }), 401, 'unauthorized', 'as sent');
  const renamed = `roomwatch_session_${two.httpPort}=${s.session.value}`;
  expectRefused(await asUser(two.httpPort).get('/api/v1/latest', { cookie: renamed }), 401, 'bad_token', 'renamed for hub two');
  assert.is((await s.get('/api/v1/latest')).status, 200, 'still good on its own hub');
});

test('a bearer token works as before: no CSRF header needed, even with a cookie beside it (the token wins)', async () => {
  const { h, tokens } = await demoHub();
  const put = await asUser(h.httpPort, tokens.root).put('/api/v1/users/newbie', { role: 'viewer', rooms: ['x'], password: 'newbie-pw-12' });
  assert.is(put.status, 201, put.text);
  const alex = await cookieLogin(h.httpPort, 'alex', DEMO_PASSWORD);
  // alex's cookie (a viewer) beside root's token: root acts, no CSRF asked.
  const both = await asUser(h.httpPort, tokens.root).get('/api/v1/whoami', { cookie: alex.cookieHeader });
  assert.is(json<{ user: string }>(both).user, 'root');
});

test('a password change, an expiry and a change of rooms apply to a cookie login as to a token', async () => {
  const clock = movableClock();
  const { h, tokens } = await demoHub({ now: clock.now, sessionTtlMs: 3_600_000 });
  const sandy = await cookieLogin(h.httpPort, 'sandy', DEMO_PASSWORD);
  assert.is((await sandy.get('/api/v1/latest?room=greenhouse')).status, 200);
  await putUser(h.httpPort, 'sandy', { role: 'operator', rooms: ['server-room'] }, tokens.root);
  expectRefused(await sandy.get('/api/v1/latest?room=greenhouse'), 403, 'forbidden_room', 'greenhouse taken away');
  await putUser(h.httpPort, 'sandy', { role: 'operator', rooms: ['server-room'], password: 'sandy-new-password' }, tokens.root);
  expectRefused(await sandy.get('/api/v1/latest'), 401, 'bad_token', 'after a password change');
  const alex = await cookieLogin(h.httpPort, 'alex', DEMO_PASSWORD);
  clock.advance(3_600_001);
  expectRefused(await alex.get('/api/v1/latest'), 401, 'token_expired', 'after the login expired');
});

test.run();
