// The store worker's half of a history export, on a fake DuckDB: a window queried ahead that
// fails (out of memory) while the one before it is still being formatted must surface as the
// export's error, never as an unhandled rejection (which ends the store's thread, and with it
// the hub), and the export's connections are closed whatever happens.
import { MessageChannel } from 'node:worker_threads';
import type { DuckDBInstance } from '@duckdb/node-api';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { HistoryQuery } from './history-query.ts';
import { runExport } from './export-worker.ts';

const QUERY: HistoryQuery = { sensors: null, rooms: null, metrics: null, fromMs: null, toMs: null, everyMs: null, time: 'ms' };
const ROWS = 600_000; // more than two windows of 250,000

/** One chunk of `n` raw rows of series 0 from ts `t0`, as the export reads DuckDB's vectors. */
function chunk(t0: number, n: number) {
  const cols = [
    { items: new Int32Array(n) },
    { items: BigInt64Array.from({ length: n }, (_, i) => BigInt(t0 + i)) },
    { items: new Float64Array(n).fill(1) },
  ];
  return { rowCount: n, getColumnVector: (i: number) => cols[i] };
}

/** The catalog and the extent (count, min ts, max ts) the fake store answers with. */
interface FakeData {
  series: unknown[][];
  extent: bigint[];
}
const ONE_SERIES: FakeData = { series: [[0, 0, 'fx', 'room', 'temperature', 'C']], extent: [BigInt(ROWS), 0n, BigInt(ROWS - 1)] };

function fakeDuckDb(failingWindow: number, data = ONE_SERIES) {
  let streams = 0;
  let extents = 0;
  const closed: number[] = [];
  let opened = 0;
  const instance = {
    async connect() {
      const id = opened++;
      return {
        async runAndReadAll(sql: string) {
          // No rollup tiers (rollup-query.ts): the raw readings answer.
          if (/FROM rollup_tiers|FROM meta/.test(sql)) return { getRows: () => [] };
          if (!sql.includes('FROM series')) extents++;
          const rows = sql.includes('FROM series') ? data.series : [data.extent];
          return { getRows: () => rows };
        },
        stream() {
          const window = streams++;
          if (window === failingWindow) return Promise.reject(new Error('Out of Memory Error: could not allocate block'));
          // Only the failure's test reads rows; the others count the queries.
          let left = data === ONE_SERIES ? 2 : 0;
          return Promise.resolve({
            // Formatting takes several turns of the event loop: long enough for the next window to fail meanwhile.
            async fetchChunk() {
              if (left > 0) await new Promise((r) => setTimeout(r, 20));
              return left-- > 0 ? chunk(window * 1000, 1000) : null;
            },
          });
        },
        closeSync() {
          closed.push(id);
        },
      };
    },
  };
  return {
    instance: instance as unknown as DuckDBInstance,
    closed: () => closed,
    opened: () => opened,
    streams: () => streams,
    extents: () => extents,
  };
}

test('a window queried ahead that fails is the export’s error, not an unhandled rejection; both connections are closed', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  const { port1, port2 } = new MessageChannel();
  port2.on('message', () => undefined); // the CSV chunks
  const db = fakeDuckDb(1);
  try {
    let error: Error | null = null;
    await runExport(db.instance, port1, 1, QUERY).catch((e: Error) => (error = e));
    await new Promise((r) => setImmediate(r));
    assert.equal(unhandled, [], 'no unhandled rejection');
    assert.match(String(error), /Out of Memory/, 'the export fails with the window’s error');
    assert.equal(db.closed().sort(), [0, 1], 'both connections closed');
  } finally {
    process.off('unhandledRejection', onUnhandled);
    port1.close();
  }
});

test('a bucketed export of a week of 1 Hz readings is a few store queries, cut by buckets, not by readings', async () => {
  // The dashboard's room view: 20 sensors x 3 metrics x 7 days at 1 Hz (36,288,000 readings),
  // in 1 min buckets (604,800 of them); cut by readings it was 144 queries. Another room's
  // series are in the catalog too: they are not counted.
  const week = 7 * 86_400_000;
  const series: unknown[][] = [];
  for (const room of ['bench-room', 'other']) {
    for (let s = 0; s < 20; s++) {
      for (const metric of ['temperature', 'humidity', 'co2']) series.push([series.length, 0, `s${s}-${room}`, room, metric, 'x']);
    }
  }
  const db = fakeDuckDb(-1, { series, extent: [36_288_000n, 0n, BigInt(week - 1)] });
  const { port1, port2 } = new MessageChannel();
  port2.on('message', () => undefined);
  try {
    const q: HistoryQuery = { ...QUERY, rooms: ['bench-room'], fromMs: 0, toMs: week, everyMs: 60_000 };
    await runExport(db.instance, port1, 2, q);
    assert.equal(db.streams(), Math.ceil((60 * 10_080) / 250_000), 'windows of at most 250,000 buckets');
    assert.equal(db.extents(), 1, 'counted first, to cut it');
    // The chart's own request (10 min buckets, 60,480 rows): one query, and no count before it.
    const chart = fakeDuckDb(-1, { series, extent: [36_288_000n, 0n, BigInt(week - 1)] });
    await runExport(chart.instance, port1, 4, { ...q, everyMs: 600_000 });
    assert.equal([chart.streams(), chart.extents()], [1, 0]);
    // Raw rows still go in windows of 250,000 readings.
    const raw = fakeDuckDb(-1, { series, extent: [36_288_000n, 0n, BigInt(week - 1)] });
    await runExport(raw.instance, port1, 3, { ...q, everyMs: null });
    assert.equal(raw.streams(), Math.ceil(36_288_000 / 250_000));
  } finally {
    port1.close();
  }
});

test.run();
