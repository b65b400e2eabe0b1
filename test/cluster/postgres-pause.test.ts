// PostgreSQL paused (SIGSTOP of the server and every backend: a hung database) while a fleet
// streams to both hubs, then resumed: the hubs keep acking, since the JetStream ack is the
// commit; the writers fall behind while it hangs and catch up after. Every acked reading is in
// PostgreSQL exactly once.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { STREAM_NAME, WRITERS_CONSUMER } from '../../hub/cluster/cluster-names.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';
import { testTimeout } from '../support/test-timeouts.ts';
import { clusterPeersInstalled } from './cluster-setup.ts';
import { finishAndCheck, progress, startFaultRun } from './fault-run.ts';

testTimeout(170_000);
test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

test('PostgreSQL paused, then resumed: acks go on, and every acked reading is in PostgreSQL exactly once', async () => {
  if (!clusterPeersInstalled('cluster: PostgreSQL paused')) return;
  const run = await startFaultRun('pp');
  const { c, fleet } = run;
  const jsm = await c.jsm();
  await c.pg.pause();
  await progress(fleet, 2_000, 'readings acked while PostgreSQL hangs');
  const behind = await jsm.consumers.info(STREAM_NAME, WRITERS_CONSUMER);
  assert.ok(
    behind.num_pending + behind.num_ack_pending > 0,
    `the writers are behind while PostgreSQL hangs: ${behind.num_pending} pending`,
  );
  await c.pg.resume();
  await progress(fleet, 500, 'readings acked after the resume');
  await finishAndCheck(run);
});

test.run();
