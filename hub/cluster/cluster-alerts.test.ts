// Alerts across two cluster hubs in process, on three real nats-servers and a real PostgreSQL:
// a rule put on hub A is loaded by hub B, and a reading that breaks it (sent to B) fires it
// once: both hubs list it as firing, the event log holds one firing event, not one per hub.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { json, waitFor } from '../../test/support/api-client.ts';
import { asUser } from '../../test/support/access-setup.ts';
import { startHub } from '../../test/support/hub-process.ts';
import { natsInstalled, startNatsCluster } from '../../test/support/nats-cluster.ts';
import { postgresInstalled, startPostgres } from '../../test/support/postgres-server.ts';
import { connect } from '../../test/support/tcp-sensor.ts';
import { exitWhenDone, perTest } from '../../test/support/teardown.ts';
import { testTimeout } from '../../test/support/test-timeouts.ts';

testTimeout(180_000);
test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

interface Answer {
  firing: { rule: string; sensor: string }[];
  events: { rule: string; sensor: string; state: string }[];
}

test('a rule put on hub A fires once for a reading sent to hub B, listed as firing on both', async () => {
  const nats = natsInstalled('cluster alerts');
  const pgHere = postgresInstalled('cluster alerts');
  if (!nats || !pgHere) return;
  const [servers, pg] = await Promise.all([startNatsCluster(), startPostgres()]);
  const cluster = { cluster: servers.urls.join(','), history: pg.url };
  const a = await startHub({ ...cluster, hubId: 'al-a' });
  const b = await startHub({ ...cluster, hubId: 'al-b' });
  await waitFor('both hubs see each other alive', async () => {
    const h = json<{ cluster?: { hubs_alive: string[] } }>(await asUser(a.httpPort).get('/api/v1/health'));
    const g = json<{ cluster?: { hubs_alive: string[] } }>(await asUser(b.httpPort).get('/api/v1/health'));
    return h.cluster?.hubs_alive.length === 2 && g.cluster?.hubs_alive.length === 2;
  });

  const put = await asUser(a.httpPort).put('/api/v1/alerts/rules/hot', { rule: 'temperature > 30', room: 'lab' });
  assert.is(put.status, 201, put.body.toString());
  await waitFor('hub B loaded the rule put on A', async () => (await asUser(b.httpPort).get('/api/v1/alerts/rules/hot')).status === 200);

  // Several sensors, so the event of at least one is hub A's to send and of another hub B's.
  const ids = Array.from({ length: 8 }, (_, i) => `al-${i}`);
  for (const id of ids) {
    const s = await connect(b.tcpPort);
    await s.hello(id, 'lab');
    await s.send({ type: 'reading', metric: 'temperature', value: 35, ts: Date.now(), seq: 1 });
    await s.ackCovering(1);
  }
  for (const hub of [a, b])
    await waitFor(`hub ${hub === a ? 'A' : 'B'} lists every sensor as firing`, async () => {
      const answer = json<Answer>(await asUser(hub.httpPort).get('/api/v1/alerts?rule=hot'));
      return ids.every((id) => answer.firing.some((f) => f.sensor === id));
    });
  const events = await waitFor('every firing event is in the shared store', async () => {
    const answer = json<Answer>(await asUser(a.httpPort).get('/api/v1/alerts?rule=hot&limit=100'));
    return ids.every((id) => answer.events.some((e) => e.sensor === id)) ? answer.events : undefined;
  });
  for (const id of ids)
    assert.is(events.filter((e) => e.sensor === id && e.state === 'firing').length, 1, `${id} fired once, not once per hub`);
  const fromB = json<Answer>(await asUser(b.httpPort).get('/api/v1/alerts?rule=hot&limit=100')).events;
  assert.is(fromB.length, events.length, 'both hubs read the same event log');
});

test.run();
