// docs/ADMIN.md "Limits": the cap on sensor connections, the cap per address, and the HTTP
// request rate per user (logged in) or per address (not logged in); health is never limited.
import net from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { request, waitFor } from '../support/api-client.ts';
import { asUser, bootstrapAdmin, expectRefused, login, putUser, startAccessHub } from '../support/access-setup.ts';
import { parseExposition, value } from '../support/prometheus.ts';
import { connect, type HubReply, type TcpSensor } from '../support/tcp-sensor.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';
import { LineSplitter } from '../../protocol/line-splitter.ts';

test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

async function welcomed(tcpPort: number, id: string): Promise<TcpSensor> {
  const s = await connect(tcpPort);
  await s.hello(id, 'lab');
  return s;
}

/** A new connection that says nothing: the hub must answer it with error 429 and close it. */
async function expectCapped(tcpPort: number): Promise<HubReply> {
  const s = await connect(tcpPort);
  const e = await s.next();
  assert.is(e.type, 'error', JSON.stringify(e));
  assert.is(e.code, 429, JSON.stringify(e));
  await s.closed();
  return e;
}

async function openConnections(httpPort: number): Promise<number> {
  const res = await request(httpPort, '/metrics');
  return value(parseExposition(res.text), 'roomwatch_sensor_connections');
}

/** Connects from another loopback address (Linux routes all of 127/8 to lo) and returns the first line the hub sends after hello. */
function helloFrom(localAddress: string, tcpPort: number, sensor: string): Promise<HubReply> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port: tcpPort, localAddress });
    perTest.add(`socket from ${localAddress}`, () => socket.destroy());
    const splitter = new LineSplitter(1 << 20);
    const timer = setTimeout(() => reject(new Error(`no answer to hello from ${localAddress} within 5 s`)), 5_000);
    socket.on('connect', () => socket.write(JSON.stringify({ type: 'hello', v: 1, sensor, room: 'lab' }) + '\n'));
    socket.on('data', (chunk: Buffer) => {
      splitter.push(chunk, (line) => {
        clearTimeout(timer);
        resolve(JSON.parse(line) as HubReply);
      });
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

// ---------------------------------------------------------------- sensor connections

test('with maxSensorConnections 3 the 4th connection gets error 429 and is closed; once one closes a new one is accepted', async () => {
  // ADMIN.md "Limits": sensor connections: error 429 ("the hub is at its cap of N sensor connections") and close
  const h = await startAccessHub({ maxSensorConnections: 3 });
  const first = await welcomed(h.tcpPort, 'cap-1');
  await welcomed(h.tcpPort, 'cap-2');
  await welcomed(h.tcpPort, 'cap-3');
  const e = await expectCapped(h.tcpPort);
  assert.match(String(e.message), /\b3\b/, `the message names the cap: ${e.message}`);
  await first.close();
  await waitFor('the hub counts 2 open connections', async () => (await openConnections(h.httpPort)) === 2);
  await welcomed(h.tcpPort, 'cap-4');
  await expectCapped(h.tcpPort);
});

test('with maxConnectionsPerAddress 2 the 3rd connection from 127.0.0.1 gets error 429 and is closed', async () => {
  // ADMIN.md "Limits": sensor connections from one address: error 429 ("too many connections from ADDRESS") and close
  const h = await startAccessHub({ maxConnectionsPerAddress: 2 });
  const first = await welcomed(h.tcpPort, 'addr-1');
  await welcomed(h.tcpPort, 'addr-2');
  const e = await expectCapped(h.tcpPort);
  assert.match(String(e.message), /127\.0\.0\.1/, `the message names the address: ${e.message}`);
  await first.close();
  await waitFor('the hub counts 1 open connection', async () => (await openConnections(h.httpPort)) === 1);
  await welcomed(h.tcpPort, 'addr-3');
});

test('the per-address cap counts each address apart', async () => {
  // ADMIN.md "Limits": "sensor connections from one address"
  if (process.platform !== 'linux') return; // only Linux routes all of 127.0.0.0/8 to the loopback interface
  const h = await startAccessHub({ maxConnectionsPerAddress: 2 });
  await welcomed(h.tcpPort, 'two-1');
  await welcomed(h.tcpPort, 'two-2');
  await expectCapped(h.tcpPort);
  const reply = await helloFrom('127.0.0.2', h.tcpPort, 'two-other');
  assert.is(reply.type, 'welcome', `a connection from 127.0.0.2: ${JSON.stringify(reply)}`);
});

// ---------------------------------------------------------------- HTTP request rate

test('with rateLimitPerMinute 5 the 6th request within the minute gets 429 rate_limited with Retry-After; health stays 200', async () => {
  // ADMIN.md "Limits": per client address (not logged in): 429 rate_limited, Retry-After; "Health is never rate-limited"
  const h = await startAccessHub({ rateLimitPerMinute: 5 });
  for (let i = 1; i <= 5; i++) assert.is((await asUser(h.httpPort).get('/api/v1/sensors')).status, 200, `request ${i}`);
  const sixth = await asUser(h.httpPort).get('/api/v1/latest');
  expectRefused(sixth, 429, 'rate_limited', 'the 6th request');
  const retryAfter = Number(sixth.headers['retry-after']);
  assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter} s is within the minute`);
  for (let i = 0; i < 8; i++) assert.is((await request(h.httpPort, '/api/v1/health')).status, 200, `health ${i + 1}`);
  expectRefused(await asUser(h.httpPort).get('/metrics'), 429, 'rate_limited', 'still limited after the health checks');
});

test('the rate limit is per user: a user over it gets 429 in every session, another user still gets 200', async () => {
  // ADMIN.md "Limits": "HTTP requests per minute, per user (logged in) or per client address (not logged in)"
  const h = await startAccessHub({ rateLimitPerMinute: 5 });
  // the address (not logged in) uses 4 requests: create root, log root in, log alex and bob in
  const root = await bootstrapAdmin(h.httpPort);
  await putUser(h.httpPort, 'alex', { role: 'viewer', rooms: ['*'], password: 'alex-password' }, root);
  await putUser(h.httpPort, 'bob', { role: 'viewer', rooms: ['*'], password: 'bob-password' }, root);
  const alex = (await login(h.httpPort, 'alex', 'alex-password')).token;
  const bob = (await login(h.httpPort, 'bob', 'bob-password')).token;

  for (let i = 1; i <= 5; i++) assert.is((await asUser(h.httpPort, alex).get('/api/v1/latest')).status, 200, `alex request ${i}`);
  expectRefused(await asUser(h.httpPort, alex).get('/api/v1/latest'), 429, 'rate_limited', 'alex’s 6th');
  assert.is((await asUser(h.httpPort, bob).get('/api/v1/latest')).status, 200, 'bob is not limited by alex');
  assert.is((await asUser(h.httpPort, root).get('/api/v1/users')).status, 200, 'root is not limited by alex');
  assert.is((await request(h.httpPort, '/api/v1/health')).status, 200, 'health');

  // the 5th request of the address: a second session for alex shares alex's budget
  const again = (await login(h.httpPort, 'alex', 'alex-password')).token;
  expectRefused(await asUser(h.httpPort, again).get('/api/v1/sensors'), 429, 'rate_limited', 'alex in a second session');
});

test('rateLimitPerMinute 0 turns the limit off', async () => {
  // ADMIN.md "Limits": --rate-limit 0: none
  const h = await startAccessHub({ rateLimitPerMinute: 0 });
  const statuses = new Set<number>();
  for (let i = 0; i < 60; i++) statuses.add((await asUser(h.httpPort).get('/api/v1/sensors')).status);
  assert.equal([...statuses], [200]);
});

test.run();
