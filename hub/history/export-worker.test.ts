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

function fakeDuckDb(failingWindow: number) {
  let streams = 0;
  const closed: number[] = [];
  let opened = 0;
  const instance = {
    async connect() {
      const id = opened++;
      return {
        async runAndReadAll(sql: string) {
          const rows = sql.includes('FROM series') ? [[0, 0, 'fx', 'room', 'temperature', 'C']] : [[BigInt(ROWS), 0n, BigInt(ROWS - 1)]];
          return { getRows: () => rows };
        },
        stream() {
          const window = streams++;
          if (window === failingWindow) return Promise.reject(new Error('Out of Memory Error: could not allocate block'));
          let left = 2;
          return Promise.resolve({
            // Formatting takes several turns of the event loop: long enough for the next window to fail meanwhile.
            async fetchChunk() {
              await new Promise((r) => setTimeout(r, 20));
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
  return { instance: instance as unknown as DuckDBInstance, closed: () => closed, opened: () => opened };
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

test.run();
