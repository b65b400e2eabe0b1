// docs/ADMIN.md "When the hub asks for credentials": on an address other machines can reach,
// the hub refuses to start without credentials unless --allow-anyone-on-the-network is given
// or an admin user exists; then credentials are required on both ports, always. Hubs bound to
// 0.0.0.0 (reached here through 127.0.0.1).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { json } from '../support/api-client.ts';
import {
  asUser,
  bootstrapAdmin,
  createSensorToken,
  expectRefused,
  healthAuth,
  login,
  putUser,
  startAccessHub,
} from '../support/access-setup.ts';
import { startHubProcess, tempDataDir } from '../support/hub-process.ts';
import { runNode } from '../support/node-process.ts';
import { connect } from '../support/tcp-sensor.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';

test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

const NETWORK = '0.0.0.0';

async function startRefused(options: Parameters<typeof startAccessHub>[0]): Promise<Error> {
  try {
    await startAccessHub(options);
  } catch (err) {
    return err as Error;
  }
  throw new Error(`the hub started on ${options?.host} with ${JSON.stringify({ ...options, now: undefined })}`);
}

/** A data folder in which a loopback hub made these users (the first one on the open API, the rest as it). */
async function dataDirWith(users: { name: string; role: 'admin' | 'operator' | 'viewer'; password: string }[]): Promise<string> {
  const dir = (await tempDataDir()).path;
  const h = await startAccessHub({ dataDir: dir });
  const [first, ...rest] = users;
  await putUser(h.httpPort, first!.name, { role: first!.role, rooms: ['*'], password: first!.password });
  if (rest.length > 0) {
    const token = (await login(h.httpPort, first!.name, first!.password)).token;
    for (const u of rest) await putUser(h.httpPort, u.name, { role: u.role, rooms: ['*'], password: u.password }, token);
  }
  await h.stop();
  return dir;
}

async function expectSensorRefused(tcpPort: number, hello: Record<string, unknown>, code: number): Promise<void> {
  const s = await connect(tcpPort);
  await s.send({ type: 'hello', v: 1, ...hello });
  const reply = await s.next();
  assert.is(reply.type, 'error', JSON.stringify(reply));
  assert.is(reply.code, code, JSON.stringify(reply));
  await s.closed();
}

test('a hub on 0.0.0.0 with no users refuses to start, naming --allow-anyone-on-the-network', async () => {
  // ADMIN.md: any other address, no users: "the hub refuses to start, unless at least one admin user exists, or --allow-anyone-on-the-network is given"
  const err = await startRefused({ host: NETWORK });
  assert.match(err.message, /--allow-anyone-on-the-network/);
});

test('with allowAnyoneOnTheNetwork it starts, and both ports are open while no credentials exist', async () => {
  // ADMIN.md: "--allow-anyone-on-the-network keeps a networked hub open as long as no credentials exist of a kind"
  const h = await startAccessHub({ host: NETWORK, allowAnyoneOnTheNetwork: true });
  assert.equal(await healthAuth(h.httpPort), { status: 200, auth: { users: 'open', sensors: 'open' } });
  assert.is((await asUser(h.httpPort).get('/api/v1/sensors')).status, 200);
  const s = await connect(h.tcpPort);
  await s.hello('net-open-1', 'lab');
});

test('with allowAnyoneOnTheNetwork, credentials are required once they exist, whatever the flag', async () => {
  // ADMIN.md: "once they exist they are required whatever the flag"
  const h = await startAccessHub({ host: NETWORK, allowAnyoneOnTheNetwork: true });
  const root = await bootstrapAdmin(h.httpPort);
  expectRefused(await asUser(h.httpPort).get('/api/v1/sensors'), 401, 'unauthorized');
  await createSensorToken(h.httpPort, { sensor: 'net-*', rooms: ['lab'] }, root);
  await expectSensorRefused(h.tcpPort, { sensor: 'net-1', room: 'lab' }, 401);
  assert.equal((await healthAuth(h.httpPort)).auth, { users: 'required', sensors: 'required' });
});

test('a data folder that holds an admin starts on 0.0.0.0 without the flag, and the sensor port requires a token though none exists', async () => {
  // ADMIN.md: any other address: "required, on both ports, always (with no token yet, every sensor gets 401 until an admin creates one)"
  const dir = await dataDirWith([{ name: 'root', role: 'admin', password: 'root-password' }]);
  const h = await startAccessHub({ host: NETWORK, dataDir: dir });
  assert.equal(await healthAuth(h.httpPort), { status: 200, auth: { users: 'required', sensors: 'required' } });
  expectRefused(await asUser(h.httpPort).get('/api/v1/latest'), 401, 'unauthorized');
  await expectSensorRefused(h.tcpPort, { sensor: 'net-rack-1', room: 'server-room' }, 401);

  const root = (await login(h.httpPort, 'root', 'root-password')).token;
  const tokens = await asUser(h.httpPort, root).get('/api/v1/tokens');
  assert.is(tokens.status, 200);
  assert.equal(json<{ tokens: unknown[] }>(tokens).tokens, [], 'no token exists');
  const t = await createSensorToken(h.httpPort, { sensor: 'net-rack-*', rooms: ['server-room'] }, root);
  const s = await connect(h.tcpPort);
  await s.hello('net-rack-1', 'server-room', { token: t.token });
});

test('the hub process on --host 0.0.0.0 with no users exits non-zero naming the flag; ROOMWATCH_ALLOW_ANYONE=1 lets it start', async () => {
  // ADMIN.md: "refuses to start ... --allow-anyone-on-the-network (or ROOMWATCH_ALLOW_ANYONE=1)"
  const dir = (await tempDataDir()).path;
  const refused = await runNode(['hub/main.ts', '--host', NETWORK, '--tcp-port', '0', '--http-port', '0', '--data', dir], 60_000, {
    env: { ROOMWATCH_ALLOW_ANYONE: '' },
  });
  assert.ok(refused.code !== 0 && refused.code !== null, `exit code ${refused.code}`);
  assert.match(refused.stderr + refused.stdout, /--allow-anyone-on-the-network/);
  assert.not.match(refused.stdout, /hub listening/, 'it never listened');

  const p = await startHubProcess({ dataDir: dir, args: ['--host', NETWORK], env: { ROOMWATCH_ALLOW_ANYONE: '1' } });
  assert.equal(await healthAuth(p.httpPort), { status: 200, auth: { users: 'open', sensors: 'open' } });
  p.kill('SIGTERM');
  assert.is((await p.exited).code, 0);
});

test('loopback addresses stay open by default: 127.0.0.1 and localhost start with no users', async () => {
  // ADMIN.md: a loopback address (127.0.0.1, the default; ::1; localhost): open
  const a = await startAccessHub({ host: '127.0.0.1' });
  assert.equal((await healthAuth(a.httpPort)).auth, { users: 'open', sensors: 'open' });
  await startAccessHub({ host: 'localhost' });
});

test.run();
