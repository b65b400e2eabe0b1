// The JetStream leader of the readings stream killed with -9 while a fleet streams to both
// hubs, then started again: the hubs go on acking once another server leads (a commit whose
// publish failed is retried under its message id, or refused so the sensor resends), and every
// acked reading ends in PostgreSQL exactly once.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { STREAM_NAME } from '../../hub/cluster/cluster-names.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';
import { testTimeout } from '../support/test-timeouts.ts';
import { clusterPeersInstalled } from './cluster-setup.ts';
import { finishAndCheck, progress, startFaultRun } from './fault-run.ts';

testTimeout(170_000);
test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

test('kill -9 of the stream leader, then its restart: every acked reading is in PostgreSQL exactly once', async () => {
  if (!clusterPeersInstalled('cluster: kill -9 of the JetStream leader')) return;
  const run = await startFaultRun('lk');
  const { c, fleet } = run;
  const leader = await c.nats.streamLeader(STREAM_NAME);
  await c.nats.kill(leader);
  const next = await c.nats.streamLeader(STREAM_NAME);
  assert.is.not(next, leader, 'another server leads the stream');
  await progress(fleet, 1_000, 'readings acked under the new leader');

  await c.nats.restart(leader);
  await progress(fleet, 1_000, 'readings acked with the old leader back');
  const info = await (await c.jsm()).streams.info(STREAM_NAME);
  assert.is(info.config.num_replicas, 3, 'three replicas');
  assert.is(info.cluster?.replicas?.filter((r) => r.current).length, 2, 'both followers current again');

  await finishAndCheck(run);
});

test.run();
