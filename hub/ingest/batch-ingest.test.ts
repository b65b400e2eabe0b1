// The seam for readings from other inputs (MQTT, InfluxDB line protocol, Prometheus): stored
// only after commit, duplicates found as for sensors, names checked by the contract's rules
// (PROTOCOL.md §1 "Names and values"), rights and rooms enforced, the source in the registry.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { tempDataDir } from '../../test/support/hub-process.ts';
import { readStoredReadings } from '../../test/support/store-inspect.ts';
import { perTest } from '../../test/support/teardown.ts';
import { HubError } from '../hub-error.ts';
import { LatestView } from '../sensors/latest-view.ts';
import { SensorRegistry } from '../sensors/sensor-registry.ts';
import { ReadingStore } from '../store/reading-store.ts';
import type { StoreFaults } from '../store/store-faults.ts';
import { NO_FILTERS } from '../../protocol/filters.ts';
import { ANYONE, BatchIngest, type Rights } from './batch-ingest.ts';
import { GroupCommit } from './group-commit.ts';
import { SeriesCatalog } from './series-catalog.ts';

test.after.each(() => perTest.run());

const T0 = Date.UTC(2026, 0, 5, 8, 0, 0);

/** The core a hub builds (store, catalog, registry, group commit) around a BatchIngest, on a temp data dir. */
async function core(o: { faults?: StoreFaults; unavailableAfterMs?: number; maxBufferedRows?: number } = {}) {
  const dataDir = (await tempDataDir()).path;
  const store = new ReadingStore({
    dataDir,
    memoryLimit: '256MB',
    threads: 1,
    tempDir: join(dataDir, 'tmp'),
    now: Date.now,
    faults: o.faults ?? null,
  });
  const catalog = new SeriesCatalog();
  const registry = new SensorRegistry();
  const state = await store.open();
  catalog.load(state);
  registry.load(state);
  const commits = new GroupCommit(store, catalog, registry, {
    flushIntervalMs: 10,
    maxRowsPerFlush: 100_000,
    maxBufferedRows: o.maxBufferedRows ?? 400_000,
    storeUnavailableAfterMs: o.unavailableAfterMs ?? 5_000,
    giveUpAfterMs: 1_000,
    now: Date.now,
  });
  const ingest = new BatchIngest({ catalog, registry, commits, now: Date.now });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await commits.drain().catch(() => undefined);
    commits.stop();
    await store.close();
  };
  perTest.add('batch-ingest core', stop);
  return { dataDir, store, catalog, registry, commits, ingest, latest: new LatestView(catalog), stop };
}

test('readings are committed before submit resolves, and show in latest with their room and unit', async () => {
  const c = await core();
  let committedBefore = -1;
  const pending = c.ingest.submit(
    [
      { sensor: 'rack1', room: 'server-room', metric: 'temperature', value: 24.5, ts: T0 },
      { sensor: 'rack1', room: 'server-room', metric: 'fan_rpm', value: 1200, unit: 'rpm', ts: T0 },
    ],
    ANYONE,
    'influx',
  );
  // Nothing is committed yet at the moment submit returns its promise.
  committedBefore = c.commits.stats.rowsStored;
  const outcome = await pending;
  assert.is(committedBefore, 0);
  assert.equal(outcome, { stored: 2, refused: [] });
  assert.is(c.commits.stats.rowsStored, 2, 'resolved only once the commit holding the rows returned');
  assert.equal(c.latest.readings(NO_FILTERS), [
    { sensor: 'rack1', room: 'server-room', metric: 'fan_rpm', value: 1200, unit: 'rpm', ts: T0 },
    { sensor: 'rack1', room: 'server-room', metric: 'temperature', value: 24.5, unit: 'C', ts: T0 },
  ]);
  await c.stop();
  assert.equal(
    (await readStoredReadings(c.dataDir)).map((r) => `${r.sensor}/${r.room}/${r.metric}/${r.unit}/${r.ts}/${r.value}`),
    [`rack1/server-room/fan_rpm/rpm/${T0}/1200`, `rack1/server-room/temperature/C/${T0}/24.5`],
  );
});

test('a repeated (sensor, metric, ts) is stored once and counted as a duplicate, within a submit and across submits', async () => {
  const c = await core();
  const r = { sensor: 'dup-1', metric: 'humidity', value: 40, ts: T0 };
  await c.ingest.submit([r, { ...r, value: 41 }], ANYONE, 'prometheus');
  await c.ingest.submit([{ ...r, value: 42 }], ANYONE, 'prometheus');
  assert.is(c.commits.stats.rowsStored, 1);
  assert.is(c.commits.stats.duplicates, 2);
  await c.stop();
  const stored = await readStoredReadings(c.dataDir);
  assert.equal(
    stored.map((s) => s.value),
    [40],
    'the first reading of an identity stays',
  );
});

test('overlapping writers: a series’ earlier stretch after its later one is stored without a check; repeats are still found', async () => {
  const c = await core();
  const stretch = (from: number, n: number, value: number) =>
    Array.from({ length: n }, (_, i) => ({ sensor: 'ooo-1', metric: 'temperature', value, ts: T0 + (from + i) * 1000 }));
  // Two HTTP writes of one series, answered in the other order: the later stretch commits first.
  await c.ingest.submit(stretch(100, 50, 2), ANYONE, 'influx');
  await c.ingest.submit(stretch(0, 100, 1), ANYONE, 'influx');
  assert.is(c.commits.stats.rowsStored, 150);
  assert.is(c.commits.stats.rowsChecked, 0, 'nothing was accepted below the first stretch of a new series');
  // Both again, and one new reading among them: the repeats go to the store's check, and only the new one is stored.
  await c.ingest.submit([...stretch(0, 150, 3), { sensor: 'ooo-1', metric: 'temperature', value: 4, ts: T0 + 500 }], ANYONE, 'influx');
  assert.is(c.commits.stats.rowsStored, 151);
  assert.is(c.commits.stats.duplicates, 150);
  await c.stop();
  const stored = await readStoredReadings(c.dataDir);
  assert.is(stored.length, 151);
  assert.is(new Set(stored.map((s) => s.ts)).size, 151, 'each identity once');
  assert.equal(
    stored.filter((s) => s.value === 3),
    [],
    'a repeat never replaces the stored reading',
  );
});

test('a failing store: the promise rejects with 503 and Retry-After, and nothing is claimed stored', async () => {
  const c = await core({ faults: { seed: 1, commitFailureRate: 1, commitDelayMs: 0 }, unavailableAfterMs: 200 });
  const err = await c.ingest.submit([{ sensor: 'f1', metric: 'temperature', value: 20, ts: T0 }], ANYONE, 'influx').then(
    () => null,
    (e: unknown) => e,
  );
  assert.instance(err, HubError);
  assert.is((err as HubError).code, 'store_unavailable');
  assert.ok((err as HubError).extra.retryAfterS! > 0);
  assert.is(c.commits.stats.rowsStored, 0);
  // While the store is known unavailable, a submit is refused at once, whole, and counted.
  const again = await c.ingest.submit([{ sensor: 'f1', metric: 'temperature', value: 21, ts: T0 + 1 }], ANYONE, 'influx').then(
    () => null,
    (e: unknown) => e,
  );
  assert.is((again as HubError).code, 'store_unavailable');
  assert.ok([...c.ingest.counters.refusals()].some((r) => r.source === 'influx' && r.reason === 'store_unavailable'));
});

test('a row the store cannot take rejects with 500 (internal), and another submit in the same commit is stored', async () => {
  const c = await core({ faults: { seed: 1, commitFailureRate: 0, commitDelayMs: 0, poisonMetric: 'poison' } });
  const bad = c.ingest.submit([{ sensor: 'p1', metric: 'poison', value: 1, ts: T0 }], ANYONE, 'mqtt');
  const good = c.ingest.submit([{ sensor: 'p2', metric: 'temperature', value: 2, ts: T0 }], ANYONE, 'mqtt');
  const err = await bad.then(
    () => null,
    (e: unknown) => e,
  );
  assert.is((err as HubError).code, 'internal');
  assert.equal(await good, { stored: 1, refused: [] });
});

test('a full buffer refuses a submit whole with 503 and Retry-After; nothing of it is queued', async () => {
  const c = await core({ faults: { seed: 1, commitFailureRate: 0, commitDelayMs: 300 }, maxBufferedRows: 10 });
  const first = c.ingest.submit(
    Array.from({ length: 10 }, (_, i) => ({ sensor: 'b1', metric: 'temperature', value: i, ts: T0 + i })),
    ANYONE,
    'influx',
  );
  assert.ok(c.commits.isSaturated);
  const err = await c.ingest.submit([{ sensor: 'b2', metric: 'temperature', value: 1, ts: T0 }], ANYONE, 'influx').then(
    () => null,
    (e: unknown) => e,
  );
  assert.is((err as HubError).code, 'store_unavailable');
  assert.match((err as HubError).message, 'waiting for the store');
  assert.ok((err as HubError).extra.retryAfterS! > 0);
  assert.is((await first).stored, 10);
  assert.not.ok(c.registry.records.has('b2'), 'a refused submit registers no sensor');
});

test('bad names and values are refused one by one with index and reason (422); the rest is stored', async () => {
  const c = await core();
  const now = Date.now();
  const outcome = await c.ingest.submit(
    [
      { sensor: 'ok-1', metric: 'temperature', value: 1, ts: T0 },
      { sensor: 'bad sensor', metric: 'temperature', value: 1, ts: T0 },
      { sensor: 'ok-1', metric: 'Bad-Metric', value: 1, ts: T0 },
      { sensor: 'ok-1', metric: 'humidity', value: NaN, ts: T0 },
      { sensor: 'ok-1', metric: 'humidity', value: 1, ts: 12 },
      { sensor: 'ok-1', metric: 'humidity', value: 1, ts: now + 2 * 86_400_000 },
      { sensor: 'ok-1', room: 'no room!', metric: 'humidity', value: 1 },
      { sensor: 'ok-1', metric: 'humidity', value: 1, unit: '=cmd()' },
      { sensor: 'ok-1', metric: 'humidity', value: 2, ts: T0 },
    ],
    ANYONE,
    'influx',
  );
  assert.is(outcome.stored, 2);
  assert.equal(
    outcome.refused.map((r) => [r.index, r.code]),
    [
      [1, 422],
      [2, 422],
      [3, 422],
      [4, 422],
      [5, 422],
      [6, 422],
      [7, 422],
    ],
  );
  assert.match(outcome.refused[0]!.reason, 'sensor id "bad sensor"');
  assert.match(outcome.refused[2]!.reason, 'finite number');
  assert.match(outcome.refused[3]!.reason, 'before the year 2000');
  assert.not.ok(c.registry.records.has('bad sensor'));
});

test('a sensor named constructor or __proto__, and such metrics and rooms, are data like any other', async () => {
  const c = await core();
  const outcome = await c.ingest.submit(
    [
      { sensor: 'constructor', room: 'constructor', metric: 'constructor', value: 1, ts: T0 },
      { sensor: '__proto__', metric: '__proto__', value: 2, ts: T0 },
      { sensor: 'toString', metric: 'hasownproperty', value: 3, ts: T0 },
    ],
    ANYONE,
    'mqtt',
  );
  // `__proto__` breaks the sensor id rule (a first character of _ is not allowed); `constructor` is fine.
  assert.is(outcome.stored, 2);
  assert.equal(
    outcome.refused.map((r) => r.index),
    [1],
  );
  assert.is(c.registry.records.get('constructor')?.room, 'constructor');
  assert.equal(c.registry.view(c.registry.records.get('constructor')!).metrics, ['constructor']);
  assert.is(c.registry.view(c.registry.records.get('toString')!).source, 'mqtt');
  assert.is(({} as Record<string, unknown>).constructor, Object, 'Object.prototype is untouched');
  assert.equal(
    c.latest.readings(NO_FILTERS).map((r) => `${r.sensor}/${r.metric}/${r.unit}`),
    ['constructor/constructor/', 'toString/hasownproperty/'],
  );
});

test('rights: a refused sensor or room is listed with 403 and not registered; the allowed ones are stored', async () => {
  const c = await core();
  await c.ingest.submit([{ sensor: 'lab-1', room: 'lab', metric: 'temperature', value: 1, ts: T0 }], ANYONE, 'influx');
  const asked: string[] = [];
  const labOnly: Rights = {
    who: 'test',
    refusal(sensor, room, knownRoom) {
      asked.push(`${sensor}/${room}/${knownRoom ?? '-'}`);
      if (room !== 'lab' || (knownRoom !== undefined && knownRoom !== 'lab')) return `only room lab, not ${room}`;
      return null;
    },
  };
  const outcome = await c.ingest.submit(
    [
      { sensor: 'lab-1', metric: 'temperature', value: 2, ts: T0 + 1 }, // known in lab: allowed
      { sensor: 'lab-2', room: 'office', metric: 'temperature', value: 3, ts: T0 },
      { sensor: 'lab-2', room: 'office', metric: 'humidity', value: 3, ts: T0 },
      { sensor: 'lab-3', metric: 'temperature', value: 4, ts: T0 }, // new, no room: default, refused
    ],
    labOnly,
    'influx',
  );
  assert.is(outcome.stored, 1);
  assert.equal(
    outcome.refused.map((r) => [r.index, r.code]),
    [
      [1, 403],
      [2, 403],
      [3, 403],
    ],
  );
  assert.equal(asked, ['lab-1/lab/lab', 'lab-2/office/-', 'lab-3/default/-'], 'one check per distinct (sensor, room)');
  assert.not.ok(c.registry.records.has('lab-2'));
  const refused = [...c.ingest.counters.refusals()].find((r) => r.source === 'influx' && r.reason === 'forbidden');
  assert.is(refused?.n, 3);
  assert.is(c.ingest.counters.taken.get('influx'), 2);
});

test('the registry shows the source and the room: given, else the known room, else default; a given room moves the sensor', async () => {
  const c = await core();
  await c.ingest.submit(
    [
      { sensor: 'src-a', metric: 'temperature', value: 1, ts: T0 },
      { sensor: 'src-b', room: 'attic', metric: 'temperature', value: 1, ts: T0 },
    ],
    ANYONE,
    'prometheus',
  );
  assert.is(c.registry.records.get('src-a')?.room, 'default');
  await c.ingest.submit([{ sensor: 'src-b', metric: 'humidity', value: 1, ts: T0 }], ANYONE, 'influx');
  const b = c.registry.view(c.registry.records.get('src-b')!);
  assert.is(b.room, 'attic', 'no room given: the known room');
  assert.is(b.source, 'influx', 'how its readings arrived last');
  assert.equal(b.metrics, ['humidity', 'temperature']);
  await c.ingest.submit([{ sensor: 'src-b', room: 'cellar', metric: 'humidity', value: 2, ts: T0 + 1 }], ANYONE, 'influx');
  assert.is(c.registry.records.get('src-b')?.room, 'cellar');
  const rooms = c.latest.readings(NO_FILTERS).map((r) => `${r.sensor}/${r.metric}/${r.room}`);
  assert.equal(rooms, ['src-a/temperature/default', 'src-b/humidity/cellar', 'src-b/temperature/attic']);
});

test('a sensor none of whose readings is valid is not registered; its series cache follows a move to another room', async () => {
  const c = await core();
  const out = await c.ingest.submit([{ sensor: 'ghost', metric: 'temperature', value: NaN, ts: T0 }], ANYONE, 'influx');
  assert.is(out.stored, 0);
  assert.is(out.refused[0]!.code, 422);
  assert.not.ok(c.registry.records.has('ghost'), 'no valid reading, no sensor');

  // Readings without a room go to the sensor's room as it is now: after the sensor port moves it, the new room's series.
  await c.ingest.submit([{ sensor: 'm1', room: 'lab', metric: 'temperature', value: 20, ts: T0 }], ANYONE, 'mqtt');
  await c.ingest.submit([{ sensor: 'm1', metric: 'temperature', value: 21, ts: T0 + 1 }], ANYONE, 'mqtt');
  c.registry.connect('m1', 'attic', '127.0.0.1:9', new Map(), T0 + 2);
  await c.ingest.submit([{ sensor: 'm1', metric: 'temperature', value: 22, ts: T0 + 3 }], ANYONE, 'mqtt');
  const rooms = c.catalog.series.filter((d) => d?.sensor === 'm1').map((d) => d!.room);
  assert.equal(rooms, ['lab', 'attic']);
  assert.equal(
    c.latest.readings(NO_FILTERS).map((r) => `${r.sensor}/${r.room}/${r.value}`),
    ['m1/attic/22'],
  );
});

test('a reading without ts is stamped with the hub time', async () => {
  const c = await core();
  const before = Date.now();
  await c.ingest.submit([{ sensor: 'now-1', metric: 'temperature', value: 1 }], ANYONE, 'mqtt');
  const [r] = c.latest.readings(NO_FILTERS);
  assert.ok(r!.ts >= before && r!.ts <= Date.now());
});

test.run();
