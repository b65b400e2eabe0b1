/**
 * Where an upload's body waits while it is checked: a file of its own in the spool folder
 * (`<store temp>/uploads`, mode 0700, files 0600: they hold readings of rooms other users may
 * not see). The body is written as it arrives, counted against the size limit, and must keep
 * arriving: a client that stalls, or trickles it for ever, holds a request and a file. Files
 * a killed hub left behind are removed at the next start.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { HubError } from '../hub-error.ts';

export interface SpoolLimits {
  maxBytes: number;
  /** the whole body must have arrived within this, from the start of the request */
  bodyTimeoutMs: number;
  /** and no gap between two chunks of it may be longer than this */
  idleTimeoutMs: number;
}

const SPOOL_PREFIX = 'upload-';
let nextSpool = 1;

export async function spoolPath(spoolDir: string): Promise<string> {
  await mkdir(spoolDir, { recursive: true, mode: 0o700 });
  return join(spoolDir, `${SPOOL_PREFIX}${process.pid}-${nextSpool++}.csv`);
}

/**
 * Writes `body` to `path`; resolves with its size. Rejects with the HubError to answer: 413 over
 * the limit, 408 when the body is too slow, 400 when the client went away mid-body.
 */
export async function spoolBody(body: NodeJS.ReadableStream, path: string, limits: SpoolLimits): Promise<number> {
  let bytes = 0;
  const abort = new AbortController();
  // Widened by hand: stop() sets it from a timer, which the checker's narrowing does not see.
  let timedOut = null as HubError | null;
  const stop = (message: string) => {
    timedOut ??= new HubError('request_timeout', `${message}; nothing was stored. Send the file again, on a faster or steadier connection`);
    abort.abort(timedOut);
  };
  const total = setTimeout(
    () => stop(`the upload did not arrive within ${Math.round(limits.bodyTimeoutMs / 1000)} s (${bytes} bytes so far)`),
    limits.bodyTimeoutMs,
  );
  const idle = setTimeout(() => stop(`the upload stalled: no data for ${Math.round(limits.idleTimeoutMs / 1000)} s`), limits.idleTimeoutMs);
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      idle.refresh();
      bytes += chunk.length;
      if (bytes > limits.maxBytes)
        cb(new HubError('too_large', `the upload is over the limit of ${limits.maxBytes} bytes; nothing was stored`));
      else cb(null, chunk);
    },
  });
  try {
    await pipeline(body, counter, createWriteStream(path, { mode: 0o600 }), { signal: abort.signal });
    return bytes;
  } catch (err) {
    if (timedOut) throw timedOut;
    if (err instanceof HubError) throw err;
    throw new HubError('upload_interrupted', `the upload did not arrive whole: ${(err as Error).message}`);
  } finally {
    clearTimeout(total);
    clearTimeout(idle);
  }
}

/**
 * Removes what a hub killed during an upload left: spooled bodies with their stage files, and DuckDB's temp files
 * (`duckdb_temp_*`: DuckDB deletes its spill files when it closes, not when it opens). Call it
 * once this hub holds the database (the store is open: another hub on the same folder would
 * have failed to open it), with the time from just before the store opened: only files older
 * than that are removed, never a spill the store has made since.
 */
export async function removeLeftovers(spoolDir: string, storeTempDir: string, olderThanMs: number): Promise<string[]> {
  const removed: string[] = [];
  const sweep = async (dir: string, match: (name: string) => boolean) => {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const name of names.filter(match)) {
      const path = join(dir, name);
      const info = await stat(path).catch(() => null);
      if (!info || info.mtimeMs >= olderThanMs) continue;
      await rm(path, { force: true, recursive: true });
      removed.push(path);
    }
  };
  await sweep(spoolDir, (n) => n.startsWith(SPOOL_PREFIX));
  await sweep(storeTempDir, (n) => n.startsWith('duckdb_temp_'));
  // The upload reader's spills (upload-reader.ts).
  await sweep(join(spoolDir, 'spill'), (n) => n.startsWith('duckdb_temp_'));
  return removed;
}
