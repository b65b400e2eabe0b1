/** Upload benchmark: one CSV file POSTed as a stream, timing the answer and the hub's RSS growth. */
import { createReadStream, statSync } from 'node:fs';
import { request } from 'node:http';
import { rssBytes } from './hub-process.ts';

export interface UploadResult {
  accepted: number;
  duplicates: number;
  elapsedMs: number;
  rssGrowthBytes: number;
  bytes: number;
}

export async function runUpload(httpPort: number, pid: number, file: string): Promise<UploadResult> {
  const before = rssBytes(pid);
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, rssBytes(pid))), 20);
  const bytes = statSync(file).size;
  const started = performance.now();
  const body = await new Promise<string>((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: httpPort,
        method: 'POST',
        path: '/api/v1/readings',
        headers: { 'content-type': 'text/csv', 'content-length': bytes },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () =>
          res.statusCode === 200 ? resolve(text) : reject(new Error(`upload answered ${res.statusCode}: ${text.slice(0, 500)}`)),
        );
      },
    );
    req.on('error', reject);
    createReadStream(file).pipe(req);
  });
  const elapsedMs = performance.now() - started;
  clearInterval(sampler);
  const answer = JSON.parse(body) as { accepted: number; duplicates: number };
  return { ...answer, elapsedMs, rssGrowthBytes: Math.max(peak, rssBytes(pid)) - before, bytes };
}
