// Retention and rollups (docs/ADMIN.md "Retention and rollups", docs/API.md "Retention"), on a
// hub whose clock the test moves: readings are stamped in the past and the clock jumps days ahead.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatMean } from '../../hub/history/csv-rows.ts';
import { csvRecords, history, historyRequest } from '../support/api-client.ts';
import { connect } from '../support/tcp-sensor.ts';
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

test('late uploads into rolled-up buckets update them exactly once; readings past the horizon are refused and counted', async () => {
  const hub = await startClockedHub(T0, 2 * DAY, TIERS);
  const first = readings(T0 - 6 * HOUR, T0 - 3 * HOUR, 20_000, 2);
  await uploadReadings(hub.httpPort, first);
  await rolledUpTo(hub.httpPort, T0 - 2 * HOUR);
  const q = { every: '1m', from: T0 - 6 * HOUR, to: T0, time: 'ms' };
  assert.is(body(await history(hub.httpPort, q)), bucketsFromRaw(first, MINUTE));

  // An old outbox: new readings in the rolled buckets (10 s off the first ones), and a repeat of some old ones.
  const late = readings(T0 - 5 * HOUR + 10_000, T0 - 4 * HOUR, 20_000, 2, 2);
  const repeated = first.slice(100, 400);
  const answer = await uploadReadings(hub.httpPort, [...late, ...repeated]);
  assert.equal(answer, { accepted: late.length, duplicates: repeated.length }, 'the repeats are duplicates, as ever');
  const all = [...first, ...late];
  // Right after the answer, before the buckets are recomputed: raw readings answer for them.
  assert.is(body(await history(hub.httpPort, q)), bucketsFromRaw(all, MINUTE), 'at once');
  const done = await rolledUpTo(hub.httpPort, T0 - 2 * HOUR);
  assert.ok(done.late_buckets_recomputed > 0, 'the late buckets were recomputed');
  for (const every of ['1m', '1h', '10m'])
    assert.is(
      body(await history(hub.httpPort, { ...q, every })),
      bucketsFromRaw(all, every === '1m' ? MINUTE : every === '1h' ? HOUR : 10 * MINUTE),
      every,
    );

  // The same file again: all duplicates, and the buckets do not count them twice.
  assert.equal(await uploadReadings(hub.httpPort, [...late, ...repeated]), { accepted: 0, duplicates: late.length + repeated.length });
  await rolledUpTo(hub.httpPort, T0 - 2 * HOUR);
  hub.clock.now = T0 + 3 * DAY; // the raw readings go; the buckets stay as they were
  await rawDroppedTo(hub.httpPort, T0 + DAY);
  assert.is(body(await history(hub.httpPort, { ...q, every: '1h' })), bucketsFromRaw(all, HOUR), 'once, after the raw readings are gone');

  // Older than the horizon (now - 2 d): refused, counted, and the answer names the horizon.
  const old = readings(T0, T0 + HOUR, 60_000, 1, 3);
  const fresh = readings(T0 + 2 * DAY, T0 + 2 * DAY + HOUR, 60_000, 1, 3);
  const refused = await uploadReadings(hub.httpPort, [...old, ...fresh]);
  assert.equal(refused, { accepted: fresh.length, duplicates: 0, expired: old.length, retained_from: new Date(T0 + DAY).toISOString() });
  const h = await rolledUpTo(hub.httpPort, T0 + 2 * DAY);
  assert.is(h.readings_expired, old.length);
});

test('a sensor’s old outbox: readings in rolled buckets update them, readings past the horizon are acked and not stored', async () => {
  const hub = await startClockedHub(T0, DAY, TIERS);
  const s = await connect(hub.tcpPort);
  await s.hello('rack-0', 'lab');
  const onTime = readings(T0 - 5 * HOUR, T0 - 4 * HOUR, 60_000, 1);
  await s.send({ type: 'batch', seq: 1, readings: onTime.map((r) => ({ metric: r.metric, value: r.value, ts: r.ts, unit: 'C' })) });
  await s.ackCovering(1);
  await rolledUpTo(hub.httpPort, T0 - 2 * HOUR);

  const late = readings(T0 - 5 * HOUR + 30_000, T0 - 4 * HOUR, 60_000, 1, 5);
  const tooOld = { metric: 'temperature', value: 1, ts: T0 - 2 * DAY, unit: 'C' };
  await s.send({
    type: 'batch',
    seq: 2,
    readings: [tooOld, ...late.map((r) => ({ metric: r.metric, value: r.value, ts: r.ts, unit: 'C' }))],
  });
  await s.ackCovering(2);
  const q = { every: '10m', from: T0 - 6 * HOUR, to: T0, time: 'ms' };
  assert.is(body(await history(hub.httpPort, q)), bucketsFromRaw([...onTime, ...late], 10 * MINUTE), 'at once');
  const h = await rolledUpTo(hub.httpPort, T0 - 2 * HOUR);
  assert.is(h.readings_expired, 1, 'the reading older than the horizon is counted');
  assert.is(body(await history(hub.httpPort, q)), bucketsFromRaw([...onTime, ...late], 10 * MINUTE), 'after the recompute');
  const all = csvRecords(await history(hub.httpPort, { time: 'ms' }));
  assert.is(all.length, onTime.length + late.length, 'the expired reading is not stored');
  await s.close();
});

test.run();
