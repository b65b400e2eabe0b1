// A hub killed (SIGKILL) in the middle of a compaction slice (hub/store/compaction.ts): the
// slice's readings were deleted and inserted again in its transaction, not yet committed. The
// hub that starts on the same folder has every acked reading exactly once, finishes the
// compaction, and still has every acked reading exactly once. The slice is held open by the
// store's fault injection (compactionStallMs), so the kill lands inside it, not before or after.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { waitFor } from '../support/api-client.ts';
import { compactionCaughtUp, compactionHealth, sendColdReadings, type SentReading } from '../support/cold-readings.ts';
import { startHubProcess, tempDataDir, withTimeout } from '../support/hub-process.ts';
import { readStoredReadings } from '../support/store-inspect.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';
import { testTimeout } from '../support/test-timeouts.ts';

testTimeout(180_000);
test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

const key = (r: SentReading) => `${r.sensor}/${r.metric}/${r.ts}/${r.value}`;

async function assertExactly(dataDir: string, sent: SentReading[], when: string): Promise<void> {
  const stored = await readStoredReadings(dataDir);
  assert.is(stored.length, sent.length, `${when}: as many readings as were acked`);
  const have = new Set(stored.map(key));
  assert.is(have.size, sent.length, `${when}: no reading twice`);
  assert.equal(sent.filter((r) => !have.has(key(r))).slice(0, 3), [], `${when}: every acked reading, with its value`);
}

test('a hub killed inside a compaction slice loses nothing and doubles nothing; the next one finishes the job', async () => {
  const data = await tempDataDir();
  const stalled = await startHubProcess({
    dataDir: data.path,
    args: ['--log-level', 'fatal'],
    env: { ROOMWATCH_STORE_FAULTS: JSON.stringify({ seed: 1, commitFailureRate: 0, commitDelayMs: 0, compactionStallMs: 120_000 }) },
  });
  const sent = await sendColdReadings(stalled.tcpPort);
  await waitFor('a compaction slice held open', async () => (await compactionHealth(stalled.httpPort))?.slice_open === true, 60_000);
  stalled.kill('SIGKILL');
  const exit = await withTimeout(stalled.exited, 10_000, 'the killed hub to exit');
  assert.is(exit.signal, 'SIGKILL', 'killed, not stopped');
  await assertExactly(data.path, sent, 'after the kill');

  const next = await startHubProcess({ dataDir: data.path, args: ['--log-level', 'fatal'] });
  const started = Date.now();
  const status = await compactionCaughtUp(next.httpPort, started);
  assert.ok(status.slices >= 1, `the restarted hub rewrote the slice: ${JSON.stringify(status)}`);
  next.kill('SIGTERM');
  assert.is((await withTimeout(next.exited, 30_000, 'the hub to stop')).code, 0, 'stopped cleanly');
  await assertExactly(data.path, sent, 'after the compaction');
});

test.run();
