// docs/ADMIN.md "Sensor tokens (admin)" and "When the hub asks for credentials": the sensor
// port once a token exists (no token, a wrong, revoked or unfitting token), revoking closes
// connected sensors, the project's simulator with --token, and secrets at rest: tokens and
// sessions only as hashes, passwords as salted hashes, checked in the DuckDB file itself.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { json, waitFor } from '../support/api-client.ts';
import {
  asUser,
  bootstrapAdmin,
  createSensorToken,
  healthAuth,
  login,
  putUser,
  revokeSensorToken,
  startAccessHub,
} from '../support/access-setup.ts';
import { latest, sensors } from '../support/http.ts';
import { spawnNode } from '../support/node-process.ts';
import { cellsContaining, dumpStore, filesContaining } from '../support/store-dump.ts';
import { connect, type HubReply } from '../support/tcp-sensor.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';
import { tsSequence } from '../support/wire.ts';
import { SimulatedSensor } from '../../sensors/sensor-client.ts';

const nextTs = tsSequence();
test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

/** Sends this hello on a new connection; expects an error with `code` as the answer, then the close. */
async function expectHelloRefused(tcpPort: number, hello: Record<string, unknown>, code: number): Promise<HubReply> {
  const s = await connect(tcpPort);
  await s.send({ type: 'hello', v: 1, ...hello });
  const reply = await s.next();
  assert.is(reply.type, 'error', `the answer to ${JSON.stringify(hello)}: ${JSON.stringify(reply)}`);
  assert.is(reply.code, code, `error code for ${JSON.stringify(hello)}: ${JSON.stringify(reply)}`);
  await s.closed();
  return reply;
}

/** A hub whose API is open (no users) with one token for `rack*` in server-room. */
async function hubWithToken() {
  const h = await startAccessHub();
  const rack = await createSensorToken(h.httpPort, { sensor: 'rack*', rooms: ['server-room'], note: 'rack sensors' });
  return { h, rack };
}

// ---------------------------------------------------------------- the sensor port

test('before any token exists a hello without one is welcomed; once one exists it gets 401 and the connection closes', async () => {
  // ADMIN.md: loopback: open while no token exists; "the sensor port asks for a token as soon as one (unrevoked) token exists";
  // "no token: error 401 ("this hub requires a token"), connection closed"
  const h = await startAccessHub();
  const early = await connect(h.tcpPort);
  await early.hello('rack-early', 'server-room');
  assert.equal((await healthAuth(h.httpPort)).auth, { users: 'open', sensors: 'open' });

  await createSensorToken(h.httpPort, { sensor: 'rack*', rooms: ['server-room'] });
  const reply = await expectHelloRefused(h.tcpPort, { sensor: 'rack-late', room: 'server-room' }, 401);
  assert.match(String(reply.message), /token/i, 'the message says a token is required');
  assert.equal((await healthAuth(h.httpPort)).auth, { users: 'open', sensors: 'required' });
});

test('the first token also closes, with 401, the sensors already connected without one', async () => {
  // ADMIN.md: "The first token also closes, with 401, every sensor connected without one"
  const h = await startAccessHub();
  const early = await connect(h.tcpPort);
  await early.hello('rack-early', 'server-room');
  const rack = await createSensorToken(h.httpPort, { sensor: 'rack*', rooms: ['server-room'] });
  const e = await early.next({ type: 'error' });
  assert.is(e.code, 401);
  assert.match(String(e.message), /token/i);
  await early.closed();
  const again = await connect(h.tcpPort);
  await again.hello('rack-early', 'server-room', { token: rack.token });
  assert.not.ok(again.isClosed, 'with the token it is welcomed back');
});

test('a wrong token gets 401 and the connection closes', async () => {
  // ADMIN.md: "an unknown or revoked token: error 401 ("bad token"), connection closed"
  const { h, rack } = await hubWithToken();
  await expectHelloRefused(h.tcpPort, { sensor: 'rack-1', room: 'server-room', token: 'rws_' + '0'.repeat(43) }, 401);
  await expectHelloRefused(h.tcpPort, { sensor: 'rack-1', room: 'server-room', token: rack.token.slice(0, -1) }, 401);
  await expectHelloRefused(h.tcpPort, { sensor: 'rack-1', room: 'server-room', token: '' }, 401);
});

test('a revoked token gets 401 and the connection closes', async () => {
  // ADMIN.md: "an unknown or revoked token: error 401"
  const { h, rack } = await hubWithToken();
  const other = await createSensorToken(h.httpPort, { sensor: 'other*', rooms: ['*'] });
  await revokeSensorToken(h.httpPort, rack.id);
  await expectHelloRefused(h.tcpPort, { sensor: 'rack-1', room: 'server-room', token: rack.token }, 401);
  const s = await connect(h.tcpPort);
  await s.hello('other-1', 'attic', { token: other.token });
});

test('a token whose pattern does not match the sensor id gets 403 and the connection closes', async () => {
  // ADMIN.md: "a token whose pattern does not match the sensor id: error 403, connection closed"
  const { h, rack } = await hubWithToken();
  await expectHelloRefused(h.tcpPort, { sensor: 'greenhouse-01', room: 'server-room', token: rack.token }, 403);
  await expectHelloRefused(h.tcpPort, { sensor: 'my-rack-1', room: 'server-room', token: rack.token }, 403);
});

test('a token that does not allow the room (or default, for a hello without one) gets 403 and the connection closes', async () => {
  // ADMIN.md: "a token that does not allow the hello's room (no room: default): error 403, connection closed"
  const { h, rack } = await hubWithToken();
  await expectHelloRefused(h.tcpPort, { sensor: 'rack-1', room: 'greenhouse', token: rack.token }, 403);
  await expectHelloRefused(h.tcpPort, { sensor: 'rack-1', token: rack.token }, 403);
  const withDefault = await createSensorToken(h.httpPort, { sensor: 'lab-*', rooms: ['default', 'lab'] });
  const s = await connect(h.tcpPort);
  await s.hello('lab-1', undefined, { token: withDefault.token });
});

test('a good token is welcomed, and its sensor’s readings are acked and stored', async () => {
  // ADMIN.md "Sensor tokens": a token lets sensors whose id matches a pattern connect in the listed rooms
  const { h, rack } = await hubWithToken();
  const s = await connect(h.tcpPort);
  const welcome = await s.hello('rack-7', 'server-room', { token: rack.token });
  assert.is(welcome.sensor, 'rack-7');
  const ts = nextTs();
  await s.send({ type: 'reading', metric: 'temperature', value: 31.5, unit: 'C', ts, seq: 1 });
  await s.ackCovering(1);
  assert.equal(
    (await latest(h.httpPort, { sensor: 'rack-7' })).map((r) => [r.room, r.metric, r.value, r.ts]),
    [['server-room', 'temperature', 31.5, ts]],
  );
});

test('patterns: ? is one character and * any run; rooms ["*"] allow any room', async () => {
  // ADMIN.md "Sensor tokens": "* any run of characters, ? one character: rack*, greenhouse-??, *"; rooms "*: any room"
  const h = await startAccessHub();
  const gh = await createSensorToken(h.httpPort, { sensor: 'greenhouse-??', rooms: ['*'] });
  const any = await createSensorToken(h.httpPort, { sensor: '*', rooms: ['lab'] });
  const ok = await connect(h.tcpPort);
  await ok.hello('greenhouse-01', 'anywhere-at-all', { token: gh.token });
  await expectHelloRefused(h.tcpPort, { sensor: 'greenhouse-1', room: 'greenhouse', token: gh.token }, 403);
  await expectHelloRefused(h.tcpPort, { sensor: 'greenhouse-001', room: 'greenhouse', token: gh.token }, 403);
  const star = await connect(h.tcpPort);
  await star.hello('Whatever.Sensor:9', 'lab', { token: any.token });
  await expectHelloRefused(h.tcpPort, { sensor: 'Whatever.Sensor:9', room: 'attic', token: any.token }, 403);
});

test('revoking a token closes every sensor connected with it, with error 401; others stay', async () => {
  // ADMIN.md: "Revoking a token closes, with 401, every sensor connected with it"
  const { h, rack } = await hubWithToken();
  const other = await createSensorToken(h.httpPort, { sensor: 'shelf*', rooms: ['server-room'] });
  const a = await connect(h.tcpPort);
  await a.hello('rack-a', 'server-room', { token: rack.token });
  const b = await connect(h.tcpPort);
  await b.hello('rack-b', 'server-room', { token: rack.token });
  const c = await connect(h.tcpPort);
  await c.hello('shelf-c', 'server-room', { token: other.token });

  await revokeSensorToken(h.httpPort, rack.id);
  for (const s of [a, b]) {
    const e = await s.next({ type: 'error' });
    assert.is(e.code, 401);
    await s.closed();
  }
  await c.sync();
  assert.not.ok(c.isClosed, 'the sensor with another token is still connected');
});

test('once the only token is revoked, a loopback hub’s sensor port is open again', async () => {
  // ADMIN.md: loopback: "the sensor port asks for a token as soon as one (unrevoked) token exists"
  const { h, rack } = await hubWithToken();
  await expectHelloRefused(h.tcpPort, { sensor: 'rack-1', room: 'server-room' }, 401);
  await revokeSensorToken(h.httpPort, rack.id);
  assert.equal((await healthAuth(h.httpPort)).auth, { users: 'open', sensors: 'open' });
  const s = await connect(h.tcpPort);
  await s.hello('anyone-1', 'attic');
});

test('the token list shows id, pattern and rooms, never the token or its hash', async () => {
  // ADMIN.md: "create prints the token once: the hub keeps only its SHA-256 hash"; API GET /api/v1/tokens
  const { h, rack } = await hubWithToken();
  const res = await asUser(h.httpPort).get('/api/v1/tokens');
  assert.is(res.status, 200, res.text);
  assert.not.ok(res.text.includes(rack.token), 'the token is not in the list');
  const { createHash } = await import('node:crypto');
  const digest = createHash('sha256').update(rack.token).digest();
  for (const enc of ['hex', 'base64', 'base64url'] as const)
    assert.not.ok(res.text.includes(digest.toString(enc)), `its SHA-256 (${enc}) is not in the list`);
  const tokens = json<{ tokens: { id: string; sensor: unknown; rooms: unknown; token?: unknown }[] }>(res).tokens;
  const listed = tokens.find((t) => t.id === rack.id);
  assert.ok(listed, `the token ${rack.id} is listed: ${res.text.slice(0, 300)}`);
  assert.is(listed.sensor, 'rack*');
  assert.equal(listed.rooms, ['server-room']);
});

// ---------------------------------------------------------------- takeover across rooms

test('a token for another room cannot take over a sensor: 403, and the connected sensor stays, in its room', async () => {
  // ADMIN.md "Sensor tokens": a hello for a sensor the hub knows in a room the token does not allow: 403
  const h = await startAccessHub();
  const server = await createSensorToken(h.httpPort, { sensor: 'rack*', rooms: ['server-room'] });
  const greenhouse = await createSensorToken(h.httpPort, { sensor: '*', rooms: ['greenhouse'] });
  const rack1 = await connect(h.tcpPort);
  await rack1.hello('rack1', 'server-room', { token: server.token });
  await rack1.send({ type: 'reading', metric: 'temperature', value: 24.5, ts: nextTs(), seq: 1 });
  await rack1.ackCovering(1);

  const reply = await expectHelloRefused(h.tcpPort, { sensor: 'rack1', room: 'greenhouse', token: greenhouse.token }, 403);
  assert.match(String(reply.message), /server-room/, 'the message names the room the sensor is in');
  await rack1.send({ type: 'reading', metric: 'temperature', value: 24.6, ts: nextTs(), seq: 2 });
  await rack1.ackCovering(2);
  assert.not.ok(
    rack1.received.some((m) => m.type === 'error'),
    `rack1 heard no error: ${JSON.stringify(rack1.received)}`,
  );
  assert.not.ok(rack1.isClosed, 'rack1 is still connected');
  const listed = (await sensors(h.httpPort)).find((x) => x.sensor === 'rack1');
  assert.equal(listed && [listed.room, listed.connected], ['server-room', true]);

  // known but no longer connected: still not the greenhouse token's to take
  await rack1.close();
  await expectHelloRefused(h.tcpPort, { sensor: 'rack1', room: 'greenhouse', token: greenhouse.token }, 403);
  assert.is((await sensors(h.httpPort)).find((x) => x.sensor === 'rack1')?.room, 'server-room');
  // a sensor the hub has never seen is the greenhouse token's to name
  const fresh = await connect(h.tcpPort);
  await fresh.hello('rack-new', 'greenhouse', { token: greenhouse.token });
});

test('a token that allows both rooms may move a sensor; on a hub without tokens any hello may', async () => {
  // ADMIN.md "Sensor tokens": a token that allows the sensor's room and the hello's room moves it; open hub: as before
  const open = await startAccessHub();
  const first = await connect(open.tcpPort);
  await first.hello('mover', 'server-room');
  const second = await connect(open.tcpPort);
  await second.hello('mover', 'greenhouse');
  assert.is((await first.next({ type: 'error' })).code, 409, 'the older connection is replaced');
  assert.is((await sensors(open.httpPort)).find((x) => x.sensor === 'mover')?.room, 'greenhouse');

  const h = await startAccessHub();
  const server = await createSensorToken(h.httpPort, { sensor: 'rack*', rooms: ['server-room'] });
  const both = await createSensorToken(h.httpPort, { sensor: 'rack*', rooms: ['server-room', 'greenhouse'] });
  const a = await connect(h.tcpPort);
  await a.hello('rack2', 'server-room', { token: server.token });
  const b = await connect(h.tcpPort);
  await b.hello('rack2', 'greenhouse', { token: both.token });
  assert.is((await a.next({ type: 'error' })).code, 409);
  assert.is((await sensors(h.httpPort)).find((x) => x.sensor === 'rack2')?.room, 'greenhouse');
});

// ---------------------------------------------------------------- the simulator

test('the project’s SimulatedSensor connects with a token and its readings show in latest', async () => {
  // ADMIN.md "Sensor tokens": the simulator sends the token in hello
  const { h, rack } = await hubWithToken();
  const sim = new SimulatedSensor({
    sensorId: 'rack-sim-1',
    room: 'server-room',
    host: '127.0.0.1',
    port: h.tcpPort,
    intervalMs: 3_600_000,
    token: rack.token,
  });
  perTest.add('simulated sensor rack-sim-1', () => sim.stop());
  sim.start();
  const readings = await waitFor('the simulated sensor’s first readings in latest', async () => {
    const r = await latest(h.httpPort, { sensor: 'rack-sim-1' });
    return r.length >= 3 ? r : undefined;
  });
  assert.equal([...new Set(readings.map((r) => r.room))], ['server-room']);
});

test('npm run sensors -- --count 3 --token T: the fleet connects and all three show in latest', async () => {
  // ADMIN.md "Sensor tokens": npm run sensors -- --count 10 --token rws_...
  const { h } = await hubWithToken();
  const fleetToken = await createSensorToken(h.httpPort, { sensor: 'tok-???', rooms: ['server-room'] });
  const p = spawnNode([
    'sensors/main.ts',
    '--count',
    '3',
    '--host',
    '127.0.0.1',
    '--port',
    String(h.tcpPort),
    '--prefix',
    'tok',
    '--rooms',
    'server-room',
    '--interval',
    '500',
    '--token',
    fleetToken.token,
  ]);
  const ids = await waitFor(
    'the three simulated sensors in latest',
    async () => {
      const sensorIds = [...new Set((await latest(h.httpPort, { room: 'server-room' })).map((r) => r.sensor))]
        .filter((s) => s.startsWith('tok-'))
        .sort();
      return sensorIds.length === 3 ? sensorIds : undefined;
    },
    60_000,
    200,
  ).catch((err: Error) => {
    throw new Error(`${err.message}\nsimulator stderr: ${p.stderr().slice(-1000)}`);
  });
  assert.equal(ids, ['tok-001', 'tok-002', 'tok-003']);
  p.kill('SIGINT');
  const exit = await p.exited;
  assert.is(exit.code, 0, `the simulator stopped cleanly: ${p.stderr().slice(-500)}`);
});

// ---------------------------------------------------------------- secrets at rest

test('a sensor token is stored only as a hash: not in any row of the store, nor in any file of the data folder', async () => {
  // ADMIN.md: "the hub keeps only its SHA-256 hash"
  const { h, rack } = await hubWithToken();
  const s = await connect(h.tcpPort);
  await s.hello('rack-at-rest', 'server-room', { token: rack.token });
  await s.close();
  await h.stop();
  const dump = await dumpStore(h.dataDir);
  assert.ok(
    cellsContaining(dump, rack.id).length > 0,
    `the token record (id ${rack.id}) is in the store: tables ${dump.map((t) => t.table).join(', ')}`,
  );
  assert.equal(cellsContaining(dump, rack.token), [], 'no value holds the token');
  assert.equal(filesContaining(h.dataDir, rack.token), [], 'no file holds the token bytes');
});

test('a login session is stored only as a hash', async () => {
  // ADMIN.md "Logging in": "the hub keeps only their SHA-256 hashes"
  const h = await startAccessHub();
  await putUser(h.httpPort, 'rest-admin', { role: 'admin', rooms: ['*'], password: 'rest-password' });
  const session = await login(h.httpPort, 'rest-admin', 'rest-password');
  assert.is((await asUser(h.httpPort, session.token).get('/api/v1/whoami')).status, 200);
  await h.stop();
  const dump = await dumpStore(h.dataDir);
  assert.equal(cellsContaining(dump, session.token), [], 'no value holds the session token');
  assert.equal(filesContaining(h.dataDir, session.token), [], 'no file holds the session token bytes');
});

test('passwords are stored salted: two users with the same password store different hashes, and no row holds the password', async () => {
  // ADMIN.md: "scrypt hashes ... a random 16-byte salt per password; two users with the same password store different hashes"
  const password = 'same-password-for-both';
  const h = await startAccessHub();
  const root = await bootstrapAdmin(h.httpPort);
  await putUser(h.httpPort, 'twin-one', { role: 'viewer', rooms: ['lab'], password }, root);
  await putUser(h.httpPort, 'twin-two', { role: 'viewer', rooms: ['lab'], password }, root);
  await h.stop();

  const dump = await dumpStore(h.dataDir);
  assert.equal(cellsContaining(dump, password), [], 'no value holds the password');
  assert.equal(filesContaining(h.dataDir, password), [], 'no file holds the password bytes');

  // the users' table: one that holds both names and a column for the hash (the activity log names them too)
  const candidates = dump.filter((t) => t.rows.some((r) => r.includes('twin-one')) && t.rows.some((r) => r.includes('twin-two')));
  const withHash = candidates
    .map((t) => {
      const one = t.rows.find((r) => r.includes('twin-one'))!;
      const two = t.rows.find((r) => r.includes('twin-two'))!;
      const hashColumns = t.columns
        .map((name, i) => ({ name, i }))
        .filter(({ name, i }) => /hash|password|salt/i.test(name) || /^\$?scrypt/i.test(one[i] ?? '') || /^\$?scrypt/i.test(two[i] ?? ''));
      return { t, one, two, hashColumns };
    })
    .filter((c) => c.hashColumns.length > 0);
  assert.is(
    withHash.length,
    1,
    `one table holds both users and a password hash: ${dump.map((t) => `${t.table}(${t.columns.join(',')})`).join('; ')}`,
  );
  const { t, one, two, hashColumns } = withHash[0]!;
  for (const { name, i } of hashColumns) {
    assert.ok(one[i] && two[i], `${t.table}.${name} is set for both`);
    assert.is.not(one[i], two[i], `${t.table}.${name} differs for the same password`);
  }
});

test.run();
