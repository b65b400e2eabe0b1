// docs/ADMIN.md "Backup and restore": POST /api/v1/backup copies a running hub from one snapshot
// while sensors keep sending; `npm start -- --restore FILE` brings it into an empty data folder,
// where history.csv answers byte for byte what the hub answered for the same snapshot, and the
// users and tokens work. Admins only; one at a time; audited.
import { existsSync, readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { queryString, request, type RawResponse } from '../support/api-client.ts';
import {
  activity,
  asUser,
  bearer,
  createSensorToken,
  expectRefused,
  login,
  putUser,
  seedDemo,
  startAccessHub,
} from '../support/access-setup.ts';
import { startHubProcess, tempDataDir, withTimeout } from '../support/hub-process.ts';
import { connect, type TcpSensor } from '../support/tcp-sensor.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';

test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

const SENSORS = ['rack-a', 'rack-b', 'rack-c'];
const BATCH = 200;

interface Load {
  /** by sensor: the newest ts acked so far */
  acked: Map<string, number>;
  /** acks received since `mark()` */
  acksSinceMark(): number;
  mark(): void;
  stop(): Promise<void>;
}

/** Each sensor sends batches of readings one ms apart, the next once the last is acked, until stopped. */
async function sendUnderLoad(tcpPort: number, tokens: Map<string, string>, startTs: number): Promise<Load> {
  const acked = new Map<string, number>();
  let acks = 0;
  let stopped = false;
  const sensors: TcpSensor[] = [];
  for (const name of SENSORS) {
    const s = await connect(tcpPort);
    await s.hello(name, 'server-room', { token: tokens.get(name) });
    sensors.push(s);
  }
  const loops = sensors.map(async (s, i) => {
    const name = SENSORS[i]!;
    let ts = startTs;
    for (let seq = 1; !stopped; seq++) {
      const readings = Array.from({ length: BATCH }, (_, k) => ({
        metric: 'temperature',
        value: 20 + ((seq * BATCH + k) % 97) / 10,
        unit: 'C',
        ts: ts + k,
      }));
      await s.send({ type: 'batch', seq, readings });
      await s.ackCovering(seq, 30_000);
      ts += BATCH;
      acked.set(name, ts - 1);
      acks++;
    }
  });
  let marked = 0;
  return {
    acked,
    acksSinceMark: () => acks - marked,
    mark: () => (marked = acks),
    async stop() {
      stopped = true;
      await Promise.all(loops);
      await Promise.all(sensors.map((s) => s.close()));
    },
  };
}

async function takeBackup(port: number, token: string): Promise<RawResponse> {
  return request(port, '/api/v1/backup', { method: 'POST', headers: bearer(token), timeoutMs: 120_000 });
}

test('a backup taken while sensors send restores into an empty folder: the same history byte for byte, users and tokens working', async () => {
  const hub = await startAccessHub();
  const { root, sandy } = await seedDemo(hub.httpPort);
  const tokens = new Map<string, string>();
  for (const name of SENSORS)
    tokens.set(name, (await createSensorToken(hub.httpPort, { sensor: name, rooms: ['server-room'] }, root)).token);
  const startTs = Date.now() - 3_600_000;
  const load = await sendUnderLoad(hub.tcpPort, tokens, startTs);
  const loadStarted = performance.now();
  // Some readings are in before the backup, and more keep coming while it runs.
  await withTimeout(
    (async () => {
      while (load.acksSinceMark() < 10) await new Promise((r) => setImmediate(r));
    })(),
    30_000,
    'the first acks',
  );
  // How often acks came before the backup: a backup shorter than a few of these intervals may
  // see none without holding anything up (a small store copies in a few ms on a quiet machine).
  const ackEveryMs = (performance.now() - loadStarted) / Math.max(1, load.acksSinceMark());
  const ackedBefore = new Map(load.acked);
  load.mark();
  const backupStarted = performance.now();
  const answer = await takeBackup(hub.httpPort, root);
  const backupMs = performance.now() - backupStarted;
  const acksDuring = load.acksSinceMark();
  // The load goes on after the backup: readings the backup must not hold.
  load.mark();
  await withTimeout(
    (async () => {
      while (load.acksSinceMark() < 5) await new Promise((r) => setImmediate(r));
    })(),
    30_000,
    'acks after the backup',
  );
  await load.stop();

  assert.is(answer.status, 200, answer.text.slice(0, 300));
  assert.ok(
    acksDuring > 0 || backupMs < 5 * ackEveryMs,
    `no sensor was acked during a backup of ${backupMs.toFixed(0)} ms, with an ack every ${ackEveryMs.toFixed(1)} ms before it: the backup held the commits`,
  );
  const summary = JSON.parse(String(answer.headers['roomwatch-backup'])) as {
    tables: Record<string, number>;
    bytes: number;
    schemaVersion: number;
  };
  assert.is(summary.bytes, answer.body.length, 'the summary gives the size sent');
  for (const table of ['readings', 'series', 'sensors', 'users', 'sensor_tokens', 'activity', 'meta'])
    assert.ok(table in summary.tables, `holds ${table}`);
  const spool = join(hub.dataDir, 'tmp', 'backup');
  assert.equal(existsSync(spool) ? readdirSync(spool) : [], [], 'the spool file is removed once sent');

  const work = await tempDataDir();
  const file = join(work.path, 'hub.backup');
  await writeFile(file, answer.body);
  const restoredDir = join(work.path, 'restored');
  const restored = await startHubProcess({ dataDir: restoredDir, args: ['--restore', file] });
  assert.match(restored.output(), /restored .*hub\.backup/);

  let total = 0;
  for (const name of SENSORS) {
    const restoredCsv = await asUser(restored.httpPort, root).get(`/api/v1/history.csv${queryString({ sensor: name, time: 'ms' })}`);
    assert.is(restoredCsv.status, 200, restoredCsv.text.slice(0, 300));
    const lines = restoredCsv.text.trimEnd().split('\n');
    total += lines.length - 1;
    const newest = Number(lines[lines.length - 1]!.split(',')[0]);
    assert.ok(
      newest >= ackedBefore.get(name)!,
      `${name}: every reading acked before the backup is in it (${newest} >= ${ackedBefore.get(name)})`,
    );
    assert.ok(newest < load.acked.get(name)!, `${name}: readings sent after the backup are not`);
    // The original hub, asked for the same snapshot: each sensor's readings up to the newest the backup holds.
    const before = await asUser(hub.httpPort, root).get(`/api/v1/history.csv${queryString({ sensor: name, time: 'ms', to: newest + 1 })}`);
    assert.ok(before.body.equals(restoredCsv.body), `${name}: the export after the restore is the export before, byte for byte`);
  }
  assert.is(total, summary.tables.readings, 'the restored hub holds the readings the backup counted');

  // Users, sessions and sensor tokens came along.
  const sandyAgain = await login(restored.httpPort, 'sandy', 'password');
  assert.type(sandyAgain.token, 'string', 'a user logs in with the password set before the backup');
  assert.is((await asUser(restored.httpPort, sandy).get('/api/v1/whoami')).status, 200, 'a session from before the backup still holds');
  const s = await connect(restored.tcpPort);
  await s.hello(SENSORS[0]!, 'server-room', { token: tokens.get(SENSORS[0]!) });
  await s.send({ type: 'reading', metric: 'temperature', value: 1, unit: 'C', ts: Date.now(), seq: 1 });
  await s.ackCovering(1);
  await s.close();

  const audit = await activity(hub.httpPort, root, '?action=backup');
  assert.is(audit.events.length, 1, 'the backup is in the activity log');
  assert.is(audit.events[0]!.outcome, 'ok');
  assert.match(String(audit.events[0]!.detail), /readings/);
});

test('only admins take backups: a viewer gets 403, recorded in the activity log', async () => {
  const hub = await startAccessHub();
  const { root, sandy } = await seedDemo(hub.httpPort);
  expectRefused(await takeBackup(hub.httpPort, sandy), 403, 'forbidden');
  const audit = await activity(hub.httpPort, root, '?action=backup');
  assert.is(audit.events.length, 1);
  assert.is(audit.events[0]!.code, 403);
});

test('one backup at a time: a second while one is sent is refused 429 with Retry-After', async () => {
  const hub = await startAccessHub();
  const root = (await seedDemo(hub.httpPort)).root;
  await putUser(hub.httpPort, 'other-admin', { role: 'admin', rooms: ['*'], password: 'other-password-1' }, root);
  const [a, b] = await Promise.all([takeBackup(hub.httpPort, root), takeBackup(hub.httpPort, root)]);
  const statuses = [a.status, b.status].sort();
  assert.equal(statuses, [200, 429], `one taken, one refused: ${a.status} ${b.status}`);
  const refused = a.status === 429 ? a : b;
  expectRefused(refused, 429, 'backup_running');
  assert.is((await takeBackup(hub.httpPort, root)).status, 200, 'the next one, after, is taken');
});

test.run();
