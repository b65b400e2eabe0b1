/**
 * An upload's commit, in the store worker. The rows go in in a transaction of the upload's own,
 * on a connection of its own, window by window (upload-windows.ts), while sensor commits go on
 * beside it; only two short steps take the store's queue, so sensor acks wait for them and not
 * for the upload: the start (save the new series, take the snapshot, start watching what
 * sensors store: upload-watch.ts) and the end (give up the identities sensors stored meanwhile,
 * and COMMIT: DuckDB has written the large append to the file already, so this is short).
 * Atomic: nothing of the upload is visible before its COMMIT, and a failure rolls it all back.
 */
import { rm } from 'node:fs/promises';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { SeriesDef } from '../store/store-messages.ts';
import type { UploadCommitResult, UploadFile, UploadMapping } from './upload-sql.ts';
import { UploadWatch, closeWatch, openWatch, MAX_WATCHED_ROWS } from './upload-watch.ts';
import { channelSeries, createUploadMap, giveUp, storeWindow } from './upload-windows.ts';
import { newsPath } from './upload-stage.ts';
import type { UploadRetention } from '../store/rollup-upload.ts';

export interface UploadCommitRequest {
  file: UploadFile;
  newSeries: SeriesDef[];
  mapping: UploadMapping[];
  /** the scan's window bounds (upload-sql.ts) */
  windows: number[];
  /** whether anyone listens live: only then are the new rows kept for them */
  publish: boolean;
}

export interface UploadCommitStore {
  instance: DuckDBInstance;
  /** runs `work` in the store's queue, after the requests queued before it */
  serial<T>(work: () => Promise<T>): Promise<T>;
  /** stores series definitions (idempotent) on the queue's connection, committed at once */
  saveSeries(defs: SeriesDef[]): Promise<void>;
  /** rows past the retention horizon left out, late rows' rollups marked (rollup-upload.ts) */
  retention?: UploadRetention;
}

/** A failure to report as the store's (503, send it again), not the file's. */
class UploadRetry extends Error {
  readonly retryable = true;
}

/** Commits under way: their connections (to interrupt when the store closes) and their ends. */
const running = new Map<DuckDBConnection, Promise<unknown>>();
let stopping = false;

export async function commitUpload(store: UploadCommitStore, req: UploadCommitRequest): Promise<UploadCommitResult> {
  if (stopping) throw new UploadRetry('the store is closing; nothing was stored, send the file again once the hub is back');
  const c = await store.instance.connect();
  const work = inTransaction(store, c, req);
  running.set(c, work);
  try {
    return await work;
  } finally {
    running.delete(c);
    c.closeSync();
  }
}

async function inTransaction(store: UploadCommitStore, c: DuckDBConnection, req: UploadCommitRequest): Promise<UploadCommitResult> {
  const { file, mapping, windows } = req;
  const closing = () => new UploadRetry('the store is closing; nothing was stored, send the file again once the hub is back');
  const serial = <T>(work: () => Promise<T>) => (stopping ? Promise.reject(closing()) : store.serial(work));
  await createUploadMap(c, mapping);
  const channels = new Set(mapping.map((m) => m.channel));
  const lo = windows[0]!;
  const hi = windows.at(-1)! - 1;
  let watch: UploadWatch | null = null;
  let open = false;
  try {
    await serial(async () => {
      await store.saveSeries(req.newSeries);
      await c.run('BEGIN TRANSACTION');
      open = true;
      // The transaction's first read takes its snapshot: here, with no sensor commit half done.
      watch = new UploadWatch(channels, await channelSeries(c), lo, hi);
      openWatch(watch);
    });
    const retention = store.retention;
    await retention?.begin(c, file.path);
    const floor = retention?.floor ?? -Infinity;
    let accepted = 0;
    const newest = new Map<number, [number, number]>();
    for (let k = 0; k + 1 < windows.length; k++) {
      if (stopping) throw closing();
      const w = await storeWindow(c, file.path, k, Math.max(windows[k]!, floor), Math.max(windows[k + 1]!, floor));
      await retention?.window(c, newsPath(file.path, k));
      if (!req.publish) await rm(newsPath(file.path, k), { force: true });
      accepted += w.accepted;
      for (const [sid, ts, v] of w.newest) if (ts > (newest.get(sid)?.[0] ?? -Infinity)) newest.set(sid, [ts, v]);
    }
    const taken = await serial(async () => {
      const w = watch!;
      closeWatch(w);
      if (w.overflow)
        throw new UploadRetry(
          `sensors stored more than ${MAX_WATCHED_ROWS} readings of the file's sensors and times while it was stored; nothing was stored, send it again`,
        );
      accepted -= await giveUp(c, w.taken);
      await retention?.end(c, file.path);
      await c.run('COMMIT');
      open = false;
      retention?.committed();
      return w.taken;
    });
    // A series whose identity a sensor took has that sensor's reading in `latest` already, as new as any of the file's.
    const lost = new Set(taken.map((t) => t.channel));
    const channelOf = new Map(mapping.map((m) => [m.seriesId, m.channel]));
    const total = mapping.reduce((s, m) => s + m.rows, 0);
    const expired = retention?.expired ?? 0;
    return {
      accepted,
      duplicates: total - accepted - expired,
      expired,
      retainedFromMs: retention && expired > 0 ? retention.floor : null,
      newest: [...newest].filter(([sid]) => !lost.has(channelOf.get(sid)!)).map(([seriesId, [ts, value]]) => ({ seriesId, ts, value })),
      newsWindows: req.publish ? windows.length - 1 : 0,
      taken,
    };
  } finally {
    if (watch) closeWatch(watch);
    if (open) await c.run('ROLLBACK').catch(() => {});
  }
}

/**
 * When the store closes: no upload starts a step in the queue any more, and those under way are
 * interrupted (rolled back: nothing of them stored). Call it when the close request arrives,
 * before it is queued, and await the result in the close.
 */
export function stopUploads(): Promise<unknown> {
  stopping = true;
  for (const c of running.keys()) c.interrupt();
  return Promise.allSettled([...running.values()]);
}
