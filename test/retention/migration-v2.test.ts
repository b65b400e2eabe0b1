// docs/ADMIN.md "Upgrades": a data folder of schema 2 (the version before rollups) is migrated
// to 3 at open, logged, and its readings are rolled up in the background: the bucketed export
// out of the new tiers equals the buckets of the raw readings it had.
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { DuckDBInstance } from '@duckdb/node-api';
import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildHub } from '../../hub/hub.ts';
import { SCHEMA_VERSION } from '../../hub/store/schema.ts';
import { history } from '../support/api-client.ts';
import { tempDataDir, withTimeout } from '../support/hub-process.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';
import { HOUR, rolledUpTo } from './retention-support.ts';

test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

/** Schema 2's tables with rows (git show 2f3a8c7:hub/store/schema.ts): all but the rollup ones. */
const V2_DDL = [
  `CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)`,
  `CREATE TABLE series (id INTEGER PRIMARY KEY, channel INTEGER NOT NULL, sensor VARCHAR NOT NULL, room VARCHAR NOT NULL,
     metric VARCHAR NOT NULL, unit VARCHAR NOT NULL)`,
  `CREATE TABLE readings (series_id INTEGER NOT NULL, ts BIGINT NOT NULL, value DOUBLE NOT NULL)`,
  `CREATE TABLE sensors (sensor VARCHAR PRIMARY KEY, room VARCHAR NOT NULL, first_seen BIGINT NOT NULL, last_seen BIGINT NOT NULL,
     address VARCHAR, declared_metrics VARCHAR NOT NULL)`,
  `CREATE TABLE alert_rules (name VARCHAR PRIMARY KEY, rule VARCHAR NOT NULL, room VARCHAR, sensor VARCHAR, webhooks VARCHAR NOT NULL,
     updated_at BIGINT NOT NULL)`,
];

const T0 = Math.floor(Date.now() / HOUR) * HOUR - 30 * HOUR;

test('a data folder of schema 2 is migrated to 3 at open, logged, and its readings are rolled up: hourly buckets out of the tier equal those of the raw readings', async () => {
  const dir = (await tempDataDir()).path;
  const instance = await DuckDBInstance.create(join(dir, 'roomwatch.duckdb'));
  const c = await instance.connect();
  for (const sql of V2_DDL) await c.run(sql);
  await c.run(`INSERT INTO meta VALUES ('schema_version', '2')`);
  await c.run(`INSERT INTO series VALUES (1, 1, 'rack-a', 'lab', 'temperature', 'C'), (2, 2, 'rack-b', 'lab', 'humidity', '%')`);
  // 24 h of a reading every 30 s, values with digits to add up
  await c.run(`INSERT INTO readings SELECT 1 + i % 2, ${T0} + i * 15000, round(20 + sin(i / 50) * 3.3, 4) FROM range(5760) t(i)`);
  await c.run(`INSERT INTO sensors VALUES ('rack-a', 'lab', ${T0}, ${T0}, NULL, '{}'), ('rack-b', 'lab', ${T0}, ${T0}, NULL, '{}')`);
  c.closeSync();
  instance.closeSync();

  let logText = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logText += chunk.toString();
      done();
    },
  });
  const hub = buildHub({ host: '127.0.0.1', tcpPort: 0, httpPort: 0, dataDir: dir }, pino({ level: 'info' }, sink));
  perTest.add('hub', () => hub.stop());
  const { httpPort } = await withTimeout(hub.start(), 30_000, 'hub.start()');
  assert.match(logText, new RegExp(`"msg":"migrated the store from schema 2 to ${SCHEMA_VERSION}"`));
  assert.is(SCHEMA_VERSION, 3);

  await rolledUpTo(httpPort, T0 + 24 * HOUR);
  const q = { from: T0, to: T0 + 24 * HOUR, time: 'ms' };
  const raw = (await history(httpPort, q)).trimEnd().split('\n').slice(1);
  assert.is(raw.length, 5760, 'every reading came through');
  // The buckets of the raw readings, rolled here: count, min, max exactly; mean to 12 digits.
  const by = new Map<string, number[]>();
  for (const line of raw) {
    const [ts, sensor, , , value] = line.split(',');
    const key = `${Math.floor(Number(ts) / HOUR) * HOUR},${sensor}`;
    by.set(key, [...(by.get(key) ?? []), Number(value)]);
  }
  const hourly = (await history(httpPort, { ...q, every: '1h' })).trimEnd().split('\n').slice(1);
  assert.is(hourly.length, by.size, 'a bucket per hour and series');
  for (const line of hourly) {
    const [ts, sensor, , , , n, lo, hi, mean] = line.split(',');
    const values = by.get(`${ts},${sensor}`)!;
    assert.equal([Number(n), Number(lo), Number(hi)], [values.length, Math.min(...values), Math.max(...values)], line);
    assert.ok(Math.abs(Number(mean) - values.reduce((a, b) => a + b, 0) / values.length) < 1e-9, line);
  }
});

test.run();
