// PROTOCOL.md §2 "Live stream": the shared log that waits for subscribers, and what a slow one
// is sent: the newest readings after a `dropped` notice, never more than its limit held for it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { WebSocket } from 'ws';
import { parseFilters, type Filters } from '../../protocol/filters.ts';
import { SeriesCatalog } from '../ingest/series-catalog.ts';
import type { Columns } from '../store/store-messages.ts';
import { LiveStream, Subscriber } from './live-stream.ts';
import { LogChunk, StreamLog, type LogReader } from './stream-log.ts';
import { SeriesMatchers } from './stream-matcher.ts';

function filters(source: Record<string, unknown>): Filters {
  const parsed = parseFilters(source);
  if (!parsed.ok) throw new Error(parsed.problem);
  return parsed.filters;
}

function rows(series: number[], ts0 = 1_800_000_000_000): Columns {
  return {
    n: series.length,
    series: Int32Array.from(series),
    ts: Float64Array.from(series, (_, i) => ts0 + i),
    value: Float64Array.from(series, (_, i) => i),
  };
}

/** A WebSocket whose socket keeps what is written, and takes nothing while `full`. */
function fakeSocket(): { ws: WebSocket; messages(): Record<string, unknown>[]; full: boolean } {
  const written: Buffer[] = [];
  const state = { full: false };
  const ws = {
    readyState: 1,
    get bufferedAmount() {
      return state.full ? 64 * 1024 : 0;
    },
    _socket: { writableNeedDrain: false, write: (b: Buffer) => written.push(b), cork() {}, uncork() {}, once() {} },
    close() {},
    terminate() {},
  };
  return {
    ws: ws as unknown as WebSocket,
    get full() {
      return state.full;
    },
    set full(v: boolean) {
      state.full = v;
    },
    messages() {
      // The frames of every write: a 2- or 4-byte header (FIN, text; a length), then the message.
      const bytes = Buffer.concat(written);
      const out: Record<string, unknown>[] = [];
      for (let at = 0; at < bytes.length;) {
        let n = bytes[at + 1]!;
        let head = 2;
        if (n === 126) [n, head] = [bytes.readUInt16BE(at + 2), 4];
        out.push(JSON.parse(bytes.toString('utf8', at + head, at + head + n)) as Record<string, unknown>);
        at += head + n;
      }
      return out;
    },
  };
}

function hubWith(sensors: string[], maxQueuedMessages: number): { stream: LiveStream; ids: number[] } {
  const catalog = new SeriesCatalog();
  const ids = sensors.map((s, i) => catalog.seriesId(s, `room-${i % 2}`, 'temperature', 'C'));
  const stream = new LiveStream(catalog, {
    maxQueuedMessages,
    highWaterBytes: 64 * 1024,
    drainTimeoutMs: 60_000,
    maxQueuedBytes: 64 * 1024 * 1024,
    stallGraceMs: 1_000,
  });
  return { stream, ids };
}

test('a chunk keeps only the stored rows, and counts and skips the rows of a filter', () => {
  const catalog = new SeriesCatalog();
  const a = catalog.seriesId('a', 'r1', 'temperature', 'C');
  const b = catalog.seriesId('b', 'r2', 'temperature', 'C');
  const held = { queuedBytes: 0 };
  const chunk = new LogChunk(100, rows([a, b, a, b, a]), Uint8Array.from([1, 1, 0, 1, 1]), held);
  assert.is(chunk.n, 4, 'the duplicate (mask 0) is not streamed');
  assert.equal([...chunk.series], [a, b, b, a]);
  const matchers = new SeriesMatchers(catalog);
  const all = matchers.acquire(filters({}));
  const onlyA = matchers.acquire(filters({ sensor: 'a' }));
  assert.equal([chunk.count(all, 100), chunk.count(all, 102)], [4, 2]);
  assert.equal([chunk.count(onlyA, 100), chunk.count(onlyA, 101)], [2, 1]);
  assert.is(chunk.skip(onlyA, 100, 1), 103, 'past the first row of a, at the second');
  assert.is(chunk.skip(onlyA, 100, 2), 104, 'past both: the end');
  assert.ok(held.queuedBytes > 0, 'the offsets of a filter count as held');
});

test('the log lets go of the chunks every reader has passed; beyond its size, of the oldest, once its readers took from it', () => {
  const held = { queuedBytes: 0 };
  const log = new StreamLog(4, held);
  const left: number[] = [];
  const reader: LogReader & { cursor: number } = {
    cursor: 0,
    leaving(c) {
      left.push(c.start);
      this.cursor = c.end;
    },
  };
  log.append(rows([1, 1, 1]));
  log.trim([reader]);
  assert.is(held.queuedBytes, 3 * 20, 'within its size, the reader still to read it: kept');
  log.append(rows([1, 1, 1, 1, 1]));
  log.trim([reader]);
  assert.equal(left, [0], 'over its size: the oldest chunk went, after the reader in it took from it');
  assert.is(reader.cursor, 3);
  assert.is(held.queuedBytes, 5 * 20, 'the newest chunk stays, even over the size');
  reader.cursor = log.head;
  log.trim([reader]);
  assert.is(held.queuedBytes, 0, 'passed by every reader: let go');
});

test('a subscriber far behind gets a dropped notice with the count of what it lost, then the newest readings up to its limit, in order', () => {
  const { stream, ids } = hubWith(['s1', 's2'], 5);
  const sock = fakeSocket();
  const sub = new Subscriber(sock.ws, filters({}), stream);
  stream.add(sub);
  sock.full = true;
  stream.publish(rows([ids[0]!, ids[1]!, ids[0]!, ids[1]!]));
  stream.publish(rows([ids[0]!, ids[1]!, ids[0]!, ids[1]!], 1_800_000_001_000));
  assert.is(sub.queued, 5, 'never more than its limit waits for it');
  sock.full = false;
  sub.pump();
  const got = sock.messages();
  assert.equal(got[0], { type: 'dropped', count: 3 });
  assert.equal(
    got.slice(1).map((m) => m.ts),
    [1_800_000_000_003, 1_800_000_001_000, 1_800_000_001_001, 1_800_000_001_002, 1_800_000_001_003],
  );
  assert.equal(got[1], {
    type: 'reading',
    sensor: 's2',
    room: 'room-1',
    metric: 'temperature',
    value: 3,
    unit: 'C',
    ts: 1_800_000_000_003,
  });
  stream.stop();
});

test('a slow subscriber to one sensor keeps its readings when the log lets go of the chunks that held them', () => {
  const sensors = Array.from({ length: 50 }, (_, i) => `s${i}`);
  const { stream, ids } = hubWith(sensors, 1_000);
  const sock = fakeSocket();
  const sub = new Subscriber(sock.ws, filters({ sensor: 's7' }), stream);
  stream.add(sub);
  sock.full = true;
  // 4 x 50,000 rows, more than the log keeps (131,072): s7 has 1,000 of them in each.
  for (let k = 0; k < 4; k++)
    stream.publish(
      rows(
        Array.from({ length: 50_000 }, (_, i) => ids[i % 50]!),
        1_800_000_000_000 + k * 50_000,
      ),
    );
  assert.ok(stream.heldBytes < 4 * 50_000 * 20, `the log let go of old chunks (held ${stream.heldBytes} bytes)`);
  sock.full = false;
  sub.pump();
  const got = sock.messages();
  assert.equal(got[0], { type: 'dropped', count: 3_000 });
  const ts = got.slice(1).map((m) => m.ts as number);
  assert.is(ts.length, 1_000, 'its limit of the newest');
  assert.ok(
    got.slice(1).every((m) => m.sensor === 's7'),
    'only its sensor',
  );
  assert.equal(
    ts,
    [...ts].sort((a, b) => a - b),
    'in order',
  );
  assert.is(ts.at(-1), 1_800_000_000_000 + 3 * 50_000 + 49_957, 'up to its newest reading');
  stream.stop();
});

test('subscribers of the same filters get the same frames, encoded once', () => {
  const { stream, ids } = hubWith(['s1', 's2'], 100);
  let encoded = 0;
  const frame = stream.frames.frame.bind(stream.frames);
  stream.frames.frame = (seriesId, ts, value) => {
    encoded++;
    return frame(seriesId, ts, value);
  };
  const socks = [fakeSocket(), fakeSocket()];
  for (const sock of socks) {
    stream.add(new Subscriber(sock.ws, filters({ room: 'room-1' }), stream));
    sock.full = true;
  }
  stream.publish(rows(Array.from({ length: 300 }, (_, i) => ids[i % 2]!)));
  for (const sock of socks) sock.full = false;
  stream.publish(rows([ids[0]!], 1_800_000_001_000)); // pumps both, one after the other
  const [a, b] = socks.map((sock) => sock.messages());
  assert.equal(a![0], { type: 'dropped', count: 50 });
  assert.is(a!.length, 101);
  assert.equal(b, a, 'the same messages');
  assert.ok(encoded <= 150, `each of the room's 150 readings encoded at most once for both (${encoded} frames encoded)`);
  stream.stop();
});

test.run();
