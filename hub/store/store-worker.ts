/**
 * The store worker: the one thread that owns the DuckDB database. Appends and commits run
 * here, on the second core, while the main thread parses sensor lines. Requests are
 * handled strictly in order, so a commit never overtakes another.
 */
import { parentPort } from 'node:worker_threads';
import { mkdirSync } from 'node:fs';
import {
  BIGINT,
  DOUBLE,
  DuckDBAppender,
  DuckDBConnection,
  DuckDBDataChunk,
  DuckDBInstance,
  INTEGER,
  type DuckDBBigIntVector,
  type DuckDBDoubleVector,
  type DuckDBIntegerVector,
} from '@duckdb/node-api';
import { BUCKET_HEADER, IsoClock, RAW_HEADER, seriesFields } from '../history/csv-rows.ts';
import { bucketSql, extentSql, rawSql, windows, type HistoryQuery } from '../history/history-query.ts';
import { commitUpload, scanUpload } from '../upload/upload-sql.ts';
import { DDL, SCHEMA_VERSION } from './schema.ts';
import {
  columnBuffers,
  type Columns,
  type CommitRequest,
  type CommitResult,
  type ConnectionEvent,
  type FromStore,
  type LoadedState,
  type RecentQuery,
  type SensorRow,
  type SeriesDef,
  type StoreConfig,
  type ToStore,
} from './store-messages.ts';

const port = parentPort;
if (!port) throw new Error('store-worker.ts runs only as a worker thread');

let instance: DuckDBInstance | null = null;
let db: DuckDBConnection | null = null;
let readingsAppender: DuckDBAppender | null = null;
let incomingAppender: DuckDBAppender | null = null;
const chunk = DuckDBDataChunk.create([INTEGER, BIGINT, DOUBLE]);
const incomingChunk = DuckDBDataChunk.create([INTEGER, INTEGER, BIGINT, DOUBLE]);
const VECTOR_SIZE = 2048;
const TWO_32 = 4294967296;

function conn(): DuckDBConnection {
  if (!db) throw new Error('store is not open');
  return db;
}

async function open(config: StoreConfig): Promise<LoadedState> {
  mkdirSync(config.tempDir, { recursive: true });
  instance = await DuckDBInstance.create(config.path, {
    memory_limit: config.memoryLimit,
    threads: String(config.threads),
    temp_directory: config.tempDir,
    // Nothing may be downloaded at run time; the built-in extensions are all there is.
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  db = await instance.connect();
  for (const sql of DDL) await db.run(sql);
  await db.run(`INSERT OR IGNORE INTO meta VALUES ('schema_version', '${SCHEMA_VERSION}')`);
  await db.run('CREATE TEMP TABLE incoming (ord INTEGER, series_id INTEGER, ts BIGINT, value DOUBLE)');
  readingsAppender = await db.createAppender('readings');
  incomingAppender = await db.createAppender('incoming', 'main', 'temp');

  // A hub that died left connections open in the history: close them at the sensor's last sighting.
  await db.run(`UPDATE connections SET disconnected_at = coalesce(
      (SELECT last_seen FROM sensors WHERE sensors.sensor = connections.sensor), connected_at)
    WHERE disconnected_at IS NULL`);

  const series = (
    await db.runAndReadAll('SELECT id, sensor, room, metric, unit FROM series ORDER BY id')
  ).getRowObjectsJS() as unknown as LoadedState['series'];
  const newestRows = (
    await db.runAndReadAll('SELECT series_id, max(ts) AS ts, arg_max(value, ts) AS value, count(*) AS n FROM readings GROUP BY series_id')
  ).getRows();
  let readingCount = 0;
  const newest = newestRows.map(([seriesId, ts, value, n]) => {
    readingCount += Number(n);
    return { seriesId: Number(seriesId), ts: Number(ts), value: Number(value) };
  });
  const sensors = (await db.runAndReadAll('SELECT sensor, room, first_seen, last_seen, address, declared_metrics FROM sensors'))
    .getRows()
    .map(([sensor, room, firstSeen, lastSeen, address, declared]): SensorRow => ({
      sensor: String(sensor),
      room: String(room),
      firstSeen: Number(firstSeen),
      lastSeen: Number(lastSeen),
      address: address === null ? null : String(address),
      declaredMetrics: JSON.parse(String(declared)) as Record<string, string>,
    }));
  const maxConn = (await db.runAndReadAll('SELECT coalesce(max(id), 0) FROM connections')).getRows()[0]?.[0];
  return {
    series,
    newest,
    sensors,
    maxConnectionId: Number(maxConn ?? 0),
    readingCount,
  };
}

/** Appends rows through data chunks: a few native calls per 2,048 rows instead of four per row. */
function appendColumns(appender: DuckDBAppender, cols: Columns): void {
  for (let off = 0; off < cols.n; off += VECTOR_SIZE) {
    const n = Math.min(VECTOR_SIZE, cols.n - off);
    chunk.rowCount = n;
    const sv = chunk.getColumnVector(0) as DuckDBIntegerVector;
    const tv = chunk.getColumnVector(1) as DuckDBBigIntVector;
    const vv = chunk.getColumnVector(2) as DuckDBDoubleVector;
    (sv as unknown as { items: Int32Array }).items.set(cols.series.subarray(off, off + n));
    writeBigInts((tv as unknown as { items: BigInt64Array }).items, cols.ts, off, n);
    (vv as unknown as { items: Float64Array }).items.set(cols.value.subarray(off, off + n));
    sv.flush();
    tv.flush();
    vv.flush();
    appender.appendDataChunk(chunk);
  }
}

function appendIncoming(appender: DuckDBAppender, cols: Columns): void {
  for (let off = 0; off < cols.n; off += VECTOR_SIZE) {
    const n = Math.min(VECTOR_SIZE, cols.n - off);
    incomingChunk.rowCount = n;
    const ov = incomingChunk.getColumnVector(0) as DuckDBIntegerVector;
    const sv = incomingChunk.getColumnVector(1) as DuckDBIntegerVector;
    const tv = incomingChunk.getColumnVector(2) as DuckDBBigIntVector;
    const vv = incomingChunk.getColumnVector(3) as DuckDBDoubleVector;
    const ords = (ov as unknown as { items: Int32Array }).items;
    for (let k = 0; k < n; k++) ords[k] = off + k;
    (sv as unknown as { items: Int32Array }).items.set(cols.series.subarray(off, off + n));
    writeBigInts((tv as unknown as { items: BigInt64Array }).items, cols.ts, off, n);
    (vv as unknown as { items: Float64Array }).items.set(cols.value.subarray(off, off + n));
    ov.flush();
    sv.flush();
    tv.flush();
    vv.flush();
    appender.appendDataChunk(incomingChunk);
  }
}

/**
 * Reorders rows so each series' rows stand together, in arrival order (a stable counting sort).
 * Rows of one series side by side compress far better: the series id to almost nothing and
 * the timestamps to a regular step, about a byte a reading less on disk.
 */
function groupBySeries(cols: Columns): Columns {
  const { n, series } = cols;
  let maxId = 0;
  for (let i = 0; i < n; i++) if (series[i]! > maxId) maxId = series[i]!;
  const starts = new Int32Array(maxId + 2);
  for (let i = 0; i < n; i++) starts[series[i]! + 1]!++;
  for (let id = 1; id < starts.length; id++) starts[id]! += starts[id - 1]!;
  const out: Columns = { n, series: new Int32Array(n), ts: new Float64Array(n), value: new Float64Array(n) };
  for (let i = 0; i < n; i++) {
    const id = series[i]!;
    const j = starts[id]!++;
    out.series[j] = id;
    out.ts[j] = cols.ts[i]!;
    out.value[j] = cols.value[i]!;
  }
  return out;
}

// Millisecond timestamps fit in 53 bits: writing the two 32-bit halves avoids a BigInt per row.
function writeBigInts(target: BigInt64Array, source: Float64Array, off: number, n: number): void {
  const halves = new Int32Array(target.buffer, target.byteOffset, n * 2);
  for (let k = 0; k < n; k++) {
    const t = source[off + k]!;
    halves[2 * k] = t % TWO_32;
    halves[2 * k + 1] = Math.floor(t / TWO_32);
  }
}

async function commit(req: CommitRequest): Promise<CommitResult> {
  const c = conn();
  const started = performance.now();
  const storedMask = new Uint8Array(req.maybeDuplicate.n);
  let inserted = 0;
  await c.run('BEGIN TRANSACTION');
  try {
    await insertSeries(c, req.newSeries);
    if (req.fresh.n > 0) {
      appendColumns(readingsAppender!, groupBySeries(req.fresh));
      readingsAppender!.flushSync();
    }
    if (req.maybeDuplicate.n > 0) inserted = await insertAbsent(c, req.maybeDuplicate, storedMask);
    if (req.sensors.length > 0) await upsertSensors(c, req.sensors);
    if (req.connections.length > 0) await recordConnections(c, req.connections);
    await c.run('COMMIT');
  } catch (err) {
    await c.run('ROLLBACK').catch(() => {});
    // An appender that failed mid-flush holds rows of the rolled-back transaction; start afresh.
    readingsAppender = await c.createAppender('readings');
    incomingAppender = await c.createAppender('incoming', 'main', 'temp');
    throw err;
  }
  return {
    gen: req.gen,
    inserted,
    duplicates: req.maybeDuplicate.n - inserted,
    storedMask,
    flushMs: performance.now() - started,
    fresh: req.fresh,
    maybeDuplicate: req.maybeDuplicate,
  };
}

async function insertSeries(c: DuckDBConnection, defs: SeriesDef[]): Promise<void> {
  if (defs.length === 0) return;
  const a = await c.createAppender('series');
  for (const d of defs) {
    a.appendInteger(d.id);
    a.appendInteger(d.channel);
    a.appendVarchar(d.sensor);
    a.appendVarchar(d.room);
    a.appendVarchar(d.metric);
    a.appendVarchar(d.unit);
    a.endRow();
  }
  a.closeSync();
}

/** An upload's rows in one transaction, after the commits queued before it. */
async function uploadCommit(msg: Extract<ToStore, { op: 'upload-commit' }>): Promise<unknown> {
  const c = conn();
  await c.run('BEGIN TRANSACTION');
  try {
    await insertSeries(c, msg.newSeries);
    const result = await commitUpload(c, msg.file, msg.mapping, msg.publish);
    await c.run('COMMIT');
    return result;
  } catch (err) {
    await c.run('ROLLBACK').catch(() => {});
    throw err;
  }
}

/** Reads an upload on a connection of its own: the commits go on meanwhile. */
async function uploadScan(msg: Extract<ToStore, { op: 'upload-scan' }>): Promise<unknown> {
  const c = await instance!.connect();
  try {
    return await scanUpload(c, msg.file);
  } finally {
    c.closeSync();
  }
}

/**
 * Stores the rows whose (sensor, metric, ts) is not stored yet, the first of any repeats
 * within the rows themselves. Marks the stored ones in `storedMask`.
 */
async function insertAbsent(c: DuckDBConnection, rows: Columns, storedMask: Uint8Array): Promise<number> {
  appendIncoming(incomingAppender!, rows);
  incomingAppender!.flushSync();
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < rows.n; i++) {
    const t = rows.ts[i]!;
    if (t < lo) lo = t;
    if (t > hi) hi = t;
  }
  // The ts bounds let DuckDB skip row groups by their min/max, so this does not scan all history.
  await c.run(`CREATE OR REPLACE TEMP TABLE keep AS
    SELECT i.ord FROM incoming i JOIN series s ON s.id = i.series_id
    WHERE NOT EXISTS (
      SELECT 1 FROM readings r JOIN series s2 ON s2.id = r.series_id
      WHERE r.ts BETWEEN ${lo} AND ${hi} AND r.ts = i.ts AND s2.channel = s.channel)
    QUALIFY row_number() OVER (PARTITION BY s.channel, i.ts ORDER BY i.ord) = 1`);
  await c.run('INSERT INTO readings SELECT i.series_id, i.ts, i.value FROM incoming i SEMI JOIN keep k ON i.ord = k.ord ORDER BY i.ord');
  const kept = (await c.runAndReadAll('SELECT ord FROM keep')).getColumns()[0] ?? [];
  for (const ord of kept) storedMask[Number(ord)] = 1;
  await c.run('DELETE FROM incoming');
  return kept.length;
}

// One statement per commit, not one per row: a fleet of 1,000 connecting at once is 1,000 rows.
async function upsertSensors(c: DuckDBConnection, rows: SensorRow[]): Promise<void> {
  await c.run('CREATE OR REPLACE TEMP TABLE sensors_in AS SELECT * FROM sensors LIMIT 0');
  const a = await c.createAppender('sensors_in', 'main', 'temp');
  for (const r of rows) {
    a.appendVarchar(r.sensor);
    a.appendVarchar(r.room);
    a.appendBigInt(BigInt(r.firstSeen));
    a.appendBigInt(BigInt(r.lastSeen));
    if (r.address === null) a.appendNull();
    else a.appendVarchar(r.address);
    a.appendVarchar(JSON.stringify(r.declaredMetrics));
    a.endRow();
  }
  a.closeSync();
  await c.run('INSERT OR REPLACE INTO sensors SELECT * FROM sensors_in');
}

async function recordConnections(c: DuckDBConnection, events: ConnectionEvent[]): Promise<void> {
  const connects = events.filter((e) => e.kind === 'connect');
  if (connects.length > 0) {
    const a = await c.createAppender('connections');
    for (const e of connects) {
      a.appendBigInt(BigInt(e.id));
      a.appendVarchar(e.sensor);
      a.appendVarchar(e.address);
      a.appendBigInt(BigInt(e.at));
      a.appendNull();
      a.endRow();
    }
    a.closeSync();
  }
  const disconnects = events.filter((e) => e.kind === 'disconnect');
  if (disconnects.length > 0) {
    await c.run('CREATE OR REPLACE TEMP TABLE ended (id BIGINT, ended_at BIGINT)');
    const a = await c.createAppender('ended', 'main', 'temp');
    for (const e of disconnects) {
      a.appendBigInt(BigInt(e.id));
      a.appendBigInt(BigInt(e.at));
      a.endRow();
    }
    a.closeSync();
    await c.run('UPDATE connections SET disconnected_at = ended.ended_at FROM ended WHERE connections.id = ended.id');
  }
}

async function close(): Promise<void> {
  if (!db) return;
  readingsAppender?.closeSync();
  incomingAppender?.closeSync();
  await db.run('CHECKPOINT');
  db.closeSync();
  instance?.closeSync();
  db = null;
  instance = null;
}

/** Exports under way, by request id: the credits the main thread has granted. */
const exportsInFlight = new Map<number, { credits: number; wake: (() => void) | null; cancelled: boolean }>();
const INITIAL_CREDITS = 4;
const CHUNK_CHARS = 256 * 1024;
/** rows sorted at once in an export: bounds the sort's memory whatever the export's size */
const EXPORT_WINDOW_ROWS = 250_000;

async function loadSeries(c: DuckDBConnection): Promise<SeriesDef[]> {
  const rows = (await c.runAndReadAll('SELECT id, channel, sensor, room, metric, unit FROM series ORDER BY id')).getRows();
  return rows.map(([id, channel, sensor, room, metric, unit]) => ({
    id: Number(id),
    channel: Number(channel),
    sensor: String(sensor),
    room: String(room),
    metric: String(metric),
    unit: String(unit),
  }));
}

/**
 * Streams a history export as CSV on a connection of its own, so commits go on meanwhile
 * (DuckDB's MVCC gives the export a consistent snapshot). Sends at most the granted number
 * of chunks ahead of the HTTP client; a cancel stops the query.
 */
async function runExport(reqId: number, q: HistoryQuery): Promise<{ rows: number }> {
  const state = { credits: INITIAL_CREDITS, wake: null as (() => void) | null, cancelled: false };
  exportsInFlight.set(reqId, state);
  const c = await instance!.connect();
  try {
    const fields = seriesFields(await loadSeries(c));
    const [count, minTs, maxTs] = ((await c.runAndReadAll(extentSql(q))).getRows()[0] ?? [0, null, null]).map((v) =>
      v === null ? null : Number(v),
    );
    const parts = count ? windows(q, count, minTs!, maxTs!, EXPORT_WINDOW_ROWS) : [];
    const clock = new IsoClock();
    const iso = q.time === 'iso';
    let text = q.everyMs !== null ? BUCKET_HEADER : RAW_HEADER;
    let rows = 0;
    const send = async () => {
      while (state.credits === 0 && !state.cancelled) await new Promise<void>((r) => (state.wake = r));
      if (state.cancelled) return;
      state.credits--;
      const data = Buffer.from(text);
      text = '';
      port!.postMessage({ stream: reqId, data }, [data.buffer as ArrayBuffer]);
    };
    // The next window is queried (and sorted, in DuckDB's threads) on a second connection while
    // this one is formatted, so the sort and the formatting overlap.
    const c2 = parts.length > 1 ? await instance!.connect() : c;
    const start = (i: number) =>
      i < parts.length ? (i % 2 ? c2 : c).stream(q.everyMs !== null ? bucketSql(parts[i]!) : rawSql(parts[i]!)) : null;
    let next = start(0);
    for (let i = 0; i < parts.length; i++) {
      if (state.cancelled) break;
      const result = await next!;
      next = start(i + 1);
      for (;;) {
        const chunk = await result.fetchChunk();
        if (!chunk || chunk.rowCount === 0 || state.cancelled) break;
        const n = chunk.rowCount;
        const sid = (chunk.getColumnVector(0) as unknown as { items: Int32Array }).items;
        const ts = bigIntsAsNumbers((chunk.getColumnVector(1) as unknown as { items: BigInt64Array }).items, n);
        if (q.everyMs === null) {
          const value = (chunk.getColumnVector(2) as unknown as { items: Float64Array }).items;
          for (let i = 0; i < n; i++) {
            const f = fields[sid[i]!]!;
            text += `${iso ? clock.format(ts[i]!) : ts[i]},${f.names},${value[i]},${f.unit}\n`;
          }
        } else {
          const count = bigIntsAsNumbers((chunk.getColumnVector(2) as unknown as { items: BigInt64Array }).items, n);
          const lo = (chunk.getColumnVector(3) as unknown as { items: Float64Array }).items;
          const hi = (chunk.getColumnVector(4) as unknown as { items: Float64Array }).items;
          const mean = (chunk.getColumnVector(5) as unknown as { items: Float64Array }).items;
          for (let i = 0; i < n; i++) {
            const f = fields[sid[i]!]!;
            text += `${iso ? clock.format(ts[i]!) : ts[i]},${f.names},${f.unit},${count[i]},${lo[i]},${hi[i]},${mean[i]}\n`;
          }
        }
        rows += n;
        if (text.length >= CHUNK_CHARS) await send();
      }
    }
    if (text.length > 0 && !state.cancelled) await send();
    await next?.catch(() => {});
    if (c2 !== c) c2.closeSync();
    return { rows };
  } finally {
    exportsInFlight.delete(reqId);
    c.closeSync();
  }
}

function bigIntsAsNumbers(items: BigInt64Array, n: number): Float64Array {
  const halves = new Int32Array(items.buffer, items.byteOffset, n * 2);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = halves[2 * i + 1]! * TWO_32 + (halves[2 * i]! >>> 0);
  return out;
}

/** The newest `limit` readings matching, oldest first. */
async function recent(q: RecentQuery): Promise<{ seriesId: number; ts: number; value: number }[]> {
  const c = await instance!.connect();
  try {
    const list = (v: string[]) => v.map((x) => `'${x.replaceAll("'", "''")}'`).join(', ');
    const where: string[] = [];
    if (q.sensors) where.push(`s.sensor IN (${list(q.sensors)})`);
    if (q.rooms) where.push(`s.room IN (${list(q.rooms)})`);
    if (q.metrics) where.push(`s.metric IN (${list(q.metrics)})`);
    const rows = (
      await c.runAndReadAll(`SELECT r.series_id, r.ts, r.value FROM readings r JOIN series s ON s.id = r.series_id
        ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY r.ts DESC, s.sensor DESC, s.metric DESC LIMIT ${Math.trunc(q.limit)}`)
    ).getRows();
    return rows.reverse().map(([sid, ts, value]) => ({ seriesId: Number(sid), ts: Number(ts), value: Number(value) }));
  } finally {
    c.closeSync();
  }
}

async function handle(msg: ToStore): Promise<unknown> {
  switch (msg.op) {
    case 'open':
      return open(msg.config);
    case 'commit':
      return commit(msg.commit);
    case 'close':
      return close();
    case 'upload-commit':
      return uploadCommit(msg);
    default:
      throw new Error(`unexpected store request ${msg.op}`);
  }
}

async function reply(msg: ToStore, work: () => Promise<unknown>): Promise<void> {
  let answer: FromStore;
  let transfer: ArrayBuffer[] = [];
  try {
    const result = await work();
    if (msg.op === 'commit') transfer = columnBuffers(msg.commit.fresh, msg.commit.maybeDuplicate);
    const published = msg.op === 'upload-commit' ? (result as { published: Columns | null }).published : null;
    if (published) transfer = columnBuffers(published);
    answer = { reqId: msg.reqId, ok: true, result };
  } catch (err) {
    answer = { reqId: msg.reqId, ok: false, message: err instanceof Error ? err.message : String(err) };
  }
  port!.postMessage(answer, transfer);
}

// Writes and opening/closing go strictly one at a time, in arrival order; reads (exports,
// replays) run beside them on connections of their own, so a long export never holds ingest.
let queue: Promise<void> = Promise.resolve();
port.on('message', (msg: ToStore) => {
  switch (msg.op) {
    case 'export':
      void reply(msg, () => runExport(msg.reqId, msg.query));
      return;
    case 'recent':
      void reply(msg, () => recent(msg.query));
      return;
    case 'upload-scan':
      void reply(msg, () => uploadScan(msg));
      return;
    case 'export-credit':
    case 'export-cancel': {
      const state = exportsInFlight.get(msg.exportId);
      if (!state) return;
      if (msg.op === 'export-credit') state.credits++;
      else state.cancelled = true;
      state.wake?.();
      state.wake = null;
      return;
    }
    default:
      queue = queue.then(() => reply(msg, () => handle(msg)));
  }
});
