// docs/API.md "GET /api/v1/stream" and docs/ADMIN.md "Access control": an open stream has no
// more rights than a new request would. A logout, a deleted user or a changed password closes
// the user's streams (1008); a room taken from the user stops at once on its streams (which
// follow the user's rooms), or closes a stream that named that room; a subscribe after the login
// expired is refused and closes the stream; an open hub's streams close when it gets its first user.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { asUser, login, movableClock, putUser, startAccessHub } from '../support/access-setup.ts';
import { openStreamAs } from '../support/auth-stream.ts';
import type { InProcessHub } from '../support/hub-process.ts';
import type { StreamClient } from '../support/stream-client.ts';
import { connect, type TcpSensor } from '../support/tcp-sensor.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';
import { tsSequence } from '../support/wire.ts';

const nextTs = tsSequence();
test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

const PASSWORD = 'password-1';

interface World {
  h: InProcessHub;
  root: string;
  /** alex: a viewer of rooms a and b */
  alex: string;
  a: TcpSensor;
  b: TcpSensor;
  seq: { a: number; b: number };
}

async function world(options: Parameters<typeof startAccessHub>[0] = {}): Promise<World> {
  const h = await startAccessHub(options);
  await putUser(h.httpPort, 'root', { role: 'admin', rooms: ['*'], password: PASSWORD });
  const root = (await login(h.httpPort, 'root', PASSWORD)).token;
  await putUser(h.httpPort, 'alex', { role: 'viewer', rooms: ['sr-a', 'sr-b'], password: PASSWORD }, root);
  const alex = (await login(h.httpPort, 'alex', PASSWORD)).token;
  const a = await connect(h.tcpPort);
  await a.hello('sr-sensor-a', 'sr-a');
  const b = await connect(h.tcpPort);
  await b.hello('sr-sensor-b', 'sr-b');
  return { h, root, alex, a, b, seq: { a: 0, b: 0 } };
}

async function send(w: World, which: 'a' | 'b', ts: number): Promise<void> {
  const s = w[which];
  const seq = ++w.seq[which];
  await s.send({ type: 'reading', metric: 'temperature', value: seq, ts, seq });
  await s.ackCovering(seq);
}

/** The close code and reason the hub gave. */
function closeOf(c: StreamClient, timeoutMs = 10_000): Promise<{ code: number; reason: string }> {
  if (c.closeCode !== null) return Promise.resolve({ code: c.closeCode, reason: '' });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the stream was still open after ${timeoutMs} ms`)), timeoutMs);
    c.ws.once('close', (code, reason) => {
      clearTimeout(timer);
      resolve({ code, reason: reason.toString() });
    });
  });
}

async function subscribed(w: World, token: string, fields: Record<string, unknown> = {}): Promise<StreamClient> {
  const c = await openStreamAs(w.h.httpPort, token);
  await c.subscribe({ replay: 0, ...fields });
  return c;
}

test('a logout closes the streams of that login with 1008, and leaves the same user’s other logins streaming', async () => {
  const w = await world();
  const other = (await login(w.h.httpPort, 'alex', PASSWORD)).token;
  const c = await subscribed(w, w.alex);
  const stays = await subscribed(w, other);
  const closed = closeOf(c);
  const out = await asUser(w.h.httpPort, w.alex).post('/api/v1/logout');
  assert.is(out.status, 200);
  assert.equal(await closed, { code: 1008, reason: 'logged out' });
  const ts = nextTs();
  await send(w, 'a', ts);
  assert.is((await stays.readings(1))[0]?.ts, ts, 'the other login still streams');
});

test('deleting a user closes its streams with 1008', async () => {
  const w = await world();
  const c = await subscribed(w, w.alex);
  const closed = closeOf(c);
  const del = await asUser(w.h.httpPort, w.root).del('/api/v1/users/alex');
  assert.is(del.status, 200);
  assert.equal(await closed, { code: 1008, reason: 'user deleted' });
  assert.ok(
    c.received.some((m) => m.type === 'error' && m.code === 'bad_token'),
    `an error message says why: ${JSON.stringify(c.received)}`,
  );
});

test('a changed password closes the user’s streams with 1008', async () => {
  const w = await world();
  const c = await subscribed(w, w.alex);
  const closed = closeOf(c);
  await putUser(w.h.httpPort, 'alex', { role: 'viewer', rooms: ['sr-a', 'sr-b'], password: 'password-2' }, w.root);
  assert.is((await closed).code, 1008);
});

test('a room taken from the user stops on its open stream at once; the user’s other rooms keep coming', async () => {
  const w = await world();
  const c = await subscribed(w, w.alex);
  const t = nextTs();
  await send(w, 'b', t);
  assert.is((await c.readings(1))[0]?.room, 'sr-b', 'room b streams while it is alex’s');
  await putUser(w.h.httpPort, 'alex', { role: 'viewer', rooms: ['sr-a'] }, w.root);
  await send(w, 'b', t + 1);
  await send(w, 'a', t + 2); // the sentinel: it comes after b's would have
  const next = await c.readings(1);
  assert.equal(
    next.map((r) => [r.room, r.ts]),
    [['sr-a', t + 2]],
  );
  assert.is(c.closeCode, null, 'the stream stays open for the rooms alex still has');
});

test('a stream that named a room the user then lost is closed with 1008 forbidden_room', async () => {
  const w = await world();
  const c = await subscribed(w, w.alex, { room: 'sr-b' });
  const closed = closeOf(c);
  await putUser(w.h.httpPort, 'alex', { role: 'viewer', rooms: ['sr-a'] }, w.root);
  assert.equal(await closed, { code: 1008, reason: 'forbidden_room' });
});

test('a subscribe on a stream whose login has expired is refused (token_expired) and closes it with 1008', async () => {
  const clock = movableClock();
  const w = await world({ now: clock.now, sessionTtlMs: 3_600_000 });
  const c = await subscribed(w, w.alex);
  clock.advance(2 * 3_600_000);
  const closed = closeOf(c);
  const reply = await c.subscribeReply({ replay: 0 });
  assert.equal([reply.type, reply.code], ['error', 'token_expired']);
  assert.is((await closed).code, 1008);
});

test('streams opened on an open hub close when it gets its first user (from then on it asks for a login)', async () => {
  const h = await startAccessHub();
  const c = await openStreamAs(h.httpPort);
  await c.subscribe({ replay: 0 });
  const closed = closeOf(c);
  await putUser(h.httpPort, 'root', { role: 'admin', rooms: ['*'], password: PASSWORD });
  assert.equal(await closed, { code: 1008, reason: 'login required' });
});

test.run();
