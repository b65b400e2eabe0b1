/**
 * Upload benchmark: one CSV file POSTed as a stream, timing the answer and the hub's RSS growth;
 * and generated files of a given number of rows uploaded while a live sensor's acks are timed.
 */
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rssBytes, startHub } from './hub-process.ts';

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

export interface UploadMemoryResult extends UploadResult {
  rows: number;
  /** the longest a live sensor's reading waited for its ack while the upload ran, and the median before it */
  worstAckMs: number;
  medianAckBeforeMs: number;
  acksDuring: number;
}

/**
 * A generated file of `rows` rows (`series` series, 1 s apart each) uploaded into a fresh hub
 * while one sensor sends a reading every 20 ms: rows/s, hub RSS growth, and the sensor's
 * longest ack wait during the upload.
 */
export async function runUploadMemory(rows: number, series = 500, hubArgs: string[] = []): Promise<UploadMemoryResult> {
  const dir = mkdtempSync(join(tmpdir(), 'roomwatch-bench-upload-memory-'));
  try {
    const file = join(dir, 'upload.csv');
    await writeCsv(file, rows, series);
    const hub = await startHub(join(dir, 'data'), ['--log-level', 'warn', ...hubArgs]);
    try {
      const acks = await liveSensor(hub.tcpPort);
      await acks.settle();
      acks.mark();
      const upload = await runUpload(hub.httpPort, hub.child.pid!, file);
      const during = acks.mark();
      acks.close();
      return { ...upload, rows, worstAckMs: during.maxMs, medianAckBeforeMs: during.medianBeforeMs, acksDuring: during.count };
    } finally {
      await hub.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function writeCsv(path: string, n: number, series: number): Promise<void> {
  const out = createWriteStream(path);
  out.write('ts,sensor,room,metric,value,unit\n');
  const t0 = Date.now() - 30 * 86_400_000;
  let buf = '';
  for (let i = 0; i < n; i++) {
    const s = i % series;
    buf += `${new Date(t0 + Math.floor(i / series) * 1000).toISOString()},measure-${s},room-${s % 5},temperature,${(20 + (i % 97) / 10).toFixed(1)},C\n`;
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await new Promise<void>((r) => out.once('drain', () => r()));
      buf = '';
    }
  }
  await new Promise<void>((resolve, reject) => out.end(buf, () => resolve()).on('error', reject));
}

/** One sensor sending a reading every 20 ms; the wait of each ack is kept. */
export async function liveSensor(port: number) {
  const socket = connect({ port, host: '127.0.0.1' });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const sentAt = new Map<number, number>();
  let waits: number[] = [];
  let acked = 0;
  let pending = '';
  socket.on('data', (d: Buffer) => {
    pending += d.toString();
    let nl;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const m = JSON.parse(pending.slice(0, nl)) as { type: string; seq?: number };
      pending = pending.slice(nl + 1);
      if (m.type !== 'ack') continue;
      const now = performance.now();
      for (const [seq, t] of sentAt) {
        if (seq > m.seq!) continue;
        waits.push(now - t);
        sentAt.delete(seq);
      }
      acked = m.seq!;
    }
  });
  socket.write(JSON.stringify({ type: 'hello', v: 1, sensor: 'measure-live', room: 'lab' }) + '\n');
  let seq = 0;
  const timer = setInterval(() => {
    seq++;
    sentAt.set(seq, performance.now());
    socket.write(JSON.stringify({ type: 'reading', metric: 'temperature', value: 20, seq }) + '\n');
  }, 20);
  let before: number[] = [];
  return {
    /** waits since the last mark */
    mark() {
      const out = {
        count: waits.length,
        maxMs: Math.max(0, ...waits, ...[...sentAt.values()].map((t) => performance.now() - t)),
        medianBeforeMs: median(before),
      };
      before = waits;
      waits = [];
      return out;
    },
    async settle() {
      while (acked < seq - 1 || seq < 50) await new Promise((r) => setTimeout(r, 50));
    },
    close() {
      clearInterval(timer);
      socket.destroy();
    },
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : 0;
}
