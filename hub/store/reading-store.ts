/**
 * The main thread's handle on the store worker: every call is a request answered in order.
 * If the worker dies, every pending and later call fails, and the hub answers 503.
 */
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { DATABASE_FILE } from './schema.ts';
import { columnBuffers, type CommitRequest, type CommitResult, type FromStore, type LoadedState, type StoreConfig, type ToStore } from './store-messages.ts';

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };
type Request = ToStore extends infer T ? (T extends { reqId: number } ? Omit<T, 'reqId'> : never) : never;

export interface ReadingStoreOptions {
  dataDir: string;
  memoryLimit: string;
  threads: number;
  tempDir: string;
}

export class ReadingStore {
  private worker: Worker | null = null;
  private nextReqId = 1;
  /** by request id */
  private readonly pending = new Map<number, Pending>();
  private failure: Error | null = null;

  constructor(private readonly options: ReadingStoreOptions) {}

  get path(): string {
    return join(this.options.dataDir, DATABASE_FILE);
  }

  async open(): Promise<LoadedState> {
    const url = new URL('./store-worker.ts', import.meta.url).href;
    // Worker threads do not inherit tsx's loader: register it before importing the worker module.
    this.worker = new Worker(
      `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url)}); })`,
      { eval: true, name: 'roomwatch-store' },
    );
    this.worker.on('message', (reply: FromStore) => {
      const p = this.pending.get(reply.reqId);
      if (!p) return;
      this.pending.delete(reply.reqId);
      if (reply.ok) p.resolve(reply.result);
      else p.reject(new Error(reply.message));
    });
    this.worker.on('error', (err) => this.failAll(err));
    this.worker.on('exit', (code) => this.failAll(new Error(`store worker exited with code ${code}`)));
    const config: StoreConfig = {
      path: this.path,
      memoryLimit: this.options.memoryLimit,
      threads: this.options.threads,
      tempDir: this.options.tempDir,
    };
    return (await this.request({ op: 'open', config })) as LoadedState;
  }

  commit(commit: CommitRequest): Promise<CommitResult> {
    // The rows move to the worker and come back with the result: no copy either way.
    return this.request({ op: 'commit', commit }, columnBuffers(commit.fresh, commit.maybeDuplicate)) as Promise<CommitResult>;
  }

  async close(): Promise<void> {
    if (!this.worker) return;
    try {
      if (!this.failure) await this.request({ op: 'close' });
    } finally {
      const w = this.worker;
      this.worker = null;
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
      this.worker!.postMessage({ ...req, reqId } as ToStore, transfer);
    });
  }

  private failAll(err: Error): void {
    this.failure ??= err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}
