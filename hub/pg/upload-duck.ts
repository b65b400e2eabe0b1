/**
 * The DuckDB that reads a cluster hub's uploads (scan and stage, as the single hub's
 * upload-reader.ts, with its settings): in memory, with a small memory limit and a spill folder.
 * One per ClusterStore, not per process, so a store closed (a test's, a hub's restart in the same
 * process) leaves the next one its own. One piece of work at a time, as there.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { UPLOAD_READER_MEMORY, UPLOAD_SPILL_DIR } from '../upload/upload-reader.ts';

export class UploadDuck {
  private instance: Promise<DuckDBInstance> | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly tempDir: string,
    private readonly threads: number,
  ) {}

  /** Runs `work` on a connection, after the work queued before it. */
  run<T>(work: (c: DuckDBConnection) => Promise<T>): Promise<T> {
    const go = async () => {
      if (this.closed) throw new Error('the store is closing; send the file again once the hub is back');
      this.instance ??= this.open();
      const c = await (await this.instance).connect();
      try {
        return await work(c);
      } finally {
        c.closeSync();
      }
    };
    const result = this.queue.then(go, go);
    this.queue = result.catch(() => {});
    return result;
  }

  private open(): Promise<DuckDBInstance> {
    const spill = join(this.tempDir, UPLOAD_SPILL_DIR);
    mkdirSync(spill, { recursive: true, mode: 0o700 });
    return DuckDBInstance.create(':memory:', {
      memory_limit: UPLOAD_READER_MEMORY,
      threads: String(this.threads),
      temp_directory: spill,
      enable_external_file_cache: 'false',
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
    });
  }

  /** After the work under way, if any. */
  async close(): Promise<void> {
    this.closed = true;
    await this.queue;
    const i = this.instance;
    this.instance = null;
    if (i) (await i).closeSync();
  }
}
