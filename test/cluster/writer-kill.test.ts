// Writers killed with -9 while the hubs go on: one right after it committed a batch to
// PostgreSQL and before it acked the bundles (held there by the writer's test-only fault
// ROOMWATCH_WRITER_FAULT=hold-after-commit), the other wherever it was. The hubs ack all along
// (the stream is the commit, not PostgreSQL); a new writer gets the unacked bundles again after
// the ack wait, and the (channel, ts) key counts the rows already stored as duplicates instead
// of storing them twice. Every acked reading is in PostgreSQL exactly once.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { waitFor } from '../support/api-client.ts';
import { tempDataDir } from '../support/hub-process.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';
import { testTimeout } from '../support/test-timeouts.ts';
import { clusterPeersInstalled } from './cluster-setup.ts';
import { finishAndCheck, progress, startFaultRun } from './fault-run.ts';

testTimeout(170_000);
test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

test('kill -9 of writers, one between its commit and its ack: every acked reading is in PostgreSQL exactly once', async () => {
  if (!clusterPeersInstalled('cluster: kill -9 of a writer')) return;
  const run = await startFaultRun('wk');
  const { c, fleet, writer } = run;
  const marker = join((await tempDataDir()).path, 'held');
  const doomed = await c.startWriter(['--name', 'doomed'], { ROOMWATCH_WRITER_FAULT: `hold-after-commit:${marker}` });
  await waitFor('the second writer committed a batch and holds its bundles unacked', () => existsSync(marker), 60_000, 20);
  doomed.kill('SIGKILL');
  writer.kill('SIGKILL');
  assert.equal([(await doomed.exited).signal, (await writer.exited).signal], ['SIGKILL', 'SIGKILL'], 'both killed');
  const [held] = await c.pg.query<{ inserted: string }>(`select inserted from writer_counts where writer = 'doomed'`);
  assert.ok(Number(held?.inserted) > 0, `the killed writer had committed rows: ${JSON.stringify(held)}`);
  await progress(fleet, 1_000, 'readings acked with no writer running');

  await c.startWriter(['--name', 'after']);
  // its bundles come again once the ack wait (30 s) of the killed writers' deliveries ends
  await finishAndCheck(run);
  const [after] = await c.pg.query<{ duplicates: string }>(`select duplicates from writer_counts where writer = 'after'`);
  assert.ok(
    Number(after?.duplicates) >= Number(held!.inserted),
    `the redelivered batch was counted as duplicates (${after?.duplicates}), at least the ${held!.inserted} rows the killed writer had committed`,
  );
});

test.run();
