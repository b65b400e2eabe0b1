// Retention and rollups (docs/ADMIN.md "Retention and rollups", docs/API.md "Retention"), on a
// hub whose clock the test moves: readings are stamped in the past and the clock jumps days ahead.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatMean } from '../../hub/history/csv-rows.ts';
import { csvRecords, history, historyRequest } from '../support/api-client.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';
import { testTimeout } from '../support/test-timeouts.ts';
import {
  DAY,
  HOUR,
  MINUTE,
  rawDroppedTo,
  readings,
  rolledUpTo,
  startClockedHub,
  uploadReadings,
  type Reading,
} from './retention-support.ts';

testTimeout(180_000);
test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

const TIERS = [
  { widthMs: MINUTE, keepMs: 3 * DAY },
  { widthMs: HOUR, keepMs: null },
];
const T0 = Math.floor(Date.now() / DAY) * DAY;

/** The buckets of `every` computed here from raw readings, as the export writes them (ms times). */
function bucketsFromRaw(rows: Reading[], everyMs: number): string {
  const by = new Map<string, { ts: number; sensor: string; n: number; sum: number; c: number; lo: number; hi: number }>();
  for (const r of rows) {
    const ts = Math.floor(r.ts / everyMs) * everyMs;
    const k = `${ts}/${r.sensor}`;
    const b = by.get(k) ?? { ts, sensor: r.sensor, n: 0, sum: 0, c: 0, lo: Infinity, hi: -Infinity };
    // Neumaier's sum: the order-free total the hub's fsum gives
    const t = b.sum + r.value;
    b.c += Math.abs(b.sum) >= Math.abs(r.value) ? b.sum - t + r.value : r.value - t + b.sum;
    b.sum = t;
    b.n++;
    b.lo = Math.min(b.lo, r.value);
    b.hi = Math.max(b.hi, r.value);
    by.set(k, b);
  }
  const out = [...by.values()].sort((a, b) => a.ts - b.ts || (a.sensor < b.sensor ? -1 : 1));
  return out
    .map((b) => `${b.ts},${b.sensor},lab,temperature,C,${b.n},${b.lo},${b.hi},${formatMean((b.sum + b.c) / b.n, b.lo, b.hi)}`)
    .join('\n');
}

const body = (csv: string) => csv.trimEnd().split('\n').slice(1).join('\n');

test('rollups equal the buckets computed from raw readings; every answers the same bytes before and after the raw readings are dropped; a raw export of the dropped range says so', async () => {
  const hub = await startClockedHub(T0, DAY, TIERS);
  const sent = readings(T0 - 10 * HOUR, T0 - 4 * HOUR, 10_000, 3);
  assert.equal(await uploadReadings(hub.httpPort, sent), { accepted: sent.length, duplicates: 0 });
  await rolledUpTo(hub.httpPort, T0 - HOUR);

  const from = T0 - 12 * HOUR;
  const to = T0;
  const everies = ['1h', '10m', '2h', '1m'];
  const before = new Map<string, string>();
  for (const every of everies) before.set(every, await history(hub.httpPort, { every, from, to, time: 'ms' }));
  assert.is(body(before.get('1h')!), bucketsFromRaw(sent, HOUR), 'hourly buckets from the 1h tier = from raw');
  assert.is(body(before.get('10m')!), bucketsFromRaw(sent, 10 * MINUTE), '10 min buckets from the 1m tier = from raw');
  assert.is(body(before.get('2h')!), bucketsFromRaw(sent, 2 * HOUR));
  // An unaligned from: the edge bucket is raw while raw is kept (and the tier's own after).
  const unaligned = await history(hub.httpPort, { every: '1h', from: T0 - 7 * HOUR - 30 * MINUTE, to, time: 'ms' });
  assert.is(
    body(unaligned),
    bucketsFromRaw(
      sent.filter((r) => r.ts >= T0 - 7 * HOUR - 30 * MINUTE),
      HOUR,
    ),
  );
  const raw = await historyRequest(hub.httpPort, { from, to, time: 'ms' });
  assert.is(raw.headers['x-roomwatch-raw-retained-from'], undefined, 'nothing dropped yet: no header');
  assert.is(csvRecords(raw.text).length, sent.length);

  // A day and a half later the raw readings are past the 1 d retention, and dropped.
  hub.clock.now = T0 + DAY + 12 * HOUR;
  // Dropped up to the horizon: now - 1 d, aligned to the coarsest tier.
  const dropped = await rawDroppedTo(hub.httpPort, T0 + 12 * HOUR);
  assert.is(dropped.readings_dropped, sent.length, 'every raw reading was dropped');
  for (const every of everies) {
    const after = await history(hub.httpPort, { every, from, to, time: 'ms' });
    assert.is(after, before.get(every), `every=${every}: the same bytes after the drop`);
  }
  const gone = await historyRequest(hub.httpPort, { from, to, time: 'ms' });
  assert.is(gone.status, 200);
  assert.is(csvRecords(gone.text).length, 0);
  assert.is(
    gone.headers['x-roomwatch-raw-retained-from'],
    new Date(Date.parse(dropped.raw_kept_from!)).toISOString(),
    'the header says from when raw readings are kept',
  );
});

test.run();
