// DNS rebinding against an open hub (no users yet, on loopback): a page of another site makes
// its own name resolve to 127.0.0.1, so the browser sends its name as both Host and Origin and
// the Origin check passes. The hub answers only requests that name it by address, localhost
// or this machine's name while it is open.
import { hostname } from 'node:os';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { request } from '../support/api-client.ts';
import { expectRefused, startAccessHub } from '../support/access-setup.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';

test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

const admin = JSON.stringify({ role: 'admin', rooms: ['*'], password: 'correct horse battery' });

test('an open hub refuses a page that reached it by a DNS name of its own: no first admin, no data', async () => {
  const h = await startAccessHub();
  const evil = { host: `evil.example:${h.httpPort}`, origin: `http://evil.example:${h.httpPort}` };
  const put = await request(h.httpPort, '/api/v1/users/mallory', {
    method: 'PUT',
    headers: { ...evil, 'content-type': 'application/json' },
    body: admin,
  });
  // Before: 201, and the page's author was the hub's first admin.
  expectRefused(put, 403, 'csrf_refused', 'a rebinding page creating the first admin');
  assert.match(put.text, /127\.0\.0\.1, localhost/);
  expectRefused(await request(h.httpPort, '/api/v1/latest', { headers: { host: evil.host } }), 403, 'csrf_refused', 'reading');
  const users = await request(h.httpPort, '/api/v1/users');
  assert.is(users.status, 200, users.text);
  assert.not.match(users.text, /mallory/);
});

test('an open hub still answers by address, localhost, a name under localhost and this machine name', async () => {
  const h = await startAccessHub();
  for (const name of ['127.0.0.1', 'localhost', 'LOCALHOST', 'hub.localhost', 'localhost.', hostname(), '[::1]']) {
    const host = `${name}:${h.httpPort}`;
    const res = await request(h.httpPort, '/api/v1/latest', { headers: { host } });
    assert.is(res.status, 200, `${host}: ${res.text}`);
  }
  const put = await request(h.httpPort, '/api/v1/users/alex', {
    method: 'PUT',
    headers: { host: `localhost:${h.httpPort}`, origin: `http://localhost:${h.httpPort}`, 'content-type': 'application/json' },
    body: admin,
  });
  assert.is(put.status, 201, put.text);
});

test.run();
