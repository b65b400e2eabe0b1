// The peers' harnesses themselves (test/support/nats-cluster.ts, postgres-server.ts), which
// every cluster test stands on: three nats-servers keep a 3-replica stream through a kill -9 of
// its leader and the restart of it; PostgreSQL starts, stops answering while paused, answers
// again after resume, and stops.
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import pg from 'pg';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { natsInstalled, startNatsCluster } from '../support/nats-cluster.ts';
import { postgresInstalled, startPostgres } from '../support/postgres-server.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';
import { testTimeout } from '../support/test-timeouts.ts';

testTimeout(120_000);
test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

test('three nats-servers keep every acked message of a 3-replica stream through a kill -9 of its leader', async () => {
  if (!natsInstalled('nats harness')) return;
  const nats = await startNatsCluster();
  const nc = await connect({ servers: nats.urls, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  perTest.add('nats client', () => nc.close());
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'HARNESS', subjects: ['harness.>'], num_replicas: 3 });
  const js = jsm.jetstream();
  const publish = async (from: number, to: number) => {
    for (let i = from; i < to; i++) await js.publish(`harness.${i % 4}`, String(i), { msgID: `m${i}`, timeout: 10_000 });
  };
  await publish(0, 200);
  const leader = await nats.streamLeader('HARNESS');
  assert.ok(nats.nodes[leader]!.running(), 'the leader is a running server');

  await nats.kill(leader);
  assert.not.ok(nats.nodes[leader]!.running(), 'killed');
  const next = await nats.streamLeader('HARNESS');
  assert.is.not(next, leader, 'another server leads once the old leader is dead');
  // JetStream acks only what the new leader stored, so retrying a publish here is safe (msgID).
  await publish(200, 400);
  await nats.restart(leader);
  assert.ok(nats.nodes[leader]!.running(), 'running again');
  await publish(400, 500);

  const info = await jsm.streams.info('HARNESS');
  assert.is(info.state.messages, 500, 'every acked message once');
  assert.is(info.state.last_seq, 500, 'no message stored twice');
  await nc.close();
  await nats.stop();
  assert.ok(
    nats.nodes.every((n) => !n.running()),
    'all stopped',
  );
});

test('PostgreSQL starts on a free port, does not answer while paused, answers after resume, stops', async () => {
  if (!postgresInstalled('postgres harness')) return;
  const server = await startPostgres();
  await server.query('create table t (k int primary key)');
  await server.query('insert into t select generate_series(1, 10)');
  assert.equal(await server.query('select count(*)::int as n from t'), [{ n: 10 }]);

  const client = new pg.Client({ connectionString: server.url, query_timeout: 1_000 });
  client.on('error', () => {}); // the fast stop below ends its session: expected
  await client.connect();
  perTest.add('pg client', () => client.end());
  await server.pause();
  const whilePaused = await client.query('select 1').then(
    () => 'answered',
    (err: Error) => err.message,
  );
  assert.match(whilePaused, /timeout/i, 'a paused server does not answer');
  await server.resume();
  const fresh = await server.query<{ n: number }>('select count(*)::int as n from t');
  assert.is(fresh[0]!.n, 10, 'answers again after resume');
  await server.stop();
  assert.not.ok(
    await server.query('select 1').then(
      () => true,
      () => false,
    ),
    'stopped',
  );
});

test.run();
