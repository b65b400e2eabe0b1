/** History export benchmark: the whole store over HTTP, counting rows and the hub's RSS growth. */
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Readable, Transform } from 'node:stream';
import { rssBytes } from './hub-process.ts';

export interface ExportResult {
  rows: number;
  bytes: number;
  elapsedMs: number;
  rssGrowthBytes: number;
  firstByteMs: number;
}

/** Downloads history.csv (to `file` if given), sampling the hub's RSS every 20 ms. */
export async function runExport(httpPort: number, pid: number, file: string | null, query = ''): Promise<ExportResult> {
  const before = rssBytes(pid);
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, rssBytes(pid));
  }, 20);
  const started = performance.now();
  const res = await fetch(`http://127.0.0.1:${httpPort}/api/v1/history.csv${query}`);
  if (!res.ok || !res.body) throw new Error(`history.csv answered ${res.status}`);
  let firstByteMs = -1;
  let bytes = 0;
  let newlines = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      if (firstByteMs < 0) firstByteMs = performance.now() - started;
      bytes += chunk.length;
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) newlines++;
      done(null, chunk);
    },
  });
  const sink = file ? createWriteStream(file) : new (await import('node:stream')).Writable({ write: (_c, _e, cb) => cb() });
  await pipeline(Readable.fromWeb(res.body), counter, sink);
  const elapsedMs = performance.now() - started;
  clearInterval(sampler);
  peak = Math.max(peak, rssBytes(pid));
  return { rows: newlines - 1, bytes, elapsedMs, rssGrowthBytes: peak - before, firstByteMs };
}
