/**
 * The main thread's handle on the store worker: every call is a request answered in order.
 * If the worker dies, every pending and later call fails, and the hub answers 503.
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { join } from 'node:path';
import { DATABASE_FILE } from './schema.ts';
import type { StoreFaults } from './store-faults.ts';
import type { RetentionConfig } from './rollup-tiers.ts';
import { StoreError, type ExportHandle, type HubStore } from './hub-store.ts';
import type { BackupSummary } from './backup-sql.ts';
import type { AlertCall } from './alert-sql.ts';
import type { HistoryQuery } from '../history/history-query.ts';
import type { AccessChange, ActivityQuery, ActivityRow } from '../access/access-records.ts';
import type { ScanResult, UploadCommitResult, UploadFile } from '../upload/upload-sql.ts';
import type { UploadCommitRequest } from '../upload/upload-commit.ts';
import {
  columnBuffers,
  type Columns,
  type CommitRequest,
  type CompactionStatus,
  type CommitResult,
  type RetentionStatus,
  type FromStore,
  type LoadedState,
  type RecentQuery,
  type StoreConfig,
  type ToStore,
} from './store-messages.ts';

// Still exported from here for the modules that import them from the store's handle.
export { StoreError, type ExportHandle } from './hub-store.ts';

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };

type Request = ToStore extends infer T ? (T extends { reqId: number } ? Omit<T, 'reqId'> : never) : never;
type Reply = Exclude<FromStore, { stream: number } | { compaction: CompactionStatus } | { retention: RetentionStatus }>;

export interface ReadingStoreOptions {
  dataDir: string;
  memoryLimit: string;
  threads: number;
  tempDir: string;
  /** the hub clock */
  now: () => number;
  /** test-only fault injection (store-faults.ts) */
  faults?: StoreFaults | null;
  /** raw retention and rollup tiers (rollup-tiers.ts); default: keep raw forever, no rollups */
  retention?: RetentionConfig;
}

/** how often the worker is told the hub clock (injectable in tests) for rollups and retention */
const CLOCK_POST_MS = 1_000;

export class ReadingStore implements HubStore {
  private worker: Worker | null = null;
  /** commit replies come on a port of their own, so a busy ingest turn can take them at once (pollCommits) */
  private commitReplies: MessagePort | null = null;
  private nextReqId = 1;
  /** by request id */
  private readonly pending = new Map<number, Pending>();
  private failure: Error | null = null;
  /** what the background compaction is doing (compaction.ts), as the worker last said */
  compaction: CompactionStatus | null = null;
  /** what the rollups and retention are doing (rollup-runner.ts), as the worker last said */
  retention: RetentionStatus | null = null;
  private clockTimer: NodeJS.Timeout | null = null;
  /** by export request id: where its CSV chunks go */
  private readonly streams = new Map<number, (chunk: Buffer) => void>();

  constructor(private readonly options: ReadingStoreOptions) {}

  get path(): string {
    return join(this.options.dataDir, DATABASE_FILE);
  }

  async open(): Promise<LoadedState> {
    const commitReplies = new MessageChannel();
    const options = { name: 'roomwatch-store', workerData: { commitReplies: commitReplies.port2 }, transferList: [commitReplies.port2] };
    // Built (scripts/build-server.ts), this module is part of .build/server/hub.js and the worker
    // is store-worker.js beside it. From source, worker threads do not inherit tsx's loader:
    // register it before importing the worker module.
    if (import.meta.url.endsWith('.js')) this.worker = new Worker(new URL('./store-worker.js', import.meta.url), options);
    else {
      const url = new URL('./store-worker.ts', import.meta.url).href;
      this.worker = new Worker(`import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url)}); })`, {
        ...options,
        eval: true,
      });
    }
    this.commitReplies = commitReplies.port1;
    this.commitReplies.on('message', (reply: Reply) => this.settle(reply));
    this.commitReplies.unref(); // the worker keeps the process alive, not its reply port

    this.worker.on('message', (reply: FromStore) => {
      if ('stream' in reply) {
        this.streams.get(reply.stream)?.(Buffer.from(reply.data.buffer, reply.data.byteOffset, reply.data.byteLength));
        return;
      }
      if ('compaction' in reply) {
        this.compaction = reply.compaction;
        return;
      }
      if ('retention' in reply) {
        this.retention = reply.retention;
        return;
      }
      this.settle(reply);
    });
    this.worker.on('error', (err) => this.failAll(err));
    this.worker.on('exit', (code) => this.failAll(new Error(`store worker exited with code ${code}`)));
    const config: StoreConfig = {
      path: this.path,
      memoryLimit: this.options.memoryLimit,
      threads: this.options.threads,
      tempDir: this.options.tempDir,
      now: this.options.now(),
      faults: this.options.faults ?? null,
      retention: this.options.retention ?? { retentionMs: null, tiers: [] },
    };
    this.clockTimer = setInterval(() => this.post({ op: 'clock', reqId: 0, now: this.options.now() }), CLOCK_POST_MS);
    this.clockTimer.unref();
    return (await this.request({ op: 'open', config })) as LoadedState;
  }

  /**
   * Settles the commits the worker has answered, without waiting for the event loop to get to
   * their messages: one turn of it can read every sensor socket for hundreds of milliseconds,
   * and the worker would sit idle meanwhile. Their promises continue after the caller returns.
   */
  pollCommits(): void {
    const port = this.commitReplies;
    if (!port) return;
    for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) this.settle(m.message as Reply);
  }

  private settle(r: Reply): void {
    const p = this.pending.get(r.reqId);
    if (!p) return;
    this.pending.delete(r.reqId);
    if (r.ok) p.resolve(r.result);
    else p.reject(new StoreError(r.message, r.retryable, r.columns ?? null));
  }

  commit(commit: CommitRequest): Promise<CommitResult> {
    // The rows move to the worker and come back with the result: no copy either way.
    return this.request({ op: 'commit', commit }, columnBuffers(commit.fresh, commit.maybeDuplicate)) as Promise<CommitResult>;
  }

  /**
   * Streams a history export: `onData` gets CSV chunks; call `credit()` once per chunk the
   * consumer has taken, so the worker stays at most a few chunks ahead. `cancel()` stops it.
   */
  exportHistory(query: HistoryQuery, onData: (chunk: Buffer) => void): ExportHandle {
    const exportId = this.nextReqId;
    this.streams.set(exportId, onData);
    const done = (this.request({ op: 'export', query }) as Promise<{ rows: number }>).finally(() => this.streams.delete(exportId));
    return {
      done,
      credit: () => this.post({ op: 'export-credit', reqId: 0, exportId }),
      cancel: () => this.post({ op: 'export-cancel', reqId: 0, exportId }),
    };
  }

  recent(query: RecentQuery): Promise<{ seriesId: number; ts: number; value: number }[]> {
    return this.request({ op: 'recent', query }) as Promise<{ seriesId: number; ts: number; value: number }[]>;
  }

  scanUpload(file: UploadFile): Promise<ScanResult> {
    return this.request({ op: 'upload-scan', file }) as Promise<ScanResult>;
  }

  commitUpload(req: UploadCommitRequest): Promise<UploadCommitResult> {
    return this.request({ op: 'upload-commit', ...req }) as Promise<UploadCommitResult>;
  }

  /** One window of a committed upload's new rows (upload-windows.ts), but the identities in `skip`. */
  uploadNews(path: string, window: number, skip: { channel: number; ts: number }[]): Promise<Columns> {
    return this.request({ op: 'upload-news', path, window, skip }) as Promise<Columns>;
  }

  writeAccess(changes: AccessChange[]): Promise<void> {
    return this.request({ op: 'access-write', changes }) as Promise<void>;
  }

  appendActivity(rows: ActivityRow[]): Promise<void> {
    return this.request({ op: 'activity-append', rows }) as Promise<void>;
  }

  queryActivity(query: ActivityQuery): Promise<ActivityRow[]> {
    return this.request({ op: 'activity-query', query }) as Promise<ActivityRow[]>;
  }

  /** Alert rules and events (alert-sql.ts). */
  alerts(call: AlertCall): Promise<unknown> {
    return this.request({ op: 'alerts', call });
  }

  /** Copies every table, from one snapshot, to a new DuckDB file at `path` (backup-sql.ts). */
  backup(path: string): Promise<Omit<BackupSummary, 'bytes'>> {
    return this.request({ op: 'backup', path }) as Promise<Omit<BackupSummary, 'bytes'>>;
  }

  private post(msg: ToStore): void {
    if (this.worker && !this.failure) this.worker.postMessage(msg);
  }

  async close(): Promise<void> {
    if (this.clockTimer) clearInterval(this.clockTimer);
    this.clockTimer = null;
    if (!this.worker) return;
    try {
      if (!this.failure) await this.request({ op: 'close' });
    } finally {
      const w = this.worker;
      this.worker = null;
      this.commitReplies?.close();
      this.commitReplies = null;
      this.failure ??= new Error('store closed');
      await w.terminate();
    }
  }

  private request(req: Request, transfer: ArrayBuffer[] = []): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    if (!this.worker) return Promise.reject(new Error('store is not open'));
    const reqId = this.nextReqId++;
    return new Promise((resolve, reject) => {
      this.pending.set(reqId, { resolve, reject });
      try {
        this.worker!.postMessage({ ...req, reqId } satisfies ToStore, transfer);
      } catch (err) {
        // Could not be sent (a value that cannot be cloned): nothing was transferred, nothing will answer.
        this.pending.delete(reqId);
        const columns = req.op === 'commit' ? { fresh: req.commit.fresh, maybeDuplicate: req.commit.maybeDuplicate } : null;
        reject(new StoreError(`the request could not be sent to the store: ${(err as Error).message}`, false, columns));
      }
    });
  }

  private failAll(err: Error): void {
    // The worker is gone, and the rows of what it was doing with it: nothing to hand back.
    this.failure ??= new StoreError(err.message, false);
    for (const p of this.pending.values()) p.reject(this.failure);
    this.pending.clear();
  }
}
