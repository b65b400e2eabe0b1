// A writer killed with -9 while it holds bundles it has not acked (mid-batch), and another
// started: the hubs ack all along (the stream is the commit, not PostgreSQL); the bundles the
// dead writer held are delivered again after the ack wait, and the (channel, ts) key makes
// what it had already inserted one row still. Every acked reading is in PostgreSQL exactly once.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { STREAM_NAME, WRITERS_CONSUMER } from '../../hub/cluster/cluster-names.ts';
import { waitFor } from '../support/api-client.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';
import { testTimeout } from '../support/test-timeouts.ts';
import { clusterPeersInstalled } from './cluster-setup.ts';
import { finishAndCheck, progress, startFaultRun } from './fault-run.ts';

testTimeout(170_000);
test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

test('kill -9 of a writer mid-batch, another started: every acked reading is in PostgreSQL exactly once', async () => {
  if (!clusterPeersInstalled('cluster: kill -9 of a writer')) return;
  const run = await startFaultRun('wk');
  const { c, fleet, writer } = run;
  const jsm = await c.jsm();
  const held = await waitFor(
    'the writer holding bundles it has not acked',
    async () => {
      const info = await jsm.consumers.info(STREAM_NAME, WRITERS_CONSUMER);
      return info.num_ack_pending > 0 ? info : undefined;
    },
    30_000,
    5,
  );
  writer.kill('SIGKILL');
  assert.is((await writer.exited).signal, 'SIGKILL', 'killed');
  await progress(fleet, 1_000, 'readings acked with no writer running');

  await c.startWriter();
  await progress(fleet, 500, 'readings acked with the new writer');
  await finishAndCheck(run);
  const after = await jsm.consumers.info(STREAM_NAME, WRITERS_CONSUMER);
  assert.ok(after.delivered.stream_seq >= held.delivered.stream_seq, 'the consumer went on from where it was');
});

test.run();
