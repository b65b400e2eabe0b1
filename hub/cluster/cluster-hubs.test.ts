// Two hubs' cluster parts against three real nats-servers, without PostgreSQL or sockets: one
// hub's commit feeds the other's latest, registry, live stream and alerts (and not its own
// twice); a hello on the second hub closes the first hub's session with 409; a hub that leaves
// shows its sensors disconnected on the other; report-now asks both and merges, with `missing`
// for a sensor whose hub does not answer.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import pino from 'pino';
import { NO_FILTERS } from '../../protocol/filters.ts';
import { SeriesCatalog } from '../ingest/series-catalog.ts';
import type { SensorSession } from '../ingest/sensor-session.ts';
import { SensorRegistry } from '../sensors/sensor-registry.ts';
import type { Columns } from '../store/store-messages.ts';
import { waitFor } from '../../test/support/api-client.ts';
import { natsInstalled, startNatsCluster, type NatsCluster } from '../../test/support/nats-cluster.ts';
import { exitWhenDone, perTest, Teardown } from '../../test/support/teardown.ts';
import { testTimeout } from '../../test/support/test-timeouts.ts';
import { ClusterReportNow } from './cluster-report-now.ts';
import { CommitPublisher } from './commit-publisher.ts';
import { Follower } from './follower.ts';
import { Liveness } from './liveness.ts';
import { NatsLink } from './nats-link.ts';
import { Ownership } from './ownership.ts';
import { ownerKey, STREAM_NAME, WRITERS_CONSUMER } from './cluster-names.ts';

testTimeout(120_000);
test.after.each(() => perTest.run());

const log = pino({ level: 'silent' });

/** A session as ownership and report-now see it: answers report-now with one reading. */
class FakeSession {
  closedWith: string | null = null;
  constructor(
    readonly sensorId: string,
    readonly currentRoom: string,
    private readonly reportNow: ClusterReportNow | null,
    private readonly answers = true,
  ) {}
  get isActive(): boolean {
    return this.closedWith === null;
  }
  replaced(): void {
    this.closedWith = '409';
  }
  sendLine(line: string): boolean {
    const id = (JSON.parse(line) as { id: string }).id;
    if (this.answers)
      setImmediate(() =>
        this.reportNow?.onReport(id, this.sensorId, this.currentRoom, [{ metric: 'temperature', value: 20, unit: 'C', ts: 5 }]),
      );
    return true;
  }
}

interface TestHub {
  id: string;
  link: NatsLink;
  catalog: SeriesCatalog;
  registry: SensorRegistry;
  published: Columns[];
  alerted: number;
  sessions: Map<string, FakeSession>;
  ownership: Ownership;
  liveness: Liveness;
  follower: Follower;
  reportNow: ClusterReportNow;
  publisher: CommitPublisher;
}

async function startTestHub(id: string, servers: string[]): Promise<TestHub> {
  const link = await NatsLink.connect({ servers, name: id, log });
  perTest.add(`link ${id}`, () => link.stop());
  await link.ensureStream();
  const catalog = new SeriesCatalog();
  const registry = new SensorRegistry();
  const sessions = new Map<string, FakeSession>();
  const h = { id, link, catalog, registry, published: [] as Columns[], alerted: 0, sessions } as TestHub;
  const localSession = (s: string) => sessions.get(s) as unknown as SensorSession | undefined;
  h.liveness = new Liveness(id, { http: '1', tcp: '2', started: 0 }, log, { refreshMs: 200, ttlMs: 1_000 });
  h.ownership = new Ownership(id, { registry, localSession, isAlive: (x) => h.liveness.isAlive(x) }, log);
  h.liveness.onChange(() => h.ownership.hubsChanged());
  await h.ownership.start(await link.ownersKv());
  await h.liveness.start(await link.hubsKv());
  h.follower = new Follower(
    id,
    {
      catalog,
      registry,
      liveStream: { publish: (rows) => h.published.push(rows) },
      alerts: { committed: (_c, rows) => (h.alerted += rows.n) },
    },
    log,
  );
  await h.follower.start(link);
  h.reportNow = new ClusterReportNow(registry, Date.now, () => Promise.resolve());
  h.reportNow.attach(() => sessions.values() as unknown as Iterable<SensorSession>);
  h.reportNow.attachCluster({
    nc: link.nc,
    hubId: id,
    hubs: () => h.liveness.hubs(),
    heldElsewhere: () => h.ownership.heldElsewhere(),
    registry,
    log,
  });
  h.publisher = new CommitPublisher({
    js: link.js,
    hubId: id,
    series: catalog.series,
    maxPayload: () => 1 << 20,
    publishTimeoutMs: 10_000,
  });
  perTest.add(`hub ${id}`, async () => {
    h.reportNow.detachCluster();
    h.ownership.stop();
    await h.liveness.stop();
    await h.follower.stop();
  });
  return h;
}

/** One set of nats-servers for the file (starting three is the slow part); each test has hubs of its own. */
const fileScope = new Teardown();
let shared: Promise<NatsCluster> | undefined;
let round = 0;
test.after(async () => {
  await fileScope.run();
  exitWhenDone();
});

async function twoHubs(): Promise<[TestHub, TestHub]> {
  const nats = await (shared ??= startNatsCluster({ scope: fileScope }));
  round++;
  const a = await startTestHub(`hub-a${round}`, nats.urls);
  const b = await startTestHub(`hub-b${round}`, nats.urls);
  await waitFor('each hub sees the other alive', () => a.liveness.isAlive(b.id) && b.liveness.isAlive(a.id));
  return [a, b];
}

/** A commit on hub `h` of one reading per (sensor, value), as GroupCommit would hand it. */
function commitOn(h: TestHub, gen: number, rows: [sensor: string, ts: number, value: number][]) {
  const ids = rows.map(([s]) => h.catalog.seriesId(s, 'lab', 'temperature', 'C'));
  const fresh: Columns = {
    n: rows.length,
    series: Int32Array.from(ids),
    ts: Float64Array.from(rows.map((r) => r[1])),
    value: Float64Array.from(rows.map((r) => r[2])),
  };
  const empty: Columns = { n: 0, series: new Int32Array(0), ts: new Float64Array(0), value: new Float64Array(0) };
  const sensors = [...new Set(rows.map(([s]) => s))].map((s) => ({
    sensor: s,
    room: 'lab',
    firstSeen: 1,
    lastSeen: 2,
    address: '10.0.0.9:4000',
    declaredMetrics: { temperature: 'C' },
  }));
  return h.publisher.commit({
    gen,
    newSeries: h.catalog.takeUnsaved(),
    fresh,
    maybeDuplicate: empty,
    sensors,
    connections: [],
    recheckFresh: false,
  });
}

/** A hello on hub `h`, as the sensor port handles it: registry, session, then the claim. */
function hello(h: TestHub, sensor: string, room = 'lab'): FakeSession {
  h.registry.connect(sensor, room, '127.0.0.1:5000', new Map(), Date.now());
  const session = new FakeSession(sensor, room, h.reportNow);
  h.sessions.set(sensor, session);
  h.ownership.claim(sensor);
  return session;
}

/** The session's socket closed, as SensorSession.onClosed and the cluster's release hook handle it. */
function closed(h: TestHub, sensor: string): void {
  const rec = h.registry.records.get(sensor)!;
  h.registry.disconnect(rec, rec.connectionId, Date.now());
  h.sessions.delete(sensor);
  h.ownership.released(sensor);
}

function latestOf(h: TestHub, sensor: string): number | undefined {
  const ch = h.catalog.channels.get(`${sensor}\0temperature`);
  return ch && ch.latestSeries >= 0 ? ch.latestValue : undefined;
}

test('a commit on hub A feeds hub B’s latest, registry, live stream and alerts; A’s follower skips its own', async () => {
  if (!natsInstalled('cluster hubs')) return;
  const [a, b] = await twoHubs();
  await commitOn(a, 1, [
    ['xa-1', 1_000, 21.5],
    ['xa-2', 1_000, 19],
    ['xa-1', 1_001, 22],
  ]);
  await waitFor('latest of xa-1 and xa-2 on hub B', () => latestOf(b, 'xa-1') === 22 && latestOf(b, 'xa-2') === 19);
  const rec = b.registry.records.get('xa-1');
  assert.ok(rec, 'hub B knows the sensor');
  assert.is(rec.room, 'lab');
  assert.is(rec.address, '10.0.0.9:4000');
  assert.equal([...rec.metrics], ['temperature']);
  assert.is(
    b.published.reduce((n, c) => n + c.n, 0),
    3,
    'the live stream got every reading',
  );
  assert.is(b.alerted, 3);
  assert.is(b.registry.hasChanges, false, 'another hub’s sensors are not written again by B');
  await waitFor('A saw its own bundles', () => a.follower.stats.own > 0);
  assert.is(a.follower.stats.bundles, 0, 'A applies none of its own');
  assert.is(a.published.length, 0);

  // Interest retention: once the writers' consumer acks them, the stream lets them go (the
  // followers, acking nothing, do not hold them).
  const writers = await a.link.js.consumers.get(STREAM_NAME, WRITERS_CONSUMER);
  let acked = 0;
  await waitFor('the writers acked every bundle of the stream', async () => {
    const batch = await writers.fetch({ max_messages: 100, expires: 1_000 });
    for await (const m of batch) {
      m.ack();
      acked++;
    }
    return (await a.link.jsm.consumers.info(STREAM_NAME, WRITERS_CONSUMER)).num_pending === 0 && acked > 0;
  });
  await waitFor(
    'the stream holds nothing the writers acked',
    async () => (await a.link.jsm.streams.info(STREAM_NAME)).state.messages === 0,
  );
});

test('a hello on hub B closes hub A’s session of the sensor with 409; B then holds it, shown connected on A', async () => {
  if (!natsInstalled('cluster hubs')) return;
  const [a, b] = await twoHubs();
  const onA = hello(a, 't-1');
  await waitFor('B sees A own t-1', () => b.ownership.owners.get('t-1')?.hub === a.id);
  assert.is(b.registry.records.get('t-1')?.connected, true, 'held by a live hub: connected on B');

  const onB = hello(b, 't-1');
  await waitFor('A’s session closed with 409', () => onA.closedWith === '409');
  assert.is(onB.closedWith, null, 'the newer connection stays');
  assert.is(a.ownership.stats.takenOver, 1);
  // A's session ends as a closed socket would end it.
  assert.is(a.registry.records.get('t-1')?.connected, true, 'still connected on A until its socket closes');
  closed(a, 't-1');
  await waitFor('A shows t-1 connected (on B)', () => a.registry.records.get('t-1')?.connected === true);
  await waitFor('the bucket names B', () => a.ownership.owners.get('t-1')?.hub === b.id);

  // The sensor comes back to A: B's session is the older one now.
  const again = hello(a, 't-1');
  await waitFor('B’s session closed with 409', () => onB.closedWith === '409');
  assert.is(again.closedWith, null);
});

test('a sensor that disconnects from its hub shows disconnected on the other; a hub that leaves takes its sensors with it', async () => {
  if (!natsInstalled('cluster hubs')) return;
  const [a, b] = await twoHubs();
  for (const s of ['d-1', 'd-2']) hello(a, s);
  await waitFor(
    'B shows d-1 and d-2 connected',
    () => b.registry.records.get('d-1')?.connected && b.registry.records.get('d-2')?.connected,
  );
  closed(a, 'd-1');
  await waitFor('B shows d-1 disconnected', () => b.registry.records.get('d-1')?.connected === false);
  assert.is(b.registry.records.get('d-2')?.connected, true);
  // Hub A leaves without releasing d-2 (as a killed hub would, but its liveness key goes at once).
  await a.liveness.stop();
  await waitFor('B sees A gone', () => !b.liveness.isAlive(a.id));
  await waitFor('B shows d-2 disconnected', () => b.registry.records.get('d-2')?.connected === false);
});

test('a killed hub’s liveness key expires: the other hub shows its sensors disconnected after the TTL', async () => {
  if (!natsInstalled('cluster hubs')) return;
  const [a, b] = await twoHubs();
  hello(a, 'k-1');
  await waitFor('B shows k-1 connected', () => b.registry.records.get('k-1')?.connected === true);
  // Killed: stops refreshing, deletes nothing.
  a.ownership.stop();
  (a.liveness as unknown as { timer: NodeJS.Timeout }).timer.close();
  await waitFor('B shows k-1 disconnected once A’s key is stale', () => b.registry.records.get('k-1')?.connected === false, 10_000);
  assert.not.ok(b.liveness.isAlive(a.id));
});

test('a key naming a hub with no connection behind it (left by its killed previous run) is deleted by that hub', async () => {
  if (!natsInstalled('cluster hubs')) return;
  const [a, b] = await twoHubs();
  const kv = await b.link.ownersKv();
  await kv.put(ownerKey('left-1'), a.id);
  await waitFor('hub A deleted the key it does not stand behind', async () => (await kv.get(ownerKey('left-1')))?.operation !== 'PUT');
  assert.is(a.ownership.stats.leftovers, 1);
  await waitFor('hub B does not show the sensor connected', () => b.registry.records.get('left-1')?.connected !== true);
});

test('report-now on hub B asks both hubs and merges; a sensor whose hub does not answer in time is missing', async () => {
  if (!natsInstalled('cluster hubs')) return;
  const [a, b] = await twoHubs();
  for (const s of ['r-a1', 'r-a2']) hello(a, s);
  hello(b, 'r-b1', 'hall');
  await waitFor('B knows A holds r-a1 and r-a2', () => b.ownership.heldElsewhere().size === 2);

  const all = await b.reportNow.run(NO_FILTERS, 3_000);
  assert.is(all.requested, 3);
  assert.is(all.responded, 3);
  assert.equal(all.missing, []);
  assert.equal(
    all.readings.map((r) => r.sensor),
    ['r-a1', 'r-a2', 'r-b1'],
    'sorted by sensor, from both hubs',
  );

  const hall = await b.reportNow.run({ ...NO_FILTERS, room: new Set(['hall']) }, 3_000);
  assert.equal(
    hall.readings.map((r) => r.sensor),
    ['r-b1'],
    'filters apply on every hub',
  );
  assert.is(hall.requested, 1);

  // Hub A stops answering report-now but is still alive: its sensors are missing.
  a.reportNow.detachCluster();
  const started = Date.now();
  const partial = await b.reportNow.run(NO_FILTERS, 500);
  assert.ok(Date.now() - started < 10_000, 'bounded by the timeout and its grace');
  assert.is(partial.requested, 3);
  assert.is(partial.responded, 1);
  assert.equal(partial.missing, ['r-a1', 'r-a2']);
});

test('report-now splits a large answer into parts and the asking hub joins them', async () => {
  if (!natsInstalled('cluster hubs')) return;
  const [a, b] = await twoHubs();
  for (let i = 0; i < 2_500; i++) a.sessions.set(`p-${i}`, new FakeSession(`p-${i}`, 'lab', a.reportNow));
  const answer = await b.reportNow.run(NO_FILTERS, 5_000);
  assert.is(answer.requested, 2_500);
  assert.is(answer.responded, 2_500);
  assert.is(answer.readings.length, 2_500);
});

test.run();
