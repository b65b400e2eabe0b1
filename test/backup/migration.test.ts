// docs/ADMIN.md "Upgrades": the store's schema version is checked at open; a data folder made by
// an earlier Roomwatch is migrated in one transaction (logged "migrated the store from schema N
// to M") and every reading comes through; a newer one is refused, and left as it was. The old
// stores are made here by the DDL those versions ran (git show 6120b9c:hub/store/schema.ts, the
// first hub; git show 77f32c2:hub/store/schema.ts, the version before the alert tables).
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { DuckDBInstance } from '@duckdb/node-api';
import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildHub } from '../../hub/hub.ts';
import { SCHEMA_VERSION } from '../../hub/store/schema.ts';
import { asUser } from '../support/access-setup.ts';
import { queryString } from '../support/api-client.ts';
import { tempDataDir, withTimeout } from '../support/hub-process.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';

test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

/** Schema 1 as the first hub wrote it (6120b9c): series had no channel. */
const FIRST_DDL = [
  `CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)`,
  `CREATE TABLE series (id INTEGER PRIMARY KEY, sensor VARCHAR NOT NULL, room VARCHAR NOT NULL, metric VARCHAR NOT NULL, unit VARCHAR NOT NULL)`,
  `CREATE TABLE readings (series_id INTEGER NOT NULL, ts BIGINT NOT NULL, value DOUBLE NOT NULL)`,
  `CREATE TABLE sensors (sensor VARCHAR PRIMARY KEY, room VARCHAR NOT NULL, first_seen BIGINT NOT NULL, last_seen BIGINT NOT NULL,
     address VARCHAR, declared_metrics VARCHAR NOT NULL)`,
  `CREATE TABLE connections (id BIGINT PRIMARY KEY, sensor VARCHAR NOT NULL, address VARCHAR NOT NULL, connected_at BIGINT NOT NULL,
     disconnected_at BIGINT)`,
];

/** Schema 1 as the version before wrote it (77f32c2): channel, users, tokens, sessions, activity; no alert tables. */
const PREVIOUS_DDL = [
  FIRST_DDL[0]!,
  `CREATE TABLE series (id INTEGER PRIMARY KEY, channel INTEGER NOT NULL, sensor VARCHAR NOT NULL, room VARCHAR NOT NULL,
     metric VARCHAR NOT NULL, unit VARCHAR NOT NULL)`,
  ...FIRST_DDL.slice(2),
  `CREATE TABLE users (name VARCHAR PRIMARY KEY, password_hash VARCHAR NOT NULL, role VARCHAR NOT NULL, rooms VARCHAR NOT NULL,
     created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)`,
  `CREATE TABLE sensor_tokens (id VARCHAR PRIMARY KEY, secret_sha256 VARCHAR NOT NULL, sensor_pattern VARCHAR NOT NULL, rooms VARCHAR NOT NULL,
     note VARCHAR NOT NULL, created_at BIGINT NOT NULL, created_by VARCHAR NOT NULL, revoked_at BIGINT)`,
  `CREATE TABLE sessions (secret_sha256 VARCHAR PRIMARY KEY, user_name VARCHAR NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL)`,
  `CREATE TABLE activity (id BIGINT PRIMARY KEY, ts BIGINT NOT NULL, actor VARCHAR NOT NULL, address VARCHAR NOT NULL, action VARCHAR NOT NULL,
     target VARCHAR NOT NULL, outcome VARCHAR NOT NULL, code INTEGER NOT NULL, detail VARCHAR NOT NULL)`,
];

const T0 = Date.now() - 3_600_000;
/** Two sensors, three series (one sensor moved rooms): 3 x 500 readings. */
const SERIES = [
  { id: 1, sensor: 'rack-a', room: 'lab', metric: 'temperature', unit: 'C' },
  { id: 2, sensor: 'rack-a', room: 'server-room', metric: 'temperature', unit: 'C' },
  { id: 3, sensor: 'rack-b', room: 'lab', metric: 'humidity', unit: '%' },
];
const PER_SERIES = 500;

async function makeOldStore(dataDir: string, ddl: string[], version: string | null, withChannel: boolean): Promise<void> {
  const instance = await DuckDBInstance.create(join(dataDir, 'roomwatch.duckdb'));
  const c = await instance.connect();
  for (const sql of ddl) await c.run(sql);
  if (version !== null) await c.run(`INSERT INTO meta VALUES ('schema_version', '${version}')`);
  for (const s of SERIES) {
    const channel = s.sensor === 'rack-a' ? 1 : 2;
    await c.run(
      withChannel
        ? `INSERT INTO series VALUES (${s.id}, ${channel}, '${s.sensor}', '${s.room}', '${s.metric}', '${s.unit}')`
        : `INSERT INTO series VALUES (${s.id}, '${s.sensor}', '${s.room}', '${s.metric}', '${s.unit}')`,
    );
    // rack-a's two series take turns: its readings never share a ts (the identity rule)
    await c.run(`INSERT INTO readings SELECT ${s.id}, ${T0} + i * 1000 + ${s.id}, i / 4 FROM range(${PER_SERIES}) t(i)`);
    await c.run(`INSERT OR REPLACE INTO sensors VALUES ('${s.sensor}', '${s.room}', ${T0}, ${T0 + PER_SERIES * 1000}, NULL, '{}')`);
  }
  c.closeSync();
  instance.closeSync();
}

function capturingLogger(): { logger: pino.Logger; lines: () => { msg: string; from?: number; to?: number }[] } {
  let text = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString();
      done();
    },
  });
  return {
    logger: pino({ level: 'info' }, sink),
    lines: () =>
      text
        .split('\n')
        .filter((l) => l.length > 0)
        .map((l) => JSON.parse(l) as { msg: string }),
  };
}

async function startOn(dataDir: string, logger: pino.Logger) {
  const hub = buildHub({ host: '127.0.0.1', tcpPort: 0, httpPort: 0, dataDir }, logger);
  perTest.add('hub', () => hub.stop());
  const ports = await withTimeout(hub.start(), 30_000, 'hub.start()');
  return { hub, ...ports };
}

async function readingsOf(port: number): Promise<string[]> {
  const res = await asUser(port).get(`/api/v1/history.csv${queryString({ time: 'ms' })}`);
  assert.is(res.status, 200, res.text.slice(0, 300));
  return res.text.trimEnd().split('\n').slice(1).sort();
}

function expectedReadings(): string[] {
  const rows: string[] = [];
  for (const s of SERIES)
    for (let i = 0; i < PER_SERIES; i++) rows.push(`${T0 + i * 1000 + s.id},${s.sensor},${s.room},${s.metric},${i / 4},${s.unit}`);
  return rows.sort();
}

async function migratesAtOpen(ddl: readonly string[], withChannel: boolean): Promise<void> {
  const dir = (await tempDataDir()).path;
  await makeOldStore(dir, [...ddl], '1', withChannel);
  const log = capturingLogger();
  const { httpPort, hub } = await startOn(dir, log.logger);
  const migrated = log.lines().filter((l) => /^migrated the store/.test(l.msg));
  assert.equal(
    migrated.map((l) => l.msg),
    [`migrated the store from schema 1 to ${SCHEMA_VERSION}`],
  );
  assert.equal(await readingsOf(httpPort), expectedReadings(), 'every reading, with its sensor, room, metric, value and unit');
  await hub.stop();

  // Opened again: nothing left to migrate, nothing logged.
  const again = capturingLogger();
  const second = await startOn(dir, again.logger);
  assert.equal(
    again.lines().filter((l) => /^migrated/.test(l.msg)),
    [],
  );
  assert.is((await readingsOf(second.httpPort)).length, SERIES.length * PER_SERIES);
}

test('a data folder of schema 1 made by the version before (users, tokens; no alert tables) is migrated at open, logged, and every reading comes through', () =>
  migratesAtOpen(PREVIOUS_DDL, true));

test('a data folder of schema 1 made by the first hub (no series channel) is migrated at open, logged, and every reading comes through', () =>
  migratesAtOpen(FIRST_DDL, false));

test('a migrated store takes new readings under the identity rule: a repeat of an old reading is a duplicate', async () => {
  const dir = (await tempDataDir()).path;
  await makeOldStore(dir, FIRST_DDL, '1', false);
  const { httpPort } = await startOn(dir, capturingLogger().logger);
  const csv = `ts,sensor,room,metric,value,unit\n${T0 + 1},rack-a,lab,temperature,9,C\n${T0 + PER_SERIES * 1000 + 1},rack-a,lab,temperature,9,C\n`;
  const res = await asUser(httpPort).upload(csv);
  assert.is(res.status, 200, res.text.slice(0, 300));
  const body = JSON.parse(res.text) as { accepted: number; duplicates: number };
  assert.equal([body.accepted, body.duplicates], [1, 1], 'the old reading is recognised; the new one is stored');
});

test('a store of a newer schema is refused with a message that says to upgrade the hub, and is left as it was', async () => {
  const dir = (await tempDataDir()).path;
  await makeOldStore(dir, PREVIOUS_DDL, String(SCHEMA_VERSION + 1), true);
  const hub = buildHub({ host: '127.0.0.1', tcpPort: 0, httpPort: 0, dataDir: dir, logLevel: 'silent' });
  perTest.add('hub', () => hub.stop().catch(() => {}));
  const err = await hub.start().then(
    () => null,
    (e: Error) => e,
  );
  assert.ok(err, 'the hub does not start');
  assert.match(err.message, new RegExp(`schema version ${SCHEMA_VERSION + 1}`));
  assert.match(err.message, /upgrade the hub/);
  const instance = await DuckDBInstance.create(join(dir, 'roomwatch.duckdb'), { access_mode: 'READ_ONLY' });
  const c = await instance.connect();
  const version = (await c.runAndReadAll(`SELECT value FROM meta WHERE key = 'schema_version'`)).getRows()[0]?.[0];
  const tables = (await c.runAndReadAll(`SELECT count(*) FROM information_schema.tables WHERE table_name LIKE 'alert%'`)).getRows()[0]?.[0];
  c.closeSync();
  instance.closeSync();
  assert.is(version, String(SCHEMA_VERSION + 1), 'the version is untouched');
  assert.is(Number(tables), 0, 'no table was added');
});

test.run();
