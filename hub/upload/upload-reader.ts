/**
 * The DuckDB instance that reads uploaded files: in memory, beside the store's, with a memory
 * limit of its own. DuckDB takes whatever its limit allows (the store's is 512 MB by default),
 * and reading a CSV file in file order buffers batches up to it; here the limit is small and
 * what passes it is spilled to a folder of its own, so an upload's scan takes about the same
 * memory for 1M rows as for 10M. It never opens the store's database file: what it hands on
 * is a Parquet file (upload-stage.ts). One scan at a time: together they would share the limit.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';

/** DuckDB's memory for reading uploads (it spills beyond it); enough for a buffer per thread and a Parquet row group. */
export const UPLOAD_READER_MEMORY = '64MB';
/** The reader's spill folder, in the store's temp folder beside the spool files (a killed hub's spills are removed at start). */
export const UPLOAD_SPILL_DIR = join('uploads', 'spill');

let instance: Promise<DuckDBInstance> | null = null;
let queue: Promise<unknown> = Promise.resolve();
let closed = false;

function open(tempDir: string, threads: number): Promise<DuckDBInstance> {
  const spill = join(tempDir, UPLOAD_SPILL_DIR);
  mkdirSync(spill, { recursive: true, mode: 0o700 });
  return DuckDBInstance.create(':memory:', {
    memory_limit: UPLOAD_READER_MEMORY,
    threads: String(threads),
    temp_directory: spill,
    // Parquet read back here is read once: caching it would only hold memory.
    enable_external_file_cache: 'false',
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
}

/** Runs `work` on a connection of the reader, after the scans queued before it. */
export function withUploadReader<T>(tempDir: string, threads: number, work: (c: DuckDBConnection) => Promise<T>): Promise<T> {
  const run = async () => {
    if (closed) throw new Error('the store is closing');
    instance ??= open(tempDir, threads);
    const c = await (await instance).connect();
    try {
      return await work(c);
    } finally {
      c.closeSync();
    }
  };
  const result = queue.then(run, run);
  queue = result.catch(() => {});
  return result;
}

/** At store close: after the scan under way, if any. */
export async function closeUploadReader(): Promise<void> {
  closed = true;
  await queue;
  const i = instance;
  instance = null;
  if (i) (await i).closeSync();
}
