/**
 * The store worker: the one thread that owns the DuckDB database. Appends and commits run
 * here, on the second core, while the main thread parses sensor lines. Requests are
 * handled strictly in order, so a commit never overtakes another. Here: the requests' routing,
 * the write queue and the answers; the database handle is store-db.ts, a commit's transaction
 * store-commit.ts, the state read at open store-load.ts.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { dirname } from 'node:path';
import { runExport, steerExport } from '../history/export-worker.ts';
import { recent } from './read-queries.ts';
import { appendActivity, queryActivity, writeAccess } from './access-sql.ts';
import { alertCall } from './alert-sql.ts';
import { scanUpload } from '../upload/upload-sql.ts';
import { commitUpload, stopUploads } from '../upload/upload-commit.ts';
import { closeUploadReader, withUploadReader } from '../upload/upload-reader.ts';
import { readNews } from '../upload/upload-windows.ts';
import { FaultInjector } from './store-faults.ts';
import { coldRows, Compactor } from './compaction.ts';
import { openSchema } from './migrations.ts';
import { takeBackup } from './backup-sql.ts';
import { RollupRunner, uploadRetention } from './rollup-runner.ts';
import { keepWalPrivate } from './wal-mode.ts';
import { isFatal, StoreDb } from './store-db.ts';
import { commit, insertSeries } from './store-commit.ts';
import { loadState } from './store-load.ts';
import {
  columnBuffers,
  type Columns,
  isRetryableStoreError,
  type FromStore,
  type LoadedState,
  type StoreFailure,
  type StoreConfig,
  type ToStore,
} from './store-messages.ts';

const port = parentPort;
if (!port) throw new Error('store-worker.ts runs only as a worker thread');
/** commit replies: on a port of their own, which the main thread may poll mid-turn (ReadingStore.pollCommits) */
const commitReplies: MessagePort = (workerData as { commitReplies?: MessagePort } | null)?.commitReplies ?? port;

const store = new StoreDb();
let faults: FaultInjector | null = null;
/** re-sorts cold readings between commits (compaction.ts) */
let compactor: Compactor | null = null;
/** rolls readings up and drops what retention lets go (rollup-runner.ts) */
let rollups: RollupRunner | null = null;
/** the hub clock (injectable in tests) less this thread's, as the main thread last said */
let hubClockOffsetMs = 0;

function conn() {
  return store.conn();
}

function instance() {
  if (!store.instance) throw new Error('store is not open');
  return store.instance;
}

async function open(config: StoreConfig): Promise<LoadedState> {
  faults = config.faults ? new FaultInjector(config.faults) : null;
  const db = await store.connect(config);
  const schema = await openSchema(db, `the data folder ${dirname(config.path)}`);
  await store.prepare();
  hubClockOffsetMs = config.now - Date.now();
  rollups = new RollupRunner(config.retention, {
    connection: () => {
      if (store.needsReopen) throw new Error('the store is being reopened after a failure; rollups wait');
      return conn();
    },
    enqueue: (work) => {
      queue = queue.then(work).finally(walWritten);
    },
    failed: (err) => {
      if (isFatal(err)) store.needsReopen = true;
    },
    report: (retention) => port!.postMessage({ retention }),
    now: () => Date.now() + hubClockOffsetMs,
  });
  await rollups.open(db);
  const state = await loadState(db, config.now);
  faults?.learn(state.series);
  startCompaction();
  return { ...state, schema };
}

/** An upload's rows: its own transaction beside the commits; two short steps in the queue (upload-commit.ts). */
function uploadCommit(msg: Extract<ToStore, { op: 'upload-commit' }>): Promise<unknown> {
  return commitUpload(
    {
      instance: instance(),
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
  return withUploadReader(store.config!.tempDir, store.config!.threads, (c) => scanUpload(c, msg.file));
}

/** One window of an upload's new rows, for live subscribers, after its commit. */
async function uploadNews(msg: Extract<ToStore, { op: 'upload-news' }>): Promise<unknown> {
  const c = await instance().connect();
  try {
    return await readNews(c, msg.path, msg.window, msg.skip);
  } finally {
    c.closeSync();
  }
}

function startCompaction(): void {
  compactor = new Compactor({
    instance: () => instance(),
    connection: () => {
      if (store.needsReopen) throw new Error('the store is being reopened after a failure; compaction waits');
      return conn();
    },
    enqueue: (work) => {
      queue = queue.then(work).finally(walWritten);
    },
    failed: (err) => {
      if (isFatal(err)) store.needsReopen = true;
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
  if (!store.isOpen) return;
  await uploadsStopped;
  await closeUploadReader();
  await store.close();
}

async function handle(msg: ToStore): Promise<unknown> {
  switch (msg.op) {
    case 'open':
      return open(msg.config);
    case 'commit':
      return commit({ db: store, rollups, faults }, msg.commit);
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
  if (store.config) keepWalPrivate(store.config.path);
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
      void reply(msg, () => runExport(instance(), port, msg.reqId, msg.query));
      return;
    case 'recent':
      void reply(msg, () => recent(instance(), msg.query));
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
      void reply(msg, () => queryActivity(instance(), msg.query));
      return;
    case 'backup': {
      // Beside the queue: its read transaction does not hold the commits (backup-sql.ts). The
      // compaction waits meanwhile: a slice rewriting cold readings under a running copy held
      // the commits queued behind it for the length of the backup.
      const k = compactor;
      k?.writeQueued();
      void reply(msg, () => takeBackup(instance(), msg.path)).finally(() => k?.writeDone(0));
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
