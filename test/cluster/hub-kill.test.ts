// A hub killed with -9 while a fleet streams to both hubs: its sensors move to the other hub
// and resend what was not acked; every acked reading ends in PostgreSQL exactly once, and the
// rows equal the distinct readings sent (what the dead hub published and a sensor sent again
// is one row: the (channel, ts) key).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { waitFor } from '../support/api-client.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';
import { testTimeout } from '../support/test-timeouts.ts';
import { clusterPeersInstalled } from './cluster-setup.ts';
import { FLEET_SENSORS, finishAndCheck, progress, startFaultRun } from './fault-run.ts';

testTimeout(170_000);
test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

test('kill -9 of a hub: its sensors move to the other hub, and every acked reading is in PostgreSQL exactly once', async () => {
  if (!clusterPeersInstalled('cluster: kill -9 of a hub')) return;
  const run = await startFaultRun('hk');
  const { a, b, fleet } = run;
  const onA = fleet.connectedPorts().filter((p) => p === a.tcpPort).length;
  assert.ok(onA > 0 && onA < FLEET_SENSORS, `the fleet is spread over both hubs (${onA} of ${FLEET_SENSORS} on a)`);

  a.kill('SIGKILL');
  assert.is((await a.exited).signal, 'SIGKILL', 'killed');
  await progress(fleet, 1_000, 'readings acked after the kill');
  await waitFor('every sensor on hub b', () => fleet.connectedPorts().filter((p) => p === b.tcpPort).length === FLEET_SENSORS, 30_000);
  const moved = fleet.moves.filter((m) => m.fromPort === a.tcpPort);
  assert.is(moved.length, onA, 'every sensor of the dead hub moved');
  assert.ok(
    moved.every((m) => m.toPort === b.tcpPort && m.reackedAt !== undefined),
    `each was acked by hub b: ${JSON.stringify(moved.filter((m) => m.reackedAt === undefined).slice(0, 3))}`,
  );

  await finishAndCheck(run);
});

test.run();
