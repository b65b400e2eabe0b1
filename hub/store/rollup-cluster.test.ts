// Clustering a rollup tier by series (rollup-cluster.ts): the settled buckets are rewritten in
// eras, each in (series, bucket) order, and every query answers the same rows as before, through
// a restart in the middle of an era and a late bucket recomputed meanwhile. On a real DuckDB file.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatMean } from '../history/csv-rows.ts';
import { tieredBucketSql, type RollupState } from '../history/rollup-query.ts';
import type { HistoryQuery } from '../history/history-query.ts';
import { clusterKey, TierClusterer, type ClusterOptions } from './rollup-cluster.ts';
import { tierTableDdl } from './rollup-sql.ts';
import { tierTable } from './rollup-tiers.ts';
import { DDL } from './schema.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const SERIES = 60;
const HOURS = 2_000;
const FROM = Date.UTC(2026, 0, 1);
const TO = FROM + HOURS * HOUR;
const TABLE = tierTable(HOUR);
const OPTIONS: ClusterOptions = { eraRows: 20_000, sliceRows: 5_000, settledMs: DAY };
const TIER = { rolledBelow: TO, keptFrom: null };
const STATE: RollupState = { tiers: [{ widthMs: HOUR, rolledBelow: TO, keptFrom: null, table: TABLE }], rawKeptFrom: null, stale: null };

async function withStore(run: (c: DuckDBConnection) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'roomwatch-cluster-'));
  const instance = await DuckDBInstance.create(join(dir, 'store.duckdb'));
  const c = await instance.connect();
  try {
    for (const sql of DDL) await c.run(sql);
    // 20 sensors x 3 metrics, 10 sensors a room
    await c.run(
      `INSERT INTO series SELECT i, i, 's-' || (i // 3), 'room-' || (i // 30), ['t', 'h', 'c'][i % 3 + 1], '' FROM range(${SERIES}) r(i)`,
    );
    await c.run(tierTableDdl(TABLE));
    // As the rolls leave a tier: in bucket order, every series in each bucket (a few missing).
    await c.run(`INSERT INTO ${TABLE} SELECT s, ${FROM} + h * ${HOUR}, 60 + s, (60 + s) * (20 + sin(h + s) / 7), 19 + s / 3, 21 + h / 1000
      FROM range(${HOURS}) a(h), range(${SERIES}) b(s) WHERE (h * 7 + s) % 97 <> 0 ORDER BY h, s`);
    await c.run(`CREATE TABLE expected AS SELECT * FROM ${TABLE}`);
    await run(c);
  } finally {
    c.closeSync();
    instance.closeSync();
    rmSync(dir, { recursive: true, force: true });
  }
}

const rows = async (c: DuckDBConnection, sql: string) =>
  JSON.stringify((await c.runAndReadAll(sql)).getRows(), (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));

/**
 * A bucketed query's rows with the mean as the export writes it: buckets merged from several rows
 * (every=1d from the 1h tier) sum them with fsum, whose last bit can depend on the rows' order
 * (as on DuckDB's threads), and the export's 12 significant digits leave that bit out.
 */
const exported = async (c: DuckDBConnection, sql: string) =>
  JSON.stringify(
    (await c.runAndReadAll(sql))
      .getRows()
      .map(([sid, bucket, n, lo, hi, mean, k]) => [
        sid,
        String(bucket),
        String(n),
        lo,
        hi,
        formatMean(Number(mean), Number(lo), Number(hi)),
        String(k),
      ]),
  );

const query = (q: Partial<HistoryQuery>): HistoryQuery => ({
  sensors: null,
  rooms: null,
  metrics: null,
  fromMs: FROM,
  toMs: TO,
  everyMs: HOUR,
  time: 'ms',
  ...q,
});
const QUERIES = [
  query({ rooms: ['room-1'] }),
  query({ sensors: ['s-7'], metrics: ['h'] }),
  query({ everyMs: DAY, rooms: ['room-0'] }),
  query({ fromMs: FROM + 300 * HOUR, toMs: FROM + 900 * HOUR }),
];

/** Every query's answer on the tier, and the tier's rows against `expected`. */
async function answers(c: DuckDBConnection): Promise<string[]> {
  return Promise.all([
    rows(c, `SELECT * FROM ${TABLE} ORDER BY series_id, bucket`),
    ...QUERIES.map((q) => exported(c, tieredBucketSql(q, STATE, 0))),
  ]);
}

/** Steps until there is nothing to do; counts each kind. */
async function runAll(c: DuckDBConnection, k: TierClusterer, now: number): Promise<Record<string, number>> {
  const seen: Record<string, number> = { planned: 0, slice: 0, 'era-done': 0 };
  for (let i = 0; i < 1_000; i++) {
    const step = await k.step(c, TIER, now);
    if (step === false) return seen;
    seen[step]!++;
  }
  throw new Error('clustering did not finish in 1,000 steps');
}

/** In table order, how often (series, bucket) goes back among the rows below `mark`. */
async function descents(c: DuckDBConnection, mark: number): Promise<number> {
  const [[n]] = (
    await c.runAndReadAll(`SELECT count(*) FROM (SELECT series_id, bucket, lag(series_id) OVER w AS ps, lag(bucket) OVER w AS pb
      FROM ${TABLE} WHERE bucket < ${mark} WINDOW w AS (ORDER BY rowid)) WHERE series_id < ps OR (series_id = ps AND bucket < pb)`)
  ).getRows() as [[bigint]];
  return Number(n);
}

test('settled buckets are rewritten in series order, era by era, and every query answers the same rows', async () => {
  await withStore(async (c) => {
    const before = await answers(c);
    const k = new TierClusterer(TABLE, HOUR, OPTIONS);
    const seen = await runAll(c, k, TO + 10 * DAY);
    assert.ok(seen.planned! >= 4, `several eras: ${JSON.stringify(seen)}`);
    assert.is(seen['era-done'], seen.planned, 'each era finished');
    assert.ok(seen.slice! >= 3 * seen.planned!, 'each era in several slices');
    const mark = k.clusteredBelow!;
    // Left: less than an era (about 20,000 rows: 333 hours of 60 series).
    assert.ok(mark > TO - 400 * HOUR && mark <= TO, `all but less than an era is clustered: ${new Date(mark).toISOString()}`);
    assert.equal(await answers(c), before, 'the same rows and the same answers');
    // Each era is one run in (series, bucket) order: the order goes back only where an era begins.
    assert.is(await descents(c, mark), seen.planned! - 1);
    // A series' rows of an era lie together: one run per series and era.
    const [[runs]] = (
      await c.runAndReadAll(`SELECT count(*) FROM (SELECT series_id, lag(series_id) OVER (ORDER BY rowid) AS p FROM ${TABLE}
        WHERE bucket < ${mark}) WHERE p IS NULL OR p <> series_id`)
    ).getRows() as [[bigint]];
    assert.is(Number(runs), SERIES * seen.planned!);
  });
});

test('a restart in the middle of an era goes on from the mark; a bucket recomputed meanwhile keeps its new values', async () => {
  await withStore(async (c) => {
    const first = new TierClusterer(TABLE, HOUR, OPTIONS);
    let slices = 0;
    while (slices < 6) if ((await first.step(c, TIER, TO + 10 * DAY)) === 'slice') slices++;
    const [[value]] = (await c.runAndReadAll(`SELECT value FROM meta WHERE key = '${clusterKey(HOUR)}'`)).getRows() as [[string]];
    const [below, eraHi, next] = value.split(':').map(Number);
    assert.ok(eraHi! > below! && next! > 0, `an era under way: ${value}`);

    // A late reading's buckets recomputed as rollup-state.ts does it: deleted and inserted again, here
    // one of a series already rewritten and one not yet, in the era under way.
    for (const table of [TABLE, 'expected']) {
      await c.run(`DELETE FROM ${table} WHERE bucket = ${below! + HOUR} AND series_id IN (0, ${SERIES - 1})`);
      await c.run(
        `INSERT INTO ${table} VALUES (0, ${below! + HOUR}, 99, 1980.5, 1, 30), (${SERIES - 1}, ${below! + HOUR}, 99, 1980.5, 1, 30)`,
      );
    }
    const before = await answers(c);
    assert.equal(await rows(c, `SELECT * FROM expected ORDER BY series_id, bucket`), before[0], 'the tier as expected');

    // A new clusterer (the hub restarted) reads the mark and finishes the era, then the others.
    const second = new TierClusterer(TABLE, HOUR, OPTIONS);
    const seen = await runAll(c, second, TO + 10 * DAY);
    assert.ok(seen['era-done']! >= 1);
    assert.equal(await answers(c), before, 'the same rows and answers, the recomputed buckets included');
  });
});

test('a tier that begins sparse (one series for 100 hours, then 60) is clustered all the same', async () => {
  await withStore(async (c) => {
    for (const table of [TABLE, 'expected']) await c.run(`DELETE FROM ${table} WHERE bucket < ${FROM + 100 * HOUR} AND series_id > 0`);
    const before = await answers(c);
    const k = new TierClusterer(TABLE, HOUR, OPTIONS);
    const seen = await runAll(c, k, TO + 10 * DAY);
    assert.ok(seen.planned! >= 4, `several eras: ${JSON.stringify(seen)}`);
    assert.ok(k.clusteredBelow! > TO - 400 * HOUR, 'all but less than an era');
    assert.equal(await answers(c), before);
  });
});

test('nothing moves before an era’s worth of buckets is settled', async () => {
  await withStore(async (c) => {
    const k = new TierClusterer(TABLE, HOUR, OPTIONS);
    // Settled: a day behind this clock, so only the first 200 hours (12,000 rows, under an era).
    assert.is(await k.step(c, TIER, FROM + 200 * HOUR + DAY), false);
    assert.is(k.clusteredBelow, null);
    const [[n]] = (await c.runAndReadAll(`SELECT count(*) FROM meta WHERE key = '${clusterKey(HOUR)}'`)).getRows() as [[bigint]];
    assert.is(Number(n), 0, 'no mark written');
  });
});

test.run();
