/**
 * ClusterStore against a real PostgreSQL: the same readings written by the writer's batch code
 * and by the single hub's DuckDB store export as the same CSV bytes; an export waits for the
 * writers (and answers 503-worthy StoreError when they stay behind); uploads are atomic with exact
 * counts under the identity rule; access changes round-trip and reach the other hubs.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ReadingStore } from '../store/reading-store.ts';
import { StoreError, type HubStore } from '../store/hub-store.ts';
import type { Columns, CommitResult, SeriesDef } from '../store/store-messages.ts';
import type { HistoryQuery } from '../history/history-query.ts';
import { SeriesCatalog } from '../ingest/series-catalog.ts';
import { SensorRegistry } from '../sensors/sensor-registry.ts';
import { ingestUpload } from '../upload/bulk-upload.ts';
import type { ReadingBundle } from '../cluster/bundle.ts';
import { writeBatch } from '../writer/write-batch.ts';
import { ClusterStore, type StreamPosition } from './cluster-store.ts';
import { PgHistory } from './pg-history.ts';
import { Partitions } from './partitions.ts';
import { SeriesResolver } from './pg-series.ts';
import { waitFor } from '../../test/support/api-client.ts';
import { tempDataDir } from '../../test/support/hub-process.ts';
import { postgresInstalled, startPostgres, type PostgresServer } from '../../test/support/postgres-server.ts';
import { exitWhenDone, perTest } from '../../test/support/teardown.ts';

test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

const installed = postgresInstalled('ClusterStore (hub/pg/cluster-store.test.ts)');
const T0 = Date.UTC(2026, 10, 30, 23, 58, 0, 0);
const CAUGHT_UP: StreamPosition = { streamLastSeq: () => Promise.resolve(7), writersAckFloor: () => Promise.resolve(7) };

// Rooms and units change within a (sensor, metric): separate series, one identity scope.
const SERIES: Omit<SeriesDef, 'id' | 'channel'>[] = [
  { sensor: 'b-2', room: 'lab', metric: 'temperature', unit: '°C' },
  { sensor: 'a-1', room: 'office', metric: 'humidity', unit: '%' },
  { sensor: 'a-1', room: 'office', metric: 'temperature', unit: '°C' },
  { sensor: 'a-1', room: 'attic', metric: 'temperature', unit: '°C' },
  { sensor: 'B-2', room: 'lab', metric: 'pm2_5', unit: 'µg/m³' },
  { sensor: 'a-1', room: 'attic', metric: 'temperature', unit: 'F' },
];

/** 4 minutes around midnight (two day partitions), every series every 10 s, ties on ts across series. */
function dataset(): { defs: SeriesDef[]; rows: Columns } {
  const defs = SERIES.map((s, i) => ({ ...s, id: i + 1, channel: 0 }));
  const channels = new Map<string, number>();
  for (const d of defs)
    d.channel = channels.get(`${d.sensor}\0${d.metric}`) ?? channels.set(`${d.sensor}\0${d.metric}`, channels.size + 1).size;
  const series: number[] = [];
  const ts: number[] = [];
  const value: number[] = [];
  for (let k = 0; k < 24; k++) {
    for (const d of defs) {
      // Of the series sharing a channel, one reading per ts: the later series from k = 12 on.
      const shared = defs.filter((o) => o.channel === d.channel);
      if (shared.length > 1 && shared[Math.min(shared.length - 1, Math.floor(k / 8))] !== d) continue;
      series.push(d.id);
      ts.push(T0 + k * 10_000 + (d.id % 2) * 3);
      value.push(k % 5 === 0 ? -k / 3 : k * 1.1 + d.id / 7);
    }
  }
  return { defs, rows: { n: series.length, series: Int32Array.from(series), ts: Float64Array.from(ts), value: Float64Array.from(value) } };
}

function bundleOf(defs: SeriesDef[], rows: Columns): ReadingBundle {
  return {
    hub: 'h',
    gen: 1,
    partition: 0,
    series: defs.map(({ sensor, room, metric, unit }) => ({ sensor, room, metric, unit })),
    n: rows.n,
    seriesIndex: rows.series.map((id) => id - 1),
    ts: rows.ts,
    value: rows.value,
    sensors: [],
  };
}

async function exportCsv(store: HubStore, q: Partial<HistoryQuery>): Promise<string> {
  const chunks: Buffer[] = [];
  const query: HistoryQuery = { sensors: null, rooms: null, metrics: null, fromMs: null, toMs: null, everyMs: null, time: 'iso', ...q };
  const h = store.exportHistory(query, (chunk) => {
    chunks.push(chunk);
    h.credit();
  });
  await h.done;
  return Buffer.concat(chunks).toString('utf8');
}

interface Cluster {
  pg: PostgresServer;
  store: ClusterStore;
  catalog: SeriesCatalog;
  registry: SensorRegistry;
  history: PgHistory;
  /** stores rows as a writer batch does */
  write(defs: SeriesDef[], rows: Columns): Promise<void>;
}

async function cluster(pgServer?: PostgresServer, position: StreamPosition = CAUGHT_UP, hubId = 'hub-a'): Promise<Cluster> {
  const pg = pgServer ?? (await startPostgres());
  const history = await PgHistory.connect(pg.url);
  const catalog = new SeriesCatalog();
  const registry = new SensorRegistry();
  const store = new ClusterStore({
    history,
    publish: () => Promise.reject<CommitResult>(new Error('no commits in this test')),
    position,
    hubId,
    now: Date.now,
    catalog,
    tempDir: (await tempDataDir()).path,
    threads: 1,
    exportWaitMs: 400,
  });
  perTest.add('cluster store', () => store.close());
  const state = await store.open();
  catalog.load(state);
  registry.load(state);
  const deps = { series: new SeriesResolver(), partitions: new Partitions(), writer: 'test' };
  return {
    pg,
    store,
    catalog,
    registry,
    history,
    write: async (defs, rows) => {
      const c = await history.pool.connect();
      try {
        await writeBatch(c, deps, [bundleOf(defs, rows)]);
      } finally {
        c.release();
      }
    },
  };
}

async function singleHub(defs: SeriesDef[], rows: Columns): Promise<ReadingStore> {
  const dir = (await tempDataDir()).path;
  const store = new ReadingStore({ dataDir: dir, memoryLimit: '256MB', threads: 1, tempDir: join(dir, 'tmp'), now: Date.now });
  perTest.add('single hub store', () => store.close());
  await store.open();
  const none: Columns = { n: 0, series: new Int32Array(0), ts: new Float64Array(0), value: new Float64Array(0) };
  await store.commit({ gen: 1, newSeries: defs, fresh: rows, maybeDuplicate: none, sensors: [], connections: [], recheckFresh: false });
  return store;
}

test('an export from PostgreSQL is the same CSV, byte for byte, as the single hub’s export of the same readings', async () => {
  if (!installed) return;
  const { defs, rows } = dataset();
  const single = await singleHub(
    defs,
    // the commit hands its columns over: a copy for each store
    { n: rows.n, series: rows.series.slice(), ts: rows.ts.slice(), value: rows.value.slice() },
  );
  const c = await cluster();
  await c.write(defs, rows);
  const queries: Partial<HistoryQuery>[] = [
    {},
    { time: 'ms' },
    { sensors: ['a-1'], rooms: ['attic'] },
    { metrics: ['temperature'], fromMs: T0 + 60_000, toMs: T0 + 150_000 },
    { everyMs: 60_000 },
    { everyMs: 45_000, time: 'ms', rooms: ['lab', 'office'] },
    // buckets that do not divide a day, and one longer than a day: no bucket is cut by the day windows
    { everyMs: 420_000 },
    { everyMs: 2 * 86_400_000, time: 'ms' },
    { sensors: ['nobody'] },
  ];
  for (const q of queries) {
    const want = await exportCsv(single, q);
    const got = await exportCsv(c.store, q);
    assert.ok(want.split('\n').length > 2 || q.sensors?.[0] === 'nobody', `the query selects rows: ${JSON.stringify(q)}`);
    assert.is(got, want, `export ${JSON.stringify(q)}`);
  }
});

test('an export waits for the writers to pass the stream position of the request, and fails saying so when they stay behind', async () => {
  if (!installed) return;
  let floor = 3;
  const moving: StreamPosition = { streamLastSeq: () => Promise.resolve(5), writersAckFloor: () => Promise.resolve(floor) };
  const c = await cluster(undefined, moving);
  const { defs, rows } = dataset();
  const started = exportCsv(c.store, { time: 'ms' });
  // The writers store and ack while the export waits: it sees their rows.
  await c.write(defs, rows);
  floor = 5;
  const csv = await started;
  assert.is(csv.trim().split('\n').length, rows.n + 1);

  floor = 4;
  const err = await exportCsv(c.store, {}).catch((e: unknown) => e);
  assert.ok(err instanceof StoreError && err.retryable, 'a 503, not a 500');
  assert.match((err as Error).message, /the writers are 1 bundles behind/);
});

test('uploads: one transaction, exact accepted and duplicate counts, the first of a repeated identity kept, stored rows not doubled', async () => {
  if (!installed) return;
  const c = await cluster();
  const { defs, rows } = dataset();
  await c.write(defs, rows); // includes a-1 temperature every 10 s from T0
  const dir = (await tempDataDir()).path;
  const file = join(dir, 'upload-1.csv');
  const lines = ['ts,sensor,room,metric,value,unit'];
  // The channel (a-1, temperature) has readings at T0 + k * 10 s for k = 8..23 (series 4 and 6;
  // series 3's are 3 ms later): those 16 identities are stored already.
  for (let k = 0; k < 30; k++) lines.push(`${T0 + k * 10_000},a-1,attic,temperature,${k},°C`);
  lines.push(`${T0 + 400_000},a-1,attic,temperature,1.5,°C`);
  lines.push(`${T0 + 400_000},a-1,attic,temperature,2.5,°C`); // repeats the line above: a duplicate
  lines.push(`${T0 + 400_000},z-9,,co2,800,ppm`);
  writeFileSync(file, lines.join('\n') + '\n');
  const published: [string, number, number][] = [];
  const deps = {
    store: c.store,
    catalog: c.catalog,
    registry: c.registry,
    now: Date.now,
    hasSubscribers: () => true,
    publish: (rows: Columns) => {
      for (let i = 0; i < rows.n; i++) {
        const d = c.catalog.series[rows.series[i]!]!;
        published.push([`${d.sensor}/${d.room}/${d.metric}/${d.unit}`, rows.ts[i]! - T0, rows.value[i]!]);
      }
    },
  };
  const storedBefore = (await c.pg.query<{ n: number }>('SELECT count(*)::int AS n FROM readings'))[0]!.n;
  const first = await ingestUpload(file, deps);
  const storedAfter = (await c.pg.query<{ n: number }>('SELECT count(*)::int AS n FROM readings'))[0]!.n;
  assert.is(first.accepted + first.duplicates, 33, 'every row counted once');
  assert.is(storedAfter - storedBefore, first.accepted, 'accepted is what was stored');
  assert.is(first.duplicates, 16 + 1, 'the 16 identities a sensor stored, and the repeat within the file');
  const [kept] = await c.pg.query<{ value: number }>(
    `SELECT r.value FROM readings r JOIN series s ON s.id = r.series WHERE s.sensor = 'a-1' AND r.ts = $1`,
    [T0 + 400_000],
  );
  assert.is(kept!.value, 1.5, 'the first row of a repeated identity is the one kept');
  const news = [0, 1, 2, 3, 4, 5, 6, 7, 24, 25, 26, 27, 28, 29].map((k): [string, number, number] => [
    'a-1/attic/temperature/°C',
    k * 10_000,
    k,
  ]);
  news.push(['a-1/attic/temperature/°C', 400_000, 1.5], ['z-9/default/co2/ppm', 400_000, 800]);
  assert.equal(published, news, 'live subscribers get exactly the new rows, in ts order, in the hub catalog’s series');

  writeFileSync(file, lines.join('\n') + '\n');
  published.length = 0;
  const again = await ingestUpload(file, deps);
  assert.is(published.length, 0, 'nothing new, nothing published');
  assert.equal(again, { accepted: 0, duplicates: 33 }, 'the same file again stores nothing');
  assert.is((await c.pg.query<{ n: number }>('SELECT count(*)::int AS n FROM readings'))[0]!.n, storedAfter);

  // Another hub starting now: the exact count, and each channel's newest reading in its catalog.
  const other = await cluster(c.pg, CAUGHT_UP, 'hub-b');
  const state = await other.store.open();
  assert.is(state.readingCount, storedAfter, 'the writers’ and uploads’ counts add up to the readings');
  other.catalog.load(state);
  const latest = [...other.catalog.channels.values()].map((ch) => [ch.sensor, ch.metric, ch.latestTs - T0, ch.latestValue]).sort();
  const channels = (await c.pg.query<{ n: number }>('SELECT count(DISTINCT channel)::int AS n FROM readings'))[0]!.n;
  assert.is(latest.length, channels);
  assert.equal(
    latest.find(([s, m]) => s === 'a-1' && m === 'temperature'),
    ['a-1', 'temperature', 400_000, 1.5],
  );
});

test('access changes round-trip through PostgreSQL and reach the other hubs; a backup is refused with what to do', async () => {
  if (!installed) return;
  const a = await cluster(undefined, CAUGHT_UP, 'hub-a');
  const b = await cluster(a.pg, CAUGHT_UP, 'hub-b');
  let heard = 0;
  let rulesHeard = 0;
  await b.store.onSharedChanges({ access: () => heard++, alertRules: () => rulesHeard++ });
  const user = { name: 'alex', passwordHash: 'scrypt$1$2$3$s$h', role: 'admin' as const, rooms: ['lab'], createdAt: 1, updatedAt: 2 };
  const token = {
    id: 'tok1',
    secretSha256: 'ab',
    sensorPattern: 'lab-*',
    rooms: ['*'],
    note: 'n',
    createdAt: 3,
    createdBy: 'alex',
    revokedAt: null,
  };
  const session = { secretSha256: 'cd', user: 'alex', createdAt: Date.now(), expiresAt: Date.now() + 60_000 };
  await a.store.writeAccess([
    { kind: 'put-user', user },
    { kind: 'put-token', token },
    { kind: 'put-session', session },
  ]);
  await waitFor('hub B heard of the change', () => heard > 0, 10_000);
  const loaded = await b.store.loadAccess();
  assert.equal(loaded.users, [user]);
  assert.equal(loaded.tokens, [token]);
  assert.equal(loaded.sessions, [session]);

  await a.store.appendActivity([
    { id: 1, ts: 5, actor: 'alex', address: '127.0.0.1', action: 'login', target: '', outcome: 'ok', code: 200, detail: '' },
  ]);
  await b.store.appendActivity([
    { id: 1, ts: 6, actor: 'sam', address: '127.0.0.1', action: 'login', target: '', outcome: 'denied', code: 401, detail: '' },
  ]);
  // A retried batch adds nothing.
  await b.store.appendActivity([
    { id: 1, ts: 6, actor: 'sam', address: '127.0.0.1', action: 'login', target: '', outcome: 'denied', code: 401, detail: '' },
  ]);
  const events = await a.store.queryActivity({ after: null, limit: 10, actions: null, actors: null });
  assert.equal(
    events.map((e) => e.actor),
    ['alex', 'sam'],
    'both hubs’ events 1 are kept, once each',
  );
  assert.is((await b.store.loadAccess()).maxActivityId, 1, 'each hub numbers on from its own events');

  // An alert rule put on A reaches B as a rules change (not an access one), and B loads it.
  const accessHeard = heard;
  await a.store.alerts({
    kind: 'put-rule',
    rule: { name: 'hot', rule: 'temperature > 30 for 2m', room: 'lab', sensor: null, webhooks: [], updatedAt: 7 },
  });
  await waitFor('hub B heard of the rule', () => rulesHeard > 0, 10_000);
  assert.is(heard, accessHeard, 'a rule change is not an access change');
  const rules = ((await b.store.alerts({ kind: 'load' })) as { rules: { name: string }[] }).rules;
  assert.equal(
    rules.map((r) => r.name),
    ['hot'],
  );

  const refused = await a.store.backup().catch((e: Error) => e);
  assert.match(refused.message, /pg_dump/);
});

test.run();
