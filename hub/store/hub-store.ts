/**
 * The store seam: what the hub asks of its history store. The single hub's ReadingStore (DuckDB
 * in a worker thread) implements it; in cluster mode ClusterStore (hub/pg/cluster-store.ts) does,
 * committing through JetStream and reading from PostgreSQL.
 */
import type { BackupSummary } from './backup-sql.ts';
import type { AlertCall } from './alert-sql.ts';
import type { HistoryQuery } from '../history/history-query.ts';
import type { AccessChange, ActivityQuery, ActivityRow } from '../access/access-records.ts';
import type { ScanResult, UploadCommitResult, UploadFile } from '../upload/upload-sql.ts';
import type { UploadCommitRequest } from '../upload/upload-commit.ts';
import type {
  Columns,
  CommitRequest,
  CommitResult,
  CompactionStatus,
  LoadedState,
  RecentQuery,
  RetentionStatus,
} from './store-messages.ts';

/** A store request that failed; a failed commit carries its rows back. */
export class StoreError extends Error {
  constructor(
    message: string,
    /** the store's state, not the request's data, failed: the same request may succeed later */
    readonly retryable: boolean,
    readonly columns: { fresh: Columns; maybeDuplicate: Columns } | null = null,
  ) {
    super(message);
    this.name = 'StoreError';
  }
}

export interface ExportHandle {
  done: Promise<{ rows: number }>;
  credit(): void;
  cancel(): void;
}

export interface HubStore {
  /** what the background compaction is doing (compaction.ts); null where there is none */
  readonly compaction: CompactionStatus | null;
  /** what the rollups and retention are doing (rollup-runner.ts); absent or null where there are none */
  readonly retention?: RetentionStatus | null;
  open(): Promise<LoadedState>;
  /** Settles commits already answered, mid-turn (a no-op where answers come otherwise). */
  pollCommits(): void;
  commit(commit: CommitRequest): Promise<CommitResult>;
  /**
   * Streams a history export: `onData` gets CSV chunks; call `credit()` once per chunk the
   * consumer has taken, so the store stays at most a few chunks ahead. `cancel()` stops it.
   */
  exportHistory(query: HistoryQuery, onData: (chunk: Buffer) => void): ExportHandle;
  recent(query: RecentQuery): Promise<{ seriesId: number; ts: number; value: number }[]>;
  scanUpload(file: UploadFile): Promise<ScanResult>;
  commitUpload(req: UploadCommitRequest): Promise<UploadCommitResult>;
  /** One window of a committed upload's new rows (upload-windows.ts), but the identities in `skip`. */
  uploadNews(path: string, window: number, skip: { channel: number; ts: number }[]): Promise<Columns>;
  writeAccess(changes: AccessChange[]): Promise<void>;
  appendActivity(rows: ActivityRow[]): Promise<void>;
  queryActivity(query: ActivityQuery): Promise<ActivityRow[]>;
  /** Alert rules and events (alert-sql.ts). */
  alerts(call: AlertCall): Promise<unknown>;
  /** Copies every table, from one snapshot, to a new file at `path` (backup-sql.ts). */
  backup(path: string): Promise<Omit<BackupSummary, 'bytes'>>;
  close(): Promise<void>;
}
