// Two cluster hubs in process on three real nats-servers and a real PostgreSQL: users, logins
// and tokens made on one hub work on the other, a logout on one ends the login on the other,
// and health shows both hubs alive.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { json, waitFor } from '../../test/support/api-client.ts';
import { asUser, bootstrapAdmin, createSensorToken, login } from '../../test/support/access-setup.ts';
import { startHub } from '../../test/support/hub-process.ts';
import { natsInstalled, startNatsCluster } from '../../test/support/nats-cluster.ts';
import { postgresInstalled, startPostgres } from '../../test/support/postgres-server.ts';
import { exitWhenDone, perTest } from '../../test/support/teardown.ts';
import { testTimeout } from '../../test/support/test-timeouts.ts';

testTimeout(180_000);
test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

test('a user made on hub A logs in on hub B; a logout on A ends that login on B; health lists both hubs', async () => {
  const nats = natsInstalled('cluster access');
  const pgHere = postgresInstalled('cluster access');
  if (!nats || !pgHere) return;
  const [servers, pg] = await Promise.all([startNatsCluster(), startPostgres()]);
  const cluster = { cluster: servers.urls.join(','), history: pg.url };
  const a = await startHub({ ...cluster, hubId: 'acc-a' });
  const b = await startHub({ ...cluster, hubId: 'acc-b' });

  const health = await waitFor('hub B sees both hubs alive', async () => {
    const h = json<{ cluster?: { hubs_alive: string[]; hub_id: string } }>(await asUser(b.httpPort).get('/api/v1/health'));
    return h.cluster?.hubs_alive.length === 2 ? h.cluster : undefined;
  });
  assert.equal(health, { ...health, hub_id: 'acc-b', hubs_alive: ['acc-a', 'acc-b'] });

  const rootOnA = await bootstrapAdmin(a.httpPort);
  await waitFor('hub B asks for a login once A has a user', async () => (await asUser(b.httpPort).get('/api/v1/latest')).status === 401);
  const onB = await login(b.httpPort, 'root', 'root-password-1');
  assert.is((await asUser(b.httpPort, onB.token).get('/api/v1/latest')).status, 200, 'B opens a login of a user made on A');
  await waitFor('hub A knows the login made on B', async () => (await asUser(a.httpPort, onB.token).get('/api/v1/latest')).status === 200);

  // The login made on B ends on A: B must refuse it too.
  assert.is((await asUser(a.httpPort, onB.token).post('/api/v1/logout')).status, 200);
  await waitFor(
    'hub B refuses the login ended on A',
    async () => (await asUser(b.httpPort, onB.token).get('/api/v1/latest')).status === 401,
  );
  assert.is((await asUser(a.httpPort, rootOnA).get('/api/v1/latest')).status, 200, 'other logins stay');

  // A sensor token made on B is known on A.
  const token = await createSensorToken(
    b.httpPort,
    { sensor: 'tok-*', rooms: ['lab'] },
    (await login(b.httpPort, 'root', 'root-password-1')).token,
  );
  await waitFor('hub A lists the token made on B', async () => {
    const list = json<{ tokens: { id: string }[] }>(await asUser(a.httpPort, rootOnA).get('/api/v1/tokens'));
    return list.tokens.some((t) => t.id === token.id);
  });
});

test('a cluster hub stops, in bounded time, when every NATS server is gone', async () => {
  const nats = natsInstalled('cluster stop');
  const pgHere = postgresInstalled('cluster stop');
  if (!nats || !pgHere) return;
  const [servers, pg] = await Promise.all([startNatsCluster(), startPostgres()]);
  const hub = await startHub({ cluster: servers.urls.join(','), history: pg.url, hubId: 'stop-a' });
  await Promise.all([0, 1, 2].map((i) => servers.kill(i)));
  const started = Date.now();
  await hub.stop();
  const tookMs = Date.now() - started;
  assert.ok(tookMs < 40_000, `stopped in ${tookMs} ms`);
});

test.run();
