// docs/API.md "Browser sessions": the live stream's WebSocket upgrade takes the session cookie
// when it comes from the hub's own page (Origin), and refuses it from any other origin or with
// none (403 csrf_refused: cross-site WebSocket hijacking); rooms hold through the cookie; a
// logout closes the cookie's streams. Under --tls-cert both cookies are Secure.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { json, request, type RawResponse } from '../support/api-client.ts';
import { DEMO_PASSWORD, expectRefused, seedDemo, startAccessHub } from '../support/access-setup.ts';
import { tryUpgrade } from '../support/auth-stream.ts';
import { makeTestPki } from '../support/certs.ts';
import { cookieLogin, ownOrigin, setCookies } from '../support/cookie-session.ts';
import { openStream } from '../support/stream-client.ts';
import { connect } from '../support/tcp-sensor.ts';
import { Teardown, exitWhenDone, perTest } from '../support/teardown.ts';
import { tsSequence } from '../support/wire.ts';

const fileScope = new Teardown();
const nextTs = tsSequence();
test.after.each(() => perTest.run());
test.after(async () => {
  await fileScope.run();
  exitWhenDone();
});

test('the stream upgrade takes the cookie from the hub’s own page, and refuses it from another origin or with no Origin', async () => {
  const h = await startAccessHub();
  await seedDemo(h.httpPort);
  const s = await cookieLogin(h.httpPort, 'alex', DEMO_PASSWORD);
  expectRefused(await tryUpgrade(h.httpPort, s.upgradeHeaders('http://evil.example')), 403, 'csrf_refused', 'a foreign Origin');
  expectRefused(await tryUpgrade(h.httpPort, s.upgradeHeaders(`http://localhost:${h.httpPort}`)), 403, 'csrf_refused', 'another host');
  expectRefused(await tryUpgrade(h.httpPort, { cookie: s.cookieHeader }), 403, 'csrf_refused', 'no Origin');
  expectRefused(await tryUpgrade(h.httpPort, { origin: ownOrigin(h.httpPort) }), 401, 'unauthorized', 'own Origin, no cookie');
  assert.is((await tryUpgrade(h.httpPort, s.upgradeHeaders())).status, 101, 'own Origin with the cookie');
  // An open hub's stream needs no login, but a foreign page may not read it either.
  const open = await startAccessHub();
  expectRefused(await tryUpgrade(open.httpPort, { origin: 'http://evil.example' }), 403, 'csrf_refused', 'open hub, foreign Origin');
  assert.is((await tryUpgrade(open.httpPort, { origin: ownOrigin(open.httpPort) })).status, 101, 'open hub, own Origin');
  assert.is((await tryUpgrade(open.httpPort)).status, 101, 'open hub, no Origin (not a browser)');
});

test('rooms hold through the cookie: alex’s stream never carries greenhouse, and asking for it is refused', async () => {
  const h = await startAccessHub();
  await seedDemo(h.httpPort);
  const greenhouse = await connect(h.tcpPort);
  await greenhouse.hello('gh-1', 'greenhouse');
  const living = await connect(h.tcpPort);
  await living.hello('lr-1', 'living-room');
  const alex = await cookieLogin(h.httpPort, 'alex', DEMO_PASSWORD);
  const stream = await openStream(h.httpPort, perTest, { headers: alex.upgradeHeaders() });
  await stream.subscribe({ replay: 0 });
  await greenhouse.send({ type: 'reading', metric: 'temperature', value: 30, ts: nextTs(), seq: 1 });
  await greenhouse.ackCovering(1);
  await living.send({ type: 'reading', metric: 'temperature', value: 21, ts: nextTs(), seq: 1 });
  await living.ackCovering(1);
  const [reading] = await stream.readings(1);
  assert.is(reading!.sensor, 'lr-1');
  assert.not.ok(
    stream.received.some((m) => JSON.stringify(m).includes('greenhouse')),
    'nothing of greenhouse on the stream',
  );
  const latest = json<{ readings: { room: string }[] }>(await alex.get('/api/v1/latest'));
  assert.equal([...new Set(latest.readings.map((r) => r.room))], ['living-room']);
  expectRefused(await alex.get('/api/v1/latest?room=greenhouse'), 403, 'forbidden_room');
  const refused = await stream.subscribeReply({ room: 'greenhouse' });
  assert.is(refused.code, 'forbidden_room');
});

test('a logout with the cookie closes the streams the cookie opened (1008)', async () => {
  const h = await startAccessHub();
  await seedDemo(h.httpPort);
  const alex = await cookieLogin(h.httpPort, 'alex', DEMO_PASSWORD);
  const stream = await openStream(h.httpPort, perTest, { headers: alex.upgradeHeaders() });
  await stream.subscribe({ replay: 0 });
  const out = await alex.send('POST', '/api/v1/logout', { csrf: true });
  assert.is(out.status, 200, out.text);
  assert.is(await stream.closed(), 1008);
  expectRefused(await tryUpgrade(h.httpPort, alex.upgradeHeaders()), 401, 'bad_token', 'the cookie after logout');
});

/** A JSON request over HTTPS to the hub, trusting `ca`. */
function httpsJson(port: number, ca: Buffer, method: string, path: string, body: unknown): Promise<RawResponse> {
  return request(port, path, { method, ca, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

test('under --tls-cert both cookies are Secure', async () => {
  const pki = makeTestPki(fileScope);
  const h = await startAccessHub({ tlsCertFile: pki.certFile, tlsKeyFile: pki.keyFile });
  const put = await httpsJson(h.httpPort, pki.ca, 'PUT', '/api/v1/users/root', {
    role: 'admin',
    rooms: ['*'],
    password: 'root-password-1',
  });
  assert.is(put.status, 201, put.text);
  const res = await httpsJson(h.httpPort, pki.ca, 'POST', '/api/v1/login', { user: 'root', password: 'root-password-1', cookie: true });
  assert.is(res.status, 200, res.text);
  const cookies = setCookies(res);
  for (const name of [`roomwatch_session_${h.httpPort}`, `roomwatch_csrf_${h.httpPort}`]) {
    const c = cookies.get(name);
    assert.ok(c, `${name} set: ${String(res.headers['set-cookie'])}`);
    assert.ok(c.attributes.has('secure'), `${name} is Secure`);
    assert.is(c.attributes.get('samesite'), 'Strict');
  }
});

test.run();
