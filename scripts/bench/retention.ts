/**
 * Retention and rollups (docs/BENCHMARKS.md "Retention and rollups"):
 *
 *   npm run bench -- --only retention [--retention-sensors 1000 --retention-seconds 300 --retention-parts ingest,bytes,year]
 *
 * 1. ingest rate with rollups and retention at work, as a ratio to a hub with neither, same run
 *    and same data: each hub first gets 4 h of old readings by upload (the one with retention
 *    then rolls them up and drops them while the timed ingest runs), then the dataset over TCP;
 * 2. bytes per reading across raw and rollups after a year under `--retention 30d` and the
 *    default tiers, composed from the bytes a raw reading and a tier row take in the store;
 * 3. a year of hourly buckets for 3,000 series out of the 1h tier: the whole export, one room's
 *    (30 sensors, 90 series) and one series' (`year-room`: the room and the series only, a
 *    quick run; the whole export is bounded by the CSV's transfer, 26M rows).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { DATABASE_FILE, DDL, SCHEMA_VERSION } from '../../hub/store/schema.ts';
import { rawLevel, rollInto, tierTableDdl } from '../../hub/store/rollup-sql.ts';
import { tierTable } from '../../hub/store/rollup-tiers.ts';
import { forEachReading, METRICS, sensorId, type Dataset } from './dataset.ts';
import { startHub } from './hub-process.ts';
import { buildPayloads, runIngest } from './ingest.ts';

const HOUR = 3_600_000;
const DAY = 86_400_000;

export interface RetentionBenchOptions {
  sensors: number;
  seconds: number;
  progress(message: string): void;
  /** which parts: ingest, bytes, year (or year-room) */
  parts: string[];
  /** each part's table, as it is done */
  write(text: string): void;
}

export async function runRetentionBench(o: RetentionBenchOptions): Promise<void> {
  if (o.parts.includes('ingest')) o.write(await ingestRatio(o));
  if (o.parts.includes('bytes')) o.write(await bytesPerReading(o));
  if (o.parts.includes('year') || o.parts.includes('year-room')) o.write(await yearOfHours(o, !o.parts.includes('year')));
}

/** The old readings each hub gets first: 4 h of every sensor, 5 h ago, as CSV. */
function oldCsv(sensors: number, now: number): string {
  const d: Dataset = { sensors, seconds: 4 * 3600, startTs: Math.floor((now - 5 * HOUR) / 1000) * 1000 };
  const lines = ['ts,sensor,room,metric,value'];
  for (let s = 0; s < sensors; s++) {
    let k = 0;
    // one reading a minute: 240 per sensor and metric
    forEachReading(d, s, (metric, value, ts) => {
      if (k++ % 180 < 3) lines.push(`${ts},${sensorId(s)},bench-room,${metric},${value}`);
    });
  }
  return lines.join('\n') + '\n';
}

async function ingestRatio(o: RetentionBenchOptions): Promise<string> {
  const now = Date.now();
  const csv = oldCsv(o.sensors, now);
  const rows: string[] = [];
  const rates: Record<string, number[]> = { without: [], with: [] };

  // Alternated, twice each: the machine's load moves between runs.
  for (const kind of ['without', 'with', 'without', 'with'] as const) {
    const dir = mkdtempSync(join(tmpdir(), 'roomwatch-bench-retention-'));
    try {
      const args = kind === 'with' ? ['--retention', '1h'] : ['--rollups', 'none'];
      // The old readings go in before the retention is on (it would refuse them), then the hub restarts with it.
      const loader = await startHub(dir, kind === 'with' ? [] : args);
      const up = await fetch(`http://127.0.0.1:${loader.httpPort}/api/v1/readings`, {
        method: 'POST',
        headers: { 'content-type': 'text/csv' },
        body: csv,
      });
      if (up.status !== 200) throw new Error(`upload: ${up.status} ${await up.text()}`);
      await loader.stop();
      const hub = await startHub(dir, args);
      // Live readings: from 2 min ahead on (sent faster than real time), so none is late for the rollups.
      const d: Dataset = { sensors: o.sensors, seconds: o.seconds, startTs: Math.floor(Date.now() / 1000) * 1000 + 120_000 };
      const { payloads, lastSeqs, readings } = buildPayloads(d, { kind: 'batch', size: 500 });
      o.progress(`retention: ingest ${kind} rollups and retention`);
      const { elapsedMs } = await runIngest(hub.tcpPort, d, payloads, lastSeqs);
      const health = (await (await fetch(`http://127.0.0.1:${hub.httpPort}/api/v1/health`)).json()) as {
        retention?: { readings_dropped: number; tiers: { width: string; lag_s: number }[] };
      };
      await hub.stop();
      const rate = readings / (elapsedMs / 1000);

      rates[kind]!.push(rate);
      const r = health.retention;
      rows.push(
        `| ${kind} | ${readings.toLocaleString('en')} | ${Math.round(rate).toLocaleString('en')} | ${r ? `${r.readings_dropped.toLocaleString('en')} dropped during the run; lag ${r.tiers.map((t) => `${t.width} ${t.lag_s} s`).join(', ')}` : 'none'} |`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return (
    `Ingest (${o.sensors} sensors x 3 metrics x ${o.seconds} s, batches of 500) with rollups (1m, 1h) and --retention 1h at work, against --rollups none, same run, alternated\n\n` +
    `| hub | readings | readings/s | rollups and retention meanwhile |\n|---|---|---|---|\n${rows.join('\n')}\n\n` +
    `ratio with/without: ${(mean(rates.with!) / mean(rates.without!)).toFixed(2)} (target >= 0.9)\n`
  );
}

/** Bytes a row takes in a table alone: the file of a store holding only it, checkpointed. */
async function tableBytes(
  dir: string,
  name: string,
  fill: (c: import('@duckdb/node-api').DuckDBConnection) => Promise<void>,
): Promise<{ bytes: number; rows: number }> {
  const path = join(dir, `${name}.duckdb`);
  const instance = await DuckDBInstance.create(path);
  const c = await instance.connect();
  await fill(c);
  await c.run('CHECKPOINT');
  const rows = Number((await c.runAndReadAll(`SELECT count(*) FROM ${name}`)).getRows()[0]![0]);
  const empty = Number((await c.runAndReadAll('SELECT block_size * 3 FROM pragma_database_size()')).getRows()[0]![0]);
  c.closeSync();
  instance.closeSync();
  return { bytes: statSync(path).size - empty, rows };
}

async function bytesPerReading(o: RetentionBenchOptions): Promise<string> {
  o.progress('retention: bytes per reading');
  const dir = mkdtempSync(join(tmpdir(), 'roomwatch-bench-bytes-'));
  try {
    // A day of 100 sensors x 3 metrics at 1 Hz, sorted as the compaction leaves them; its tiers from it.
    const day = async (c: import('@duckdb/node-api').DuckDBConnection, temp = false) => {
      await c.run(`CREATE ${temp ? 'TEMP ' : ''}TABLE readings AS SELECT (i % 300)::INTEGER AS series_id, ${Date.UTC(2026, 0, 1)} + (i // 300) * 1000 + (i % 100) AS ts,
        round(22 + 3 * sin((i // 300) / 300 + (i % 300)) + random() - 0.5, 1) AS value FROM range(${300 * 86_400}) t(i) ORDER BY ts, series_id`);
    };
    const raw = await tableBytes(dir, 'readings', day);
    // The day's raw readings in a temp table (not in the file); a tier of a day's few rows would be
    // all block overhead, so its day repeats, shifted, for `days` days.
    const tier = async (width: number, days: number) =>
      tableBytes(dir, tierTable(width), async (c) => {
        await day(c, true);
        await c.run(`CREATE TEMP TABLE one_day AS ${rollInto(rawLevel('true'), width)}`);
        await c.run(tierTableDdl(tierTable(width)));
        await c.run(`INSERT INTO ${tierTable(width)} SELECT series_id, bucket + d * ${DAY}, n, total, lo, hi FROM one_day, range(${days}) t(d)
          ORDER BY bucket + d * ${DAY}, series_id`);
      });
    const minute = await tier(60_000, 3);
    const hour = await tier(HOUR, 365);
    const perRow = (t: { bytes: number; rows: number }) => t.bytes / t.rows;
    // A year at 1 Hz per series, under --retention 30d and 1m:365d,1h:forever.
    const perSeries = { raw: 30 * 86_400, minute: 365 * 1440, hour: 365 * 24, readings: 365 * 86_400 };
    const bytes = perSeries.raw * perRow(raw) + perSeries.minute * perRow(minute) + perSeries.hour * perRow(hour);
    return (
      `\nBytes per reading after a year under --retention 30d, tiers 1m:365d,1h:forever (1 Hz series; a day of 300 series measured per table, composed)\n\n` +
      `| table | bytes/row | rows per series kept |\n|---|---|---|\n` +
      `| readings (sorted) | ${perRow(raw).toFixed(2)} | ${perSeries.raw.toLocaleString('en')} (30 d) |\n` +
      `| rollup 1m | ${perRow(minute).toFixed(2)} | ${perSeries.minute.toLocaleString('en')} (365 d) |\n` +
      `| rollup 1h | ${perRow(hour).toFixed(2)} | ${perSeries.hour.toLocaleString('en')} (a year) |\n\n` +
      `bytes per reading of the year: ${(bytes / perSeries.readings).toFixed(3)} (raw kept forever: ${perRow(raw).toFixed(2)})\n`
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A store with 3,000 series and a year of their hourly buckets in the 1h tier, made directly. */
async function yearOfHours(o: RetentionBenchOptions, roomOnly: boolean): Promise<string> {
  o.progress('retention: a year of hourly buckets for 3,000 series');
  const dir = mkdtempSync(join(tmpdir(), 'roomwatch-bench-year-'));
  try {
    const to = Math.floor(Date.now() / HOUR) * HOUR - 2 * HOUR;
    const from = to - 365 * DAY;
    const instance = await DuckDBInstance.create(join(dir, DATABASE_FILE));
    const c = await instance.connect();
    for (const sql of DDL) await c.run(sql);
    await c.run(`INSERT INTO meta VALUES ('schema_version', '${SCHEMA_VERSION}')`);
    // 1,000 sensors x 3 metrics, 30 sensors a room
    await c.run(`INSERT INTO series SELECT i, i, 'bench-' || lpad((i // 3)::VARCHAR, 4, '0'), 'room-' || ((i // 3) // 30)::VARCHAR,
      ['${METRICS.map((m) => m.metric).join("','")}'][i % 3 + 1], ['${METRICS.map((m) => m.unit).join("','")}'][i % 3 + 1] FROM range(3000) t(i)`);
    const hours = tierTable(HOUR);
    await c.run(tierTableDdl(hours));
    await c.run(`INSERT INTO ${hours} SELECT s, ${from} + h * ${HOUR}, 3600, 3600 * v, v - 1.5, v + 1.7 FROM
      (SELECT s, h, round(22 + 3 * sin(h / 24 + s), 2) AS v FROM range(3000) a(s), range(${365 * 24}) b(h)) ORDER BY h, s`);
    await c.run(tierTableDdl(tierTable(60_000)));
    await c.run(`INSERT INTO rollup_tiers VALUES (60000, ${to}, ${to}), (${HOUR}, ${to}, NULL)`);
    await c.run(`INSERT INTO meta VALUES ('raw_kept_from', '${to}')`);
    await c.run('CHECKPOINT');
    c.closeSync();
    instance.closeSync();
    const hub = await startHub(dir, ['--retention', '30d']);
    // The hub rewrites the tier's settled buckets in series order in the background (rollup-cluster.ts):
    // measured once that is done, as a hub that has run for a while has them.
    const settled = await retentionIdle(hub.httpPort);
    o.progress(`retention: the hub's background work on the year took ${(settled / 1000).toFixed(1)} s`);
    const rows: string[] = [];
    const exports = [
      ['3,000 series', ''],
      ['one room (30 sensors, 90 series)', '&room=room-7'],
      ['one series', '&sensor=bench-0042&metric=humidity'],
    ] as const;
    for (const [what, filter] of roomOnly ? exports.slice(1) : exports) {
      // The whole export once; a room and a series YEAR_REPEATS times (the first is cold).
      const runs: { firstByteMs: number; ms: number; lines: number; bytes: number }[] = [];
      for (let i = 0; i < (filter === '' ? 1 : YEAR_REPEATS); i++)
        runs.push(await timedExport(`http://127.0.0.1:${hub.httpPort}/api/v1/history.csv?every=1h&from=${from}&to=${to}&time=ms${filter}`));
      const [r] = runs;
      rows.push(
        `| ${what} | ${r!.lines.toLocaleString('en')} | ${(r!.bytes / 2 ** 20).toFixed(1)} | ${runs.map((x) => x.firstByteMs.toFixed(0)).join(', ')} | ${runs.map((x) => x.ms.toFixed(0)).join(', ')} |`,
      );
    }
    await hub.stop();
    return (
      `\nA year of hourly buckets out of the 1h tier (GET history.csv every=1h, a year; the hub's background work on it took ${(settled / 1000).toFixed(1)} s)\n\n` +
      `| export | rows | MB | first byte ms | all ms |\n|---|---|---|---|---|\n${rows.join('\n')}\n`
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A room's and a series' year are timed this many times each, one after another. */
const YEAR_REPEATS = 3;

/** Waits until the hub's rollups have nothing left to do (health says idle); returns how long that took. */
async function retentionIdle(httpPort: number): Promise<number> {
  const started = performance.now();
  for (;;) {
    const h = (await (await fetch(`http://127.0.0.1:${httpPort}/api/v1/health`)).json()) as {
      retention?: { state: string; last_error?: string };
    };
    if (h.retention?.last_error) throw new Error(`rollups: ${h.retention.last_error}`);
    if (h.retention?.state === 'idle') return performance.now() - started;
    if (performance.now() - started > 15 * 60_000) throw new Error('the rollups were not idle within 15 min');
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** One export, read as it comes (the whole export is over a GB): bytes and rows counted, nothing kept. */
async function timedExport(url: string): Promise<{ firstByteMs: number; ms: number; lines: number; bytes: number }> {
  const started = performance.now();
  const res = await fetch(url);
  let bytes = 0;
  let lines = -1;
  let firstByteMs = 0;
  for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
    if (bytes === 0) firstByteMs = performance.now() - started;
    bytes += chunk.length;
    const b = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, i + 1)) lines++;
  }
  return { firstByteMs, ms: performance.now() - started, lines, bytes };
}
