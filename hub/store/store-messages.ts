import type { UploadFile } from '../upload/upload-sql.ts';
import type { UploadCommitRequest } from '../upload/upload-commit.ts';
import type { HistoryQuery } from '../history/history-query.ts';
import type { AccessChange, AccessState, ActivityQuery, ActivityRow } from '../access/access-records.ts';
import type { StoreFaults } from './store-faults.ts';
import type { AlertCall } from './alert-sql.ts';
import type { SchemaOpened } from './migrations.ts';
import type { RetentionConfig } from './rollup-tiers.ts';
/**
 * Messages between the hub's main thread and the store worker (store-worker.ts).
 * Columns travel as typed arrays (structured clone copies them, which is a memcpy).
 */

export interface SeriesDef {
  id: number;
  /** one per (sensor, metric): the scope of identity */
  channel: number;
  sensor: string;
  room: string;
  metric: string;
  unit: string;
}

/** Rows as columns: row i is (series[i], ts[i], value[i]). */
export interface Columns {
  n: number;
  series: Int32Array;
  ts: Float64Array;
  value: Float64Array;
}

export interface SensorRow {
  sensor: string;
  room: string;
  firstSeen: number;
  lastSeen: number;
  address: string | null;
  /** metric -> unit declared in hello */
  declaredMetrics: Record<string, string>;
  /** only last_seen changed: the store updates that column alone (a full row costs 10x more) */
  lastSeenOnly?: true;
}

export type ConnectionEvent =
  { kind: 'connect'; id: number; sensor: string; address: string; at: number } | { kind: 'disconnect'; id: number; at: number };

export interface StoreConfig {
  path: string;
  /** the hub clock at open: sessions that expired before it are dropped */
  now: number;
  memoryLimit: string;
  threads: number;
  tempDir: string;
  /** test-only fault injection (store-faults.ts); null in service */
  faults: StoreFaults | null;
  /** raw retention and rollup tiers (rollup-tiers.ts) */
  retention: RetentionConfig;
}

export interface LoadedState {
  series: SeriesDef[];
  /** per series with readings: its newest reading */
  newest: { seriesId: number; ts: number; value: number }[];
  sensors: SensorRow[];
  maxConnectionId: number;
  readingCount: number;
  access: AccessState;
  /** the schema version found and the one now (migrations.ts): the hub logs a migration */
  schema?: SchemaOpened;
}

export interface CommitRequest {
  gen: number;
  newSeries: SeriesDef[];
  /** rows known to be new: ts above every stored ts of their (sensor, metric) */
  fresh: Columns;
  /** rows that may repeat a stored identity: inserted only where (sensor, metric, ts) is absent */
  maybeDuplicate: Columns;
  sensors: SensorRow[];
  connections: ConnectionEvent[];
  /**
   * A retry after a failed commit: the fresh rows are checked against the store like the
   * others, in case the failed attempt stored them after all (a failure reported after the WAL
   * write), so a retry never stores a reading twice.
   */
  recheckFresh: boolean;
}

export interface CommitResult {
  gen: number;
  /** rows of maybeDuplicate that were new */
  inserted: number;
  /** rows of maybeDuplicate that repeated an identity and were not stored */
  duplicates: number;
  /** bitmap: 1 where maybeDuplicate row i was stored (to publish exactly the new ones) */
  storedMask: Uint8Array;
  /** with recheckFresh: 1 where fresh row i was stored, and how many were; else null (all were) */
  freshStoredMask: Uint8Array | null;
  freshInserted: number;
  flushMs: number;
  /** the request's rows, handed back (transferred, not copied) for latest and the live stream */
  fresh: Columns;
  maybeDuplicate: Columns;
}

export type ToStore =
  | { op: 'open'; reqId: number; config: StoreConfig }
  | { op: 'commit'; reqId: number; commit: CommitRequest }
  | { op: 'close'; reqId: number }
  /** the hub clock (injectable), for rollups and retention; beside the queue */
  | { op: 'clock'; reqId: number; now: number }
  /** queued with the commits, so a change and the commits around it keep their order */
  | { op: 'access-write'; reqId: number; changes: AccessChange[] }
  | { op: 'activity-append'; reqId: number; rows: ActivityRow[] }
  | { op: 'activity-query'; reqId: number; query: ActivityQuery }
  /** a copy of every table, from one snapshot, to the file at `path` (backup-sql.ts); beside the queue */
  | { op: 'backup'; reqId: number; path: string }
  /** alert rules and events (alert-sql.ts), queued with the commits */
  | { op: 'alerts'; reqId: number; call: AlertCall }
  /** streamed: `data` messages under credit, then the reply { rows } */
  | { op: 'export'; reqId: number; query: HistoryQuery }
  | { op: 'export-credit'; reqId: number; exportId: number }
  | { op: 'export-cancel'; reqId: number; exportId: number }
  | { op: 'recent'; reqId: number; query: RecentQuery }
  | { op: 'upload-scan'; reqId: number; file: UploadFile }
  /** one transaction beside the commits; its start and end are queued with them */
  | ({ op: 'upload-commit'; reqId: number } & UploadCommitRequest)
  /** window `window` of a committed upload's new rows, but the identities of `skip` */
  | { op: 'upload-news'; reqId: number; path: string; window: number; skip: { channel: number; ts: number }[] };

/** The newest `limit` readings that match, for a stream subscriber's replay. */
export interface RecentQuery {
  sensors: string[] | null;
  rooms: string[] | null;
  metrics: string[] | null;
  limit: number;
}

/** One chunk of a streamed export: CSV bytes. */
export interface StreamData {
  stream: number;
  data: Uint8Array;
}

/** The buffers of some columns, to transfer them between threads instead of copying. */
export function columnBuffers(...cols: Columns[]): ArrayBuffer[] {
  // Columns on SharedArrayBuffers (the group commit's) are shared, not transferred.
  return cols.flatMap((c) =>
    [c.series.buffer, c.ts.buffer, c.value.buffer].filter((b): b is ArrayBuffer => !(b instanceof SharedArrayBuffer)),
  );
}

/** A request that failed. A failed commit hands its rows back, so they can be tried again. */
export interface StoreFailure {
  reqId: number;
  ok: false;
  message: string;
  /** the store itself failed (disk, memory, I/O): the same request may succeed later */
  retryable: boolean;
  /** a failed commit's rows, handed back (transferred) */
  columns?: { fresh: Columns; maybeDuplicate: Columns };
}

/** What the background compaction (compaction.ts) is doing, posted by the worker as it goes. */
export interface CompactionStatus {
  /** sorting: slices planned; reclaiming: moving data out of the file's free tail */
  state: 'idle' | 'sorting' | 'reclaiming';
  /** a slice's rows are rewritten in its transaction, not yet committed */
  sliceOpen: boolean;
  /** cold readings not yet rewritten sorted, as of the last plan; -1 before the first */
  pendingReadings: number;
  /** readings with a ts below this were rewritten sorted (ms), null before the first slice */
  sortedBelowMs: number | null;
  /** free space inside the database file that reclaiming is moving data into */
  freeBytes: number;
  /** since the hub started */
  slices: number;
  readingsRewritten: number;
  rowGroupsMoved: number;
  lastSliceMs: number;
  lastError: string | null;
  /** when the last plan looked for cold readings (ms) */
  plannedAt: number | null;
}

/** What the rollups and retention (rollup-runner.ts) have done, posted by the worker as they go. */
export interface RetentionStatus {
  /** how long raw readings are kept; null: forever */
  retentionMs: number | null;
  /** readings with a ts below this are refused (their raw data may be dropped); null: none are */
  horizonMs: number | null;
  /** raw readings below this were dropped; null: none ever were */
  rawKeptFromMs: number | null;
  /** since the hub started */
  readingsDropped: number;
  /** readings refused for being older than the horizon, since the hub started */
  readingsExpired: number;
  /** buckets late readings changed, waiting to be recomputed */
  lateMarks: number;
  lateRecomputed: number;
  tiers: {
    widthMs: number;
    keepMs: number | null;
    /** every bucket below this is rolled up */
    rolledBelowMs: number;
    /** buckets below this were dropped; null: none */
    keptFromMs: number | null;
    /** the hub clock minus rolledBelowMs */
    lagMs: number;
    bucketsDropped: number;
  }[];
  /** the last look found nothing to do (every tier rolled, nothing to drop, checkpointed after drops) */
  idle: boolean;
  /** tier tables of earlier configurations, no longer kept up to date */
  unmaintained: string[];
  lastError: string | null;
  /** the hub clock when the last step ran */
  lastStepAt: number | null;
}

export type FromStore =
  | StreamData
  | { retention: RetentionStatus }
  | { compaction: CompactionStatus }
  | { reqId: number; ok: true; result: unknown; transfer?: ArrayBuffer[] }
  | StoreFailure;

/**
 * Whether a store error is the store's state (retry later) rather than the data's (never
 * retry): DuckDB names its error classes at the start of the message.
 */
export function isRetryableStoreError(message: string): boolean {
  return /^(IO Error|Out of Memory Error|TransactionContext Error|FATAL Error|Interrupt Error)|database (has been|was) invalidated|No space left|ENOSPC|EIO\b/i.test(
    message,
  );
}
