/**
 * Retention and connection history in cluster mode, against a real PostgreSQL: whole day
 * partitions past the horizon are detached and dropped (never DELETEd) by the one hub holding
 * the duty; the counts stay exact; no dropped day comes back through a writer or an upload;
 * commits and uploads leave out readings past the horizon as the single hub does; each hub
 * records its sensor connections.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CommitRequest, CommitResult, Columns, LoadedState, SeriesDef } from '../store/store-messages.ts';
import { DEFAULT_TIERS, type RetentionConfig } from '../store/rollup-tiers.ts';
import type { HistoryQuery } from '../history/history-query.ts';
import { SeriesCatalog } from '../ingest/series-catalog.ts';
import { SensorRegistry } from '../sensors/sensor-registry.ts';
import { ingestUpload } from '../upload/bulk-upload.ts';
import { retainedHeaders } from '../history/retained-header.ts';
import type { ReadingBundle } from '../cluster/bundle.ts';
import { writeBatch } from '../writer/write-batch.ts';
import { ClusterStore, type StreamPosition } from './cluster-store.ts';
import { PgHistory } from './pg-history.ts';
import { DAY_MS, Partitions, partitionName } from './partitions.ts';
import { SeriesResolver } from './pg-series.ts';
import { tempDataDir } from '../../test/support/hub-process.ts';
import { postgresInstalled, startPostgres, type PostgresServer } from '../../test/support/postgres-server.ts';
import { exitWhenDone, perTest } from '../../test/support/teardown.ts';

test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

const installed = postgresInstalled('cluster retention (hub/pg/pg-retention.test.ts)');
const CAUGHT_UP: StreamPosition = { streamLastSeq: () => Promise.resolve(1), writersAckFloor: () => Promise.resolve(1) };
const TWO_DAYS: RetentionConfig = { retentionMs: 2 * DAY_MS, tiers: [] };
/** noon today, UTC: the days below are whole days back */
const NOW = Math.floor(Date.now() / DAY_MS) * DAY_MS + DAY_MS / 2;
const TODAY = Math.floor(NOW / DAY_MS);
const DEF: SeriesDef = { id: 1, channel: 1, sensor: 'r-1', room: 'lab', metric: 'temperature', unit: '°C' };

function columns(ts: number[], series = 1, value = (i: number) => i + 0.5): Columns {
  return {
    n: ts.length,
    series: Int32Array.from(ts.map(() => series)),
    ts: Float64Array.from(ts),
    value: Float64Array.from(ts.map((_, i) => value(i))),
  };
}

/** Readings every 6 h on each of `days` (days since the epoch). */
function daysOfReadings(days: number[]): number[] {
  return days.flatMap((d) => [0, 1, 2, 3].map((k) => d * DAY_MS + k * 6 * 3_600_000));
}

interface Hub {
  store: ClusterStore;
  state: LoadedState;
  catalog: SeriesCatalog;
  published: CommitRequest[];
}

async function hub(pg: PostgresServer, hubId: string, retention?: RetentionConfig): Promise<Hub> {
  const history = await PgHistory.connect(pg.url);
  const catalog = new SeriesCatalog();
  const published: CommitRequest[] = [];
  const store = new ClusterStore({
    history,
    publish: (req): Promise<CommitResult> => {
      published.push(req);
      return Promise.resolve({
        gen: req.gen,
        inserted: req.maybeDuplicate.n,
        duplicates: 0,
        storedMask: new Uint8Array(req.maybeDuplicate.n).fill(1),
        freshStoredMask: null,
        freshInserted: req.fresh.n,
        flushMs: 0,
        fresh: req.fresh,
        maybeDuplicate: req.maybeDuplicate,
      });
    },
    position: CAUGHT_UP,
    hubId,
    now: () => NOW,
    catalog,
    tempDir: (await tempDataDir()).path,
    threads: 1,
    retention,
    // rounds are run by the test
    retentionRoundMs: 3_600_000,
  });
  perTest.add(`cluster store ${hubId}`, () => store.close());
  const state = await store.open();
  catalog.load(state);
  await store.keeper.round();
  return { store, state, catalog, published };
}

/** Stores readings as a writer batch does; returns its counts. */
async function write(pg: PostgresServer, ts: number[], def: Omit<SeriesDef, 'id' | 'channel'> = DEF, value?: (i: number) => number) {
  const history = await PgHistory.connect(pg.url);
  const c = await history.pool.connect();
  const rows = columns(ts, 0, value);
  const bundle: ReadingBundle = {
    hub: 'h',
    gen: 1,
    partition: 0,
    series: [{ sensor: def.sensor, room: def.room, metric: def.metric, unit: def.unit }],
    n: rows.n,
    seriesIndex: rows.series,
    ts: rows.ts,
    value: rows.value,
    sensors: [],
  };
  try {
    return await writeBatch(c, { series: new SeriesResolver(), partitions: new Partitions(), writer: 'test' }, [bundle]);
  } finally {
    c.release();
    await history.close();
  }
}

async function dayPartitions(pg: PostgresServer): Promise<string[]> {
  const rows = await pg.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'readings'::regclass ORDER BY 1`,
  );
  return rows.map((r) => r.name);
}

async function readingCount(pg: PostgresServer): Promise<{ rows: number; counted: number }> {
  const [r] = await pg.query<{ rows: number; counted: number }>(
    'SELECT (SELECT count(*) FROM readings)::int AS rows, (SELECT sum(inserted) FROM writer_counts)::int AS counted',
  );
  return r!;
}

test('retention drops whole day partitions past the horizon, one hub holding the duty; counts stay exact; a dropped day never comes back', async () => {
  if (!installed) return;
  const pg = await startPostgres();
  const old = [TODAY - 6, TODAY - 5, TODAY - 3];
  const kept = [TODAY - 2, TODAY - 1, TODAY];
  await write(pg, daysOfReadings([...old, ...kept]));
  assert.equal(await dayPartitions(pg), [...old, ...kept].map(partitionName).sort(), 'a partition per day written');

  // Hub plain keeps no retention: it reads the mark, never drops.
  const plain = await hub(pg, 'plain');
  assert.is(plain.store.retention, null, 'no retention and no mark: nothing to say');
  const a = await hub(pg, 'a', TWO_DAYS);
  const b = await hub(pg, 'b', TWO_DAYS);
  assert.ok(a.store.keeper.holder, 'the first hub with --retention holds the duty');
  assert.not.ok(b.store.keeper.holder, 'the second finds it held');

  // The horizon is noon two days ago: the days wholly before it go, the day it falls in stays.
  const mark = (TODAY - 2) * DAY_MS;
  assert.equal(await dayPartitions(pg), [...kept, TODAY + 1].map(partitionName).sort(), 'old days dropped; tomorrow made ahead');
  assert.is(a.store.retention?.rawKeptFromMs, mark);
  assert.is(a.store.retention?.readingsDropped, 12, 'every reading of the three days, counted');
  const counts = await readingCount(pg);
  assert.equal(counts, { rows: 12, counted: 12 }, 'writer_counts still sums to the readings there are');
  const [{ n }] = (await pg.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_class WHERE relname LIKE 'readings_%' AND relkind = 'r'`,
  )) as [{ n: number }];
  assert.is(n, 4, 'the detached days are dropped too, not left as tables');

  // Every hub reads the mark (an export refreshes it first): the header says where raw readings start.
  await plain.store.keeper.refresh();
  const q = { sensors: null, rooms: null, metrics: null, fromMs: (TODAY - 6) * DAY_MS, toMs: null, everyMs: null, time: 'ms' as const };
  assert.equal(retainedHeaders(q, plain.store.retention), { 'x-roomwatch-raw-retained-from': new Date(mark).toISOString() });
  assert.equal(retainedHeaders({ ...q, everyMs: 3_600_000 }, plain.store.retention), {
    'x-roomwatch-raw-retained-from': new Date(mark).toISOString(),
  });
  assert.equal(retainedHeaders({ ...q, fromMs: mark }, plain.store.retention), {}, 'a range inside what is kept: no header');
  // A hub given tiers, in a cluster whose duty dropped days without any: its tiers do not hold them, and say so.
  const tiered = await hub(pg, 'tiered', { retentionMs: null, tiers: [...DEFAULT_TIERS] });
  assert.equal(retainedHeaders({ ...q, everyMs: 3_600_000 }, tiered.store.retention), {
    'x-roomwatch-rollup-retained-from': new Date(mark).toISOString(),
  });
  await tiered.store.close();

  // A writer batch of a dropped day (a writer far behind): counted expired, not stored, no partition made again.
  const late = await write(pg, [(TODAY - 5) * DAY_MS + 1, NOW - 1_000]);
  assert.equal({ inserted: late.inserted, expired: late.expired, duplicates: late.duplicates }, { inserted: 1, expired: 1, duplicates: 0 });
  assert.not.ok((await dayPartitions(pg)).includes(partitionName(TODAY - 5)), 'the dropped day stays dropped');

  // The holder goes away (its connection, and the lock, with it): the other hub takes the duty.
  await a.store.close();
  await b.store.keeper.round();
  assert.ok(b.store.keeper.holder, 'hub b holds the duty once hub a is gone');
  assert.equal(await readingCount(pg), { rows: 13, counted: 13 });
  // A restarted hub counts the readings there are.
  const again = await hub(pg, 'again');
  assert.is(again.state.readingCount, 13);
});

async function exportCsv(store: ClusterStore, q: Partial<HistoryQuery>): Promise<string> {
  const chunks: Buffer[] = [];
  const query: HistoryQuery = { sensors: null, rooms: null, metrics: null, fromMs: null, toMs: null, everyMs: null, time: 'ms', ...q };
  const h = store.exportHistory(query, (chunk) => {
    chunks.push(chunk);
    h.credit();
  });
  await h.done;
  return Buffer.concat(chunks).toString('utf8');
}

test('rollups: a bucketed export answers the same rows after the days are dropped, out of the tiers made before the drop', async () => {
  if (!installed) return;
  const pg = await startPostgres();
  // Two series, a reading every 7 minutes for a week, values that do not sum exactly in floating point.
  const ts: number[] = [];
  for (let t = (TODAY - 6) * DAY_MS + 13_000; t < NOW; t += 7 * 60_000) ts.push(t);
  await write(pg, ts, DEF, (i) => Math.sin(i) * 30 + 0.1);
  await write(
    pg,
    ts.filter((_, i) => i % 3 === 0),
    { sensor: 'r-2', room: 'lab', metric: 'humidity', unit: '%' },
    (i) => 40 + i / 7,
  );
  const tiers = [...DEFAULT_TIERS];
  const plain = await hub(pg, 'plain', { retentionMs: null, tiers });
  const from = (TODAY - 7) * DAY_MS;
  const queries: Partial<HistoryQuery>[] = [
    { everyMs: 60_000, fromMs: from },
    { everyMs: 3_600_000, fromMs: from },
    { everyMs: 2 * DAY_MS, fromMs: from, time: 'iso' },
    { everyMs: 900_000, fromMs: from, toMs: (TODAY - 1) * DAY_MS, sensors: ['r-1'] },
    // a width the tiers do not divide: raw readings alone answer it
    { everyMs: 45_000, fromMs: from },
  ];
  const before = [];
  for (const q of queries) before.push(await exportCsv(plain.store, q));
  assert.ok(before[1]!.split('\n').length > 100, 'hours of buckets');

  const a = await hub(pg, 'a', { retentionMs: 2 * DAY_MS, tiers });
  const mark = (TODAY - 2) * DAY_MS;
  assert.is(a.store.retention?.rawKeptFromMs, mark, 'the old days were dropped');
  assert.ok(!(await dayPartitions(pg)).includes(partitionName(TODAY - 6)));
  await plain.store.keeper.refresh();
  for (let i = 0; i < 4; i++) {
    assert.is(await exportCsv(plain.store, queries[i]!), before[i], `the same rows: ${JSON.stringify(queries[i])}`);
    assert.equal(
      retainedHeaders({ ...(queries[i] as HistoryQuery), toMs: null }, plain.store.retention),
      {},
      'the tiers hold it all: no header',
    );
  }
  const rawOnly = await exportCsv(plain.store, queries[4]!);
  assert.ok(rawOnly.length < before[4]!.length, 'the width no tier divides lost the dropped days');
  assert.equal(
    retainedHeaders(
      { sensors: null, rooms: null, metrics: null, fromMs: from, toMs: null, everyMs: 45_000, time: 'ms' },
      plain.store.retention,
    ),
    { 'x-roomwatch-raw-retained-from': new Date(mark).toISOString() },
  );
  const [tierRows] = (await pg.query<{ n: number }>('SELECT count(*)::int AS n FROM rollup_3600000ms')) as [{ n: number }];
  assert.ok(tierRows.n >= 4 * 24, 'the 1h tier holds the dropped days');
  // Another round changes nothing: a day is rolled once.
  await a.store.keeper.round();
  assert.is(await exportCsv(plain.store, queries[1]!), before[1]);
});

test('a commit leaves out readings past the horizon (acked, not stored) and says which; an upload counts them expired', async () => {
  if (!installed) return;
  const pg = await startPostgres();
  const a = await hub(pg, 'a', TWO_DAYS);
  const horizon = NOW - 2 * DAY_MS;
  assert.is(a.store.retention?.horizonMs, horizon);
  const fresh = columns([horizon - 1, horizon, NOW - 5]);
  const md = columns([horizon - 10, NOW - 6]);
  const result = await a.store.commit({
    gen: 1,
    newSeries: [DEF],
    fresh,
    maybeDuplicate: md,
    sensors: [],
    connections: [],
    recheckFresh: false,
  });
  const sent = a.published[0]!;
  assert.equal([...sent.fresh.ts], [horizon, NOW - 5], 'only readings at or after the horizon are published');
  assert.equal([...sent.maybeDuplicate.ts], [NOW - 6]);
  assert.equal([...result.freshStoredMask!], [0, 1, 1], 'the rows of the request, the expired one not stored');
  assert.equal([...result.storedMask], [0, 1]);
  assert.is(result.freshInserted, 2);
  assert.is(result.fresh, fresh, 'the request’s own rows come back');
  assert.is(a.store.retention?.readingsExpired, 2);

  // Nothing past the horizon: the request goes as it is.
  await a.store.commit({
    gen: 2,
    newSeries: [],
    fresh: columns([NOW]),
    maybeDuplicate: columns([]),
    sensors: [],
    connections: [],
    recheckFresh: false,
  });
  assert.is(a.published[1]!.fresh.n, 1);

  const dir = (await tempDataDir()).path;
  const file = join(dir, 'old.csv');
  writeFileSync(
    file,
    [
      'ts,sensor,room,metric,value,unit',
      `${horizon - 60_000},u-1,lab,co2,400,ppm`,
      `${horizon - 1},u-1,lab,co2,401,ppm`,
      `${NOW - 1},u-1,lab,co2,402,ppm`,
    ].join('\n') + '\n',
  );
  const receipt = await ingestUpload(file, {
    store: a.store,
    catalog: a.catalog,
    registry: new SensorRegistry(),
    now: () => NOW,
    hasSubscribers: () => false,
  });
  assert.equal(receipt, { accepted: 1, duplicates: 0, expired: 2, retained_from: new Date(horizon).toISOString() });
  const stored = await pg.query<{ ts: number }>(`SELECT r.ts FROM readings r JOIN series s ON s.id = r.series WHERE s.sensor = 'u-1'`);
  assert.equal(
    stored.map((r) => Number(r.ts)),
    [NOW - 1],
  );
});

test('sensor connections: each hub records its own in PostgreSQL; a restart closes what it left open and numbers on', async () => {
  if (!installed) return;
  const pg = await startPostgres();
  const a = await hub(pg, 'a');
  const b = await hub(pg, 'b');
  const commit = (store: ClusterStore, connections: CommitRequest['connections']) =>
    store.commit({ gen: 1, newSeries: [], fresh: columns([]), maybeDuplicate: columns([]), sensors: [], connections, recheckFresh: false });
  await commit(a.store, [
    { kind: 'connect', id: 1, sensor: 's-1', address: '10.0.0.1:5000', at: 1_000 },
    { kind: 'connect', id: 2, sensor: 's-2', address: '10.0.0.2:5000', at: 1_500 },
  ]);
  await commit(a.store, [{ kind: 'disconnect', id: 1, at: 2_000 }]);
  await commit(b.store, [{ kind: 'connect', id: 1, sensor: 's-1', address: '10.0.0.1:5001', at: 2_100 }]);
  await a.store.connections.settled();
  await b.store.connections.settled();
  const rows = async () =>
    (
      await pg.query<{ hub: string; id: number; sensor: string; address: string; connected_at: number; disconnected_at: number | null }>(
        'SELECT hub, id::int, sensor, address, connected_at::int, disconnected_at::int FROM connections ORDER BY connected_at',
      )
    ).map((r) => [r.hub, r.id, r.sensor, r.address, r.connected_at, r.disconnected_at]);
  assert.equal(await rows(), [
    ['a', 1, 's-1', '10.0.0.1:5000', 1_000, 2_000],
    ['a', 2, 's-2', '10.0.0.2:5000', 1_500, null],
    ['b', 1, 's-1', '10.0.0.1:5001', 2_100, null],
  ]);

  // Hub a restarts under the same --hub-id: its open connection is closed (no sighting: at its start), its numbering goes on.
  await a.store.close();
  const again = await hub(pg, 'a');
  assert.is(again.state.maxConnectionId, 2, 'numbering goes on from the hub’s own highest id');
  const after = await rows();
  assert.equal(after[1], ['a', 2, 's-2', '10.0.0.2:5000', 1_500, 1_500], 'left open by the previous run: closed');
  assert.equal(after[2], ['b', 1, 's-1', '10.0.0.1:5001', 2_100, null], 'another hub’s open connection is left alone');
});

test.run();
