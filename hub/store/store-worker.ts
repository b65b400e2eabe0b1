/**
 * The store worker: the one thread that owns the DuckDB database. Appends and commits run
 * here, on the second core, while the main thread parses sensor lines. Requests are
 * handled strictly in order, so a commit never overtakes another.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DuckDBInstance, type DuckDBAppender, type DuckDBConnection } from '@duckdb/node-api';
import { runExport, steerExport } from '../history/export-worker.ts';
import { appendColumns, appendIncoming, groupBySeries } from './column-chunks.ts';
import { loadSeries, recent } from './read-queries.ts';
import { appendActivity, loadAccess, queryActivity, writeAccess } from './access-sql.ts';
import { alertCall } from './alert-sql.ts';
import { scanUpload } from '../upload/upload-sql.ts';
import { commitUpload, stopUploads } from '../upload/upload-commit.ts';
import { closeUploadReader, withUploadReader } from '../upload/upload-reader.ts';
import { noteCommitted } from '../upload/upload-watch.ts';
import { readNews } from '../upload/upload-windows.ts';
import { FaultInjector } from './store-faults.ts';
import { coldRows, Compactor } from './compaction.ts';
import { openSchema } from './migrations.ts';
import { takeBackup } from './backup-sql.ts';
import { recordConnections, upsertSensors } from './sensor-rows-sql.ts';
import { RollupRunner, uploadRetention } from './rollup-runner.ts';
import { keepWalPrivate } from './wal-mode.ts';
import {
  columnBuffers,
  type Columns,
  type CommitRequest,
  type CommitResult,
  isRetryableStoreError,
  type FromStore,
  type LoadedState,
  type StoreFailure,
  type SensorRow,
  type SeriesDef,
  type StoreConfig,
  type ToStore,
} from './store-messages.ts';

const port = parentPort;
if (!port) throw new Error('store-worker.ts runs only as a worker thread');
/** commit replies: on a port of their own, which the main thread may poll mid-turn (ReadingStore.pollCommits) */
const commitReplies: MessagePort = (workerData as { commitReplies?: MessagePort } | null)?.commitReplies ?? port;

let instance: DuckDBInstance | null = null;
let db: DuckDBConnection | null = null;
let readingsAppender: DuckDBAppender | null = null;
let incomingAppender: DuckDBAppender | null = null;

function conn(): DuckDBConnection {
  if (!db) throw new Error('store is not open');
  return db;
}

let openedWith: StoreConfig | null = null;
let faults: FaultInjector | null = null;
/** DuckDB invalidates a database after a fatal error (a full disk mid-write): reopen before the next write */
let needsReopen = false;
/** re-sorts cold readings between commits (compaction.ts) */
let compactor: Compactor | null = null;
/** rolls readings up and drops what retention lets go (rollup-runner.ts) */
let rollups: RollupRunner | null = null;
/** the hub clock (injectable in tests) less this thread's, as the main thread last said */
let hubClockOffsetMs = 0;

function isFatal(err: unknown): boolean {
  return /FATAL|invalidated/i.test(String((err as Error | null)?.message ?? err));
}

async function connect(config: StoreConfig): Promise<DuckDBConnection> {
  mkdirSync(config.tempDir, { recursive: true });
  instance = await DuckDBInstance.create(config.path, {
    memory_limit: config.memoryLimit,
    threads: String(config.threads),
    temp_directory: config.tempDir,
    // Nothing may be downloaded at run time; the built-in extensions are all there is.
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  const c = await instance.connect();
  db = c;
  return c;
}

/** The commit path's temp table and appenders, on a connection whose tables exist. */
async function prepare(c: DuckDBConnection): Promise<void> {
  await c.run('CREATE TEMP TABLE incoming (ord INTEGER, series_id INTEGER, ts BIGINT, value DOUBLE)');
  readingsAppender = await c.createAppender('readings');
  incomingAppender = await c.createAppender('incoming', 'main', 'temp');
}

/** Closes an invalidated database and opens it again (DuckDB replays its WAL). */
async function reopen(): Promise<void> {
  try {
    db?.closeSync();
    instance?.closeSync();
  } catch {
    // it was invalid: closing may fail too
  }
  db = null;
  instance = null;
  await prepare(await connect(openedWith!));
  needsReopen = false;
}

/**
 * DuckDB lets one process at a time open a database file for writing, and says so in its own
 * words ("Could not set lock on file ...: Conflicting lock is held in /usr/bin/node (PID 6869)").
 * Said for people: which folder, who holds it, and what to do.
 */
function explainOpenFailure(err: unknown, databasePath: string): unknown {
  const message = err instanceof Error ? err.message : String(err);
  if (!/Could not set lock on file|Conflicting lock/i.test(message)) return err;
  const holder = /Conflicting lock is held in (.+?) \(PID (\d+)\)/.exec(message);
  const who = holder ? `process ${holder[2]} (${holder[1]})` : 'another process';
  return new Error(
    `the data folder ${dirname(databasePath)} is in use by ${who}, most likely another hub: ` +
      'stop that hub first, or start this one on a folder of its own with --data DIR',
  );
}

async function open(config: StoreConfig): Promise<LoadedState> {
  openedWith = config;
  faults = config.faults ? new FaultInjector(config.faults) : null;
  const db = await connect(config).catch((err: unknown) => {
    throw explainOpenFailure(err, config.path);
  });
  const schema = await openSchema(db, `the data folder ${dirname(config.path)}`);
  await prepare(db);
  hubClockOffsetMs = config.now - Date.now();
  rollups = new RollupRunner(config.retention, {
    connection: () => {
      if (needsReopen) throw new Error('the store is being reopened after a failure; rollups wait');
      return conn();
    },
    enqueue: (work) => {
      queue = queue.then(work).finally(walWritten);
    },
    failed: (err) => {
      if (isFatal(err)) needsReopen = true;
    },
    report: (retention) => port!.postMessage({ retention }),
    now: () => Date.now() + hubClockOffsetMs,
  });
  await rollups.open(db);

  // A hub that died left connections open in the history: close them at the sensor's last sighting.
  await db.run(`UPDATE connections SET disconnected_at = coalesce(
      (SELECT last_seen FROM sensors WHERE sensors.sensor = connections.sensor), connected_at)
    WHERE disconnected_at IS NULL`);

  const series = await loadSeries(db);
  faults?.learn(series);
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
  startCompaction();
  return {
    series,
    newest,
    sensors,
    maxConnectionId: Number(maxConn ?? 0),
    readingCount,
    access: await loadAccess(db, config.now),
    schema,
  };
}

async function commit(req: CommitRequest): Promise<CommitResult> {
  if (needsReopen) await reopen();
  const c = conn();
  const started = performance.now();
  const storedMask = new Uint8Array(req.maybeDuplicate.n);
  let inserted = 0;
  let freshStoredMask: Uint8Array | null = null;
  let freshInserted = req.fresh.n;
  // Readings older than the retention horizon are not stored: their raw data may be gone, so
  // whether they repeat a stored identity cannot be told (docs/API.md "Retention").
  const horizon = rollups?.horizon() ?? null;
  const expired = horizon === null ? 0 : countBelow(horizon, req.fresh) + countBelow(horizon, req.maybeDuplicate);
  let lateMarks = 0;
  await c.run('BEGIN TRANSACTION');
  try {
    await insertSeries(c, req.newSeries);
    if (req.fresh.n > 0 && (req.recheckFresh || (expired > 0 && countBelow(horizon!, req.fresh) > 0))) {
      freshStoredMask = new Uint8Array(req.fresh.n);
      freshInserted = await insertAbsent(c, req.fresh, freshStoredMask, horizon);
    } else if (req.fresh.n > 0) {
      appendColumns(readingsAppender!, groupBySeries(req.fresh));
      readingsAppender!.flushSync();
    }
    if (req.maybeDuplicate.n > 0) inserted = await insertAbsent(c, req.maybeDuplicate, storedMask, horizon);
    if (rollups)
      lateMarks = (await rollups.markLate(c, req.fresh, freshStoredMask)) + (await rollups.markLate(c, req.maybeDuplicate, storedMask));
    if (req.sensors.length > 0) await upsertSensors(c, req.sensors);
    if (req.connections.length > 0) await recordConnections(c, req.connections);
    await faults?.beforeCommit(req);
    await c.run('COMMIT');
    rollups?.lateMarked(lateMarks);
    rollups?.noteExpired(expired);
    // An upload whose transaction is open must give up what this commit stored (upload-watch.ts).
    noteCommitted(req.newSeries, req.fresh, freshStoredMask);
    noteCommitted([], req.maybeDuplicate, storedMask);
  } catch (err) {
    await c.run('ROLLBACK').catch(() => {});
    try {
      // An appender that failed mid-flush holds rows of the rolled-back transaction; start afresh.
      await c.run('DELETE FROM incoming');
      readingsAppender = await c.createAppender('readings');
      incomingAppender = await c.createAppender('incoming', 'main', 'temp');
    } catch {
      needsReopen = true;
    }
    if (isFatal(err)) needsReopen = true;
    throw err;
  }
  return {
    gen: req.gen,
    inserted,
    duplicates: req.maybeDuplicate.n - inserted,
    storedMask,
    freshStoredMask,
    freshInserted,
    flushMs: performance.now() - started,
    fresh: req.fresh,
    maybeDuplicate: req.maybeDuplicate,
  };
}

/**
 * Idempotent: a definition never changes once it has an id, and one whose commit was split or
 * retried may come again.
 */
async function insertSeries(c: DuckDBConnection, defs: SeriesDef[]): Promise<void> {
  if (defs.length === 0) return;
  await c.run('CREATE OR REPLACE TEMP TABLE series_in AS SELECT * FROM series LIMIT 0');
  const a = await c.createAppender('series_in', 'main', 'temp');
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
  await c.run('INSERT OR IGNORE INTO series SELECT * FROM series_in');
}

/** An upload's rows: its own transaction beside the commits; two short steps in the queue (upload-commit.ts). */
function uploadCommit(msg: Extract<ToStore, { op: 'upload-commit' }>): Promise<unknown> {
  return commitUpload(
    {
      instance: instance!,
      serial: (work) => {
        const done = queue.then(work);
        queue = done.then(
          () => {},
          () => {},
        );
        return done;
      },
      saveSeries: (defs) => insertSeries(conn(), defs),
      ...(rollups ? { retention: uploadRetention(rollups) } : {}),
    },
    msg,
  );
}

/** Reads an upload on the upload reader (its own DuckDB instance), beside the commits. */
function uploadScan(msg: Extract<ToStore, { op: 'upload-scan' }>): Promise<unknown> {
  return withUploadReader(openedWith!.tempDir, openedWith!.threads, (c) => scanUpload(c, msg.file));
}

/** One window of an upload's new rows, for live subscribers, after its commit. */
async function uploadNews(msg: Extract<ToStore, { op: 'upload-news' }>): Promise<unknown> {
  const c = await instance!.connect();
  try {
    return await readNews(c, msg.path, msg.window, msg.skip);
  } finally {
    c.closeSync();
  }
}

/**
 * Stores the rows whose (sensor, metric, ts) is not stored yet, the first of any repeats
 * within the rows themselves. Marks the stored ones in `storedMask`.
 */
async function insertAbsent(c: DuckDBConnection, rows: Columns, storedMask: Uint8Array, horizon: number | null): Promise<number> {
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
      WHERE r.ts BETWEEN ${lo} AND ${hi} AND r.ts = i.ts AND s2.channel = s.channel)${horizon === null ? '' : ` AND i.ts >= ${horizon}`}
    QUALIFY row_number() OVER (PARTITION BY s.channel, i.ts ORDER BY i.ord) = 1`);
  await c.run('INSERT INTO readings SELECT i.series_id, i.ts, i.value FROM incoming i SEMI JOIN keep k ON i.ord = k.ord ORDER BY i.ord');
  const kept = (await c.runAndReadAll('SELECT ord FROM keep')).getColumns()[0] ?? [];
  for (const ord of kept) storedMask[Number(ord)] = 1;
  await c.run('DELETE FROM incoming');
  return kept.length;
}

/** How many of the rows have a ts below `ms`. */
function countBelow(ms: number, rows: Columns): number {
  let n = 0;
  for (let i = 0; i < rows.n; i++) if (rows.ts[i]! < ms) n++;
  return n;
}

function startCompaction(): void {
  compactor = new Compactor({
    instance: () => instance!,
    connection: () => {
      if (needsReopen) throw new Error('the store is being reopened after a failure; compaction waits');
      return conn();
    },
    enqueue: (work) => {
      queue = queue.then(work).finally(walWritten);
    },
    failed: (err) => {
      if (isFatal(err)) needsReopen = true;
    },
    report: (compaction) => port!.postMessage({ compaction }),
    ...(faults ? { beforeSliceCommit: () => faults!.beforeCompactionCommit() } : {}),
  });
  compactor.kick(0);
}

async function close(): Promise<void> {
  await compactor?.stop();
  compactor = null;
  await rollups?.stop();
  rollups = null;
  if (!db) return;
  await uploadsStopped;
  await closeUploadReader();
  try {
    readingsAppender?.closeSync();
    incomingAppender?.closeSync();
    await db.run('CHECKPOINT');
  } catch {
    // An invalidated database (a full disk) cannot checkpoint; its WAL holds what was committed,
    // and the next open replays it. Closing must still release the file.
  }
  db.closeSync();
  instance?.closeSync();
  db = null;
  instance = null;
}

async function handle(msg: ToStore): Promise<unknown> {
  switch (msg.op) {
    case 'open':
      return open(msg.config);
    case 'commit':
      return commit(msg.commit);
    case 'close':
      return close();
    case 'access-write':
      return writeAccess(conn(), msg.changes);
    case 'activity-append':
      return appendActivity(conn(), msg.rows);
    case 'alerts':
      return alertCall(conn(), msg.call);
    default:
      throw new Error(`unexpected store request ${msg.op}`);
  }
}

/** After each write of the queue: a WAL DuckDB just created is made private (wal-mode.ts). */
function walWritten(): void {
  if (openedWith) keepWalPrivate(openedWith.path);
}

/** Answers `msg` with what `work` gives; `settled` runs after the work, before the answer leaves. */
async function reply(msg: ToStore, work: () => Promise<unknown>, settled?: () => void): Promise<void> {
  let answer: Exclude<FromStore, StoreFailure> | StoreFailure;
  let transfer: ArrayBuffer[] = [];
  try {
    const result = await work().finally(settled);
    if (msg.op === 'commit') transfer = columnBuffers(msg.commit.fresh, msg.commit.maybeDuplicate);
    if (msg.op === 'upload-news') transfer = columnBuffers(result as Columns);
    answer = { reqId: msg.reqId, ok: true, result };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const retryable = isRetryableStoreError(message) || (err as { retryable?: unknown }).retryable === true;
    answer = { reqId: msg.reqId, ok: false, message, retryable };
    if (msg.op === 'commit') {
      // The rows go back, so the main thread can try them again or find the one that cannot be stored.
      answer.columns = { fresh: msg.commit.fresh, maybeDuplicate: msg.commit.maybeDuplicate };
      transfer = columnBuffers(msg.commit.fresh, msg.commit.maybeDuplicate);
    }
  }
  (msg.op === 'commit' ? commitReplies : port!).postMessage(answer, transfer);
}

// Writes and opening/closing go strictly one at a time, in arrival order; reads (exports,
// replays) run beside them on connections of their own, so a long export never holds ingest.
let queue: Promise<void> = Promise.resolve();
/** Uploads under way when the close request arrived: interrupted then, awaited in the close. */
let uploadsStopped: Promise<unknown> = Promise.resolve();
port.on('message', (msg: ToStore) => {
  if (msg.op === 'close') uploadsStopped = stopUploads();
  switch (msg.op) {
    case 'export':
      void reply(msg, () => runExport(instance!, port, msg.reqId, msg.query));
      return;
    case 'recent':
      void reply(msg, () => recent(instance!, msg.query));
      return;
    case 'upload-scan':
      void reply(msg, () => uploadScan(msg));
      return;
    case 'upload-commit':
      void reply(msg, () => uploadCommit(msg));
      return;
    case 'upload-news':
      void reply(msg, () => uploadNews(msg));
      return;
    case 'activity-query':
      void reply(msg, () => queryActivity(instance!, msg.query));
      return;
    case 'backup': {
      // Beside the queue: its read transaction does not hold the commits (backup-sql.ts). The
      // compaction waits meanwhile: a slice rewriting cold readings under a running copy held
      // the commits queued behind it for the length of the backup.
      const k = compactor;
      k?.writeQueued();
      void reply(msg, () => takeBackup(instance!, msg.path)).finally(() => k?.writeDone(0));
      return;
    }
    case 'clock':
      hubClockOffsetMs = msg.now - Date.now();
      return;
    case 'export-credit':
    case 'export-cancel':
      steerExport(msg.exportId, msg.op);
      return;
    default: {
      // Compaction steps run in this queue too, when it is empty (compaction.ts).
      const k = compactor;
      const r = rollups;
      k?.writeQueued();
      r?.writeQueued();
      // Counted now: the reply hands the rows back to the main thread.
      const rows = msg.op === 'commit' ? msg.commit.fresh.n + msg.commit.maybeDuplicate.n : 0;
      const cold = k && msg.op === 'commit' ? coldRows(Date.now(), msg.commit.fresh, msg.commit.maybeDuplicate) : 0;
      queue = queue
        .then(() => reply(msg, () => handle(msg), walWritten))
        .finally(() => {
          k?.writeDone(rows, cold);
          r?.writeDone(rows);
        });
    }
  }
});
