// Retention cycles on a steady load (docs/ADMIN.md "Retention and rollups"): once raw readings
// are dropped as fast as they come, the database file stops growing. The hub clock starts ten
// days back, so the compaction (which goes by the machine's clock) sorts the readings too.
import { statSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { storePath } from '../support/store-inspect.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';
import { testTimeout } from '../support/test-timeouts.ts';
import { DAY, HOUR, MINUTE, readings, settled, startClockedHub, uploadReadings } from './retention-support.ts';

testTimeout(300_000);
test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

const CYCLE_MS = 6 * HOUR;
const CYCLES = 16;

test('under a steady load the database file stays the same size across retention cycles once retention applies', async () => {
  const t0 = Math.floor(Date.now() / DAY) * DAY - 10 * DAY;
  const hub = await startClockedHub(t0, DAY, [
    { widthMs: MINUTE, keepMs: DAY },
    { widthMs: HOUR, keepMs: null },
  ]);
  const sizes: number[] = [];
  for (let cycle = 1; cycle <= CYCLES; cycle++) {
    const now = t0 + cycle * CYCLE_MS;
    // The last 6 hours of 40 sensors every 5 s: 172,800 readings a cycle.
    const rows = readings(now - CYCLE_MS, now, 5_000, 40, cycle);
    hub.clock.now = now;
    const answer = await uploadReadings(hub.httpPort, rows);
    assert.is(answer.accepted, rows.length);
    // Dropped to the horizon (now - 1 d, aligned to 1 h), every tier rolled, checkpointed.
    const horizon = Math.floor((now - DAY) / HOUR) * HOUR;
    await settled(hub.httpPort, cycle * CYCLE_MS > DAY ? horizon : null, Math.floor((now - 2 * MINUTE) / HOUR) * HOUR);
    sizes.push(statSync(storePath(hub.dataDir)).size);
  }
  const mb = sizes.map((s) => (s / 2 ** 20).toFixed(1));
  // A day of readings is 4 cycles: from the 6th on, as much is dropped as comes. The size moves
  // with the compaction's slices under way (they copy before they delete), but has no trend:
  // the last four cycles are on average no larger than the four after retention first applied.
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const early = mean(sizes.slice(5, 9));
  const late = mean(sizes.slice(-4));
  assert.ok(late < 1.15 * early, `no growth from cycle 6 to 16 (MB per cycle: ${mb.join(' ')})`);
  // Without retention the file would hold every reading: 16 cycles of 172,800.
  assert.ok(Math.max(...sizes.slice(5)) < 2 * sizes[4]!, `bounded (MB per cycle: ${mb.join(' ')})`);
  console.log(`[retention cycles] file MB per cycle: ${mb.join(' ')}`);
});

test.run();
